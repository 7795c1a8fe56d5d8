"""Absolute session lifetime (access.md, Login): the idle timeout alone would let an active
session live for ever; this ends it a fixed time after login."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

SESSION_KEY = "_portal_login_at"


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.setdefault(SESSION_KEY, time.time())
            if time.time() - started > settings.SESSION_ABSOLUTE_LIFETIME:
                logout(request)
                return redirect(f"{settings.LOGIN_URL}?expired=1" if settings.LOGIN_URL.startswith("/") else "login")
        return self.get_response(request)
