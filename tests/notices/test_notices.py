"""The 消息中心 and escalation (issue 21): the nightly digest (one notice per user, per role and area,
nothing for a user with nothing due, a flat number of queries, email when configured), the page
(own notices only, mark one / all as read, exact and flat queries), the header's count endpoint, and
overdue items of the level below on the county's and the city's 待办."""

import datetime
import re
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from deadlines.workdays import work_calendar
from households.models import FollowUpAction
from monitoring.models import Case, CaseState, Source
from notices import services
from notices.models import Kind, Notice
from signoff.models import State, VillageMonth
from tests.factories import AreaFactory, FollowUpActionFactory, HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db

# A Tuesday with no holiday around it; the last digest ran on the Monday.
TODAY = datetime.date(2026, 3, 10)
LAST = datetime.date(2026, 3, 9)
OVERDUE_DAY = datetime.date(2026, 3, 9)  # due Monday: 逾期 from Tuesday
SOON_DAY = datetime.date(2026, 3, 11)  # due Wednesday: one working day left on Tuesday (临期)
# Since the last digest (one), calendar overrides, deadline table, actions and monitoring cases
# grouped by area, open sign-off months, active users; savepoint, insert, release.
DIGEST_QUERIES = 10


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


class W:
    pass


@pytest.fixture
def w() -> Any:
    """County 娄星区: township T (villages A, B) and T2 (village C); county 双峰县: township F (village F)."""
    w: Any = W()
    w.city = AreaFactory.city()
    w.county = AreaFactory.county()
    w.township = AreaFactory.township(parent=w.county)
    w.village = AreaFactory.village(parent=w.township)
    w.village_b = AreaFactory.village(code="431302001002", name="B村", parent=w.township)
    w.township2 = AreaFactory.township(code="431302002", name="二乡", parent=w.county)
    w.village_c = AreaFactory.village(code="431302002001", name="C村", parent=w.township2)
    w.far_county = AreaFactory.county(code="431321", name="双峰县")
    w.far_township = AreaFactory.township(code="431321001", name="永丰街道", parent=w.far_county)
    w.far_village = AreaFactory.village(code="431321001001", name="F村", parent=w.far_township)
    w.household = HouseholdFactory(code="H00001", village=w.village)
    HouseholdFactory(code="H00003", village=w.village_c)
    w.villager = UserFactory(username="cun", role=Role.VILLAGE_STAFF, area=w.village, email="cun@example.cn")
    w.townsman = UserFactory(username="xiang", role=Role.TOWNSHIP_STAFF, area=w.township, email="")
    w.townsman2 = UserFactory(username="erxiang", role=Role.TOWNSHIP_STAFF, area=w.township2)
    w.official = UserFactory(username="xian", role=Role.COUNTY_OFFICIAL, area=w.county, email="xian@example.cn")
    w.far_official = UserFactory(username="shuangfeng", role=Role.COUNTY_OFFICIAL, area=w.far_county)
    w.far_townsman = UserFactory(username="yongfeng", role=Role.TOWNSHIP_STAFF, area=w.far_township)
    w.admin = UserFactory(username="shi", role=Role.CITY_ADMIN, area=w.city, department="市易扶办")
    w.retired = UserFactory(username="tuixiu", role=Role.VILLAGE_STAFF, area=w.village, is_active=False)
    # Actions of village A: one turned 逾期, one turned 临期, one long overdue (told before), one done.
    FollowUpActionFactory(code="TZ1", household=w.household, due_on=OVERDUE_DAY)
    FollowUpActionFactory(code="TZ2", household=w.household, due_on=SOON_DAY)
    FollowUpActionFactory(code="TZ3", household=w.household, due_on=TODAY - datetime.timedelta(days=20))
    FollowUpActionFactory(code="TZ4", household=w.household, due_on=OVERDUE_DAY, status="已完成")
    # Sign-off: A's 初审 due Monday (逾期), B's 审定 due Wednesday (临期), F's 审定 due Monday (逾期).
    _month(w.village, State.SUBMITTED, submitted_at=_at(datetime.date(2026, 3, 2)))
    _month(w.village_b, State.TOWNSHIP_APPROVED, submitted_at=_at(LAST), township_at=_at(datetime.date(2026, 3, 4)))
    _month(w.far_village, State.TOWNSHIP_APPROVED, township_at=_at(datetime.date(2026, 3, 2)))
    _last_digest(w.admin, LAST)
    return w


def _month(village, state, **times) -> VillageMonth:  # type: ignore[no-untyped-def]
    return VillageMonth.objects.create(
        village=village,
        month="2026-02",
        state=state,
        county_code=village.county_code,
        township_code=village.township_code,
        village_code=village.code,
        **times,
    )


def _last_digest(user, day: datetime.date) -> None:  # type: ignore[no-untyped-def]
    notice = Notice.objects.create(user=user, kind=Kind.DIGEST, title="到期提醒（上次）", read_at=_at(day, 9))
    Notice.objects.filter(pk=notice.pk).update(created_at=_at(day, 1))


def _digests() -> dict[str, str]:
    rows = Notice.objects.filter(kind=Kind.DIGEST, created_at__date__gt=LAST).select_related("user")
    found: dict[str, str] = {}
    for notice in rows:
        assert notice.user.username not in found, f"two digests for {notice.user.username}"
        found[notice.user.username] = notice.body
    return found


# --- the digest -------------------------------------------------------------------------------------


def test_digest_per_role_and_area_one_notice_each(w):
    result = services.write_digest(TODAY)
    assert (result.since, result.notices) == (LAST, 5)
    got = _digests()
    # The village: its actions only (TZ3 was overdue before the last digest, TZ4 is done).
    assert got["cun"].splitlines() == ["帮扶台账：新近临期 1 项（一个工作日内到期）", "帮扶台账：新增逾期 1 项"]
    # The township: its actions and its 初审.
    assert got["xiang"].splitlines() == [
        "帮扶台账：新近临期 1 项（一个工作日内到期）",
        "帮扶台账：新增逾期 1 项",
        "月度审核·乡镇初审：新增逾期 1 项",
    ]
    # The county: its 审定 临期, and the township's overdue work (escalation).
    assert got["xian"].splitlines() == [
        "月度审核·县级审定：新近临期 1 项（一个工作日内到期）",
        "月度审核·乡镇初审：新增逾期 1 项",
        "帮扶台账：新增逾期 1 项",
    ]
    # The other county: its overdue 审定; the city: the counties' overdue 审定 (escalation).
    assert got["shuangfeng"] == "月度审核·县级审定：新增逾期 1 项"
    assert got["shi"] == "月度审核·县级审定：新增逾期 1 项"
    # Nothing due in 二乡 or 永丰街道; an inactive user gets nothing.
    assert {"erxiang", "yongfeng", "tuixiu"}.isdisjoint(got)
    notice = Notice.objects.get(user=w.villager, created_at__date__gt=LAST)
    assert (notice.link, notice.read_at, notice.title) == ("/", None, "到期提醒（2026-03-10）")


def test_digest_twice_the_same_day_writes_nothing_new(w):
    services.write_digest(TODAY)
    Notice.objects.filter(created_at__date__gt=LAST).update(created_at=_at(TODAY, 1))
    assert services.write_digest(TODAY).notices == 0
    # The next working day: the 临期 action and 审定 are now overdue; nothing else turned.
    nxt = services.write_digest(datetime.date(2026, 3, 12))
    assert nxt.since == TODAY
    assert Notice.objects.filter(user=w.villager, body="帮扶台账：新增逾期 1 项").count() == 1


def test_digest_query_count_is_flat_when_users_and_items_grow(w, django_assert_num_queries):
    with django_assert_num_queries(DIGEST_QUERIES):
        assert services.write_digest(TODAY).notices == 5
    Notice.objects.filter(created_at__date__gt=LAST).delete()
    for index in range(30):
        UserFactory(username=f"cun{index}", role=Role.VILLAGE_STAFF, area=w.village)
        household = HouseholdFactory(code=f"HG{index:03d}", village=w.village_c)
        FollowUpActionFactory(code=f"TZG{index}", household=household, due_on=OVERDUE_DAY)
        _case(household, CaseState.HOME_VISIT, visit_due_on=OVERDUE_DAY)
        _month(AreaFactory.village(code=f"431302002{index + 100:03d}", name=f"村{index}", parent=w.township2),
               State.SUBMITTED, submitted_at=_at(datetime.date(2026, 3, 2)))  # fmt: skip
    with django_assert_num_queries(DIGEST_QUERIES):
        result = services.write_digest(TODAY)
    assert result.notices == 5 + 30 + 1  # the new village staff, and 二乡 now has overdue work
    got = _digests()
    assert got["erxiang"].splitlines() == [
        "帮扶台账：新增逾期 30 项",
        "监测对象识别：新增逾期 30 项",
        "月度审核·乡镇初审：新增逾期 30 项",
    ]
    assert "帮扶台账：新增逾期 31 项" in got["xian"]


def test_digest_email_only_when_configured(w, settings):
    settings.NOTICE_EMAIL = False
    services.write_digest(TODAY)
    assert mail.outbox == []
    Notice.objects.filter(created_at__date__gt=LAST).delete()
    settings.NOTICE_EMAIL, settings.PORTAL_URL = True, "https://yfb.example.cn/"
    result = services.write_digest(TODAY)
    assert result.emails == 2  # the village and the county have an address; the township has none
    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {"cun@example.cn", "xian@example.cn"}
    assert sent["cun@example.cn"].subject == "到期提醒（2026-03-10）"
    assert "帮扶台账：新增逾期 1 项" in sent["cun@example.cn"].body
    assert "https://yfb.example.cn/" in sent["cun@example.cn"].body


def test_the_task_is_named_and_routed():
    from django.conf import settings

    from notices.tasks import digest_task

    assert digest_task.name == "notices.tasks.digest_task"
    beat = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == digest_task.name]
    assert len(beat) == 1
    assert settings.CELERY_TASK_ROUTES["notices.tasks.*"] == {"queue": "default"}


# --- the page, mark as read, the count --------------------------------------------------------------


def _notices(user, count: int) -> list[Notice]:  # type: ignore[no-untyped-def]
    return Notice.objects.bulk_create(
        Notice(user=user, title=f"到期提醒 {index}", body="帮扶台账：新增逾期 1 项", link="/") for index in range(count)
    )


def test_page_shows_own_notices_and_marks_read(w, client):
    mine = _notices(w.villager, 3)
    theirs = _notices(w.townsman, 1)[0]
    client.force_login(w.villager)
    html = client.get(reverse("notice_list")).content.decode()
    assert html.count("data-notice=") == 3
    assert f'data-notice="{theirs.pk}"' not in html
    assert 'class="cards"' in html
    assert client.get(reverse("notice_count")).content.decode().count(">3<") == 1

    response = client.post(reverse("notice_read", args=[mine[0].pk]), {"page": "1"})
    assert response.status_code == 302
    assert response.url == "/notices/?page=1"
    assert Notice.objects.filter(user=w.villager, read_at__isnull=True).count() == 2
    # "查看" marks read and opens the link
    response = client.post(reverse("notice_read", args=[mine[1].pk]), {"open": "1"})
    assert response.url == "/"
    # another user's notice: 404, untouched
    assert client.post(reverse("notice_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None

    assert client.post(reverse("notice_read_all")).status_code == 302
    assert not Notice.objects.filter(user=w.villager, read_at__isnull=True).exists()
    assert Notice.objects.filter(user=w.townsman, read_at__isnull=True).count() == 1
    count = client.get(reverse("notice_count")).content.decode()
    assert "消息" in count
    assert "data-unread" not in count


def test_header_loads_the_count_after_the_page(w, client):
    client.force_login(w.villager)
    html = client.get(reverse("notice_list")).content.decode()
    link = re.search(r"<a [^>]*data-notice-count[^>]*>", html).group(0)
    assert 'hx-get="/notices/count/"' in link
    assert 'hx-trigger="load"' in link


def test_count_endpoint_and_list_need_login(client):
    for name in ("notice_list", "notice_count"):
        assert client.get(reverse(name)).status_code == 302


# Session, user; the count and the page of notices; the session's activity stamp (3).
LIST_QUERIES = 7
COUNT_QUERIES = 6


def test_page_and_count_query_counts_are_exact_and_flat(w, client, django_assert_num_queries):
    _notices(w.villager, 2)
    client.force_login(w.villager)
    for size in (2, 45):
        with django_assert_num_queries(LIST_QUERIES):
            html = client.get(reverse("notice_list")).content.decode()
        assert html.count("data-notice=") == min(size, 20)
        with django_assert_num_queries(COUNT_QUERIES):
            assert client.get(reverse("notice_count")).status_code == 200
        _notices(w.villager, 43)


# --- escalation on the home of the level above ---------------------------------------------------


def _old_months(w) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A 初审 of village A and a 审定 of F村, both a month old: overdue today (the real today)."""
    started = timezone.now() - datetime.timedelta(days=30)
    VillageMonth.objects.all().delete()
    _month(w.village, State.SUBMITTED, submitted_at=started)
    _month(w.far_village, State.TOWNSHIP_APPROVED, township_at=started)
    calendar, today = work_calendar(), timezone.localdate()
    due = calendar.add_working_days(timezone.localdate(started), 5)
    return calendar.working_days_late(due, today), calendar.working_days_late(
        TODAY - datetime.timedelta(days=20), today
    )


def test_overdue_township_items_show_on_the_county_home(w, client):
    month_late, action_late = _old_months(w)
    client.force_login(w.official)
    html = client.get(reverse("home")).content.decode()
    section = re.search(r"<section [^>]*data-escalated>(.*?)</section>", html, re.S).group(1)
    assert "乡镇逾期事项" in section
    assert "2026-02 乡镇初审" in section
    assert w.village.name in section
    assert f"逾期 {month_late} 个工作日" in section
    assert "帮扶台账 TZ3" in section
    assert f"逾期 {action_late} 个工作日" in section
    assert "县级审定" not in section  # the county's own step is not escalated on its own home
    assert "F村" not in section  # another county's


def test_overdue_county_items_show_on_the_city_home(w, client):
    month_late, _ = _old_months(w)
    client.force_login(w.admin)
    html = client.get(reverse("home")).content.decode()
    section = re.search(r"<section [^>]*data-escalated>(.*?)</section>", html, re.S).group(1)
    assert "县级逾期事项" in section
    assert "2026-02 县级审定" in section
    assert "F村" in section
    assert f"逾期 {month_late} 个工作日" in section
    assert "乡镇初审" not in section


def test_no_escalation_on_the_township_home_nor_when_nothing_is_late(w, client):
    _old_months(w)
    client.force_login(w.townsman)
    assert "data-escalated" not in client.get(reverse("home")).content.decode()
    client.force_login(w.far_official)
    VillageMonth.objects.all().delete()
    assert "data-escalated" not in client.get(reverse("home")).content.decode()


# Session, user; open actions (counts, rows, calendar); deadline table, the area's open months, its
# overdue monitoring cases; the session's activity stamp (3).
COUNTY_HOME_QUERIES = 11


def test_county_home_query_count_is_flat(w, client, django_assert_num_queries):
    _old_months(w)
    client.force_login(w.official)
    with django_assert_num_queries(COUNTY_HOME_QUERIES):
        assert client.get(reverse("home")).status_code == 200
    for index in range(15):
        household = HouseholdFactory(code=f"HE{index:03d}", village=w.village_b)
        FollowUpActionFactory(code=f"TZE{index}", household=household, due_on=TODAY - datetime.timedelta(days=index))
        _case(household, CaseState.HOME_VISIT, visit_due_on=timezone.localdate() - datetime.timedelta(days=30))
        village = AreaFactory.village(code=f"431302001{index + 100:03d}", name=f"新村{index}", parent=w.township)
        _month(village, State.SUBMITTED, submitted_at=timezone.now() - datetime.timedelta(days=20 + index))
    with django_assert_num_queries(COUNTY_HOME_QUERIES):
        html = client.get(reverse("home")).content.decode()
    assert html.count('data-escalated-item="township_review"') == 16
    assert html.count('data-escalated-item="cases"') == 15


def test_home_marks_actions_due_soon_orange_and_overdue_red(w, client):
    today, calendar = timezone.localdate(), work_calendar()
    FollowUpAction.objects.all().delete()
    FollowUpActionFactory(code="TZ8", household=w.household, due_on=calendar.add_working_days(today, 1))
    FollowUpActionFactory(code="TZ9", household=w.household, due_on=today - datetime.timedelta(days=1))
    FollowUpActionFactory(code="TZ7", household=w.household, due_on=calendar.add_working_days(today, 5))
    client.force_login(w.villager)
    html = client.get(reverse("home")).content.decode()
    rows = dict(re.findall(r">(TZ\d)</a>(.*?)</tr>", html, re.S))
    assert '<span class="badge badge-warn">临期</span>' in rows["TZ8"]
    assert '<span class="badge badge-bad">已逾期</span>' in rows["TZ9"]
    assert "badge" not in rows["TZ7"]


# --- monitoring-identification cases (helper G's app) ---------------------------------------------


def _case(household, state, **dates) -> Case:  # type: ignore[no-untyped-def]
    day = datetime.date(2026, 2, 1)
    return Case.objects.create(
        household=household,
        source=Source.CADRE,
        state=state,
        opened_on=day,
        visit_due_on=dates.get("visit_due_on", day),
        due_on=dates.get("due_on", day),
        county_code=household.county_code,
        township_code=household.township_code,
        village_code=household.village_code,
    )


def test_digest_counts_monitoring_cases_by_the_step_they_wait_on(w):
    far = HouseholdFactory(code="H09001", village=w.far_village)
    _case(w.household, CaseState.HOME_VISIT, visit_due_on=OVERDUE_DAY, due_on=datetime.date(2026, 3, 20))
    _case(w.household, CaseState.COUNTY, due_on=SOON_DAY)
    _case(far, CaseState.COUNTY, due_on=OVERDUE_DAY)
    _case(w.household, CaseState.INCLUDED, due_on=OVERDUE_DAY)  # closed: nothing
    services.write_digest(TODAY)
    got = _digests()
    assert "监测对象识别：新增逾期 1 项" in got["cun"].splitlines()
    assert "监测对象识别：新增逾期 1 项" in got["xiang"].splitlines()
    county = got["xian"].splitlines()
    assert "监测对象识别·县级审定：新近临期 1 项（一个工作日内到期）" in county
    assert "监测对象识别：新增逾期 1 项" in county  # escalated from the village and township
    assert got["shuangfeng"].splitlines() == [
        "月度审核·县级审定：新增逾期 1 项",
        "监测对象识别·县级审定：新增逾期 1 项",
    ]
    assert got["shi"].splitlines() == ["月度审核·县级审定：新增逾期 1 项", "监测对象识别·县级审定：新增逾期 1 项"]


def test_overdue_cases_escalate_to_the_home_above(w, client):
    far = HouseholdFactory(code="H09001", village=w.far_village)
    _case(w.household, CaseState.TOWNSHIP, due_on=TODAY - datetime.timedelta(days=400))
    _case(far, CaseState.COUNTY, due_on=TODAY - datetime.timedelta(days=400))
    VillageMonth.objects.all().delete()
    client.force_login(w.official)
    section = re.search(
        r"<section [^>]*data-escalated>(.*?)</section>", client.get(reverse("home")).content.decode(), re.S
    )
    assert "监测对象识别 H00001（待乡镇初审）" in section.group(1)
    assert "H09001" not in section.group(1)
    client.force_login(w.admin)
    section = re.search(
        r"<section [^>]*data-escalated>(.*?)</section>", client.get(reverse("home")).content.decode(), re.S
    )
    assert "监测对象识别 H09001（待县级审定）" in section.group(1)
    assert "H00001" not in section.group(1)
