"""Working days in mainland China: weekends, public holidays and the 调休 days worked in their place.

The holidays and 调休 days of each year come from the State Council's notice
(国务院办公厅关于部分节假日安排的通知), as carried by the ``chinese_calendar`` package; the
administrator's ``CalendarDay`` rows win over it, and serve the years it does not know yet (for those,
without a row, only Saturdays and Sundays are rest days). Sources: docs/working-days.md.

A step started on ``start`` with ``n`` working days is due on ``add_working_days(start, n)``: the
n-th working day after ``start`` (``start`` itself does not count). It is overdue from the day after,
and 临期 (due soon) when at most one working day is left.
"""

import datetime
from dataclasses import dataclass, field

import chinese_calendar

from deadlines.models import CalendarDay

ONE_DAY = datetime.timedelta(days=1)
# The years the installed package knows (it raises NotImplementedError outside them).
PACKAGE_YEARS = frozenset(day.year for day in chinese_calendar.holidays)

OK = "ok"
DUE_SOON = "due_soon"
OVERDUE = "overdue"


@dataclass(frozen=True)
class WorkCalendar:
    """The package's answer plus the administrator's overrides, loaded once (one query), so a job
    that dates thousands of items asks the database once, not per item."""

    overrides: dict[datetime.date, bool] = field(default_factory=dict)

    def is_workday(self, day: datetime.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in PACKAGE_YEARS:
            # chinese_calendar.is_workday's own rule, read from its tables directly: the function
            # checks the year range with min()/max() over every holiday on each call (0.2 ms), which
            # dominated the nightly digest (thousands of dates).
            return day in chinese_calendar.workdays or (day.weekday() < 5 and day not in chinese_calendar.holidays)
        return day.weekday() < 5

    def add_working_days(self, start: datetime.date, days: int) -> datetime.date:
        """The ``days``-th working day after ``start`` (before it when negative); ``start`` itself
        for 0."""
        step = ONE_DAY if days >= 0 else -ONE_DAY
        left, day = abs(days), start
        while left:
            day += step
            if self.is_workday(day):
                left -= 1
        return day

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative when ``end`` is
        earlier), so that ``working_days_between(d, add_working_days(d, n)) == n``."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += ONE_DAY
            count += self.is_workday(day)
        return count

    def state(self, due: datetime.date, today: datetime.date) -> str:
        """逾期 after the due day, 临期 within one working day of it, else on time."""
        if today > due:
            return OVERDUE
        return DUE_SOON if self.working_days_between(today, due) <= 1 else OK

    def working_days_late(self, due: datetime.date, today: datetime.date) -> int:
        return max(self.working_days_between(due, today), 0)


def work_calendar() -> WorkCalendar:
    return WorkCalendar(dict(CalendarDay.objects.values_list("date", "is_workday")))


def is_workday(day: datetime.date) -> bool:
    return work_calendar().is_workday(day)


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    return work_calendar().add_working_days(start, days)


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    return work_calendar().working_days_between(start, end)


def year_known(year: int) -> bool:
    """Whether holidays are known for ``year``: by the package, or by the administrator's rows for it.
    A year with neither counts only weekends, which the admin page warns about."""
    return year in PACKAGE_YEARS or CalendarDay.objects.filter(date__year=year).exists()
