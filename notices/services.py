"""Writes of the 消息中心: marking read, and the nightly digest (issue 21).

The digest is set-based: what turned 临期/逾期 since the last digest is counted per area in a fixed
number of queries (``notices.due.changed_counts``), the active users are read in one query, and
each user's single notice is composed in Python from their area's counts, then all are written
with one ``bulk_create``: on PostgreSQL one ``INSERT … SELECT * FROM UNNEST(…)`` whatever the
number of users (SQLite splits it by its limit on parameters). No query per user or per item."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from areas.choices import AreaLevel
from deadlines.workdays import DUE_SOON, OVERDUE, work_calendar
from notices.due import (
    ACTIONS,
    CASES,
    COUNTY_CASES,
    COUNTY_REVIEW,
    TOWNSHIP_REVIEW,
    Counts,
    Window,
    changed_counts,
)
from notices.models import Kind, Notice

# What each role is told of, in its own area: its own work 临期 and 逾期, and the overdue work of
# the level below (escalation: township → county → city).
ROLE_ITEMS: dict[str, tuple[tuple[str, str], ...]] = {
    Role.VILLAGE_STAFF: ((ACTIONS, DUE_SOON), (ACTIONS, OVERDUE), (CASES, DUE_SOON), (CASES, OVERDUE)),
    Role.TOWNSHIP_STAFF: (
        (ACTIONS, DUE_SOON),
        (ACTIONS, OVERDUE),
        (CASES, DUE_SOON),
        (CASES, OVERDUE),
        (TOWNSHIP_REVIEW, DUE_SOON),
        (TOWNSHIP_REVIEW, OVERDUE),
    ),
    Role.COUNTY_OFFICIAL: (
        (COUNTY_REVIEW, DUE_SOON),
        (COUNTY_REVIEW, OVERDUE),
        (COUNTY_CASES, DUE_SOON),
        (COUNTY_CASES, OVERDUE),
        (TOWNSHIP_REVIEW, OVERDUE),
        (ACTIONS, OVERDUE),
        (CASES, OVERDUE),
    ),
    Role.CITY_ADMIN: ((COUNTY_REVIEW, OVERDUE), (COUNTY_CASES, OVERDUE)),
    Role.CITY_BUREAU: ((COUNTY_REVIEW, OVERDUE), (COUNTY_CASES, OVERDUE)),
}


def mark_read(notice: Notice) -> None:
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])


def mark_all_read(user: User) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def _item_label(item: str) -> str:
    return {
        ACTIONS: _("帮扶台账"),
        TOWNSHIP_REVIEW: _("月度审核·乡镇初审"),
        COUNTY_REVIEW: _("月度审核·县级审定"),
        CASES: _("监测对象识别"),
        COUNTY_CASES: _("监测对象识别·县级审定"),
    }[item]


def _line(item: str, state: str, number: int) -> str:
    if state == OVERDUE:
        return _("%(what)s：新增逾期 %(count)s 项") % {"what": _item_label(item), "count": number}
    return _("%(what)s：新近临期 %(count)s 项（一个工作日内到期）") % {"what": _item_label(item), "count": number}


def compose(role: str, area_code: str, counts: Counts) -> list[str]:
    """The lines of one user's digest (empty: nothing turned due in the area)."""
    return [
        _line(item, state, number)
        for item, state in ROLE_ITEMS.get(role, ())
        if (number := counts.of(item, state, area_code))
    ]


@dataclass(frozen=True)
class DigestResult:
    since: datetime.date
    today: datetime.date
    notices: int
    emails: int


def last_digest_day(today: datetime.date) -> datetime.date:
    """The day of the last digest (one query); yesterday before the first one."""
    last = Notice.objects.filter(kind=Kind.DIGEST).aggregate(last=Max("created_at"))["last"]
    return timezone.localdate(last) if last else today - datetime.timedelta(days=1)


def write_digest(today: datetime.date | None = None) -> DigestResult:
    """Each active user gets ONE notice of what turned 临期/逾期 in their area since the last
    digest, and the same by email when ``NOTICE_EMAIL`` is on and the user has an address. A second
    run on the same day finds nothing new and writes nothing."""
    today = today or timezone.localdate()
    since = last_digest_day(today)
    if since >= today:
        return DigestResult(since, today, 0, 0)
    counts = changed_counts(Window(since, today, work_calendar()))
    title = _("到期提醒（%(day)s）") % {"day": today.isoformat()}
    link = reverse("home")
    notices: list[Notice] = []
    mails: list[tuple[str, str, str | None, list[str]]] = []
    users = User.objects.filter(is_active=True).values_list("pk", "role", "email", "area__code", "area__level")
    for pk, role, email, area_code, area_level in users.iterator(chunk_size=2000):
        if area_code is None and role not in (Role.CITY_ADMIN, Role.CITY_BUREAU):
            continue  # no area: nothing of theirs can fall due
        lines = compose(role, "" if area_level in (None, AreaLevel.CITY) else area_code, counts)
        if not lines:
            continue
        body = "\n".join(lines)
        notices.append(Notice(user_id=pk, kind=Kind.DIGEST, title=title, body=body, link=link))
        if settings.NOTICE_EMAIL and email:
            mails.append((title, f"{body}\n\n{settings.PORTAL_URL.rstrip('/')}{link}", None, [email]))
    with transaction.atomic():
        Notice.objects.bulk_create(notices)  # no batch_size: one statement on PostgreSQL (UNNEST)
    sent = send_mass_mail(mails, fail_silently=False) if mails else 0
    return DigestResult(since, today, len(notices), sent)
