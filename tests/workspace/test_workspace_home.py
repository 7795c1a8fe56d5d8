"""The to-do home of the township workspace (issue 6): per role, the unmet indicators with their gap
and the link to their 清零清单, open and overdue follow-up actions, the early warnings and the data
quality — with an exact query count that stays flat — and freshness: while the running period is being
recomputed the home and the township dashboard say "正在重新计算…" and poll until the values land."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from households.history import changefeed_add
from indicators.models import ComputeRun, Period
from tests.factories import UserFactory, compute
from tests.world import KEY, LAST_YEAR, TODAY, build_world, grow_workspace

pytestmark = pytest.mark.django_db

# Session, the user with its area; open actions (counts, rows, and the working-day calendar that
# marks them 临期: issue 21); periods, freshness, the area's values; the 预警清单 (monitoring lines,
# exclusions, incomes, households, persons, history); data quality; the session's activity stamp
# (savepoint, update, release).
HOME_QUERIES = 18


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    return build_world("workspace")


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def _row(html: str, code: str) -> str:
    found = re.search(rf'<tr data-code="{re.escape(code)}">(.*?)</tr>', html, re.S)
    return found.group(1) if found else ""


# --- content per role ----------------------------------------------------------------------------


def test_township_staff_see_unmet_indicators_with_gap_and_list_link(client, world):
    html = _home(client, world.township_user)
    row = _row(html, "M3-2")
    assert "50.0%" in row
    assert "还差 1 人" in row
    assert f'href="/lists/M3-2/{world.township.code}/?period={KEY}"' in row
    assert _row(html, "M8-1") == ""  # every household has tap water: met, not on the to-do
    assert "乐坪街道" in html


def test_township_staff_see_open_and_overdue_actions_linking_to_the_file(client, world):
    html = _home(client, world.township_user)
    assert "未办结 2 件" in html
    assert "已逾期 1 件" in html
    assert f'href="/households/{world.household.code}/#actions">TZ0001</a>' in html
    assert f'href="/households/{world.comfortable.code}/#actions">TZ0002</a>' in html
    assert "TZ0003" not in html  # another township's action
    overdue_first = html.index("TZ0001") < html.index("TZ0002")
    assert overdue_first


def test_township_staff_see_warnings_and_data_quality_with_links(client, world):
    html = _home(client, world.township_user)
    kpi = re.search(r"data-home-warnings>(.*?)</a>", html, re.S).group(1)
    assert 'class="kpi-value">2<' in kpi  # H00001 below the line, H00002 fell by a third
    assert f'href="/warnings/{world.township.code}/"' in html
    assert f'href="/warnings/{world.township.code}/quality/"' in html
    assert "100.0%" in re.search(r"data-home-quality>(.*?)</a>", html, re.S).group(1)


def test_data_quality_count_and_score(client, world):
    grow_workspace(world, count=1)  # 2 households × 3 persons, no 户主, nobody's employment ever checked
    html = _home(client, world.township_user)
    quality = re.search(r"data-home-quality>(.*?)</a>", html, re.S).group(1)
    # Per new household: each adult has no 户主 and a stale check (2 × 2); the 11-year-old marked
    # 普通劳动力 has those two plus labour-vs-age and 非在校 at 11 (4): 8, twice.
    assert "16 条提示" in quality
    assert 'kpi-value">40.0%' in quality  # 4 clean of 10 active persons
    assert "16 条提示，涉及 6 / 10 人，得分 40.0%" in html


def test_village_staff_see_their_village_only(client, world):
    html = _home(client, world.village_user)
    row = _row(html, "M3-2")
    assert "还差 1 人" in row
    assert f'href="/lists/M3-2/{world.village.code}/?period={KEY}"' in row
    kpi = re.search(r"data-home-warnings>(.*?)</a>", html, re.S).group(1)
    assert 'class="kpi-value">1<' in kpi  # H00002 lives in B村
    assert f'href="/warnings/{world.village.code}/"' in html
    assert world.township.code not in html.replace(world.village.code, "")


def test_county_official_gets_actions_and_a_dashboard_link_not_the_township_todo(client, world):
    html = _home(client, world.county_user)
    assert "data-unmet-table" not in html
    assert "data-home-warnings" not in html
    assert 'href="/dashboard/"' in html
    assert "TZ0003" in html  # the county sees every township's actions


def test_staff_without_an_area_get_an_empty_home(client):
    user = UserFactory.create(username="nobody", role=Role.TOWNSHIP_STAFF, area=None)
    html = _home(client, user)
    assert "未办结 0 件" in html


def test_home_before_any_computation(client, world):
    from indicators.models import IndicatorValue

    IndicatorValue.objects.all().delete()
    ComputeRun.objects.all().delete()
    Period.objects.all().delete()
    html = _home(client, world.township_user)
    assert "本期尚未计算" in html


# --- exact, flat query count ---------------------------------------------------------------------


def test_home_query_count_is_flat(client, world, django_assert_num_queries):
    client.force_login(world.township_user)
    with django_assert_num_queries(HOME_QUERIES):
        assert client.get(reverse("home")).status_code == 200
    grow_workspace(world)
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("home"))
    html = response.content.decode()
    assert 'class="kpi-value">22<' in re.search(r"data-home-warnings>(.*?)</a>", html, re.S).group(1)
    assert "还差 41 人" in _row(html, "M3-2")  # 张三 and two willing workers in each new household


def test_village_home_query_count_is_flat(client, world, django_assert_num_queries):
    client.force_login(world.village_user)
    with django_assert_num_queries(HOME_QUERIES):
        assert client.get(reverse("home")).status_code == 200
    grow_workspace(world)
    with django_assert_num_queries(HOME_QUERIES):
        assert client.get(reverse("home")).status_code == 200


# --- freshness -----------------------------------------------------------------------------------


def _poll_url() -> str:
    return reverse("freshness_status", args=[KEY])


def test_fresh_values_show_when_computed_and_no_polling(client, world):
    html = _home(client, world.township_user)
    assert "计算时间" in html
    assert "正在重新计算…" not in html
    assert "hx-trigger" not in html.split("data-stamp")[1][:200]


@pytest.mark.parametrize("make_dirty", ["dirty_since", "change_feed", "queued_run"])
def test_home_and_township_dashboard_say_recalculating_and_poll(client, world, make_dirty):
    period = Period.objects.get(key=KEY)
    if make_dirty == "dirty_since":
        Period.objects.filter(pk=period.pk).update(dirty_since=timezone.now())
    elif make_dirty == "change_feed":
        changefeed_add()  # a sweep is due but has not run: the stored values are already stale
    else:
        ComputeRun.objects.create(period=period, reference_date=TODAY)
    poll = f'hx-get="{_poll_url()}" hx-trigger="every 2s"'
    home = _home(client, world.township_user)
    assert "正在重新计算…" in home
    assert poll in home
    assert "muted stale" in _row(home, "M3-2")  # the old value is marked, not shown as current
    dashboard = client.get(reverse("dashboard_township", args=[world.township.code])).content.decode()
    assert "正在重新计算…" in dashboard
    assert poll in dashboard

    busy = client.get(_poll_url(), HTTP_HX_REQUEST="true")
    assert busy.status_code == 200
    assert "正在重新计算…" in busy.content.decode()
    assert "HX-Refresh" not in busy


def test_poll_asks_for_a_reload_once_the_recompute_landed(client, world):
    Period.objects.filter(key=KEY).update(dirty_since=timezone.now())
    client.force_login(world.township_user)
    assert "HX-Refresh" not in client.get(_poll_url())
    compute(KEY)  # the run clears the flag and stores new values
    done = client.get(_poll_url())
    assert done.status_code == 200
    assert done["HX-Refresh"] == "true"
    html = client.get(reverse("home")).content.decode()
    assert "正在重新计算…" not in html
    assert "计算时间" in html


def test_change_feed_of_a_past_period_does_not_mark_it(client, world):
    compute(str(LAST_YEAR))
    changefeed_add()
    client.force_login(world.township_user)
    assert "HX-Refresh" in client.get(reverse("freshness_status", args=[str(LAST_YEAR)]))
    assert "HX-Refresh" not in client.get(_poll_url())


def test_poll_of_an_unknown_period_is_404_and_needs_login(client, world):
    assert client.get(_poll_url()).status_code == 302
    client.force_login(world.township_user)
    assert client.get(reverse("freshness_status", args=["1999"])).status_code == 404
