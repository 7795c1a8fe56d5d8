from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.forms import OTPAuthenticationForm

from accounts import login_limit
from accounts.models import ROLE_LEVEL, Department, Role, User


class LoginForm(OTPAuthenticationForm):
    """Password login; the TOTP token is asked only of users who bound a device (optional 2FA)."""

    def clean(self) -> dict[str, Any]:
        # Too many failures from this address, whatever the usernames (issue 17 finding 22): say so
        # rather than "wrong password" (AddressLimitBackend refuses the login anyway).
        if self.request is not None and login_limit.address_locked(self.request):
            raise forms.ValidationError(login_limit.address_locked_message(), code="address_locked")
        return super().clean()

    def clean_otp(self, user: Any) -> None:
        if user is None or not any(devices_for_user(user, confirmed=True)):
            return
        super().clean_otp(user)


class UserForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=150)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    area_code = forms.CharField(label=_("所属区划代码"), max_length=12)
    department = forms.ChoiceField(
        label=_("部门（市直部门填写）"), choices=[("", "—"), *Department.choices], required=False
    )
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["username"].disabled = True
            self.fields["password"].help_text = _("留空则不修改密码")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what ``Form.clean`` returns (its stub allows ``None``)
        role = data.get("role")
        if role == Role.CITY_BUREAU and not data.get("department"):
            self.add_error("department", _("市直部门用户必须选择所属部门。"))
        if not self.editing and not data.get("password"):
            self.add_error("password", _("请为新用户设置初始密码。"))
        if data.get("password"):
            # The validators compare the password with the username and name (issue 17 finding 17).
            username = data.get("username") or self.initial.get("username", "")
            try:
                validate_password(data["password"], User(username=username, first_name=data.get("full_name", "")))
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        if role and data.get("area_code"):
            data["expected_level"] = ROLE_LEVEL[role]
        return data


__all__ = ["LoginForm", "UserForm", "User"]
