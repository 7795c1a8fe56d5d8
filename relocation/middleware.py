"""``Cache-Control: no-store`` on every answer to a signed-in user (access.md, Personal data).

Household files, person answers of the API and exports carry personal data; a shared office PC's
browser cache or a proxy must keep none of it. One rule for all of them, rather than a decorator on
each view that could be forgotten: whatever a signed-in user (session or API token) receives is not
stored. Static files (served by WhiteNoise above this middleware) and anonymous pages keep their caching.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class NoStoreForUsersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # DRF authenticates API tokens inside the view and sets the user on this request as well.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "no-store" not in response.get("Cache-Control", ""):
            patch_cache_control(response, no_store=True, private=True)
        return response
