"""The indicator engine: set-based counts, rolled up the area tree, judged with exact fractions.

One pass per record family (sites, households with their incomes, persons joined to their
household, petitions, county finance), each a ``GROUP BY (village, site)`` with conditional
aggregates (``Count(..., filter=Q(...))``) — the households pass two of them, so that each runs in
parallel: never a query per household or person. The additive counts per village and per site
(``collect_counts``) are then summed up the area tree in memory; rates are derived from summed
numerators and denominators, never averaged. ``met`` is decided with ``fractions.Fraction`` so that
80 % and 2.0 pp boundaries are exact.

The filters live in ``*_rules`` below and are shared with ``selectors`` (the 清零清单), so a list and
its count can never disagree.
"""

import contextlib
import datetime
import gc
import math
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum
from django.utils import timezone

from areas.choices import AreaLevel
from areas.models import Area
from households.choices import (
    LABOUR_FORCE,
    MONITORED,
    Employment,
    GrievanceStatus,
    HouseholdCategory,
    HousingHazard,
    RecordStatus,
    SafetyNet,
    Schooling,
    SiteKind,
)
from households.models import (
    Grievance,
    Household,
    Income,
    Person,
    Site,
)
from indicators.catalogue import BY_CODE, CATALOGUE, FINANCE_CODES
from indicators.engine.periods import previous_key
from indicators.models import CityStatistic, CountyFinance, Indicator, IndicatorValue, Kind, Level, Met, Period

LEVEL_OF_AREA = {
    AreaLevel.CITY: Level.CITY,
    AreaLevel.COUNTY: Level.COUNTY,
    AreaLevel.TOWNSHIP: Level.TOWNSHIP,
    AreaLevel.VILLAGE: Level.VILLAGE,
}
HUNDRED = Fraction(100)
FINANCE_LEVELS = (Level.COUNTY, Level.CITY)  # the only levels with M9-x values
M9_1_KEYS = ("finance.cur.proceeds_to_households", "finance.cur.asset_proceeds")  # its numerator, denominator
ENGINE_WORK_MEM = "512MB"  # for the persons and households passes only (SET LOCAL)
PLACES = 10


# --- ages and windows ---------------------------------------------------------------------------


def years_before(reference: datetime.date, years: int) -> datetime.date:
    """The latest birth date of someone aged at least ``years`` on ``reference``.

    A person born on 29 February has a birthday on 1 March in common years, so when ``reference``
    minus ``years`` would be 29 February of a common year the cut-off is 28 February.
    """
    try:
        return reference.replace(year=reference.year - years)
    except ValueError:  # 29 February → common year
        return datetime.date(reference.year - years, 2, 28)


def age_between(reference: datetime.date, low: int, high: int, prefix: str = "") -> Q:
    """Aged ``low``..``high`` whole years (inclusive) on ``reference``, from ``birth_date`` in SQL."""
    return Q(**{f"{prefix}birth_date__lte": years_before(reference, low)}) & Q(
        **{f"{prefix}birth_date__gt": years_before(reference, high + 1)}
    )


def age_at_least(reference: datetime.date, years: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}birth_date__lte": years_before(reference, years)})


def age_below(reference: datetime.date, years: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}birth_date__gt": years_before(reference, years)})


# --- the rules: (denominator filter, numerator filter) per indicator and family ------------------

Rule = tuple[Q | None, Q]  # (denominator or None for count kinds, numerator)


def _rate(denominator: Q, condition: Q) -> Rule:
    return denominator, denominator & condition


ACTIVE_HOUSEHOLD = Q(status=RecordStatus.ACTIVE)
ACTIVE_PERSON = Q(status=RecordStatus.ACTIVE, household__status=RecordStatus.ACTIVE)


def household_rules(reference: datetime.date) -> dict[str, Rule]:
    """On ``Household``, within active households."""
    poor = Q(category=HouseholdCategory.REGISTERED_POOR)
    return {
        "M2-2": _rate(Q(), ~Q(industry_project="")),
        "M2-5": (None, Q(dividend__gt=0)),
        # The members with LABOUR_FORCE_MEMBER, and with EMPLOYED too, counted by triggers on persons
        # (households.models). An employed labour-force member is one: the numerator needs no "and".
        "M3-3": (Q(labour_force_members__gt=0), Q(employed_labour_force_members__gt=0)),
        "M4-1": _rate(Q(), Q(housing_hazard__in=[HousingHazard.NONE, HousingHazard.FIXED])),
        "M7-1": _rate(Q(safety_net_eligible=True), Q(safety_net__in=[SafetyNet.DIBAO, SafetyNet.TEKUN])),
        "M7-2": _rate(Q(monitoring__in=MONITORED), Q(monitoring_assisted=True)),
        "M7-3": _rate(poor, ~Q(helper="")),
        "M8-1": _rate(poor, Q(tap_water=True)),
        "M8-2": (None, Q(seasonal_water_shortage=True)),
    }


def person_rules(reference: datetime.date) -> dict[str, Rule]:
    """On ``Person``, within active persons of active households."""
    poor = Q(household__category=HouseholdCategory.REGISTERED_POOR)
    labour_force = Q(labour__in=LABOUR_FORCE)
    employed = ~Q(employment=Employment.UNEMPLOYED)
    year_start = datetime.date(reference.year, 1, 1)
    return {
        "M3-1": _rate(
            labour_force,
            Q(employment_checked_on__gte=reference - datetime.timedelta(days=90), employment_checked_on__lte=reference),
        ),
        "M3-2": _rate(labour_force & Q(wants_work=True), employed),
        "M3-4": (None, Q(employment=Employment.PUBLIC_WELFARE)),
        "M3-6": _rate(poor & Q(wants_training=True), Q(trained_on__gte=year_start, trained_on__lte=reference)),
        "M3-7": _rate(poor & Q(employment=Employment.MIGRANT), Q(transport_subsidy=True)),
        # Gross rate: the numerator is not a subset of the denominator (any age 在园).
        "M5-1": (poor & age_between(reference, 3, 5), poor & Q(schooling=Schooling.KINDERGARTEN)),
        "M5-2": _rate(
            poor & age_between(reference, 6, 15), ~Q(schooling__in=[Schooling.DROPPED_OUT, Schooling.NOT_IN_SCHOOL])
        ),
        "M5-3": _rate(Q(hardship_student=True), Q(student_aid=True)),
        "M6-2": _rate(Q(), Q(family_doctor=True)),
        "M6-3": _rate(Q(), Q(medical_insurance=True)),
    }


def petition_rules(reference: datetime.date) -> dict[str, Rule]:
    """On ``Grievance``: received in the calendar year up to the reference date, plus carried over."""
    year_start = datetime.date(reference.year, 1, 1)
    window = Q(received_on__lte=reference) & (
        Q(received_on__gte=year_start) | ~Q(status=GrievanceStatus.RESOLVED, resolved_on__lt=year_start)
    )
    resolved = window & Q(status=GrievanceStatus.RESOLVED, resolved_on__lte=reference)
    return {"M1-6": (window, resolved), "M1-7": (resolved, resolved & Q(resolved_in_village=True))}


SiteRow = dict[str, Any]
SITE_500, SITE_800 = 500, 800  # the 500+ and 800+ sites of indicators.md
SITE_THRESHOLDS = (SITE_500, SITE_800)  # the only populations a site rule compares with
SitePredicate = Callable[[SiteRow, int], bool]


def _sites(condition: Callable[[SiteRow], bool], *, min_population: int = 0, kind: str | None = None):  # type: ignore[no-untyped-def]
    def denominator(site: SiteRow, population: int) -> bool:
        return population >= min_population and (kind is None or site["kind"] == kind)

    def numerator(site: SiteRow, population: int) -> bool:
        return denominator(site, population) and condition(site)

    return denominator, numerator


def _flag(*names: str) -> Callable[[SiteRow], bool]:
    return lambda site: all(site[name] for name in names)


SITE_RULES: dict[str, tuple[SitePredicate | None, SitePredicate]] = {
    "M1-1": _sites(_flag("party_org")),
    "M1-2": _sites(_flag("self_gov_org")),
    "M1-3": _sites(_flag("one_stop_centre"), min_population=SITE_800),
    "M1-4": _sites(_flag("first_secretary", "work_team")),
    "M1-5": _sites(
        _flag("governance_centre", "public_assistance", "convenience_store", "social_orgs"), min_population=SITE_800
    ),
    "M2-1": _sites(_flag("industry_plan")),
    "M2-3": _sites(_flag("industry_base")),
    "M4-2": _sites(_flag("property_management"), min_population=SITE_500),
    "M4-3": _sites(_flag("complete_community"), kind=SiteKind.URBAN),
    "M4-4": (None, lambda site, population: bool(site["smart_community"])),
    "M5-4": _sites(_flag("kindergarten"), min_population=SITE_800),
    "M6-1": _sites(_flag("medical_facility")),
    "M8-3": (
        lambda site, population: bool(site["ceremony_hall_needed"]),
        lambda site, population: bool(site["ceremony_hall_needed"] and site["ceremony_hall"]),
    ),
    "M8-4": (
        lambda site, population: bool(site["tool_storage_needed"]),
        lambda site, population: bool(site["tool_storage_needed"] and site["tool_storage"]),
    ),
    "M8-5": _sites(_flag("public_transport")),
    "M10-1": _sites(_flag("cultural_venue")),
}
SITE_FIELDS = sorted(
    {
        "party_org", "self_gov_org", "one_stop_centre", "first_secretary", "work_team", "governance_centre",
        "public_assistance", "convenience_store", "social_orgs", "industry_plan", "industry_base",
        "property_management", "complete_community", "smart_community", "kindergarten", "medical_facility",
        "cultural_venue", "public_transport", "ceremony_hall_needed", "ceremony_hall", "tool_storage_needed",
        "tool_storage", "kind",
    }
)  # fmt: skip


# --- collecting additive counts ------------------------------------------------------------------


@dataclass
class Counts:
    """Additive counts for one reference date: per village (area id), per site, per county (finance)."""

    reference_date: datetime.date
    by_village: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_site: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_county: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    site_population: dict[int, int] = field(default_factory=dict)
    sites: list[SiteRow] = field(default_factory=list)


def _aggregates(rules: dict[str, Rule]) -> dict[str, Count]:
    aggregates: dict[str, Count] = {}
    for code, (denominator, numerator) in rules.items():
        aggregates[_alias(code, "n")] = Count("id", filter=numerator)
        if denominator is not None:
            aggregates[_alias(code, "d")] = Count("id", filter=denominator)
    return aggregates


def _alias(code: str, part: str) -> str:
    return f"{code.replace('-', '_')}_{part}"


def _spread(rows: QuerySet, counts: Counts, village_key: str, site_key: str, names: dict[str, str]) -> None:
    """Add each (village, site) group row to its village and, when it has one, to its site.

    The rows (64,000 per pass at national scale) are summed as lists, one C-level ``map`` per row,
    and each village's and site's sums reach its Counter once: adding every amount to two Counters
    one by one costs 1–2 s a pass. PostgreSQL sums bigints as numeric: ``int`` at the end."""
    by_village: dict[int, Any] = {}
    by_site: dict[int, Any] = {}
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:  # plain tuples: Django's converters per value cost 0.7 s a pass
        cursor.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        pick = operator.itemgetter(*(columns.index(key) for key in (village_key, site_key, *names)))
        found_rows = cursor.fetchall()
    for row in found_rows:
        village_id, site_id, *amounts = pick(row)
        if None in amounts:  # a SUM over no rows
            amounts = [amount or 0 for amount in amounts]
        for sums, key in ((by_village, village_id), (by_site, site_id)):
            if key is not None:
                found = sums.get(key)
                sums[key] = amounts if found is None else list(map(operator.add, found, amounts))
    _add_sums(by_village, counts.by_village, list(names.values()))
    _add_sums(by_site, counts.by_site, list(names.values()))


def _add_sums(sums: dict[int, Any], counters: dict[int, Counter], names: list[str]) -> None:
    """Add each unit's summed amounts, in the order of ``names``, to its Counter."""
    for key, amounts in sums.items():
        counter = counters[key]
        if counter.keys().isdisjoint(names):  # the usual case: each pass has names of its own
            dict.update(counter, zip(names, map(int, amounts), strict=True))  # set, in C
        else:
            for name, amount in zip(names, amounts, strict=True):
                counter[name] += int(amount)


def _names(rules: dict[str, Rule], extra: Iterable[str] = ()) -> dict[str, str]:
    names = {name: name for name in extra}
    for code, (denominator, _numerator) in rules.items():
        names[_alias(code, "n")] = f"{code}.n"
        if denominator is not None:
            names[_alias(code, "d")] = f"{code}.d"
    return names


def person_counts(reference: datetime.date, counts: Counts) -> None:
    """One GROUP BY (village, site) over active persons joined to their household (the floor query of
    bench/engine_bench.py); it also yields the site populations."""
    rules = person_rules(reference)
    rows = (
        Person.objects.filter(ACTIVE_PERSON)
        .order_by()
        .values("household__village_id", "household__site_id")
        .annotate(
            persons=Count("id"),
            labour_force=Count("id", filter=Q(labour__in=LABOUR_FORCE)),
            **_aggregates(rules),
        )
    )
    with aggregate_settings():
        _spread(rows, counts, "household__village_id", "household__site_id", _names(rules, ["persons", "labour_force"]))


def household_counts(reference: datetime.date, counts: Counts) -> None:
    """Active households: one GROUP BY (village, site) over the households, one over their income
    rows of Y and Y−1. Apart, both run in parallel; joining both years' rows to the households costs
    more (4.3 s at national scale) than both queries (3.1 s)."""
    rules = household_rules(reference)
    active = Household.objects.filter(ACTIVE_HOUSEHOLD).order_by()
    with aggregate_settings():
        rows = active.values("village_id", "site_id").annotate(households=Count("id"), **_aggregates(rules))
        _spread(rows, counts, "village_id", "site_id", _names(rules, ["households"]))
        incomes, names = _income_rows(reference.year)
        _spread(incomes, counts, "household__village_id", "household__site_id", names)


def _income_rows(year: int) -> tuple[QuerySet, dict[str, str]]:
    """Per (village, site) of active households: Σ per-capita income × size, Σ size and the number of
    rows, for Y (``cur``) and Y−1 (``prev``); at most one row per household and year."""
    aggregates: dict[str, Any] = {}
    names: dict[str, str] = {}
    for which, when in (("cur", year), ("prev", year - 1)):
        in_year = Q(year=when)
        product = F("per_capita_income") * F("size")
        aggregates[f"income_{which}_total"] = Sum(product, filter=in_year, output_field=BigIntegerField())
        aggregates[f"income_{which}_size"] = Sum("size", filter=in_year)
        aggregates[f"income_{which}_rows"] = Count("id", filter=in_year)
        names.update({f"income_{which}_{part}": f"income.{which}.{part}" for part in ("total", "size", "rows")})
    rows = (
        Income.objects.filter(year__in=[year - 1, year], household__status=RecordStatus.ACTIVE)
        .order_by()
        .values("household__village_id", "household__site_id")
        .annotate(**aggregates)
    )
    return rows, names


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a run. A run allocates millions of small tuples
    and strings while ~65,000 Counters live, and each collection walks them all again: 1.7 s of a
    national recompute (judging 2.5 million values: 3.0 s with it, 1.7 s without). The run forms no
    cycles; the collector is back on (and catches up) when the run ends, failed or not."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def aggregate_settings() -> Iterator[None]:
    """PostgreSQL: room for the hash tables of the engine's large aggregates, and no JIT (compiling
    them costs more, 1.6 s at national scale, than it saves)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{ENGINE_WORK_MEM}'; SET LOCAL jit = off")
        yield


def petition_counts(reference: datetime.date, counts: Counts) -> None:
    rules = petition_rules(reference)
    rows = Grievance.objects.order_by().values("village_id", "site_id").annotate(**_aggregates(rules))
    _spread(rows, counts, "village_id", "site_id", _names(rules))


def finance_counts(reference: datetime.date, counts: Counts) -> None:
    year = reference.year
    rows = CountyFinance.objects.filter(year__in=[year - 1, year]).values(
        "county_id", "year", "asset_proceeds", "proceeds_to_households", "linkage_funds", "linkage_to_relocation"
    )
    for row in rows:
        counter = counts.by_county[row["county_id"]]
        which = "cur" if row["year"] == year else "prev"
        counter[f"finance.{which}.rows"] += 1
        for name in ("asset_proceeds", "proceeds_to_households", "linkage_funds", "linkage_to_relocation"):
            counter[f"finance.{which}.{name}"] += row[name]


def site_counts(reference: datetime.date, counts: Counts) -> None:
    """Sites are few (one per ~240 persons): their flags are judged in Python against the population.
    Needs the persons pass first."""
    # Site population P(s) comes from the persons pass (active persons of active households on s).
    population = {site_id: counter["persons"] for site_id, counter in counts.by_site.items()}
    counts.site_population = population
    counts.sites = list(Site.objects.order_by("code").values("id", "code", "name", "village_id", *SITE_FIELDS))
    # A site's counts depend only on its flags and which population thresholds it reaches.
    names = [
        f"{code}.{part}"
        for code, (denominator, _) in SITE_RULES.items()
        for part in ("n", "d")[: 1 + bool(denominator)]
    ]
    judged: dict[tuple[Any, ...], list[int]] = {}
    by_village: dict[int, list[int]] = {}
    by_site: dict[int, list[int]] = {}
    for site in counts.sites:
        site_population = population.get(site["id"], 0)
        key = (*(site[name] for name in SITE_FIELDS), *(site_population >= floor for floor in SITE_THRESHOLDS))
        amounts = judged.get(key)
        if amounts is None:
            amounts = judged[key] = []
            for denominator, numerator in SITE_RULES.values():
                amounts.append(int(numerator(site, site_population)))
                if denominator is not None:
                    amounts.append(int(denominator(site, site_population)))
        by_site[site["id"]] = amounts
        found = by_village.get(site["village_id"])
        by_village[site["village_id"]] = amounts if found is None else list(map(operator.add, found, amounts))
    _add_sums(by_village, counts.by_village, names)  # summed first: adding 2 million amounts one by one costs 1.5 s
    _add_sums(by_site, counts.by_site, names)


def collect_counts(reference: datetime.date, *, families: Iterable[str] | None = None) -> Counts:
    """The additive counts per village and per site at ``reference`` (reusable by dashboards).

    ``families`` restricts the passes (``sites``, ``households``, ``persons``, ``petitions``,
    ``incomes``, ``finance``); by default all of them.
    """
    counts = Counts(reference_date=reference)
    passes = {
        "persons": person_counts,  # before sites: it yields the site populations
        "sites": site_counts,
        "households": household_counts,  # with the incomes
        "petitions": petition_counts,
        "finance": finance_counts,
    }
    wanted = set(families or passes)
    if "sites" in wanted:
        wanted.add("persons")
    if "incomes" in wanted:
        wanted = (wanted - {"incomes"}) | {"households"}
    for name, function in passes.items():
        if name in wanted:
            function(reference, counts)
    return counts


# --- the area tree -------------------------------------------------------------------------------


@dataclass
class Tree:
    areas: dict[int, dict[str, Any]]
    ancestors: dict[int, list[int]]  # the area itself first, then its parent, … up to the city
    townships: dict[int, int | None]  # each area's township (itself for a township)
    county_codes: dict[int, str]  # each area's county code ("" above the counties)

    @classmethod
    def load(cls) -> "Tree":
        areas = {
            area["id"]: area
            for area in Area.objects.values("id", "code", "name", "level", "parent_id", "has_industrial_park")
        }
        ancestors: dict[int, list[int]] = {}
        townships: dict[int, int | None] = {}
        county_codes: dict[int, str] = {}
        for area_id in areas:
            chain, current = [], area_id
            while current is not None and current not in chain:
                chain.append(current)
                current = areas[current]["parent_id"]
            ancestors[area_id] = chain
            levels = [areas[ancestor]["level"] for ancestor in chain]
            townships[area_id] = chain[levels.index(AreaLevel.TOWNSHIP)] if AreaLevel.TOWNSHIP in levels else None
            county_codes[area_id] = areas[chain[levels.index("县")]]["code"] if "县" in levels else ""
        return cls(areas=areas, ancestors=ancestors, townships=townships, county_codes=county_codes)

    def township_of(self, area_id: int) -> int | None:
        return self.townships.get(area_id)

    def township_code(self, area_id: int) -> str:
        township = self.townships.get(area_id)
        return "" if township is None else self.areas[township]["code"]


def roll_up(counts: Counts, tree: Tree) -> dict[int, Counter]:
    """Sum the village counts into every area above; add M2-4 (townships holding a site) and finance.

    Each area's own counts are added to it, then every area's total to its parent's once, deepest
    areas first: one addition per area instead of one per (area, ancestor)."""
    totals: dict[int, Counter] = {area_id: Counter() for area_id in tree.areas}
    for village_id, counter in counts.by_village.items():
        if village_id in totals:
            totals[village_id].update(counter)
    townships_with_site = {tree.township_of(site["village_id"]) for site in counts.sites} - {None}
    for township_id in townships_with_site:
        totals[township_id]["M2-4.d"] += 1
        totals[township_id]["M2-4.n"] += int(bool(tree.areas[township_id]["has_industrial_park"]))
    for county_id, counter in counts.by_county.items():
        if county_id in totals:
            totals[county_id].update(counter)
    for area_id in sorted(tree.areas, key=lambda area_id: len(tree.ancestors[area_id]), reverse=True):
        chain = tree.ancestors[area_id]
        if len(chain) > 1:
            totals[chain[1]].update(totals[area_id])
    return totals


# --- judging -------------------------------------------------------------------------------------


@dataclass
class Judged:
    numerator: int | None
    denominator: int | None
    value: Fraction | None
    target: Decimal | None
    met: str


def _growth(counter: Counter, prefix: str, part_total: str, part_base: str) -> Fraction | None:
    """I(Y)/I(Y−1) − 1 style ratio of ratios; None when a year is missing or a base is 0."""
    ratio = _growth_ratio(counter, prefix, part_total, part_base)
    return None if ratio is None else Fraction(*ratio)


def _growth_ratio(counter: Counter, prefix: str, part_total: str, part_base: str) -> tuple[int, int] | None:
    """``_growth`` as (numerator, denominator), not in lowest terms: (ct/cb) / (pt/pb) − 1."""
    get = counter.get
    if not get(f"{prefix}.cur.rows") or not get(f"{prefix}.prev.rows"):
        return None
    current_base, previous_base = get(f"{prefix}.cur.{part_base}", 0), get(f"{prefix}.prev.{part_base}", 0)
    if not current_base or not previous_base:
        return None
    current_total, previous_total = get(f"{prefix}.cur.{part_total}", 0), get(f"{prefix}.prev.{part_total}", 0)
    if previous_total == 0:
        return None
    return current_total * previous_base - current_base * previous_total, current_base * previous_total


def _income_gap_cells(counter: Counter, city_growth: Fraction | None, target: Decimal | None) -> tuple[Any, ...]:
    """M3-5's cells, ``_cells(judge("M3-5", …))``, in integers: growth × 100 − the city's growth
    as one ratio. Every unit has its own incomes, so nothing is shared; Fraction arithmetic on
    65,000 units costs ~0.5 s."""
    ratio = _growth_ratio(counter, "income", "total", "size")
    if ratio is None or city_growth is None:
        return (None, None, None, "", target, Met.NA)
    numerator = ratio[0] * 100 * city_growth.denominator - city_growth.numerator * ratio[1]
    denominator = ratio[1] * city_growth.denominator
    if denominator < 0:  # never for incomes (Fraction would move the sign)
        return _cells(_judge_gap(Fraction(numerator, denominator), target))
    return _ratio_cells(numerator, denominator, target)


def _finance_growth(counter: Counter, name: str) -> Fraction | None:
    if not counter["finance.cur.rows"] or not counter["finance.prev.rows"]:
        return None
    previous = counter[f"finance.prev.{name}"]
    if previous == 0:
        return None
    return Fraction(counter[f"finance.cur.{name}"], previous) - 1


def judge(
    code: str,
    counter: Counter,
    *,
    city_growth: Fraction | None,
    previous_count: int | None,
) -> Judged:
    """One indicator's stored numbers for one unit (indicators.md, Kinds of target and Precise readings)."""
    entry = BY_CODE[code]
    target = entry.target
    if code == "M9-1":
        numerator, denominator = (counter[key] for key in M9_1_KEYS)
        return _judge_rate(numerator, denominator, target)
    if code == "M9-2":
        linkage = _finance_growth(counter, "linkage_to_relocation")
        total = _finance_growth(counter, "linkage_funds")
        if linkage is None or total is None:
            return Judged(None, None, None, target, Met.NA)
        return _judge_gap((linkage - total) * HUNDRED, target)
    if code == "M3-5":
        growth = _growth(counter, "income", "total", "size")
        if growth is None or city_growth is None:
            return Judged(None, None, None, target, Met.NA)
        return _judge_gap(growth * HUNDRED - city_growth, target)
    if entry.kind == Kind.RATE:
        return _judge_rate(counter[f"{code}.n"], counter[f"{code}.d"], target)
    count = counter[f"{code}.n"]
    if entry.kind == Kind.INFO:
        return Judged(count, None, Fraction(count), None, Met.NA)
    if entry.kind == Kind.ZERO:
        if not counter["households"]:
            return Judged(count, None, None, target, Met.NA)
        return Judged(count, None, Fraction(count), target, Met.TRUE if count == 0 else Met.FALSE)
    # no_decrease
    if previous_count is None:
        return Judged(count, None, None, None, Met.NA)
    if not counter["labour_force"]:
        return Judged(count, None, None, Decimal(previous_count), Met.NA)
    met = Met.TRUE if count >= previous_count else Met.FALSE
    return Judged(count, None, Fraction(count), Decimal(previous_count), met)


BARS: dict[Decimal | None, tuple[int, int]] = {}  # each target as numerator and denominator, made once


def _bar(target: Decimal | None) -> tuple[int, int]:
    bar = BARS.get(target)
    if bar is None:
        exact = Fraction(target or 0)
        bar = BARS[target] = (exact.numerator, exact.denominator)
    return bar


def _at_least(value: Fraction, target: Decimal | None) -> bool:
    bar = _bar(target)
    return value.numerator * bar[1] >= bar[0] * value.denominator


def _judge_rate(numerator: int, denominator: int, target: Decimal | None) -> Judged:
    if not denominator:
        return Judged(numerator, denominator, None, target, Met.NA)
    value = Fraction(numerator * 100, denominator)
    return Judged(numerator, denominator, value, target, Met.TRUE if _at_least(value, target) else Met.FALSE)


def _judge_gap(value: Fraction, target: Decimal | None) -> Judged:
    return Judged(None, None, value, target, Met.TRUE if _at_least(value, target) else Met.FALSE)


def round_half_up(value: Fraction, places: int = PLACES) -> Decimal:
    """Round an exact fraction half away from zero to ``places`` decimals, exactly."""
    return _round_ratio(value.numerator, value.denominator, places)


def _round_ratio(numerator: int, denominator: int, places: int = PLACES) -> Decimal:
    """``round_half_up(Fraction(numerator, denominator))`` in integers (Fraction arithmetic costs 10x
    more per value); the ratio need not be in lowest terms."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(abs(numerator) * 10**places, denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    result = Decimal(quotient).scaleb(-places)
    return -result if numerator < 0 else result


def _ratio_cells(
    value_numerator: int,
    value_denominator: int,
    target: Decimal | None,
    numerator: int | None = None,
    denominator: int | None = None,
) -> tuple[Any, ...]:
    """The cells of the exact value ``value_numerator / value_denominator`` (a positive denominator,
    not necessarily in lowest terms) judged against ``target``, in integers."""
    bar = _bar(target)
    met = Met.TRUE if value_numerator * bar[1] >= bar[0] * value_denominator else Met.FALSE
    common = math.gcd(value_numerator, value_denominator)
    text = f"{value_numerator // common}/{value_denominator // common}"
    return (numerator, denominator, _round_ratio(value_numerator, value_denominator), text, target, met)


def _rate_cells(numerator: int, denominator: int, target: Decimal | None) -> tuple[Any, ...]:
    """``_cells(_judge_rate(numerator, denominator, target))`` in integers: the same cells without
    a Fraction, whose type checks in each operation cost ~1 s per national recompute."""
    if not denominator:
        return (numerator, denominator, None, "", target, Met.NA)
    if denominator < 0:  # never for counts and amounts (Fraction would move the sign)
        return _cells(_judge_rate(numerator, denominator, target))
    return _ratio_cells(numerator * 100, denominator, target, numerator, denominator)


def fraction_text(value: Fraction | None) -> str:
    return "" if value is None else f"{value.numerator}/{value.denominator}"


# --- computing a period --------------------------------------------------------------------------


class UnitValues(NamedTuple):
    """Every ``IndicatorValue`` of one area or site, to insert. Plain tuples, not model instances;
    ``run`` is one tuple per run and each distinct ``cells`` one tuple per run (most units repeat a
    site's 0/1, an empty village's 0/0), so the writer formats each distinct part once."""

    run: tuple[Any, ...]  # period_id, reference_date, computed_at, run_id
    unit: tuple[Any, ...]  # level, area_id, site_id, unit_code, county_code, township_code
    # (indicator_id, cells), cells being numerator, denominator, value, value_exact, target, met
    values: list[tuple[int, tuple[Any, ...]]]


@dataclass
class Unit:
    level: str
    unit_code: str
    name: str
    area_id: int | None
    site_id: int | None
    county_code: str
    township_code: str


def _area_units(tree: Tree) -> list[tuple[Unit, int]]:
    units = []
    for area_id, area in tree.areas.items():
        level = LEVEL_OF_AREA.get(area["level"])
        if level is None:
            continue
        county, township = tree.county_codes[area_id], tree.township_code(area_id)
        units.append((Unit(level, area["code"], area["name"], area_id, None, county, township), area_id))
    return units


def previous_counts(period: Period, code: str = "M3-4") -> dict[tuple[str, str], int]:
    """The stored counts of ``code`` for the previous period of the same length, by (level, unit_code)."""
    previous = Period.objects.filter(key=previous_key(period.key)).values_list("pk", flat=True).first()
    indicator = Indicator.objects.filter(code=code).values_list("pk", flat=True).first()
    if previous is None or indicator is None:
        return {}
    # By ids, not through joins: PostgreSQL then reads the previous period's partition alone.
    rows = IndicatorValue.objects.filter(
        period_id=previous, indicator_id=indicator, numerator__isnull=False
    ).values_list("level", "unit_code", "numerator")
    return {(level, unit_code): numerator for level, unit_code, numerator in rows}


def city_growth_for(year: int) -> Fraction | None:
    statistic = CityStatistic.objects.filter(year=year).first()
    return None if statistic is None else Fraction(statistic.city_income_growth)


def compute_values(
    period: Period,
    reference_date: datetime.date,
    *,
    codes: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list["UnitValues"]:
    """Every (unit, indicator) value of ``period`` at ``reference_date``, by unit (not saved).

    ``codes`` restricts the indicators (the year-data recomputation of a closed year); the record
    families read are then only those the codes need.
    """
    return list(iter_values(period, reference_date, codes=codes, progress=progress))


def iter_values(
    period: Period,
    reference_date: datetime.date,
    *,
    codes: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
    run_id: int | None = None,
) -> Iterator["UnitValues"]:
    """``compute_values`` as a stream: every query runs now (the caller may then hold its connection
    in a COPY), and the returned iterator only judges rows, so national scale never holds millions
    of rows in memory."""
    wanted = [entry.code for entry in CATALOGUE if codes is None or entry.code in set(codes)]
    families = None
    if codes is not None:
        families = set()
        if "M3-5" in wanted:
            families.add("incomes")
        if FINANCE_CODES & set(wanted):
            families.add("finance")
        if set(wanted) - {"M3-5", *FINANCE_CODES}:
            families.update({"sites", "households", "persons", "petitions"})
    counts = collect_counts(reference_date, families=families)
    if progress:
        progress(60)
    tree = Tree.load()
    totals = roll_up(counts, tree)
    growth = city_growth_for(reference_date.year)
    previous = previous_counts(period) if "M3-4" in wanted else {}
    indicators = dict(Indicator.objects.values_list("code", "id"))
    now = timezone.now()

    units: list[tuple[Unit, Counter]] = [(unit, totals[area_id]) for unit, area_id in _area_units(tree)]
    for site in counts.sites or Site.objects.values("id", "code", "name", "village_id"):
        village = site["village_id"]
        county, township = tree.county_codes.get(village, ""), tree.township_code(village)
        unit = Unit(Level.SITE, site["code"], site["name"], None, site["id"], county, township)
        units.append((unit, counts.by_site.get(site["id"], Counter())))

    # In the order of the unique index (level, unit code, indicator): building it on sorted rows
    # takes 1.8 s at national scale instead of 3 s.
    units.sort(key=lambda pair: (pair[0].level, pair[0].unit_code))
    if progress:
        progress(80)
    return _judged_rows(units, wanted, indicators, period, reference_date, growth, previous, now, run_id)


class _Plan(NamedTuple):
    """How ``_judged_rows`` judges one unit's indicators: rates (most of them) by their two counts,
    the others through ``judge``; ``order`` puts the results back in indicator order."""

    rates: list[tuple[dict[tuple[int, int], tuple[Any, ...]], str, str, int, Decimal | None]]
    counts: Callable[[Counter], tuple[int, ...]]  # every rate's numerator and denominator, in one call
    others: list[tuple[str, int, str, str]]  # code, indicator id, "count" or "other", numerator key
    order: list[int]


def _plan(wanted: list[str], indicators: dict[str, int], *, finance: bool) -> _Plan:
    count_kinds = (Kind.INFO, Kind.ZERO, Kind.NO_DECREASE)
    codes = sorted((code for code in wanted if finance or code not in FINANCE_CODES), key=lambda code: indicators[code])
    rates, others, positions = [], [], []
    for code in codes:
        entry = BY_CODE[code]
        if entry.kind == Kind.RATE:
            keys = M9_1_KEYS if code == "M9-1" else (f"{code}.n", f"{code}.d")
            rates.append(({}, *keys, indicators[code], entry.target))
            positions.append(("rate", len(rates) - 1))
        else:
            others.append((code, indicators[code], "count" if entry.kind in count_kinds else "other", f"{code}.n"))
            positions.append(("other", len(others) - 1))
    order = [index if part == "rate" else len(rates) + index for part, index in positions]
    # A Counter answers a missing key with 0 (``__missing__``), as ``get(key, 0)`` would. Each rate
    # has two keys, so the getter returns a tuple (or, without rates, is not needed).
    keys = [key for rate in rates for key in rate[1:3]]
    counts = operator.itemgetter(*keys) if keys else (lambda counter: ())
    return _Plan(rates, counts, others, order)


def _judged_rows(  # type: ignore[no-untyped-def]
    units, wanted, indicators, period, reference_date, growth, previous, now, run_id
) -> Iterator["UnitValues"]:
    """The rows of ``iter_values``; runs no query. National scale judges 2.5 million values, and
    most units repeat a few (numerator, denominator) pairs (a site's 0/1 or 1/1, an empty village's
    0/0): each rate's judged cells are computed once per distinct pair and shared, looked up in a
    comprehension per unit (a loop of Python statements per value costs 4 s at national scale)."""
    plans = {finance: _plan(wanted, indicators, finance=finance) for finance in (True, False)}
    judged_cells: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    run = (period.pk, reference_date, now, run_id)
    for unit, counter in units:
        get = counter.get  # dict.get: a Counter's [] on a missing key runs Python code
        rates, counts, others, order = plans[unit.level in FINANCE_LEVELS]
        amounts = counts(counter)
        pairs = list(zip(amounts[::2], amounts[1::2], strict=True))
        found = [rate[0].get(pair) for rate, pair in zip(rates, pairs, strict=True)]
        if None in found:  # a pair not seen before
            for index, (cache, _, _, indicator_id, target) in enumerate(rates):
                if found[index] is None:
                    found[index] = cache[pairs[index]] = (indicator_id, _rate_cells(*pairs[index], target))
        previous_count = previous.get((unit.level, unit.unit_code))
        households, labour_force = bool(get("households")), bool(get("labour_force"))
        for code, indicator_id, how, numerator_key in others:
            if how == "count":  # judged from these alone (``judge``)
                key = (code, get(numerator_key, 0), households, labour_force, previous_count)
                pair = judged_cells.get(key)
                if pair is None:
                    judged = judge(code, counter, city_growth=growth, previous_count=previous_count)
                    pair = judged_cells[key] = (indicator_id, _cells(judged))
            elif code == "M3-5":  # a growth of the unit's own incomes, never shared
                pair = (indicator_id, _income_gap_cells(counter, growth, BY_CODE[code].target))
            else:  # M9-2: the counties' and the city's finance (a few units)
                pair = (indicator_id, _cells(judge(code, counter, city_growth=growth, previous_count=previous_count)))
            found.append(pair)
        unit_cells = (unit.level, unit.area_id, unit.site_id, unit.unit_code, unit.county_code, unit.township_code)
        yield UnitValues(run, unit_cells, [found[index] for index in order])


def _cells(judged: Judged) -> tuple[Any, ...]:
    value = None if judged.value is None else round_half_up(judged.value)
    return (judged.numerator, judged.denominator, value, fraction_text(judged.value), judged.target, judged.met)
