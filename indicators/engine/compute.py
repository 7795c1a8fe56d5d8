"""The indicator engine's entry: every value of a period, unit by unit, judged and ready to store.

``iter_values`` composes the engine's steps, one module each:

- ``rules``: which records each indicator counts (filters shared with the 清零清单);
- ``passes``: one set-based ``GROUP BY (village, site)`` per record family into additive counts;
- ``rollup``: the village counts summed up the area tree (rates from sums, never averaged);
- ``judging``: each unit's value and ``met``, exactly.

Storing the values is ``store``'s and the run around it ``runs``'.
"""

import contextlib
import datetime
import gc
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple, cast

from django.utils import timezone

from areas.choices import AreaLevel
from households.models import Site
from indicators.catalogue import BY_CODE, CATALOGUE, FINANCE_CODES
from indicators.engine.judging import M9_1_KEYS, cells_of, income_gap_cells, judge, rate_cells
from indicators.engine.passes import collect_counts
from indicators.engine.periods import previous_key
from indicators.engine.rollup import Tree, roll_up
from indicators.models import CityStatistic, Indicator, IndicatorValue, Kind, Level, Period

LEVEL_OF_AREA = {
    AreaLevel.CITY: Level.CITY,
    AreaLevel.COUNTY: Level.COUNTY,
    AreaLevel.TOWNSHIP: Level.TOWNSHIP,
    AreaLevel.VILLAGE: Level.VILLAGE,
}
FINANCE_LEVELS = (Level.COUNTY, Level.CITY)  # the only levels with M9-x values


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


def previous_counts(
    period: Period, code: str = "M3-4", *, units: Iterable[tuple[str, str]] | None = None
) -> dict[tuple[str, str], int]:
    """The stored counts of ``code`` for the previous period of the same length, by (level, unit_code);
    of ``units`` (level, unit code) only when given."""
    previous = Period.objects.filter(key=previous_key(period.key)).values_list("pk", flat=True).first()
    indicator = Indicator.objects.filter(code=code).values_list("pk", flat=True).first()
    if previous is None or indicator is None:
        return {}
    # By ids, not through joins: PostgreSQL then reads the previous period's partition alone.
    stored = IndicatorValue.objects.filter(period_id=previous, indicator_id=indicator, numerator__isnull=False)
    if units is not None:
        wanted = list(units)
        stored = stored.filter(level__in={level for level, _ in wanted}, unit_code__in={code for _, code in wanted})
    rows = stored.values_list("level", "unit_code", "numerator")
    return {(level, unit_code): numerator for level, unit_code, numerator in rows if numerator is not None}


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
    basis: list[tuple[Any, ...]] | None = None,
) -> Iterator["UnitValues"]:
    """``compute_values`` as a stream: every query runs now (the caller may then hold its connection
    in a COPY), and the returned iterator only judges rows, so national scale never holds millions
    of rows in memory. ``basis`` receives each area unit's ``basis_row``."""
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
    if basis is not None:
        basis += [basis_row(unit, counter) for unit, counter in units]
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
    return judged_rows(units, wanted, indicators, period, reference_date, growth, previous, now, run_id)


# The counts an area's stored values do not hold (``UnitBasis``), in the order of its columns.
BASIS_KEYS = (
    ("households", "households"),
    ("labour_force", "labour_force"),
    ("income_cur_total", "income.cur.total"),
    ("income_cur_size", "income.cur.size"),
    ("income_cur_rows", "income.cur.rows"),
    ("income_prev_total", "income.prev.total"),
    ("income_prev_size", "income.prev.size"),
    ("income_prev_rows", "income.prev.rows"),
)


def basis_row(unit: Unit, counter: Counter) -> tuple[Any, ...]:
    """(level, unit code, then each ``BASIS_KEYS`` count) of one area unit."""
    get = counter.get
    return (unit.level, unit.unit_code, *(int(get(key, 0)) for _column, key in BASIS_KEYS))


# A rate's judged cells by (numerator, denominator), its two count keys, indicator id and target.
_Rate = tuple[dict[tuple[int, int], tuple[int, tuple[Any, ...]]], str, str, int, Decimal | None]


class _Plan(NamedTuple):
    """How ``judged_rows`` judges one unit's indicators: rates (most of them) by their two counts,
    the others through ``judge``; ``order`` puts the results back in indicator order."""

    rates: list[_Rate]
    counts: Callable[[Counter], tuple[int, ...]]  # every rate's numerator and denominator, in one call
    others: list[tuple[str, int, str, str]]  # code, indicator id, "count" or "other", numerator key
    order: list[int]


def _plan(wanted: list[str], indicators: dict[str, int], *, finance: bool) -> _Plan:
    count_kinds = (Kind.INFO, Kind.ZERO, Kind.NO_DECREASE)
    codes = sorted((code for code in wanted if finance or code not in FINANCE_CODES), key=lambda code: indicators[code])
    rates: list[_Rate] = []
    others: list[tuple[str, int, str, str]] = []
    positions: list[tuple[str, int]] = []
    for code in codes:
        entry = BY_CODE[code]
        if entry.kind == Kind.RATE:
            numerator, denominator = M9_1_KEYS if code == "M9-1" else (f"{code}.n", f"{code}.d")
            rates.append(({}, numerator, denominator, indicators[code], entry.target))
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


def judged_rows(
    units: list[tuple[Unit, Counter]],
    wanted: list[str],
    indicators: dict[str, int],
    period: Period,
    reference_date: datetime.date,
    growth: Fraction | None,
    previous: dict[tuple[str, str], int],
    now: datetime.datetime,
    run_id: int | None,
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
                    found[index] = cache[pairs[index]] = (indicator_id, rate_cells(*pairs[index], target))
        previous_count = previous.get((unit.level, unit.unit_code))
        households, labour_force = bool(get("households")), bool(get("labour_force"))
        for code, indicator_id, how, numerator_key in others:
            if how == "count":  # judged from these alone (``judge``)
                key = (code, get(numerator_key, 0), households, labour_force, previous_count)
                pair = judged_cells.get(key)
                if pair is None:
                    judged = judge(code, counter, city_growth=growth, previous_count=previous_count)
                    pair = judged_cells[key] = (indicator_id, cells_of(judged))
            elif code == "M3-5":  # a growth of the unit's own incomes, never shared
                pair = (indicator_id, income_gap_cells(counter, growth, BY_CODE[code].target))
            else:  # M9-2: the counties' and the city's finance (a few units)
                pair = (indicator_id, cells_of(judge(code, counter, city_growth=growth, previous_count=previous_count)))
            found.append(pair)
        unit_cells = (unit.level, unit.area_id, unit.site_id, unit.unit_code, unit.county_code, unit.township_code)
        # ``cast``: every ``None`` of ``found`` was filled above.
        yield UnitValues(run, unit_cells, cast(list[tuple[int, tuple[Any, ...]]], [found[index] for index in order]))
