"""A per-address login limit across usernames (issue 17, finding 22).

axes locks a username from one address after ``AXES_FAILURE_LIMIT`` failures; trying many usernames
from one address slipped past it. Here the failures axes already records for an address are summed
over every username: at ``LOGIN_ADDRESS_FAILURE_LIMIT`` (higher than the per-user limit: offices share
one NAT address) the address may not log in until its failures age out of axes' cool-off window.
Checked by ``AddressLimitBackend`` on every ``authenticate()`` (pages, admin, API token), and before it
by the login form and the token endpoint, which say why in Chinese.
"""

from typing import Any

from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _


def address_failures(ip_address: str) -> int:
    """Failed logins from this address, over every username, inside the cool-off window."""
    cool_off = get_cool_off()
    attempts = AccessAttempt.objects.filter(ip_address=ip_address)
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def address_locked(request: HttpRequest | Any) -> bool:
    ip_address = get_client_ip_address(request)
    return bool(ip_address) and address_failures(ip_address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


def address_locked_message() -> str:
    cool_off = get_cool_off()
    minutes = int(cool_off.total_seconds() // 60) if cool_off else 0
    if minutes:
        return _(
            "此地址登录失败次数过多（不论用户名），已暂停登录 %(minutes)d 分钟。请稍后再试；忘记密码请联系管理员重置。"
        ) % {"minutes": minutes}
    return _("此地址登录失败次数过多（不论用户名），已暂停登录。请联系管理员解除。")


class AddressLimitBackend:
    """First of ``AUTHENTICATION_BACKENDS``: refuses every login from a locked address (Django then
    stops trying the other backends and reports the failure to axes). Only ``authenticate``: like
    axes' backend it never loads a session's user (no ``get_user``), so sessions stay with the
    model backend."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if request is not None and address_locked(request):
            raise PermissionDenied(address_locked_message())
        return None
