"""Writes about users: roles, areas, passwords, deactivation."""

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.access import require_write, scope
from accounts.models import ROLE_LEVEL, Role, User
from accounts.tokens import tokens_revoke_all
from areas.models import Area

UNMASK_PERMISSION = "accounts.view_personal_data"


def _user_area(*, actor: User, area_code: str, level: str) -> Area:
    try:
        return scope(Area.objects.all(), actor).get(code=area_code.strip(), level=level)
    except Area.DoesNotExist as exc:
        raise ValidationError({"area_code": f"区划代码“{area_code}”不存在或不是{level}级，请核对。"}) from exc


@transaction.atomic
def user_save(*, actor: User, data: dict[str, Any], user: User | None = None) -> User:
    """Create or change a user: role, area, department, active. City administrators only."""
    require_write(actor, "users")
    role = data["role"]
    area = _user_area(actor=actor, area_code=data["area_code"], level=ROLE_LEVEL[role])
    if user is None:
        if User.objects.filter(username=data["username"]).exists():
            raise ValidationError({"username": "该用户名已被使用，请换一个。"})
        user = User(username=data["username"])
    user.first_name = data.get("full_name", "")
    user.role = role
    user.area = area
    user.department = data.get("department", "") if role == Role.CITY_BUREAU else ""
    user.is_active = data.get("is_active", True)
    if data.get("password"):
        # Checked against this user's username and name, whoever calls (issue 17 finding 17).
        try:
            validate_password(data["password"], user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(data["password"])
    user.full_clean(exclude=["password"])
    user.save()
    if not user.is_active:
        _end_sessions(user)
        tokens_revoke_all(user)  # and its API tokens: reactivating the account does not revive them
    return user


def _end_sessions(user: User) -> None:
    """A deactivated account loses its open sessions at once (ASVS 7.4.2)."""
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
