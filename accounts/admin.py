from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "role", "area", "department", "is_active")
    list_filter = ("role", "department", "is_active")
    search_fields = ("username", "first_name", "last_name")
    raw_id_fields = ("area",)
    fieldsets = (*BaseUserAdmin.fieldsets, (_("角色与区划"), {"fields": ("role", "area", "department")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("角色与区划"), {"fields": ("role", "area", "department")}))

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
