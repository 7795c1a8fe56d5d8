"""What is 临期 or 逾期, grouped by area (issue 21): follow-up actions by their due date,
monitoring-identification cases by the date of the step they wait on (``monitoring.selectors.due_of``)
and sign-off months by their 初审/审定 deadline (``signoff.selectors.due_of``). One query per kind of
item, whatever the number of items or users.

Escalation: an overdue item also shows on the 待办 of the level above its own — a township's
(follow-up actions, cases below the 县级审定, 初审) on the county's, a county's (审定, cases at the
县级审定) on the city's."""

import datetime
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Case, CharField, Count, DateField, F, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import scope
from accounts.models import User
from areas.choices import AreaLevel
from areas.models import Area
from areas.selectors import within
from deadlines.models import Step
from deadlines.workdays import DUE_SOON, OVERDUE, WorkCalendar, work_calendar
from households.choices import ActionStatus
from households.models import FollowUpAction
from monitoring.models import OPEN_STATES, CaseState
from monitoring.models import Case as MonitoringCase
from signoff.models import State, VillageMonth
from signoff.selectors import deadline_days

# The kinds of item (whose work each is: its overdue copy goes one level up).
ACTIONS = "actions"  # follow-up actions: the township's (and its villages')
TOWNSHIP_REVIEW = "township_review"  # 乡镇初审 of a submitted month
COUNTY_REVIEW = "county_review"  # 县级审定 of a month reviewed by the township
CASES = "cases"  # 监测对象识别 waiting on the village or township (入户核实 … 乡镇初审)
COUNTY_CASES = "county_cases"  # 监测对象识别 waiting on the 县级审定
ITEM_STEP = {TOWNSHIP_REVIEW: Step.TOWNSHIP_REVIEW, COUNTY_REVIEW: Step.COUNTY_REVIEW}
# A deadline of n working days ends within 2n + 15 calendar days (weekends plus the longest
# holiday, 春节 or 国庆 with their 调休): older starts cannot fall in a window, so are not read.
SLACK_DAYS = 15
ESCALATED_LIMIT = 50  # the most late on a home; the case list and the sign-off overview have them all


@dataclass(frozen=True)
class Window:
    """The due dates that turned 临期 or 逾期 after ``since`` up to ``today``: overdue from the day
    after the due date, 临期 while at most one working day is left (``WorkCalendar.state``)."""

    since: datetime.date
    today: datetime.date
    calendar: WorkCalendar

    @cached_property
    def overdue_dates(self) -> tuple[datetime.date, datetime.date]:
        """[first, end): due on one of these days, an item turned 逾期 in the window."""
        return self.since, self.today

    @cached_property
    def due_soon_dates(self) -> tuple[datetime.date, datetime.date]:
        """[first, end): 临期 today (at most one working day left) and not yet at ``since``."""
        return (
            max(self.today, self.calendar.add_working_days(self.since, 2)),
            self.calendar.add_working_days(self.today, 2),
        )

    def state(self, due: datetime.date) -> str | None:
        for state, (first, end) in ((OVERDUE, self.overdue_dates), (DUE_SOON, self.due_soon_dates)):
            if first <= due < end:
                return state
        return None


@dataclass
class Counts:
    """``counts[(item, state)][area code]``: how many items of each kind turned 临期/逾期 in each
    village, township and county ("" for the whole city)."""

    counts: dict[tuple[str, str], dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, item: str, state: str, codes: tuple[str, str, str], number: int = 1) -> None:
        bucket = self.counts[(item, state)]
        for code in ("", *codes):
            bucket[code] += number

    def of(self, item: str, state: str, code: str) -> int:
        return self.counts.get((item, state), {}).get(code, 0)


def _month_start(row: Mapping[str, Any]) -> tuple[str, datetime.datetime | None]:
    if row["state"] == State.SUBMITTED:
        return TOWNSHIP_REVIEW, row["submitted_at"]
    return COUNTY_REVIEW, row["township_at"]


def changed_counts(window: Window, days: dict[str, int] | None = None) -> Counts:
    """What turned 临期/逾期 in ``window``, per area: three queries (the actions and the monitoring
    cases counted per village and state in the database, by due-date ranges; the open sign-off months
    that can fall in the window, dated in Python since their deadline counts working days), plus one
    for the deadline table when ``days`` is not given."""
    days = days if days is not None else deadline_days()
    counts = Counts()
    (late_from, late_to), (soon_from, soon_to) = window.overdue_dates, window.due_soon_dates
    actions = (
        FollowUpAction.objects.exclude(status=ActionStatus.DONE)
        .filter(Q(due_on__gte=late_from, due_on__lt=late_to) | Q(due_on__gte=soon_from, due_on__lt=soon_to))
        .annotate(
            state=Case(
                When(due_on__lt=window.today, then=Value(OVERDUE)), default=Value(DUE_SOON), output_field=CharField()
            )
        )
        .values("county_code", "township_code", "village_code", "state")
        .annotate(number=Count("pk"))
        .order_by()
    )
    for group in actions:
        codes = (group["county_code"], group["township_code"], group["village_code"])
        counts.add(ACTIONS, group["state"], codes, group["number"])
    for group in (
        _cases_due(MonitoringCase.objects.all(), window.today)
        .filter(Q(due__gte=late_from, due__lt=late_to) | Q(due__gte=soon_from, due__lt=soon_to))
        .values("county_code", "township_code", "village_code", "item", "due_state")
        .annotate(number=Count("pk"))
        .order_by()
    ):
        codes = (group["county_code"], group["township_code"], group["village_code"])
        counts.add(group["item"], group["due_state"], codes, group["number"])
    oldest = window.since - datetime.timedelta(days=2 * max(days.values()) + SLACK_DAYS)
    for item, due, row in _open_months(VillageMonth.objects.all(), oldest, window.calendar, days):
        state = window.state(due)
        if state:
            counts.add(item, state, (row["county_code"], row["township_code"], row["village_code"]))
    return counts


def _cases_due(cases: QuerySet[MonitoringCase], today: datetime.date) -> Any:
    # Any: the stubs cannot follow the annotated ``due`` and ``item`` into later filters.
    """Open cases with the date they run against (the home visit's while waiting for it, else the
    whole identification's: ``monitoring.selectors.due_of``), whose work it is, and 逾期 or not."""
    return (
        cases.filter(state__in=OPEN_STATES)
        .annotate(
            due=Case(
                When(state=CaseState.HOME_VISIT, then=F("visit_due_on")), default=F("due_on"), output_field=DateField()
            ),
            item=Case(
                When(state=CaseState.COUNTY, then=Value(COUNTY_CASES)), default=Value(CASES), output_field=CharField()
            ),
        )
        .annotate(
            due_state=Case(When(due__lt=today, then=Value(OVERDUE)), default=Value(DUE_SOON), output_field=CharField())
        )
    )


def _open_months(
    months: QuerySet[VillageMonth], started_after: datetime.date, calendar: WorkCalendar, days: dict[str, int]
) -> list[tuple[str, datetime.date, Mapping[str, Any]]]:
    """Months waiting on a review that started on or after ``started_after`` (one query), with the
    review they wait on and its due date."""
    start = timezone.make_aware(datetime.datetime.combine(started_after, datetime.time.min))
    rows = (
        months.filter(
            Q(state=State.SUBMITTED, submitted_at__gte=start) | Q(state=State.TOWNSHIP_APPROVED, township_at__gte=start)
        )
        .values(
            "county_code",
            "township_code",
            "village_code",
            "village__name",
            "month",
            "state",
            "submitted_at",
            "township_at",
        )
        .order_by("county_code", "township_code", "village_code", "month")
    )
    found: list[tuple[str, datetime.date, Mapping[str, Any]]] = []
    for row in rows:
        item, started = _month_start(row)
        if started is None:
            continue
        found.append((item, calendar.add_working_days(timezone.localdate(started), days[ITEM_STEP[item]]), row))
    return found


# --- escalation on the home of the level above ------------------------------------------------------


@dataclass
class Escalated:
    """An overdue item of the level below, with its working days late."""

    item: str
    label: str
    where: str
    due: datetime.date
    late: int
    url: str


def escalated(
    actor: User, area: Area | None, today: datetime.date, action_rows: list[Any], calendar: WorkCalendar | None = None
) -> list[Escalated]:
    """Overdue items of the level below the actor's: for a county official the township's (the
    overdue follow-up actions among ``action_rows``, already read by the home, and the overdue
    初审 and 监测对象识别), for the city the counties' (overdue 审定 and cases waiting on the 县级审定).
    Three queries (deadline table, the open months of the area, its overdue cases; a fourth for the
    calendar unless given), never one per row; most late first."""
    if area is None or area.level not in (AreaLevel.COUNTY, AreaLevel.CITY):
        return []
    calendar, days = calendar or work_calendar(), deadline_days()
    wanted = COUNTY_REVIEW if area.level == AreaLevel.CITY else TOWNSHIP_REVIEW
    found: list[Escalated] = []
    if area.level == AreaLevel.COUNTY:
        for action in action_rows:
            if action.due_on is None or action.due_on >= today:
                continue
            url = (
                reverse("household_detail", args=[action.household.code]) + "#actions"
                if action.household_id
                else reverse("site_view", args=[action.site.code])
            )
            found.append(
                Escalated(
                    ACTIONS,
                    _("帮扶台账 %(code)s") % {"code": action.code},
                    action.household.code if action.household_id else action.site.name,
                    action.due_on,
                    calendar.working_days_late(action.due_on, today),
                    url,
                )
            )
    oldest = today - datetime.timedelta(days=400)  # a month waiting over a year is shown by the overview
    waiting = State.SUBMITTED if wanted == TOWNSHIP_REVIEW else State.TOWNSHIP_APPROVED
    months = scope(VillageMonth.objects.filter(state=waiting), actor).filter(within(area))
    for item, due, row in _open_months(months, oldest, calendar, days):
        if item != wanted or due >= today:
            continue
        found.append(
            Escalated(
                item,
                (_("%(month)s 乡镇初审") if item == TOWNSHIP_REVIEW else _("%(month)s 县级审定"))
                % {"month": row["month"]},
                row["village__name"],
                due,
                calendar.working_days_late(due, today),
                reverse("signoff_village", args=[row["village_code"]]) + f"?month={row['month']}",
            )
        )
    wanted_case = COUNTY_CASES if area.level == AreaLevel.CITY else CASES
    late_cases = (
        _cases_due(scope(MonitoringCase.objects.all(), actor).filter(within(area)), today)
        .filter(due__lt=today, item=wanted_case)
        .values("pk", "state", "due", "household__code", "household__village__name")
        .order_by("due", "pk")[:ESCALATED_LIMIT]
    )
    for case in late_cases:
        found.append(
            Escalated(
                wanted_case,
                _("监测对象识别 %(code)s（%(state)s）") % {"code": case["household__code"], "state": case["state"]},
                case["household__village__name"],
                case["due"],
                calendar.working_days_late(case["due"], today),
                reverse("monitoring_case", args=[case["pk"]]),
            )
        )
    found.sort(key=lambda item: (-item.late, item.due, item.label))
    return found[:ESCALATED_LIMIT]
