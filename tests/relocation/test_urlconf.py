"""The production URLconf carries no benchmark route (issue 18): /bench/ping/ exists only under the
bench settings (bench/web_settings.py → bench/urls.py)."""

import pytest
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from bench import urls as bench_urls
from relocation import urls as portal_urls


def test_the_production_urlconf_has_no_bench_route() -> None:
    with pytest.raises(NoReverseMatch):
        reverse("bench_ping")
    with pytest.raises(Resolver404):
        resolve("/bench/ping/")


def test_the_bench_urlconf_adds_only_the_ping_route_to_the_portals() -> None:
    assert bench_urls.urlpatterns[1:] == portal_urls.urlpatterns
    assert resolve("/bench/ping/", urlconf="bench.urls").url_name == "bench_ping"
