"""Department views (issue 19): a city bureau sees the indicators it leads first on its 待办 and its
dashboard, with a filter for all, and no link leads to a year without an assessment."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from households.choices import ActionKind
from indicators.assessment.scoring import config_default
from indicators.models import AssessmentRun, Indicator
from tests.factories import FollowUpActionFactory
from tests.world import World, build_world

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = TODAY.year
# Periods, freshness, catalogue, the city's and counties' values, open-action counts and rows (and
# the working-day calendar marking them 临期: issue 21), plus the session, the user and the layout's
# own: fixed, whatever the number of records.
BUREAU_HOME_QUERIES = 12


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world() -> World:
    return build_world("dashboards")


def _codes(html: str, attribute: str) -> list[str]:
    return re.findall(rf'<tr {attribute}="([^"]+)"', html)


def _led(department: str) -> list[str]:
    return list(Indicator.objects.filter(lead=department).order_by("order").values_list("code", flat=True))


def test_bureau_home_lists_its_own_indicators_then_all_with_the_filter(client, world):
    client.force_login(world.bureau_user)
    own = _led("市人社局")

    html = client.get(reverse("home")).content.decode()
    assert "data-department-todo" in html
    assert _codes(html, "data-code") == own
    assert reverse("dashboard_department", args=["市人社局"]) in html

    html = client.get(reverse("home") + "?indicators=all").content.decode()
    codes = _codes(html, "data-code")
    assert codes[: len(own)] == own
    assert len(codes) == Indicator.objects.count()
    assert "M6-3" in codes[len(own) :]


def test_bureau_home_puts_the_actions_on_its_own_indicators_first(client, world):
    later = TODAY + datetime.timedelta(days=30)
    FollowUpActionFactory.create(
        code="TZOWN1", household=world.household, kind=ActionKind.EMPLOYMENT, owner="甲", due_on=later, indicator="M3-2"
    )
    FollowUpActionFactory.create(
        code="TZOTHER", household=world.household, kind=ActionKind.OTHER, owner="乙", due_on=TODAY, indicator="M6-3"
    )
    client.force_login(world.bureau_user)

    html = client.get(reverse("home")).content.decode()

    assert html.index("TZOWN1") < html.index("TZOTHER")


def test_bureau_home_query_count_is_fixed(client, world, django_assert_num_queries):
    client.force_login(world.bureau_user)
    with django_assert_num_queries(BUREAU_HOME_QUERIES):
        assert client.get(reverse("home") + "?indicators=all").status_code == 200
    for number in range(10):
        FollowUpActionFactory.create(
            code=f"TZMORE{number}", household=world.household, kind=ActionKind.OTHER, owner="丙", due_on=TODAY
        )
    with django_assert_num_queries(BUREAU_HOME_QUERIES):
        assert client.get(reverse("home")).status_code == 200


def test_department_dashboard_filter_shows_all_with_its_own_first(client, world):
    client.force_login(world.bureau_user)
    url = reverse("dashboard_department", args=["市人社局"]) + f"?period={YEAR}"

    own_only = client.get(url).content.decode()
    every = client.get(url + "&show=all").content.decode()

    assert "M6-3" not in own_only
    assert "data-indicator-filter" in own_only
    assert "M6-3" in every
    assert every.index("M3-2") < every.index("M1-1")


def _assessment_links(html: str) -> set[str]:
    """The links to the list of years and to a year's page (not its downloads)."""
    return set(re.findall(r'href="(/assessment/(?:\d+/)?)"', html))


def _run(year: int, *, published: bool) -> None:
    now = timezone.now()
    AssessmentRun.objects.create(
        year=year,
        status=AssessmentRun.Status.DONE,
        finished_at=now,
        published_at=now if published else None,
        config=config_default().to_json(),
    )


@pytest.mark.parametrize("page", ["department", "city"])
def test_dashboards_link_only_years_with_an_assessment(client, world, page):
    client.force_login(world.bureau_user if page == "department" else world.admin_user)
    url = (
        reverse("dashboard_department", args=["市人社局"]) if page == "department" else reverse("dashboard_city")
    ) + f"?period={YEAR}"

    # No assessment at all: the list of years, never /assessment/<year>/ (a 404).
    assert _assessment_links(client.get(url).content.decode()) == {"/assessment/"}

    _run(YEAR - 1, published=True)
    links = _assessment_links(client.get(url).content.decode())
    assert f"/assessment/{YEAR}/" not in links
    assert f"/assessment/{YEAR - 1}/" in links
    for link in links:
        assert client.get(link).status_code == 200, link

    # A finished draft of the running year: the city roles may read it, so it is linked.
    _run(YEAR, published=False)
    assert f"/assessment/{YEAR}/" in _assessment_links(client.get(url).content.decode())
