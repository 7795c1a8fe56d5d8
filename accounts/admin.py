from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.access import display_id_number, sees_personal_data
from accounts.models import ApiToken, User
from accounts.personal_data import mask_id_number, plain_of
from accounts.tokens import tokens_revoke


class ActorAdmin(admin.ModelAdmin):
    """Remembers the viewer on the shown record, so read-only columns can mask for that role
    (the admin is open to the city administrator, a masked role: issue 17 finding 2)."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._viewer = request.user
        return obj


def shown_in_full(obj: Any) -> bool:
    """Unmasked only for a known viewer who sees personal data (the change list knows none)."""
    viewer = getattr(obj, "_viewer", None)
    return viewer is not None and sees_personal_data(viewer)


def id_shown(obj: Any, field: str) -> str:
    viewer = getattr(obj, "_viewer", None)
    return display_id_number(viewer, obj, field) if viewer is not None else mask_id_number(plain_of(obj, field))


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "role", "area", "department", "is_active")
    list_filter = ("role", "department", "is_active")
    search_fields = ("username", "first_name", "last_name")
    raw_id_fields = ("area",)
    # ``or ()``: the stubs allow ``None`` on ``ModelAdmin``; Django's ``UserAdmin`` always sets a tuple.
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), (_("角色与区划"), {"fields": ("role", "area", "department")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("角色与区划"), {"fields": ("role", "area", "department")}))

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False

    # Role, area and department decide what a user sees: they change only through ``user_save`` (the
    # portal's user pages check the area's level against the role), and users are created there too
    # (issue 17 finding 19).
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
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

    def has_add_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    @admin.action(description=_("撤销所选令牌"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = tokens_revoke(queryset)
        self.message_user(request, _("已撤销 %(count)d 个令牌。") % {"count": count})
