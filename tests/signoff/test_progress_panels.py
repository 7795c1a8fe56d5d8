"""Sign-off progress on the pages below signoff (issue 21): 已审定 X/Y per township and county on the
dashboards (outside their cached parts), each county's December sign-off on the assessment page and
the warning before publishing, which never blocks it. One grouped query each, flat as villages grow."""

import re

import pytest
from django.core.cache import caches
from django.urls import reverse

from accounts.models import Role
from areas.models import Area
from indicators.assessment import scoring as assessment
from indicators.dashboards import panels as boards
from indicators.models import Period
from signoff import selectors, services
from signoff.models import Action, State, VillageMonth
from signoff.panels import assessment_december, dashboard_progress
from tests.factories import AreaFactory, UserFactory
from tests.indicators.test_dashboards import (
    CITY_QUERIES,
    COUNTY_QUERIES,
    COUNTY_QUERIES_CACHED,
    COUNTY_QUERIES_PART_CACHED,
    KEY,
    TODAY,
)
from tests.indicators.test_dashboards import TOWNSHIP_QUERIES as TOWNSHIP_PAGE_QUERIES
from tests.world import World, build_world

pytestmark = pytest.mark.django_db

MONTH = selectors.month_of(TODAY)  # the month a dashboard of the running year reports
DECEMBER = f"{KEY}-12"
# The assessment page of a computed, unpublished year for the city administrator, with its one
# sign-off query; the same for 6 villages or 16.
ASSESSMENT_QUERIES = 10


def _clear() -> None:
    """Rendered dashboard parts are cached per finished run (shared and per process); ids repeat."""
    for each in caches.all(initialized_only=True):
        each.clear()


@pytest.fixture(autouse=True)
def empty_cache():
    _clear()
    yield
    _clear()


class Signoff(World):
    villages: list[Area]
    second_township: Area


def _month(village: Area, month: str, state: str) -> VillageMonth:
    return VillageMonth.objects.create(
        village=village,
        month=month,
        state=state,
        county_code=village.county_code,
        township_code=village.township_code,
        village_code=village.code,
    )


@pytest.fixture
def w() -> Signoff:
    """娄星区: 乐坪街道 with five villages, one in each state (the fifth has no month row: 未提交), and
    a second township with one approved village; 新化县: one village, approved. For ``month``."""
    w = build_world("dashboards", into=Signoff())
    extra = [AreaFactory.village(code=f"431302001{n:03d}", name=f"村{n}", parent=w.township) for n in range(2, 6)]
    w.second_township = AreaFactory.township(code="431302002", name="花山街道", parent=w.county)
    w.villages = [w.village, *extra, AreaFactory.village(code="431302002001", name="花山村", parent=w.second_township)]
    return w


def _states(w: Signoff, month: str) -> None:
    states = [State.APPROVED, State.TOWNSHIP_APPROVED, State.SUBMITTED, State.RETURNED, None, State.APPROVED]
    for village, state in zip(w.villages, states, strict=True):
        if state is not None:
            _month(village, month, state)
    _month(w.far_village, month, State.APPROVED)


def _grow(w: Signoff, month: str, count: int = 10) -> None:
    """Ten more villages, each with a month row, in a new township of the county."""
    township = AreaFactory.township(code="431302009", name="新镇", parent=w.county)
    for n in range(count):
        village = AreaFactory.village(code=f"431302009{n + 1:03d}", name=f"新村{n}", parent=township)
        _month(village, month, [State.APPROVED, State.SUBMITTED][n % 2])


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _panel(html: str) -> str:
    found = re.search(r"<section class=\"card signoff-board\".*?</section>", html, re.S)
    assert found, "no sign-off panel"
    return found.group(0)


def _unit(panel: str, code: str) -> str:
    found = re.search(rf'<tr data-signoff-unit="{code}">.*?</tr>', panel, re.S)
    assert found, code
    return found.group(0)


# --- the selector --------------------------------------------------------------------------------


def test_progress_counts_villages_by_state_in_one_query(w, django_assert_num_queries):
    _states(w, MONTH)
    _month(w.village, "2000-01", State.APPROVED)  # another month counts nothing here
    with django_assert_num_queries(1):
        units = selectors.progress(w.county_user, w.county, MONTH)
    first, second = units
    assert (first.code, first.total, first.approved, first.waiting, first.returned, first.pending) == (
        w.township.code,
        5,
        1,
        2,
        1,
        1,
    )
    assert (second.name, second.approved, second.total, second.complete) == ("花山街道", 1, 1, True)
    total = selectors.progress_total(w.county, units)
    assert (total.approved, total.total) == (2, 6)
    with django_assert_num_queries(1):
        city = selectors.progress(w.admin_user, None, MONTH)
    assert [(c.code, c.approved, c.total) for c in city] == [(w.county.code, 2, 6), (w.other_county.code, 1, 1)]
    # Scoped: the county official counts its own county only.
    assert [c.code for c in selectors.progress(w.county_user, None, MONTH)] == [w.county.code]


def test_board_month_is_the_running_month_of_the_running_year():
    assert boards.board_month(Period(key="2025-07"), TODAY) == "2025-07"
    assert boards.board_month(Period(key=str(TODAY.year)), TODAY) == MONTH
    assert boards.board_month(Period(key=str(TODAY.year - 1)), TODAY) == f"{TODAY.year - 1}-12"


def test_the_providers_are_registered_by_signoff():
    assert dashboard_progress in boards.DASHBOARD_PANELS
    assert assessment_december in assessment.PUBLISH_NOTES


# --- dashboards ----------------------------------------------------------------------------------


def test_county_dashboard_shows_progress_per_township_linked_to_the_sign_off_pages(client, w):
    _states(w, MONTH)
    client.force_login(w.county_user)
    panel = _panel(_html(client, reverse("dashboard_county", args=[w.county.code]) + f"?period={KEY}"))
    total_url = reverse("signoff_county", args=[w.county.code]) + f"?month={MONTH}"
    assert f'<a href="{total_url}" data-signoff-total><strong>已审定 2/6</strong>' in panel
    first = _unit(panel, w.township.code)
    assert f'<a href="{reverse("signoff_township", args=[w.township.code])}?month={MONTH}">1/5</a>' in first
    assert 'class="card-title"' in first
    assert ">2</td>" in first  # 待审核: submitted and reviewed by the township
    assert "1/1</a>" in _unit(panel, w.second_township.code)
    assert w.other_county.name not in panel


def test_county_progress_is_current_while_the_part_is_cached(
    client, django_assert_num_queries, django_capture_on_commit_callbacks, w
):
    """Sign-off moves without a recompute: the part stays, but every transition changes the cached
    page's key (the panels' stamp, issue 22), so the next load shows it."""
    _states(w, MONTH)
    client.force_login(w.county_user)
    url = reverse("dashboard_county", args=[w.county.code]) + f"?period={KEY}"
    with django_assert_num_queries(COUNTY_QUERIES):
        assert "已审定 2/6" in _panel(_html(client, url))
    with django_assert_num_queries(COUNTY_QUERIES_CACHED):
        assert "已审定 2/6" in _panel(_html(client, url))
    with django_capture_on_commit_callbacks(execute=True):
        services.township_review(w.township_user, w.villages[2], MONTH, Action.APPROVE)
    with django_assert_num_queries(COUNTY_QUERIES_PART_CACHED):
        assert "已审定 2/6" in _panel(_html(client, url))  # 初审 moved a village to 待审定
    with django_capture_on_commit_callbacks(execute=True):
        for village in w.villages[1:3]:
            services.county_review(w.county_user, village, MONTH, Action.APPROVE)
    with django_assert_num_queries(COUNTY_QUERIES_PART_CACHED):
        assert "已审定 4/6" in _panel(_html(client, url))
    with django_assert_num_queries(COUNTY_QUERIES_CACHED):
        assert "已审定 4/6" in _panel(_html(client, url))


def test_dashboard_query_counts_stay_flat_with_sign_off_rows(client, django_assert_num_queries, w):
    _states(w, MONTH)
    pages = [
        (w.county_user, reverse("dashboard_county", args=[w.county.code]), COUNTY_QUERIES),
        (w.township_user, reverse("dashboard_township", args=[w.township.code]), TOWNSHIP_PAGE_QUERIES),
        (w.admin_user, reverse("dashboard_city"), CITY_QUERIES),
    ]
    for grown in (False, True):
        if grown:
            _grow(w, MONTH)
        for user, url, expected in pages:
            client.force_login(user)
            _clear()  # every page renders its parts: the full count
            with django_assert_num_queries(expected):
                _html(client, f"{url}?period={KEY}")
    client.force_login(w.county_user)
    assert "已审定 7/16" in _panel(_html(client, reverse("dashboard_county", args=[w.county.code]) + f"?period={KEY}"))


def test_township_dashboard_shows_its_villages(client, w):
    _states(w, MONTH)
    client.force_login(w.township_user)
    panel = _panel(_html(client, reverse("dashboard_township", args=[w.township.code]) + f"?period={KEY}"))
    assert "已审定 1/5" in panel
    assert f"{reverse('signoff_township', args=[w.township.code])}?month={MONTH}" in panel
    for village in w.villages[:5]:
        row = _unit(panel, village.code)
        assert f"{reverse('signoff_village', args=[village.code])}?month={MONTH}" in row
    assert "1/1</a>" in _unit(panel, w.village.code)
    assert "0/1</a>" in _unit(panel, w.villages[1].code)
    assert "花山村" not in panel


def test_a_village_board_shows_its_own_figure_only(client, w):
    _states(w, MONTH)
    client.force_login(UserFactory.create(username="vs", role=Role.VILLAGE_STAFF, area=w.villages[2]))
    panel = _panel(_html(client, reverse("dashboard_township", args=[w.villages[2].code]) + f"?period={KEY}"))
    assert "已审定 0/1" in panel
    assert "待审核 1" in panel
    assert "data-signoff-unit" not in panel


def test_city_dashboard_shows_progress_per_county(client, w):
    _states(w, MONTH)
    client.force_login(w.admin_user)
    panel = _panel(_html(client, reverse("dashboard_city") + f"?period={KEY}"))
    assert f'<a href="{reverse("signoff_city")}?month={MONTH}" data-signoff-total><strong>已审定 3/7</strong>' in panel
    assert f'{reverse("signoff_county", args=[w.county.code])}?month={MONTH}">2/6</a>' in _unit(panel, w.county.code)
    assert "1/1</a>" in _unit(panel, w.other_county.code)


# --- the assessment page -------------------------------------------------------------------------


def _assessed(w: Signoff) -> None:
    run = assessment.assessment_run_create(year=int(KEY))
    assessment.assessment_run_execute(run_id=run.pk)


def test_assessment_page_shows_december_per_county_and_warns_naming_the_counties(client, w):
    _states(w, DECEMBER)
    _assessed(w)
    client.force_login(w.admin_user)
    html = _html(client, reverse("assessment_detail", args=[int(KEY)]))
    card = re.search(r"<section class=\"card\" aria-labelledby=\"signoff-december\".*?</section>", html, re.S)
    assert card
    assert "已审定 3/7" in card.group(0)
    assert f'{reverse("signoff_county", args=[w.county.code])}?month={DECEMBER}">2/6</a>' in card.group(0)
    warning = re.search(r"<p class=\"notice publish-warning\" role=\"alert\" data-publish-warning>(.*?)</p>", html)
    assert warning
    assert w.county.name in warning.group(1)
    assert "（2/6）" in warning.group(1)
    assert w.other_county.name not in warning.group(1)  # all its villages are 审定
    confirm = re.search(r'<form method="post" action="[^"]*publish/" class="publish">.*?</form>', html, re.S)
    assert confirm
    assert w.county.name in confirm.group(0)
    assert "我已知悉上述未审定情况" in confirm.group(0)


def test_no_warning_once_every_village_is_approved(client, w):
    _states(w, DECEMBER)
    VillageMonth.objects.filter(month=DECEMBER).update(state=State.APPROVED)
    _month(w.villages[4], DECEMBER, State.APPROVED)
    _assessed(w)
    client.force_login(w.admin_user)
    html = _html(client, reverse("assessment_detail", args=[int(KEY)]))
    assert "已审定 7/7" in html
    assert "data-publish-warning" not in html
    assert "data-publish-confirm-warning" not in html


def test_publishing_is_still_allowed_with_the_warning(client, w):
    _states(w, DECEMBER)
    _assessed(w)
    client.force_login(w.admin_user)
    assert "data-publish-warning" in _html(client, reverse("assessment_detail", args=[int(KEY)]))
    response = client.post(reverse("assessment_publish", args=[int(KEY)]), {"confirm": "yes"})
    assert response.status_code == 302
    assert assessment.assessment_is_published(int(KEY))
    html = _html(client, reverse("assessment_detail", args=[int(KEY)]))
    assert "data-publish-warning" not in html  # published: nothing left to warn about
    assert "已审定 3/7" in html  # the December figures stay on the page


def test_assessment_page_query_count_is_exact_and_flat(client, django_assert_num_queries, w):
    _states(w, DECEMBER)
    _assessed(w)
    client.force_login(w.admin_user)
    url = reverse("assessment_detail", args=[int(KEY)])
    with django_assert_num_queries(ASSESSMENT_QUERIES):
        _html(client, url)
    _grow(w, DECEMBER)
    with django_assert_num_queries(ASSESSMENT_QUERIES):
        assert "已审定 8/17" in _html(client, url)
