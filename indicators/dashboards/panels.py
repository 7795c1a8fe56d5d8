"""Reads behind the dashboards: scorecards, breakdowns, heatmaps, trends and rankings.

Every number comes from stored ``IndicatorValue`` rows (indicators.md, Stored values), never from a
computation per request; each function runs a fixed number of queries however many households,
areas or sites there are (style rule 7). Scoping is the caller's job: the views reach the area or
site through ``accounts.access`` first and pass it here.

Display rules (indicators.md, Kinds of target): rates and pp are rounded **down** to one decimal,
so an unmet 99.96 % shows 99.9 %; a not-applicable value shows "—".
"""

import datetime
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.access import display_id_number, scope
from accounts.models import Role, User
from areas.choices import AreaLevel
from areas.models import Area
from areas.selectors import within
from households import selectors as household_selectors
from households.choices import ActionKind, ActionStatus
from households.models import (
    ChangeFeed,
    FollowUpAction,
    Grievance,
    Household,
    Person,
    Site,
)
from households.selectors import access_site
from households.validators import age_on
from indicators.engine import rules
from indicators.models import AssessmentRun, ComputeRun, Indicator, IndicatorValue, Kind, Level, Met, Period
from indicators.selectors import values as selectors

NA = "—"
MONEY_CODES = frozenset({"M9-1"})

# --- periods and freshness -----------------------------------------------------------------------


def period_label(period: Period) -> str:
    if period.is_year:
        return _("%(year)s年度") % {"year": period.key}
    year, month = period.key.split("-")
    return _("%(year)s年%(month)s月") % {"year": year, "month": int(month)}


@dataclass
class PeriodChoice:
    key: str
    label: str
    frozen: bool


def periods_all() -> list[Period]:
    """Every stored period, latest first (one query)."""
    return list(Period.objects.order_by("-start", "key"))


def period_choose(periods: list[Period], key: str | None, *, today: datetime.date | None = None) -> Period | None:
    """The period named by ``key``; without one the running year, else the latest stored period.
    None when ``key`` names no stored period (the view answers 404)."""
    if key:
        return next((period for period in periods if period.key == key), None)
    today = today or timezone.localdate()
    running = next((period for period in periods if period.key == str(today.year)), None)
    return running or (periods[0] if periods else None)


def period_choices(periods: list[Period]) -> list[PeriodChoice]:
    return [PeriodChoice(period.key, period_label(period), period.closed_at is not None) for period in periods]


# --- panels of the apps above (issue 21) ----------------------------------------------------------

# A panel provider takes (actor, area or None for the city, month "YYYY-MM") and returns markup for the area's dashboard
# (escaped already, e.g. ``render_to_string``), or "" for none. The apps above indicators register here
# from their ``ready()`` (signoff: 已审定 X/Y), so indicators never imports them. A provider runs a fixed
# number of queries for all the units it shows. It is rendered outside the cached parts: what it shows
# changes without a recompute. The county page kept whole (``parts.county_page_key``) is keyed by
# ``parts.panels_stamp()`` instead of the panels' figures: a provider's app calls
# ``parts.panels_changed()`` on every write that moves them (signoff: each state transition).
DashboardPanel = Callable[[User, Area | None, str], str]
DASHBOARD_PANELS: list[DashboardPanel] = []


def board_month(period: Period, today: datetime.date | None = None) -> str:
    """The month a dashboard of ``period`` reports beside its values: a month period's own; for a
    year the running month in the running year, December for a past one (a future year's January)."""
    if not period.is_year:
        return period.key
    today = today or timezone.localdate()
    year = int(period.key)
    month = today.month if year == today.year else (12 if year < today.year else 1)
    return f"{year:04d}-{month:02d}"


def dashboard_panels(actor: User, area: Area | None, period: Period) -> list[str]:
    """The registered panels of ``area`` for ``period``'s month (see ``DASHBOARD_PANELS``)."""
    month = board_month(period)
    return [html for provider in DASHBOARD_PANELS if (html := provider(actor, area, month))]


@dataclass
class Freshness:
    recalculating: bool
    computed_at: datetime.datetime | None
    reference_date: datetime.date | None
    frozen: bool
    last_run_id: int | None  # the latest finished run: stored values change only with it


# Every dashboard asks for it on every request: written out once, as the ORM's compiling of the
# EXISTS subquery cost three times the query's own time (issue 22).
_FEED, _RUNS = ChangeFeed._meta.db_table, ComputeRun._meta.db_table
# The models' own table names; the period as a parameter.
_FRESHNESS_SQL = (
    "SELECT r.id, r.status, r.finished_at, r.reference_date,"  # noqa: S608
    f" EXISTS (SELECT 1 FROM {_FEED} f WHERE f.consumed_at IS NULL) AS feed_pending"
    f" FROM {_RUNS} r WHERE r.period_id = %s ORDER BY r.created_at DESC, r.id DESC LIMIT 20"
)


def freshness(period: Period, *, today: datetime.date | None = None) -> Freshness:
    """ "正在重新计算…" while the period is dirty or a run is queued or running — or, for a running
    period, while change-feed rows wait for the sweep that will mark it dirty (with a broker that
    sweep is debounced, so an edit is not yet visible in ``dirty_since``) — else when the values
    were computed (one query: the period's recent runs, each carrying the pending-feed flag)."""
    today = today or timezone.localdate()
    runs = list(ComputeRun.objects.raw(_FRESHNESS_SQL, [period.pk]))
    busy = any(run.status in (ComputeRun.Status.QUEUED, ComputeRun.Status.RUNNING) for run in runs)
    done = next((run for run in runs if run.status == ComputeRun.Status.DONE), None)
    running = period.start <= today <= period.end
    pending = running and bool(runs) and bool(getattr(runs[0], "feed_pending", False))
    dirty = period.closed_at is None and (
        period.dirty_since is not None or period.year_data_dirty_since is not None or pending
    )
    return Freshness(
        recalculating=busy or dirty,
        computed_at=done.finished_at if done else None,
        reference_date=done.reference_date if done else None,
        frozen=period.closed_at is not None,
        last_run_id=done.pk if done else None,
    )


# --- showing one value ---------------------------------------------------------------------------


def floor_one_decimal(number: Fraction) -> Decimal:
    """Round down (towards −∞) to one decimal, exactly: 99.96 → 99.9, −0.04 → −0.1."""
    return Decimal(math.floor(number * 10)).scaleb(-1)


def _exact(value: IndicatorValue) -> Fraction | None:
    if value.value_exact:
        return Fraction(value.value_exact)
    return None if value.value is None else Fraction(value.value)


def value_text(value: IndicatorValue, kind: str) -> str:
    """The value as a dashboard shows it: ``99.9%``, ``2.3 pp``, ``1,234`` or ``—``."""
    if value.met == Met.NA and kind in (Kind.RATE, Kind.GAP_PP):
        return NA
    if kind == Kind.RATE:
        exact = _exact(value)
        return NA if exact is None else f"{floor_one_decimal(exact)}%"
    if kind == Kind.GAP_PP:
        exact = _exact(value)
        return NA if exact is None else f"{floor_one_decimal(exact)} pp"
    if value.numerator is None:
        return NA
    return f"{value.numerator:,}"


def target_text(value: IndicatorValue | None, indicator: Indicator) -> str:
    kind = indicator.kind
    target = value.target if value is not None and value.target is not None else indicator.target
    if kind == Kind.RATE:
        return f"{target.normalize():f}%" if target is not None else ""
    if kind == Kind.GAP_PP:
        return f"≥ {Decimal(target).quantize(Decimal('0.1'))} pp" if target is not None else ""
    if kind == Kind.ZERO:
        return "0"
    if kind == Kind.NO_DECREASE:
        return f"≥ {int(target):,}" if target is not None else _("≥ 上期")
    return ""


def change_text(value: IndicatorValue, kind: str) -> str:
    """``no_decrease``: the change against the previous period's count (its stored target)."""
    if kind != Kind.NO_DECREASE or value.target is None or value.numerator is None:
        return ""
    change = value.numerator - int(value.target)
    return f"+{change:,}" if change > 0 else (f"−{-change:,}" if change < 0 else "±0")


# Keyed by the stored text (``Met`` members are those strings).
MET_LABELS: dict[str, str] = {Met.TRUE: "达标", Met.FALSE: "未达标", Met.NA: "不适用"}
MET_CSS: dict[str, str] = {Met.TRUE: "met", Met.FALSE: "unmet", Met.NA: "na"}


@dataclass
class Shown:
    """One stored value, ready to print."""

    code: str
    text: str
    met: str  # true / false / na / "" (info)
    gap: str = ""
    change: str = ""
    target: str = ""
    url: str = ""
    score: float | None = None  # the heatmap cell: 100 met, the share of target when unmet, None n/a
    raw: IndicatorValue | None = None

    @property
    def css(self) -> str:
        return MET_CSS.get(self.met, "info")

    @property
    def met_label(self) -> str:
        return _(MET_LABELS[self.met]) if self.met in MET_LABELS else ""


def list_url(code: str, unit_code: str, period_key: str) -> str:
    return reverse("indicator_list", args=[code, unit_code]) + f"?period={period_key}"


def shown(value: IndicatorValue | None, indicator: Indicator, period_key: str) -> Shown:
    if value is None:
        return Shown(indicator.code, NA, Met.NA if indicator.kind != Kind.INFO else "")
    kind = indicator.kind
    judged = kind != Kind.INFO
    # The engine's gap() reads ``value.indicator``: hand it the already loaded one.
    value.indicator = indicator
    item = Shown(
        code=indicator.code,
        text=value_text(value, kind),
        met=value.met if judged else "",
        gap=selectors.gap_text(value) if judged else "",
        change=change_text(value, kind),
        target=target_text(value, indicator),
        url=list_url(indicator.code, value.unit_code, period_key) if judged and value.met != Met.NA else "",
        raw=value,
    )
    if judged and value.met == Met.TRUE:
        item.score = 100.0
    elif judged and value.met == Met.FALSE:
        exact = _exact(value)
        if kind == Kind.RATE and exact is not None and indicator.target:
            item.score = float(min(floor_one_decimal(exact * 100 / Fraction(indicator.target)), Decimal("99.9")))
        else:
            item.score = 0.0
    return item


# --- catalogue -----------------------------------------------------------------------------------


@dataclass
class MeasureGroup:
    number: int
    name: str
    rows: list[Any] = field(default_factory=list)


def indicators_all() -> list[Indicator]:
    """The catalogue in order, with measures (one query)."""
    return list(Indicator.objects.select_related("measure").order_by("order"))


def by_measure(indicators: list[Indicator], rows: dict[str, Any]) -> list[MeasureGroup]:
    groups: dict[int, MeasureGroup] = {}
    for indicator in indicators:
        group = groups.setdefault(
            indicator.measure.number, MeasureGroup(indicator.measure.number, indicator.measure.name)
        )
        group.rows.append(rows[indicator.code])
    return list(groups.values())


# --- one unit and its children -------------------------------------------------------------------


@dataclass
class ScoreRow:
    indicator: Indicator
    value: Shown


@dataclass
class ChildColumn:
    code: str
    name: str
    kind: str  # 村 / 安置点 / 乡镇 / 县
    url: str = ""
    actions: dict[str, int] = field(default_factory=dict)  # open / overdue follow-ups (township board)


@dataclass
class Board:
    """A scorecard of one unit with a breakdown over its children (rows of the heatmap)."""

    unit_code: str
    unit_name: str
    groups: list[MeasureGroup]
    children: list[ChildColumn]
    # indicator code → [Shown per child, in ``children`` order]
    breakdown: dict[str, list[Shown]]
    judged: int = 0
    met: int = 0

    @property
    def breakdown_rows(self) -> list[tuple[Indicator, list[Shown]]]:
        """(indicator, cells per child) of the judged indicators, for the breakdown table."""
        return [
            (row.indicator, self.breakdown[row.indicator.code])
            for group in self.groups
            for row in group.rows
            if row.indicator.kind != Kind.INFO
        ]

    def heatmap(self, indicators: list[Indicator]) -> dict[str, Any]:
        """ECharts heatmap data: x = children, y = judged indicators; each cell [x, y, score|'-']."""
        judged = [indicator for indicator in indicators if indicator.kind != Kind.INFO]
        cells, texts, urls = [], [], []
        for y, indicator in enumerate(judged):
            for x, item in enumerate(self.breakdown.get(indicator.code, [])):
                cells.append([x, y, "-" if item.score is None else item.score])
                texts.append(f"{item.text}{' · ' + item.gap if item.gap else ''}")
                urls.append(item.url)
        return {
            "x": [child.name for child in self.children],
            "y": [f"{indicator.code} {indicator.name}" for indicator in judged],
            "cells": cells,
            "texts": texts,
            "urls": urls,
        }


def _values_by(values: list[IndicatorValue]) -> dict[tuple[str, str, int], IndicatorValue]:
    return {(value.level, value.unit_code, value.indicator_id): value for value in values}


def board_build(
    *,
    indicators: list[Indicator],
    values: list[IndicatorValue],
    period: Period,
    unit_level: str,
    unit_code: str,
    unit_name: str,
    children: Sequence[tuple[str, ChildColumn]],
) -> Board:
    """Assemble a board from already loaded values; ``children`` are (level, column) pairs."""
    indexed = _values_by(values)
    rows, breakdown = {}, {}
    judged = met = 0
    for indicator in indicators:
        item = shown(indexed.get((unit_level, unit_code, indicator.pk)), indicator, period.key)
        rows[indicator.code] = ScoreRow(indicator, item)
        if item.met in (Met.TRUE, Met.FALSE):
            judged += 1
            met += item.met == Met.TRUE
        breakdown[indicator.code] = [
            shown(indexed.get((level, child.code, indicator.pk)), indicator, period.key) for level, child in children
        ]
    return Board(
        unit_code=unit_code,
        unit_name=unit_name,
        groups=by_measure(indicators, rows),
        children=[child for _level, child in children],
        breakdown=breakdown,
        judged=judged,
        met=met,
    )


def county_values(period: Period, county_code: str) -> list[IndicatorValue]:
    """The county's own values and its townships' (one query)."""
    return list(
        IndicatorValue.objects.filter(period=period)
        .filter(Q(level=Level.COUNTY, unit_code=county_code) | Q(level=Level.TOWNSHIP, county_code=county_code))
        .defer("computed_at", "run")
    )


def township_values(period: Period, township_code: str) -> list[IndicatorValue]:
    """The township's own values, its villages' and its sites' (one query): the only rows that carry
    its code, found by the BRIN ``value_area``."""
    return list(IndicatorValue.objects.filter(period=period, township_code=township_code).defer("computed_at", "run"))


def village_values(period: Period, village: Area, site_codes: list[str]) -> list[IndicatorValue]:
    """A village's own values and its sites' (one query, through the township's BRIN ``value_area``)."""
    return list(
        IndicatorValue.objects.filter(period=period, township_code=village.township_code)
        .filter(Q(level=Level.VILLAGE, unit_code=village.code) | Q(level=Level.SITE, unit_code__in=site_codes))
        .defer("computed_at", "run")
    )


def city_values(period: Period) -> list[IndicatorValue]:
    """The city's values and every county's (one query)."""
    return list(
        IndicatorValue.objects.filter(period=period, level__in=[Level.CITY, Level.COUNTY]).defer("computed_at", "run")
    )


def site_values(period: Period, site_code: str) -> list[IndicatorValue]:
    return list(IndicatorValue.objects.filter(period=period, level=Level.SITE, unit_code=site_code))


# --- trend ---------------------------------------------------------------------------------------


def trend(*, level: str, unit_code: str, period: Period, indicators: list[Indicator]) -> dict[str, Any]:
    """Every stored period of the same length as ``period`` (years, or months), oldest first, with the
    shown value of each indicator for one unit (one query). Rates and pp as numbers rounded down;
    counts as counts; not applicable as null."""
    rows = (
        IndicatorValue.objects.filter(level=level, unit_code=unit_code)
        .values_list("period__key", "indicator_id", "numerator", "value", "value_exact", "met")
        .order_by("period__start")
    )
    by_id = {indicator.pk: indicator for indicator in indicators}
    keys: list[str] = []
    series: dict[str, dict[str, float | None]] = defaultdict(dict)
    for key, indicator_id, numerator, number, exact, met in rows:
        if len(key) != len(period.key):
            continue
        if key not in keys:
            keys.append(key)
        indicator = by_id.get(indicator_id)
        if indicator is None:
            continue
        if met == Met.NA and indicator.kind in (Kind.RATE, Kind.GAP_PP):
            point = None
        elif indicator.kind in (Kind.RATE, Kind.GAP_PP):
            fraction = Fraction(exact) if exact else (Fraction(number) if number is not None else None)
            point = None if fraction is None else float(floor_one_decimal(fraction))
        else:
            point = numerator
        series[indicator.code][key] = point
    return {
        "periods": keys,
        "series": {
            indicator.code: {
                "name": f"{indicator.code} {indicator.name}",
                "kind": indicator.kind,
                "target": None if indicator.target is None else float(indicator.target),
                "data": [series[indicator.code].get(key) for key in keys],
            }
            for indicator in indicators
        },
    }


# --- per-township side tables --------------------------------------------------------------------


def actions_by_township(*, actions: QuerySet, today: datetime.date | None = None) -> dict[str, dict[str, int]]:
    """Open and overdue follow-up actions per township code of an already scoped queryset (one query)."""
    today = today or timezone.localdate()
    rows = (
        actions.exclude(status=ActionStatus.DONE)
        .order_by()
        .values("township_code")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
    )
    return {row["township_code"]: {"open": row["open"], "overdue": row["overdue"]} for row in rows}


_ACTIONS_SQL = (
    "SELECT township_code, COUNT(*), SUM(CASE WHEN due_on < %s THEN 1 ELSE 0 END)"  # noqa: S608
    f" FROM {FollowUpAction._meta.db_table} WHERE county_code = %s AND status <> %s GROUP BY township_code"
)


def county_actions_by_township(
    *, actor: User, county: Area, today: datetime.date | None = None
) -> dict[str, dict[str, int]]:
    """``actions_by_township`` of a county the actor has opened (one query). When the actor's scope
    of follow-ups is the whole county (the city's roles see everything, the county's own official
    its subtree: ``accounts.access.scope``), the count is written out: the ORM's compiling of the
    grouped query cost six times its running on every county dashboard request (issue 22)."""
    if not (actor.is_superuser or actor.role in (Role.CITY_BUREAU, Role.CITY_ADMIN) or actor.area_id == county.pk):
        return actions_by_township(actions=scope(FollowUpAction.objects.filter(within(county)), actor), today=today)
    today = today or timezone.localdate()
    connection = connections[router.db_for_read(FollowUpAction)]
    with connection.cursor() as cursor:
        cursor.execute(_ACTIONS_SQL, [connection.ops.adapt_datefield_value(today), county.code, ActionStatus.DONE])
        return {code: {"open": count, "overdue": int(overdue)} for code, count, overdue in cursor.fetchall()}


def actions_by_unit(*, actions: QuerySet, today: datetime.date | None = None) -> dict[str, dict[str, int]]:
    """Open and overdue actions per village code and per site code (keys ``v:<code>`` / ``s:<code>``),
    one query."""
    today = today or timezone.localdate()
    rows = (
        actions.exclude(status=ActionStatus.DONE)
        .order_by()
        .values("village_code", "site__code")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
    )
    found: dict[str, dict[str, int]] = defaultdict(lambda: {"open": 0, "overdue": 0})
    for row in rows:
        for key in (f"v:{row['village_code']}", f"s:{row['site__code']}" if row["site__code"] else ""):
            if key:
                found[key]["open"] += row["open"]
                found[key]["overdue"] += row["overdue"]
    return dict(found)


def quality_by_township(*, reference_date: datetime.date, area: Area) -> dict[str, dict[str, Any]]:
    """The data-quality score (share of active persons with no warning, indicators.md) per township of
    ``area`` (one query). Uses the engine's warning definitions so the score means the same everywhere."""
    conditions = selectors._person_warning_qs(reference_date)
    any_warning = Q()
    for condition in conditions.values():
        any_warning |= condition
    persons = selectors._persons_with_household_facts().filter(within(area, "household__"))
    rows = (
        persons.order_by()
        .values("household__township_code")
        .annotate(persons=Count("id"), warned=Count("id", filter=any_warning))
    )
    scores = {}
    for row in rows:
        total, warned = row["persons"], row["warned"]
        score = Fraction(total - warned, total) * 100 if total else None
        scores[row["household__township_code"]] = {
            "persons": total,
            "warned": warned,
            "score": NA if score is None else f"{floor_one_decimal(score)}%",
        }
    return scores


def early_warnings_by_township(*, area: Area) -> dict[str, int]:
    """Open early warnings (预警清单) per township code of ``area`` (the selector's fixed queries)."""
    counts: dict[str, int] = defaultdict(int)
    for warning in selectors.early_warnings(area=area):
        counts[warning["household"].township_code] += 1
    return dict(counts)


# --- city: ranking -------------------------------------------------------------------------------


@dataclass
class RankRow:
    rank: int
    code: str
    name: str
    judged: int
    met: int

    @property
    def share(self) -> str:
        if not self.judged:
            return NA
        return f"{floor_one_decimal(Fraction(self.met * 100, self.judged))}%"


def ranking(boards: list[tuple[str, str, int, int]]) -> list[RankRow]:
    """Counties by the share of their judged indicators that are met (ties: more met first, then code);
    equal shares share a rank."""
    ordered = sorted(
        boards, key=lambda item: (-(Fraction(item[3], item[2]) if item[2] else Fraction(-1)), -item[3], item[0])
    )
    rows: list[RankRow] = []
    for index, (code, name, judged, met) in enumerate(ordered):
        share = Fraction(met, judged) if judged else None
        previous = rows[-1] if rows else None
        same = previous is not None and previous.judged and share == Fraction(previous.met, previous.judged)
        rows.append(RankRow(previous.rank if same and previous else index + 1, code, name, judged, met))
    return rows


def county_children(period: Period, counties: list[Area]) -> list[tuple[str, ChildColumn]]:
    return [
        (Level.COUNTY, ChildColumn(county.code, county.name, "县", reverse("dashboard_county", args=[county.code])))
        for county in counties
    ]


def counties_all() -> list[Area]:
    return list(Area.objects.filter(level=AreaLevel.COUNTY).order_by("code"))


def site_population(site: Site) -> int:
    return Person.objects.filter(rules.ACTIVE_PERSON, household__site=site).count()


# --- the 清零清单 as rows ---------------------------------------------------------------------------

# Each row's 原因 is the rule's own sentence (``rules.reason``), from the columns the list already loads.


@dataclass
class ListRow:
    """One record of a 清零清单 as this actor may see it. ``target`` names what an assigned
    follow-up action attaches to: ``household:<code>``, ``person:<pk>`` or ``site:<code>``."""

    cells: list[Any]
    link: str = ""
    target: str = ""
    household_id: int | None = None
    site_id: int | None = None
    record_id: int | None = None  # the person's or household's pk, for a fix from the row (issue 20)
    actions: list[FollowUpAction] = field(default_factory=list)
    pairs: list[tuple[str, Any]] = field(default_factory=list)  # (header, cell), for labelled mobile rows


@dataclass
class ListTable:
    record: str  # what a row is: household / person / site / petition / township / finance
    headers: list[str]
    rows: list[ListRow]


def _household_cells(actor: User | None, household: Household) -> list[Any]:
    return [
        household.code,
        household.head_name,
        display_id_number(actor, household, "head_id_encrypted"),
        household.village.name,
        household.site.name if household.site is not None else "",  # no query without a site_id
    ]


def list_table(
    *, actor: User | None, code: str, records: list[Any], reference_date: datetime.date, villages: dict[int, str]
) -> ListTable:
    """Rows of one page (or of the whole list, for the export), masked for ``actor`` through the one
    masking function (``accounts.access.display_id_number``): ages, never birth dates, for masked
    roles. The builder is chosen by what the list holds (``selectors.list_kind``), so an empty list
    gets its own headers too."""
    build = LIST_BUILDERS[selectors.list_kind(code, reference_date)]
    table = build(actor, code, records, reference_date, villages)
    for row in table.rows:
        row.pairs = list(zip(table.headers, row.cells, strict=False))
    return table


HOUSEHOLD_HEADERS = (_lazy("户编号"), _lazy("户主"), _lazy("户主身份证号"), _lazy("村（社区）"), _lazy("安置点"))


def _person_table(
    actor: User | None, code: str, records: list[Person], reference_date: datetime.date, villages: dict[int, str]
) -> ListTable:
    headers = [_("姓名"), _("身份证号"), _("年龄"), _("户编号"), _("村（社区）"), _("原因")]
    rows = []
    for person in records:
        household = person.household
        rows.append(
            ListRow(
                cells=[
                    person.name,
                    display_id_number(actor, person),
                    age_on(person.birth_date, reference_date),
                    household.code,
                    villages.get(household.village_id, ""),
                    rules.reason(code, person, reference_date),
                ],
                link=reverse("household_detail", args=[household.code]),
                target=f"person:{person.pk}",
                household_id=household.pk,
                record_id=person.pk,
            )
        )
    return ListTable("person", headers, rows)


def _household_row(actor: User | None, household: Household, reason: str) -> ListRow:
    return ListRow(
        cells=[*_household_cells(actor, household), reason],
        link=reverse("household_detail", args=[household.code]),
        target=f"household:{household.code}",
        household_id=household.pk,
        record_id=household.pk,
    )


def _shortfall_table(
    actor: User | None,
    code: str,
    records: list[selectors.IncomeShortfall],
    reference_date: datetime.date,
    villages: dict[int, str],
) -> ListTable:
    """M3-5: households with the reason each misses the city's income growth."""
    rows = [_household_row(actor, item.household, item.reason) for item in records]
    return ListTable("household", [*(str(header) for header in HOUSEHOLD_HEADERS), _("原因")], rows)


def _household_table(
    actor: User | None, code: str, records: list[Household], reference_date: datetime.date, villages: dict[int, str]
) -> ListTable:
    rows = [_household_row(actor, household, rules.reason(code, household, reference_date)) for household in records]
    return ListTable("household", [*(str(header) for header in HOUSEHOLD_HEADERS), _("原因")], rows)


def _site_table(
    actor: User | None, code: str, records: list[Site], reference_date: datetime.date, villages: dict[int, str]
) -> ListTable:
    headers = [_("安置点编码"), _("安置点名称"), _("所在村（社区）"), _("安置人口"), _("原因")]
    rows = []
    for site in records:
        population = getattr(site, "population", None)
        reason = rules.reason(code, site, reference_date)
        rows.append(
            ListRow(
                cells=[site.code, site.name, villages.get(site.village_id, ""), population, reason],
                link=reverse("site_view", args=[site.code]),
                target=f"site:{site.code}",
                site_id=site.pk,
            )
        )
    return ListTable("site", headers, rows)


def _petition_table(
    actor: User | None, code: str, records: list[Grievance], reference_date: datetime.date, villages: dict[int, str]
) -> ListTable:
    """A petition's follow-up attaches to its household, else to its site."""
    headers = [
        _("事项编号"),
        _("受理日期"),
        _("事项类别"),
        _("办理状态"),
        _("办结日期"),
        _("村社区内解决"),
        _("户"),
        _("原因"),
    ]
    rows = []
    for grievance in records:
        # ``is not None``: no query without a key, the related row loaded with the list otherwise.
        household_code = grievance.household.code if grievance.household is not None else ""
        target = (
            f"household:{household_code}"
            if grievance.household_id
            else (f"site:{grievance.site.code}" if grievance.site is not None else "")
        )
        rows.append(
            ListRow(
                cells=[
                    grievance.code,
                    grievance.received_on.isoformat(),
                    grievance.topic,
                    grievance.status,
                    grievance.resolved_on.isoformat() if grievance.resolved_on else "",
                    _("是") if grievance.resolved_in_village else _("否"),
                    household_code,
                    rules.reason(code, grievance, reference_date),
                ],
                link=reverse("household_detail", args=[household_code]) if grievance.household_id else "",
                target=target,
                household_id=grievance.household_id,
                site_id=grievance.site_id,
            )
        )
    return ListTable("petition", headers, rows)


def _township_table(
    actor: User | None, code: str, records: list[Area], reference_date: datetime.date, villages: dict[int, str]
) -> ListTable:
    """M2-4: townships with sites and no industrial park."""
    headers = [_("乡镇代码"), _("乡镇名称"), _("后扶产业园"), _("原因")]
    rows = [ListRow(cells=[t.code, t.name, _("否"), rules.reason(code, t, reference_date)]) for t in records]
    return ListTable("township", headers, rows)


def _finance_table(
    actor: User | None, code: str, records: list[Any], reference_date: datetime.date, villages: dict[int, str]
) -> ListTable:
    """M9-1 and M9-2 have no household to follow up: the county finance rows behind the value, in yuan."""
    headers = [
        _("县市区"),
        _("年度"),
        _("盘活资产收益（元）"),
        _("用于搬迁户（元）"),
        _("衔接资金（元）"),
        _("用于搬迁后扶（元）"),
        _("原因"),
    ]
    rows = [
        ListRow(
            cells=[
                row.county.name,
                row.year,
                Decimal(row.asset_proceeds) / 100,
                Decimal(row.proceeds_to_households) / 100,
                Decimal(row.linkage_funds) / 100,
                Decimal(row.linkage_to_relocation) / 100,
                rules.reason(code, row, reference_date),
            ]
        )
        for row in records
    ]
    return ListTable("finance", headers, rows)


LIST_BUILDERS: dict[str, Callable[..., ListTable]] = {
    "person": _person_table,
    "shortfall": _shortfall_table,
    "household": _household_table,
    "site": _site_table,
    "petition": _petition_table,
    "township": _township_table,
    "finance": _finance_table,
}


AREA_LEVEL_TO_VALUE: dict[str, Level] = {
    AreaLevel.CITY: Level.CITY,
    AreaLevel.COUNTY: Level.COUNTY,
    AreaLevel.TOWNSHIP: Level.TOWNSHIP,
    AreaLevel.VILLAGE: Level.VILLAGE,
}


@dataclass
class ListValue:
    """The stored value behind a 清零清单, with its unit (an area or a site) and the stored periods."""

    value: IndicatorValue
    area: Area | None
    site: Site | None
    periods: list[Period]


def list_value(*, actor: User | None, code: str, unit: str, period_key: str | None) -> ListValue:
    """The value of ``code`` for ``unit`` (an area or site code, reached through the actor's scope)
    in the chosen period; 404 when the unit is foreign or missing, the period is not stored, or the
    indicator is for information only (it has no list)."""
    area = scope(Area.objects.all(), actor).filter(code=unit).first()
    site = None if area is not None else access_site(actor, unit)
    level = AREA_LEVEL_TO_VALUE[area.level] if area is not None else Level.SITE  # a site when no area
    periods = periods_all()
    period = period_choose(periods, period_key)
    if period is None:
        raise Http404
    value = (
        IndicatorValue.objects.select_related("indicator", "period")
        .filter(period=period, indicator__code=code, level=level, unit_code=unit)
        .first()
    )
    if value is None or value.indicator.kind == Kind.INFO:
        raise Http404
    value.area, value.site = area, site  # already loaded: the selector reads them
    return ListValue(value=value, area=area, site=site, periods=periods)


def parse_target(target: str) -> tuple[str, str]:
    """``household:<code>``, ``person:<pk>`` or ``site:<code>`` (``ListRow.target``) as (kind, key)."""
    kind, _sep, key = target.partition(":")
    return kind, key


def list_target(actor: User | None, target: str) -> tuple[Household | None, Site | None, Person | None] | None:
    """The household (and person) or site a follow-up action from a list row attaches to; None when
    it does not exist or lies outside the actor's area (access.md: a write referring outside the
    area answers 400, like an unknown code)."""
    kind, key = parse_target(target)
    try:
        if kind == "household":
            household = household_selectors.household_reference(actor, key)
            return household, None, None
        if kind == "person" and key.isdigit():
            person = household_selectors.access_person(actor, int(key))
            return person.household, None, person
        if kind == "site":
            return None, access_site(actor, key), None
    except (Http404, ValidationError):
        return None
    return None


# Default kind of a follow-up action by indicator (prefix match, longest first).
KIND_BY_CODE = {
    "M1": ActionKind.GOVERNANCE,
    "M2": ActionKind.INDUSTRY,
    "M3": ActionKind.EMPLOYMENT,
    "M4": ActionKind.HOUSING,
    "M5": ActionKind.EDUCATION,
    "M6": ActionKind.MEDICAL,
    "M7": ActionKind.SAFETY_NET,
    "M7-2": ActionKind.MONITORING,
    "M8": ActionKind.FACILITIES,
    "M8-1": ActionKind.WATER,
    "M8-2": ActionKind.WATER,
}


def default_action_kind(code: str) -> str:
    return KIND_BY_CODE.get(code) or KIND_BY_CODE.get(code.split("-")[0], ActionKind.OTHER)


def list_records(*, actor: User | None, value: IndicatorValue) -> QuerySet | list[Any]:
    """The 清零清单 behind ``value`` (the engine's selector), scoped to ``actor`` and with the
    relations a row prints loaded in the same query."""
    records = selectors.failing_records(value=value)
    if isinstance(records, QuerySet):
        records = scope(records, actor)
        if records.model is Person:
            records = records.select_related("household")
        elif records.model is Household:
            records = records.select_related("village", "site")
        elif records.model is Grievance:
            records = records.select_related("household", "site")
    return records


class AssignableRow(Protocol):
    """A list row that can carry open follow-up actions: a 清零清单's ``ListRow``, a 预警清单 row."""

    household_id: int | None
    site_id: int | None
    actions: list[FollowUpAction]


def list_page_extras(*, actor: User | None, rows: Sequence[AssignableRow]) -> None:
    """Open follow-up actions beside each row (one query for the page)."""
    household_ids = {row.household_id for row in rows if row.household_id}
    site_ids = {row.site_id for row in rows if row.site_id}
    if not household_ids and not site_ids:
        return
    actions = list(
        scope(FollowUpAction.objects.exclude(status=ActionStatus.DONE), actor)
        .filter(Q(household_id__in=household_ids) | Q(site_id__in=site_ids, household__isnull=True))
        .order_by("due_on", "code")
    )
    by_household: dict[int, list[FollowUpAction]] = defaultdict(list)
    by_site: dict[int, list[FollowUpAction]] = defaultdict(list)
    for action in actions:
        if action.household_id:
            by_household[action.household_id].append(action)
        elif action.site_id:
            by_site[action.site_id].append(action)
    for row in rows:
        if row.household_id:
            row.actions = by_household.get(row.household_id, [])
        elif row.site_id:
            row.actions = by_site.get(row.site_id, [])


def village_names(records: list[Any]) -> dict[int, str]:
    """Village names of the rows of a page of persons or sites (one query)."""
    ids = set()
    for record in records:
        if isinstance(record, Person):
            ids.add(record.household.village_id)
        elif isinstance(record, Site):
            ids.add(record.village_id)
    return dict(Area.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


# --- department views --------------------------------------------------------------------------------


def led_first(indicators: list[Indicator], department: str) -> list[Indicator]:
    """The indicators ``department`` leads (indicators.md's lead unit) first, each part in catalogue order."""
    return sorted(indicators, key=lambda indicator: indicator.lead != department)


def assessment_year_linked(year: int, *, drafts: bool) -> int | None:
    """The latest year up to ``year`` whose assessment the reader can open: a published run, or with
    ``drafts`` (the city roles, access.md) a finished draft. A link to a year without one is a 404,
    so the dashboards link this year or none (one query)."""
    runs = AssessmentRun.objects.filter(year__lte=year)
    runs = (
        runs.filter(Q(published_at__isnull=False) | Q(status=AssessmentRun.Status.DONE))
        if drafts
        else runs.filter(published_at__isnull=False)
    )
    return runs.order_by("-year").values_list("year", flat=True).first()
