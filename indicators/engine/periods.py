"""Periods and their reference dates (indicators.md, Periods and reference dates).

A period is a year (``2026``) or a month (``2026-11``). Its reference date is its last day, or today
while it is running; ``--as-of`` may set another date inside the period. Dates are local dates
(``TIME_ZONE`` Asia/Shanghai).
"""

import calendar
import datetime
import re

from django.utils import timezone
from django.utils.translation import gettext as _

from indicators.models import Period

KEY_RE = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


class PeriodError(Exception):
    """A period that may not be computed (malformed, future, closed, or a bad reference date)."""


def period_bounds(key: str) -> tuple[datetime.date, datetime.date]:
    match = KEY_RE.match(key or "")
    if not match:
        raise PeriodError(_("期间“%(key)s”格式不正确：应为年份（如 2025）或年月（如 2025-11）。") % {"key": key})
    year = int(match.group(1))
    if year < 1900:
        raise PeriodError(_("期间“%(key)s”的年份不正确。") % {"key": key})
    if match.group(2) is None:
        return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    month = int(match.group(2))
    if not 1 <= month <= 12:
        raise PeriodError(_("期间“%(key)s”的月份不正确。") % {"key": key})
    return datetime.date(year, month, 1), datetime.date(year, month, calendar.monthrange(year, month)[1])


def period_get_or_create(*, key: str) -> Period:
    start, end = period_bounds(key)
    period, _created = Period.objects.get_or_create(key=key, defaults={"start": start, "end": end})
    return period


def month_key(day: datetime.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def running_keys(*, today: datetime.date | None = None) -> tuple[str, str]:
    """The running month and year."""
    today = today or timezone.localdate()
    return month_key(today), f"{today.year:04d}"


def previous_key(key: str) -> str:
    """The previous period of the same length: the previous month, or the previous year."""
    start, _end = period_bounds(key)
    if len(key) == 4:
        return f"{start.year - 1:04d}"
    return month_key(start - datetime.timedelta(days=1))


def is_running(period: Period, *, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return period.start <= today <= period.end


def reference_date_for(
    period: Period, *, as_of: datetime.date | None = None, today: datetime.date | None = None
) -> datetime.date:
    """The last day of the period, or today while it runs; ``as_of`` must lie inside the period and not
    after today. Raises ``PeriodError`` for a future period."""
    today = today or timezone.localdate()
    if period.start > today:
        raise PeriodError(_("期间 %(key)s 尚未开始，不能计算未来的期间。") % {"key": period.key})
    if as_of is not None:
        if not period.start <= as_of <= period.end:
            raise PeriodError(
                _("参考日期 %(date)s 不在期间 %(key)s（%(start)s 至 %(end)s）之内。")
                % {"date": as_of, "key": period.key, "start": period.start, "end": period.end}
            )
        if as_of > today:
            raise PeriodError(_("参考日期 %(date)s 在今天之后。") % {"date": as_of})
        return as_of
    return min(period.end, today)


def check_computable(period: Period) -> None:
    """Closed periods never change again (except the year-data indicators, see services)."""
    if period.closed_at is not None:
        raise PeriodError(
            _("期间 %(key)s 已于 %(at)s 关闭，其指标值不再重新计算。")
            % {"key": period.key, "at": timezone.localtime(period.closed_at).strftime("%Y-%m-%d %H:%M")}
        )
