"""The county page kept whole per process (issue 22): what it shows is never stale. Each input that
moves without a new key would show an old page, so each is changed after a cached load here: a
finished recompute, the freshness stamp, the follow-up counts (test_dashboards), a sign-off transition
(tests/signoff/test_progress_panels); and the page is the reader's own, with a working CSRF token."""

import re

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from indicators.models import Period
from tests.factories import UserFactory
from tests.world import World, build_world

from .test_dashboards import COUNTY_QUERIES, COUNTY_QUERIES_CACHED, KEY, _county_url, _get, grow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_caches() -> None:
    """Pages are kept per finished run (shared and per process); ids repeat between tests."""
    for each in caches.all(initialized_only=True):
        each.clear()


@pytest.fixture
def world() -> World:
    return build_world("dashboards")


def _cached(client, django_assert_num_queries, url: str) -> str:
    """Load the page twice; the second answer must come whole from the process's cache."""
    _get(client, url)
    with django_assert_num_queries(COUNTY_QUERIES_CACHED):
        return _get(client, url).content.decode()


def test_a_finished_recompute_shows_on_the_next_load(client, django_assert_num_queries, world):
    client.force_login(world.county_user)
    assert "新镇0" not in _cached(client, django_assert_num_queries, _county_url(world))
    grow(world, 1)  # a new township with households, and a finished run
    with django_assert_num_queries(COUNTY_QUERIES):
        assert "新镇0" in _get(client, _county_url(world)).content.decode()


def test_a_dirty_period_shows_recalculating_on_the_next_load(client, django_assert_num_queries, world):
    client.force_login(world.county_user)
    assert "正在重新计算…" not in _cached(client, django_assert_num_queries, _county_url(world))
    Period.objects.filter(key=KEY).update(dirty_since=timezone.now())
    assert "正在重新计算…" in _get(client, _county_url(world)).content.decode()


def test_the_cached_page_names_its_own_reader(client, django_assert_num_queries, world):
    other = UserFactory.create(username="county2", role=Role.COUNTY_OFFICIAL, area=world.county, first_name="乙")
    client.force_login(world.county_user)
    first = _cached(client, django_assert_num_queries, _county_url(world))
    assert f'<span class="who">{world.county_user}' in first
    client.force_login(other)
    second = _get(client, _county_url(world)).content.decode()
    assert f'<span class="who">{other}' in second
    assert f'<span class="who">{world.county_user}' not in second


def test_the_cached_page_carries_a_fresh_working_csrf_token(django_assert_num_queries, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.county_user)
    html = _cached(client, django_assert_num_queries, _county_url(world))
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', html))
    assert len(tokens) == 1, "one masking of the reader's secret per answer"
    assert tokens.pop() in re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', html).group(0)
    again = _get(client, _county_url(world)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', again).group(1)
    assert token not in html, "masked afresh on every answer, as {% csrf_token %} does"
    response = client.post(reverse("set_language"), {"csrfmiddlewaretoken": token, "language": "en", "next": "/"})
    assert response.status_code == 302
