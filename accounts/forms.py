from typing import Any

from django_otp import devices_for_user
from django_otp.forms import OTPAuthenticationForm


class LoginForm(OTPAuthenticationForm):
    """Password login; the TOTP token is asked only of users who bound a device (optional 2FA)."""

    def clean_otp(self, user: Any) -> None:
        if user is None or not any(devices_for_user(user, confirmed=True)):
            return
        super().clean_otp(user)
