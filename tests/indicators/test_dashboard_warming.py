"""A finished run warms every county's dashboard part (issue 22): the first official to open a county
after a recompute is served the part the worker rendered, not a build of their own."""

import datetime
import re

import pytest
from django.core.cache import cache, caches
from django.urls import reverse
from django.utils import timezone

from areas.models import Area
from households import services
from households.choices import Labour, Relation
from indicators.dashboards import parts
from indicators.engine import runs
from indicators.engine.periods import running_keys
from indicators.models import Period
from tests.factories import AreaFactory, compute, make_id_number
from tests.world import World, build_world

from .test_dashboards import COUNTY_QUERIES, COUNTY_QUERIES_PART_CACHED, KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    caches["local"].clear()
    yield
    cache.clear()
    caches["local"].clear()


@pytest.fixture
def world() -> World:
    return build_world("dashboards")


def _county_page(client, w: World) -> str:
    response = client.get(reverse("dashboard_county", args=[w.county.code]) + f"?period={KEY}")
    assert response.status_code == 200
    return response.content.decode()


def _stable(html: str) -> str:
    """The page without what differs on every render: the masked CSRF tokens (64 characters, in forms
    and htmx headers) and the CSP nonce."""
    html = re.sub(r"\b[A-Za-z0-9]{64}\b", "", html)
    return re.sub(r'nonce="[^"]+"', "", html)


def test_a_finished_run_warms_the_county_part_and_the_first_load_builds_nothing(
    client, settings, django_assert_num_queries, django_capture_on_commit_callbacks, world
):
    settings.DASHBOARD_WARM = True  # as with a worker; the tests' Celery runs the task in-process
    with django_capture_on_commit_callbacks(execute=True):
        compute(KEY)
    period = Period.objects.get(key=KEY)
    client.force_login(world.county_user)
    with django_assert_num_queries(COUNTY_QUERIES_PART_CACHED):
        warmed = _county_page(client, world)
    assert COUNTY_QUERIES_PART_CACHED < COUNTY_QUERIES
    assert parts.dashboards_warm(period.pk) == 0, "every county part is already there"

    cache.clear()
    caches["local"].clear()
    with django_assert_num_queries(COUNTY_QUERIES):
        built = _county_page(client, world)
    assert _stable(warmed) == _stable(built), "the worker's part is the one a reader would have built"


def test_without_a_worker_nothing_is_warmed(client, settings, django_capture_on_commit_callbacks, world):
    settings.DASHBOARD_WARM = False
    with django_capture_on_commit_callbacks(execute=True):
        compute(KEY)
    context = parts.period_context(Period.objects.get(key=KEY), [])
    assert cache.get(parts.county_part_key(world.county, context)) is None


def test_after_a_recomputation_of_changed_units_only_their_county_is_built_again(settings):
    """A stream of edits: each sweep's warming rebuilds the counties whose values moved and carries the
    other counties' parts over to the new run's key."""
    settings.DASHBOARD_WARM = False  # warmed by hand below
    today = timezone.localdate()
    city = AreaFactory.city()
    persons = []
    for index in (1, 2):
        county = AreaFactory.county(code=f"43130{index}", name=f"县{index}", parent=city)
        township = AreaFactory.township(code=f"{county.code}001", parent=county)
        village = AreaFactory.village(code=f"{township.code}001", parent=township)
        household = services.household_register(
            actor=None,
            code=f"H{index}",
            village_code=village.code,
            data={"head_name": "户主", "category": "建档立卡户"},
        )
        persons.append(
            services.person_create(
                actor=None,
                household=household,
                id_number=make_id_number(datetime.date(1980, 1, 1), sequence=index),
                data={"name": "户主", "relation": Relation.HEAD, "labour": Labour.NONE},
            )
        )
    runs.dirty_periods_compute(today=today)
    runs.running_periods_compute(today=today)
    month = Period.objects.get(key=running_keys(today=today)[0])
    assert parts.dashboards_warm(month.pk, changed_only=True) == 2  # nothing warmed before: all built

    services.person_update(actor=None, person=persons[0], data={"medical_insurance": True})
    assert runs.changes_compute(today=today)
    assert parts.dashboards_warm(month.pk, changed_only=True) == 1  # 县1 built, 县2 carried over
    context = parts.period_context(month, [])
    assert all(cache.get(parts.county_part_key(county, context)) for county in Area.objects.filter(level="县"))
