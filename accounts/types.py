"""Typed requests: every page and API call that reaches a service has a logged-in portal user, and
the services take that user as ``actor: User`` (``None`` is the system), never ``Any``."""

from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from accounts.models import User


class AuthedHttpRequest(HttpRequest):
    """The request of a view behind ``login_required`` (or the login middleware): ``user`` is a
    ``User``. Annotate such views ``request: AuthedHttpRequest``."""

    user: User


def api_actor(request: Request) -> User:
    """The portal user of an authenticated API request (the permission classes ran first); an
    anonymous request that slipped through answers 401 rather than reaching a service."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated
    return user
