"""Working days across 春节 and 国庆, checked against the State Council's notices, not the package.

The expected days are typed from 国务院办公厅关于2025年/2026年部分节假日安排的通知 (docs/working-days.md);
the whole year is compared day by day, so a missing holiday or 调休 day in the package fails here.
"""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Role
from areas.choices import AreaLevel
from deadlines import workdays
from deadlines.models import CalendarDay, Deadline, Step
from households.models import ChangeFeed, HistoryEntry
from tests.factories import AreaFactory, UserFactory

D = datetime.date


def _span(first: datetime.date, last: datetime.date) -> set[datetime.date]:
    return {first + datetime.timedelta(days=n) for n in range((last - first).days + 1)}


NOTICES: dict[int, dict[str, list]] = {
    2025: {
        "rest": [
            (D(2025, 1, 1), D(2025, 1, 1)),  # 元旦
            (D(2025, 1, 28), D(2025, 2, 4)),  # 春节
            (D(2025, 4, 4), D(2025, 4, 6)),  # 清明节
            (D(2025, 5, 1), D(2025, 5, 5)),  # 劳动节
            (D(2025, 5, 31), D(2025, 6, 2)),  # 端午节
            (D(2025, 10, 1), D(2025, 10, 8)),  # 国庆节、中秋节
        ],
        "worked": [D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)],
    },
    2026: {
        "rest": [
            (D(2026, 1, 1), D(2026, 1, 3)),  # 元旦
            (D(2026, 2, 15), D(2026, 2, 23)),  # 春节
            (D(2026, 4, 4), D(2026, 4, 6)),  # 清明节
            (D(2026, 5, 1), D(2026, 5, 5)),  # 劳动节
            (D(2026, 6, 19), D(2026, 6, 21)),  # 端午节
            (D(2026, 9, 25), D(2026, 9, 27)),  # 中秋节
            (D(2026, 10, 1), D(2026, 10, 7)),  # 国庆节
        ],
        "worked": [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)],
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("year", sorted(NOTICES))
def test_every_day_of_the_year_matches_the_state_council_notice(year: int) -> None:
    notice = NOTICES[year]
    rest: set[datetime.date] = set()
    for first, last in notice["rest"]:
        rest |= _span(first, last)
    worked = set(notice["worked"])
    assert all(day.weekday() >= 5 for day in worked), "调休上班日 fall on weekends"
    calendar = workdays.work_calendar()
    wrong = [
        day
        for day in _span(D(year, 1, 1), D(year, 12, 31))
        if calendar.is_workday(day) != (day in worked or (day.weekday() < 5 and day not in rest))
    ]
    assert wrong == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Friday before 春节 → the 调休 Saturday
        (D(2026, 2, 14), 1, D(2026, 2, 24)),  # the 调休 Saturday → after the nine days off
        (D(2026, 2, 13), 2, D(2026, 2, 24)),
        (D(2026, 2, 24), -1, D(2026, 2, 14)),  # backwards too
        (D(2026, 2, 27), 1, D(2026, 2, 28)),  # the second 调休 Saturday
        (D(2026, 9, 18), 1, D(2026, 9, 20)),  # the 调休 Sunday before 国庆
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 28), 5, D(2026, 10, 10)),  # a 公示 of 5 working days over 国庆
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 1, 24), 1, D(2025, 1, 26)),  # 2025's 调休 Sunday before 春节
        (D(2026, 3, 2), 0, D(2026, 3, 2)),
    ],
)
def test_add_working_days_around_the_spring_festival_and_national_day(
    start: datetime.date, days: int, due: datetime.date
) -> None:
    assert workdays.add_working_days(start, days) == due
    assert workdays.working_days_between(start, due) == days


@pytest.mark.django_db
def test_working_days_between_counts_the_adjusted_weekend_days() -> None:
    assert workdays.working_days_between(D(2026, 2, 13), D(2026, 2, 28)) == 6  # 14th, 24th–27th, 28th
    assert workdays.working_days_between(D(2025, 9, 26), D(2025, 10, 11)) == 6
    assert workdays.working_days_between(D(2026, 2, 28), D(2026, 2, 13)) == -6


@pytest.mark.django_db
def test_an_administrators_override_changes_the_answer() -> None:
    assert workdays.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    CalendarDay.objects.create(date=D(2026, 2, 24), is_workday=False, note="地方调整")
    assert workdays.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 25)
    CalendarDay.objects.create(date=D(2026, 2, 21), is_workday=True, note="地方调整")
    assert workdays.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 21)


@pytest.mark.django_db
def test_a_year_the_package_does_not_know_counts_weekends_until_the_administrator_enters_it() -> None:
    year = max(workdays.PACKAGE_YEARS) + 1
    new_year = D(year, 1, 1)
    first_workday = new_year if new_year.weekday() < 5 else workdays.add_working_days(new_year, 1)
    assert not workdays.year_known(year)
    assert workdays.is_workday(first_workday)
    CalendarDay.objects.create(date=first_workday, is_workday=False, note="元旦")
    assert workdays.year_known(year)
    assert not workdays.is_workday(first_workday)


@pytest.mark.django_db
def test_due_soon_within_one_working_day_and_overdue_after() -> None:
    calendar = workdays.work_calendar()
    due = D(2026, 2, 24)
    assert calendar.state(due, D(2026, 2, 13)) == workdays.OK  # two working days left
    assert calendar.state(due, D(2026, 2, 14)) == workdays.DUE_SOON  # the holiday does not count
    assert calendar.state(due, due) == workdays.DUE_SOON
    assert calendar.state(due, D(2026, 2, 25)) == workdays.OVERDUE
    assert calendar.working_days_late(due, D(2026, 2, 27)) == 3
    assert calendar.working_days_late(due, D(2026, 2, 20)) == 0


@pytest.mark.django_db
def test_the_default_deadlines_are_those_of_issue_21() -> None:
    assert dict(Deadline.objects.values_list("step", "working_days")) == {
        Step.HOME_VISIT: 2,
        Step.IDENTIFICATION: 15,
        Step.PUBLICITY: 5,
        Step.TOWNSHIP_REVIEW: 5,
        Step.COUNTY_REVIEW: 5,
    }


@pytest.mark.django_db
def test_the_city_administrator_edits_the_calendar_in_the_admin_recorded_without_a_recompute(client) -> None:
    city = AreaFactory.create(code="431300", name="娄底市", level=AreaLevel.CITY)
    admin_user = UserFactory.create(username="a", role=Role.CITY_ADMIN, area=city, is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    year = max(workdays.PACKAGE_YEARS) + 1
    response = client.get("/admin/deadlines/calendarday/")
    if timezone.localdate().year + 1 == year:
        assert f"{year} 年的节假日安排尚未录入" in response.content.decode()
    response = client.post(
        "/admin/deadlines/calendarday/add/",
        {"date": f"{year}-01-01", "is_workday": "", "note": "元旦（国务院办公厅通知）"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CalendarDay.objects.get(date=D(year, 1, 1)).is_workday is False
    assert HistoryEntry.objects.filter(entity="calendarday", action="create").count() == 1
    assert not ChangeFeed.objects.exists()
    deadline = Deadline.objects.get(step=Step.HOME_VISIT)
    response = client.post(
        f"/admin/deadlines/deadline/{deadline.pk}/change/",
        {"step": Step.HOME_VISIT, "working_days": "5", "note": "甘肃省 5 个工作日"},
    )
    assert response.status_code == 302
    assert HistoryEntry.objects.get(entity="deadline", action="update").after == {
        "working_days": 5,
        "note": "甘肃省 5 个工作日",
    }
