"""Reads behind the township workspace's to-do home (issue 6): the unmet indicators of the user's
township or village with their gaps, the open early warnings and the data-quality figures.

Numbers of indicators are stored values only (``IndicatorValue``); warnings and data quality are
read live from the records with the engine's own definitions (``indicators.selectors``). Every
function runs a fixed number of queries, however many households there are. ``area`` is the
caller's already-scoped area (the user's own); nothing here widens it.
"""

import datetime
from collections.abc import Collection
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.db.models import Case, Count, F, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.access import scope
from accounts.models import User
from areas.choices import AreaLevel
from areas.models import Area
from areas.selectors import within
from deadlines.workdays import DUE_SOON, OK, OVERDUE, work_calendar
from households.choices import ActionStatus
from households.models import FollowUpAction
from indicators.dashboards import panels as boards
from indicators.models import IndicatorValue, Kind, Level, Met, Period
from indicators.selectors import values as selectors

AREA_LEVEL_TO_VALUE: dict[str, Level] = {AreaLevel.TOWNSHIP: Level.TOWNSHIP, AreaLevel.VILLAGE: Level.VILLAGE}


@dataclass
class UnmetRow:
    """One judged indicator of the area that misses its target, with the way to its 清零清单."""

    code: str
    name: str
    text: str
    target: str
    gap: str
    url: str
    score: float | None = None  # share of the target reached (the heatmap's score): lowest is farthest


@dataclass
class IndicatorTodo:
    period: Period | None
    period_label: str = ""
    fresh: boards.Freshness | None = None
    judged: int = 0
    met: int = 0
    unmet: list[UnmetRow] = field(default_factory=list)


def indicator_todo(*, area: Area, periods: list[Period] | None = None) -> IndicatorTodo:
    """The running year's (else the latest stored period's) unmet judged indicators of ``area``, in
    catalogue order: three queries (periods, the freshness runs, the area's stored values)."""
    periods = boards.periods_all() if periods is None else periods
    period = boards.period_choose(periods, None)
    if period is None:
        return IndicatorTodo(period=None)
    todo = IndicatorTodo(period=period, period_label=boards.period_label(period), fresh=boards.freshness(period))
    values = (
        IndicatorValue.objects.filter(period=period, level=AREA_LEVEL_TO_VALUE[area.level], unit_code=area.code)
        .exclude(indicator__kind=Kind.INFO)
        .select_related("indicator")
        .order_by("indicator__order")
    )
    for value in values:
        if value.met not in (Met.TRUE, Met.FALSE):
            continue
        todo.judged += 1
        if value.met == Met.TRUE:
            todo.met += 1
            continue
        shown = boards.shown(value, value.indicator, period.key)
        todo.unmet.append(
            UnmetRow(
                code=value.indicator.code,
                name=value.indicator.name,
                text=shown.text,
                target=shown.target,
                gap=shown.gap,
                url=shown.url,
                score=shown.score,
            )
        )
    return todo


@dataclass
class DepartmentRow:
    """One indicator on a city bureau's home: the city's stored value and the counties missing it."""

    code: str
    name: str
    lead: str
    own: bool
    shown: boards.Shown
    counties_unmet: int


@dataclass
class DepartmentTodo:
    department: str
    period: Period | None
    period_label: str = ""
    fresh: boards.Freshness | None = None
    led: int = 0
    led_judged: int = 0
    led_unmet: int = 0
    rows: list[DepartmentRow] = field(default_factory=list)


def department_todo(*, department: str, show_all: bool = False) -> DepartmentTodo:
    """A city bureau's indicators (the catalogue's lead unit, indicators.md) with the city's stored
    values of the running year (else the latest period) and how many counties miss each target; with
    ``show_all`` every indicator, the bureau's own first. Four queries (periods, the freshness runs,
    the catalogue, the city's and counties' values)."""
    periods = boards.periods_all()
    period = boards.period_choose(periods, None)
    todo = DepartmentTodo(department=department, period=period)
    if period is None:
        return todo
    todo.period_label = boards.period_label(period)
    todo.fresh = boards.freshness(period)
    indicators = boards.led_first(boards.indicators_all(), department)
    city: dict[int, IndicatorValue] = {}
    counties_unmet: dict[int, int] = {}
    for value in boards.city_values(period):
        if value.level == Level.CITY:
            city[value.indicator_id] = value
        elif value.met == Met.FALSE:
            counties_unmet[value.indicator_id] = counties_unmet.get(value.indicator_id, 0) + 1
    for indicator in indicators:
        own = indicator.lead == department
        shown = boards.shown(city.get(indicator.pk), indicator, period.key)
        if own:
            todo.led += 1
            todo.led_judged += shown.met in (Met.TRUE, Met.FALSE)
            todo.led_unmet += shown.met == Met.FALSE
        if own or show_all:
            todo.rows.append(
                DepartmentRow(
                    code=indicator.code,
                    name=indicator.name,
                    lead=indicator.lead,
                    own=own,
                    shown=shown,
                    counties_unmet=counties_unmet.get(indicator.pk, 0),
                )
            )
    return todo


def warning_count(*, area: Area) -> int:
    """Households of ``area`` on the 预警清单 (not cleared by a monitoring decision)."""
    return len({warning["household"].pk for warning in selectors.early_warnings(area=area)})


def quality_summary(*, area: Area, reference_date: datetime.date) -> dict[str, Any]:
    """Data-quality warnings of ``area`` (indicators.md, Beyond the catalogue) in one query: the number
    of warnings, of active persons, of persons without any warning, and the score (share without)
    rounded down to one decimal, as the dashboards show it."""
    conditions = selectors._person_warning_qs(reference_date)
    any_warning = Q()
    for condition in conditions.values():
        any_warning |= condition
    persons = selectors._persons_with_household_facts().filter(within(area, "household__"))
    totals = persons.aggregate(
        persons=Count("id"),
        warned=Count("id", filter=any_warning),
        **{f"w_{name}": Count("id", filter=condition) for name, condition in conditions.items()},
    )
    total = totals["persons"] or 0
    warned = totals["warned"] or 0
    score = None if not total else boards.floor_one_decimal(Fraction(total - warned, total) * 100)
    return {
        "persons": total,
        "warned": warned,
        "warnings": sum(totals[f"w_{name}"] or 0 for name in conditions),
        "score": boards.NA if score is None else f"{score}%",
        "url": reverse("warnings_quality", args=[area.code]),
    }


def action_todo(
    *, actor: User | None, today: datetime.date, limit: int = 20, first_indicators: Collection[str] = ()
) -> dict[str, Any]:
    """Open follow-up actions of the actor's area (three queries): the counts of open and overdue, and
    the first ``limit`` open ones, overdue first (earliest due date first, undated last); those on
    ``first_indicators`` (a city bureau's own) come before the rest. Each row says whether it is
    逾期 or 临期 (at most one working day left: the working-day calendar, its third query, which the
    result carries for the page's other deadlines)."""
    open_actions = scope(FollowUpAction.objects.exclude(status=ActionStatus.DONE), actor)
    counts = open_actions.aggregate(open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
    order: list[Any] = [F("due_on").asc(nulls_last=True), "code"]
    if first_indicators:
        own = Case(When(indicator__in=list(first_indicators), then=Value(0)), default=Value(1))
        order.insert(0, own.asc())
    rows = list(open_actions.select_related("household", "site", "person").order_by(*order)[:limit])
    calendar = work_calendar()
    for row in rows:
        state = calendar.state(row.due_on, today) if row.due_on is not None else OK
        row.overdue = state == OVERDUE  # type: ignore[attr-defined]  # read by the template
        row.due_soon = state == DUE_SOON  # type: ignore[attr-defined]
    return {"open": counts["open"], "overdue": counts["overdue"], "rows": rows, "calendar": calendar}


def open_actions_at(*, actor: User | None, household_id: int | None, site_id: int | None) -> list[FollowUpAction]:
    """The open follow-up actions of one household, or of one site (those on none of its
    households), shown in a list row's action cell (one query)."""
    still_open = scope(FollowUpAction.objects.exclude(status=ActionStatus.DONE), actor)
    if household_id:
        still_open = still_open.filter(household_id=household_id)
    elif site_id is not None:
        still_open = still_open.filter(site_id=site_id, household__isnull=True)
    else:  # neither: the actions on no record (what ``site_id=None`` matched)
        still_open = still_open.filter(site__isnull=True, household__isnull=True)
    return list(still_open.order_by("due_on", "code"))


URGENT_LIMIT = 3


@dataclass
class UrgentItem:
    """One line of the home's 最紧急 list: what, why, where to act."""

    kind: str  # overdue / warnings / indicator / due
    what: str
    why: str
    url: str


def urgent_items(
    *, todo: dict[str, Any], warnings_count: int, warnings_url: str, indicators: IndicatorTodo, today: datetime.date
) -> list[UrgentItem]:
    """The three most urgent things for a village or township clerk, read from what the home already
    loaded (no query): overdue follow-up actions first (a deadline already missed, oldest first), then
    the open early warnings (a household may be sliding back into poverty; one line for all of them),
    then the unmet indicators farthest from their target (what the assessment counts most), then the
    open actions due next. The first three of that order are shown first on the page."""
    overdue: list[UrgentItem] = []
    due: list[UrgentItem] = []
    for action in todo["rows"]:
        if action.household_id:
            who = f"{action.household.code} {action.household.head_name}"
            url = reverse("household_detail", args=[action.household.code]) + "#actions"
        else:
            who = action.site.name if action.site_id else ""
            url = reverse("site_view", args=[action.site.code]) if action.site_id else reverse("home") + "#todo-actions"
        what = _("帮扶台账 %(code)s · %(kind)s · %(who)s") % {
            "code": action.code,
            "kind": action.get_kind_display(),
            "who": who,
        }
        if action.due_on is not None and action.due_on < today:
            why = _("已逾期 %(days)s 天（期限 %(due)s），责任人 %(owner)s") % {
                "days": (today - action.due_on).days,
                "due": action.due_on.isoformat(),
                "owner": action.owner,
            }
            overdue.append(UrgentItem("overdue", what, why, url))
        elif action.due_on is not None:
            why = _("%(due)s 到期，责任人 %(owner)s") % {"due": action.due_on.isoformat(), "owner": action.owner}
            due.append(UrgentItem("due", what, why, url))
    items = overdue[:URGENT_LIMIT]
    if warnings_count:
        items.append(
            UrgentItem(
                "warnings",
                ngettext("%(count)s 户防返贫预警待处置", "%(count)s 户防返贫预警待处置", warnings_count)
                % {"count": warnings_count},
                _("纳入监测或核实排除"),
                warnings_url,
            )
        )
    farthest = sorted(
        (row for row in indicators.unmet if row.url),
        key=lambda row: row.score if row.score is not None else 0.0,
    )
    for row in farthest:
        why = _("当前 %(value)s，目标 %(target)s，%(gap)s") % {"value": row.text, "target": row.target, "gap": row.gap}
        items.append(UrgentItem("indicator", f"{row.code} {row.name}", why, row.url))
    return (items + due)[:URGENT_LIMIT]
