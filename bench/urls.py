"""The portal's URLs plus ``/bench/ping/``, for bench/web_bench.py only: the production URLconf
(relocation.urls) has no bench route. Used through bench/web_settings.py."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from relocation.urls import urlpatterns as portal_urlpatterns


def bench_ping(request: HttpRequest) -> HttpResponse:
    """The baseline of bench/web_bench.py: Django's full middleware stack and nothing else."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ping/", bench_ping, name="bench_ping"), *portal_urlpatterns]
