from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, User
from .tokens import tokens_revoke


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

    # Role, area and department decide what a user sees: they change only through ``user_save`` (the
    # portal's user pages check the area's level against the role), and users are created there too
    # (issue 17 finding 19).
    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return (*super().get_readonly_fields(request, obj), "role", "area", "department")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens (issue 17, finding 5): listed and revoked here, never created (a key is shown only
    to its owner, once) nor edited; a revoked token stays listed."""

    list_display = ("name", "user", "prefix", "created", "expires", "last_used", "revoked")
    list_filter = ("revoked", "expires")
    search_fields = ("user__username", "name", "prefix")
    readonly_fields = ("user", "name", "prefix", "created", "expires", "last_used", "revoked")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description=_("撤销所选令牌"), permissions=["change"])
    def revoke(self, request, queryset):  # type: ignore[no-untyped-def]
        count = tokens_revoke(queryset)
        self.message_user(request, _("已撤销 %(count)d 个令牌。") % {"count": count})
