"""Recompute only what a change touches (issue 22): the villages and sites the change feed names,
the units whose values depend on them, and their ancestors.

A full recompute reads every record of the period (18.7 s at national scale); a clerk's edit
changes the counts of one village, maybe a site or two. So:

1. ``closure``: the changed villages and sites, plus every site located in one of those villages
   and the village of every changed site (a site's 500+/800+ flags count in its village);
2. the counting passes of the full engine, restricted to the records filed in those villages or on
   those sites (``passes.Within``): their counts are then complete, exactly as in a full run;
3. each ancestor (township, county, city) as stored (its values' numerators and denominators and
   its ``UnitBasis`` row), moved by what its recomputed children moved: the same sum as re-adding
   all its children, without reading the other children (thousands of units for the city at
   national scale); the townships' M2-4 from their sites, the counties' finance rows read again;
4. judged by the full engine's own ``judged_rows`` (M3-4 against the previous period's stored
   counts of the same units), and only the rows whose cells changed are updated in place.

It runs in the caller's transaction, so readers see all old or all new values. It needs the
period's ``UnitBasis`` at the same reference date (written by every full run); without it, or when a
unit it recomputes has no stored values (an area created since), it raises ``NeedsFullRun``.
"""

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from areas.choices import AreaLevel
from areas.models import Area
from households.models import Site
from indicators.catalogue import BY_CODE, CATALOGUE, FINANCE_CODES
from indicators.engine.compute import (
    BASIS_KEYS,
    LEVEL_OF_AREA,
    Unit,
    UnitValues,
    basis_row,
    city_growth_for,
    judged_rows,
    previous_counts,
)
from indicators.engine.passes import Counts, Within, collect_counts, finance_counts
from indicators.engine.store import basis_replace, values_insert
from indicators.models import ComputeRun, Indicator, IndicatorValue, Kind, Level, UnitBasis

CELLS = ("numerator", "denominator", "value", "value_exact", "target", "met")
COUNT_KINDS = (Kind.INFO, Kind.ZERO, Kind.NO_DECREASE)


class NeedsFullRun(Exception):
    """The stored values cannot be moved (no basis at this date, an area without values)."""


@dataclass
class Places:
    villages: frozenset[int]
    sites: frozenset[int]
    gone_sites: frozenset[int]  # named by the feed but deleted since: their rows go


def closure(villages: Iterable[int], sites: Iterable[int]) -> Places:
    """The villages and sites whose counts must be recomputed for changes in ``villages`` and ``sites``:
    the changed ones, the village of each changed site, and every site located in those villages."""
    changed_sites = set(sites)
    located = dict(Site.objects.filter(id__in=changed_sites).values_list("id", "village_id"))
    wanted = set(Area.objects.filter(id__in={*villages, *located.values()}).values_list("id", flat=True))
    all_sites = set(located) | set(Site.objects.filter(village_id__in=wanted).values_list("id", flat=True))
    return Places(frozenset(wanted), frozenset(all_sites), frozenset(changed_sites - set(located)))


@dataclass
class _Areas:
    """The part of the area tree a recomputation needs: the given areas and their ancestors."""

    rows: dict[int, dict[str, Any]]
    children: dict[int, list[int]]

    @classmethod
    def load(cls, villages: Iterable[int]) -> "_Areas":
        fields = ("id", "code", "name", "level", "parent_id", "has_industrial_park")
        rows = {row["id"]: row for row in Area.objects.filter(id__in=set(villages)).values(*fields)}
        pending = {row["parent_id"] for row in rows.values()} - {None}
        while pending:  # one query per level of the tree (four at most)
            found = {row["id"]: row for row in Area.objects.filter(id__in=pending).values(*fields)}
            rows.update(found)
            pending = {row["parent_id"] for row in found.values()} - {None} - set(rows)
        children: dict[int, list[int]] = defaultdict(list)
        for row in rows.values():
            if row["parent_id"] is not None:
                children[row["parent_id"]].append(row["id"])
        return cls(rows, children)

    def chain(self, area_id: int) -> list[int]:
        chain: list[int] = []
        current: int | None = area_id
        while current is not None and current not in chain:
            chain.append(current)
            current = self.rows[current]["parent_id"] if current in self.rows else None
        return chain

    def code_at(self, area_id: int, level: str) -> str:
        for ancestor in self.chain(area_id):
            if self.rows[ancestor]["level"] == level:
                return self.rows[ancestor]["code"]
        return ""

    def unit_of(self, area_id: int) -> Unit:
        unit = self.unit(area_id)
        if unit is None:
            raise ValueError(f"area {area_id} is not a unit")
        return unit

    def unit(self, area_id: int) -> Unit | None:
        row = self.rows[area_id]
        level = LEVEL_OF_AREA.get(row["level"])
        if level is None:
            return None
        county, township = self.code_at(area_id, AreaLevel.COUNTY), self.code_at(area_id, AreaLevel.TOWNSHIP)
        return Unit(level, row["code"], row["name"], area_id, None, county, township)


def _stored_counters(
    period_id: int, units: dict[tuple[str, str], int], reference: datetime.date, indicators: dict[str, int]
) -> dict[int, Counter]:
    """The counters of area units rebuilt from their stored rows, by area id: each rate's numerator
    and denominator, each count, and the ``UnitBasis`` columns. Finance is not taken from them (the
    counties' finance rows are read again, ``_finance``)."""
    if not units:
        return {}
    keys: dict[int, tuple[str, ...]] = {}
    for code, indicator_id in indicators.items():
        entry = BY_CODE.get(code)
        if entry is None or code in FINANCE_CODES:
            continue
        if entry.kind == Kind.RATE:
            keys[indicator_id] = (f"{code}.n", f"{code}.d")
        elif entry.kind in COUNT_KINDS:
            keys[indicator_id] = (f"{code}.n",)
    levels = {level for level, _code in units}
    codes = {code for _level, code in units}
    counters: dict[int, Counter] = {area_id: Counter() for area_id in units.values()}
    rows = IndicatorValue.objects.filter(period_id=period_id, level__in=levels, unit_code__in=codes).values_list(
        "level", "unit_code", "indicator_id", "numerator", "denominator"
    )
    seen = set()
    for level, code, indicator_id, numerator, denominator in rows:
        area_id = units.get((level, code))
        names = keys.get(indicator_id)
        if area_id is None or names is None:
            continue
        seen.add(area_id)
        counter = counters[area_id]
        counter[names[0]] = numerator or 0
        if len(names) == 2:
            counter[names[1]] = denominator or 0
    columns = [column for column, _key in BASIS_KEYS]
    basis = UnitBasis.objects.filter(
        period_id=period_id, level__in=levels, unit_code__in=codes, reference_date=reference
    ).values_list("level", "unit_code", *columns)
    based = set()
    for level, code, *amounts in basis:
        area_id = units.get((level, code))
        if area_id is None:
            continue
        based.add(area_id)
        counters[area_id].update({key: amount for (_column, key), amount in zip(BASIS_KEYS, amounts, strict=True)})
    missing = set(units.values()) - (seen & based)
    if missing:
        raise NeedsFullRun(f"no stored values or basis for areas {sorted(missing)[:5]}")
    return counters


def _moved(before: Counter, after: Counter) -> dict[str, int]:
    """How the stored counts (``before``'s keys: rates, counts, basis) moved; counts the stored rows
    do not hold (a village's persons) are not carried to the ancestors."""
    return {key: after.get(key, 0) - amount for key, amount in before.items() if after.get(key, 0) != amount}


def _finance_totals(finance: Counts) -> dict[int, Counter]:
    """Each county's finance rows, and their sums for every area above it (the city)."""
    counties = _Areas.load(finance.by_county)
    totals: dict[int, Counter] = defaultdict(Counter)
    for county, counter in finance.by_county.items():
        for area_id in counties.chain(county):
            totals[area_id].update(counter)
    return totals


def _townships_with_site(townships: set[int]) -> set[int]:
    """The townships of ``townships`` holding a site (M2-4's denominator is 1 for them)."""
    sites = Site.objects.filter(village__parent_id__in=townships).order_by()
    return {township for township in sites.values_list("village__parent_id", flat=True).distinct() if township}


def recompute_changes(run: ComputeRun, places: Places, read: dict[Any, Any] | None = None) -> int:
    """Recompute ``run.period``'s units touched by ``places`` and write the changed rows in place
    (the caller's transaction); returns the number of rows written. Raises ``NeedsFullRun``.

    ``read``: the records' counts by reference date, shared by the periods of one sweep (the running
    month and year have the same reference date, so their passes would read the same rows twice)."""
    period, reference = run.period, run.reference_date
    if not UnitBasis.objects.filter(period=period, reference_date=reference).exists():
        raise NeedsFullRun("no basis at this reference date")
    read = {} if read is None else read
    if reference not in read:
        within = Within(places.villages, places.sites)
        records = collect_counts(reference, families={"sites", "households", "persons", "petitions"}, within=within)
        finance = Counts(reference_date=reference)
        finance_counts(reference, finance)
        read[reference] = (records, finance)
    counts, finance = read[reference]

    areas = _Areas.load(places.villages)
    ancestors = {ancestor for village in places.villages for ancestor in areas.chain(village)[1:]}
    recomputed = set(places.villages) | ancestors
    units_of = {}
    for area_id in recomputed:
        unit = areas.unit(area_id)
        if unit is not None:
            units_of[(unit.level, unit.unit_code)] = area_id
    indicators = dict(Indicator.objects.values_list("code", "id"))
    stored = _stored_counters(period.pk, units_of, reference, indicators)
    counters: dict[int, Counter] = {}
    change: dict[int, dict[str, int]] = {}  # what each recomputed unit's stored counts moved by
    for village in places.villages:
        counters[village] = Counter(counts.by_village.get(village, Counter()))
        change[village] = _moved(stored.get(village, Counter()), counters[village])
    with_site = _townships_with_site({a for a in ancestors if areas.rows[a]["level"] == AreaLevel.TOWNSHIP})
    money = _finance_totals(finance)
    for area_id in sorted(ancestors, key=lambda area: len(areas.chain(area)), reverse=True):
        total = Counter(stored.get(area_id, Counter()))
        for child in areas.children.get(area_id, []):
            for key, amount in change.get(child, {}).items():
                total[key] += amount
        if areas.rows[area_id]["level"] == AreaLevel.TOWNSHIP:  # its own: villages hold no M2-4
            total["M2-4.d"] = int(area_id in with_site)
            total["M2-4.n"] = int(area_id in with_site and bool(areas.rows[area_id]["has_industrial_park"]))
        change[area_id] = _moved(stored.get(area_id, Counter()), total)
        total.update(money.get(area_id, Counter()))  # never stored: read again, never carried upward
        counters[area_id] = total

    units: list[tuple[Unit, Counter]] = [(areas.unit_of(area_id), counters[area_id]) for area_id in units_of.values()]
    basis = [basis_row(unit, counter) for unit, counter in units]
    for site in counts.sites:
        village = site["village_id"]
        unit = Unit(
            Level.SITE,
            site["code"],
            site["name"],
            None,
            site["id"],
            areas.code_at(village, AreaLevel.COUNTY),
            areas.code_at(village, AreaLevel.TOWNSHIP),
        )
        units.append((unit, counts.by_site.get(site["id"], Counter())))
    units.sort(key=lambda pair: (pair[0].level, pair[0].unit_code))

    wanted = [entry.code for entry in CATALOGUE]
    keys = [(unit.level, unit.unit_code) for unit, _counter in units]
    previous = previous_counts(period, units=keys)
    growth = city_growth_for(reference.year)
    values = list(judged_rows(units, wanted, indicators, period, reference, growth, previous, timezone.now(), run.pk))
    written = _write(run, values, places)
    basis_replace(period.pk, reference, basis, units=[(row[0], row[1]) for row in basis])
    return written


def _write(run: ComputeRun, values: list[UnitValues], places: Places) -> int:
    """Update the rows whose cells changed, insert those of new units, delete those of gone sites."""
    period_id = run.period_id
    stored = IndicatorValue.objects.filter(period_id=period_id)
    if places.gone_sites:
        stored.filter(level=Level.SITE, site_id__in=places.gone_sites).delete()
    levels = {block.unit[0] for block in values}
    codes = {block.unit[3] for block in values}
    old = {
        (level, code, indicator_id): (pk, tuple(cells))
        for pk, level, code, indicator_id, *cells in stored.filter(level__in=levels, unit_code__in=codes).values_list(
            "pk", "level", "unit_code", "indicator_id", *CELLS
        )
    }
    changed: list[tuple[Any, ...]] = []
    new_units: list[UnitValues] = []
    for block in values:
        level, _area_id, _site_id, code, _county_code, _township_code = block.unit
        if (level, code, block.values[0][0]) not in old:
            new_units.append(block)
            continue
        for indicator_id, cells in block.values:
            pk, before = old[(level, code, indicator_id)]
            if not _same(before, cells):
                changed.append((*cells, run.reference_date, block.run[2], run.pk, pk))
    if changed:
        _update(period_id, changed)
    if new_units:
        values_insert(new_units)
    return len(changed) + sum(len(block.values) for block in new_units)


def _update(period_id: int, rows: list[tuple[Any, ...]]) -> None:
    """One UPDATE statement, executed for every changed row (by id, in the period's partition)."""
    connection = transaction.get_connection()
    ops = connection.ops
    columns = [*CELLS, "reference_date", "computed_at", "run_id"]
    assignments = ", ".join(f"{ops.quote_name(column)} = %s" for column in columns)
    table = ops.quote_name(IndicatorValue._meta.db_table)
    sql = f"UPDATE {table} SET {assignments} WHERE id = %s AND period_id = {int(period_id)}"  # noqa: S608
    adapted = [
        (
            numerator,
            denominator,
            ops.adapt_decimalfield_value(value, 24, 10),
            exact,
            ops.adapt_decimalfield_value(target, 24, 10),
            met,
            ops.adapt_datefield_value(reference_date),
            ops.adapt_datetimefield_value(computed_at),
            run_id,
            pk,
        )
        for numerator, denominator, value, exact, target, met, reference_date, computed_at, run_id, pk in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, adapted)


def _same(before: tuple[Any, ...], after: tuple[Any, ...]) -> bool:
    """Stored cells equal to new ones (decimals compare by value: 95.0000000000 == 95)."""
    return all((a is None) == (b is None) and (a is None or a == b) for a, b in zip(before, after, strict=True))


def touched_counties(places: Places) -> set[str]:
    """The county codes of the recomputed villages (the dashboards' parts to refresh)."""
    return set(Area.objects.filter(id__in=places.villages).values_list("county_code", flat=True)) - {""}
