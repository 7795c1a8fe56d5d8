"""htmx requests: a page answers a fragment when htmx asks for one, the whole page otherwise."""

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"
