"""The counting passes: one set-based aggregation per record family, into additive counts.

One pass per record family (sites, households with their incomes, persons joined to their
household, petitions, county finance), each a ``GROUP BY (village, site)`` with conditional
aggregates (``Count(..., filter=Q(...))``) built from ``rules`` — the households pass two of them,
so that each runs in parallel: never a query per household or person. The result, ``Counts``, holds
plain sums per village and per site, which ``rollup`` then adds up the area tree.
"""

import contextlib
import datetime
import operator
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum

from households.choices import LABOUR_FORCE, RecordStatus
from households.models import Grievance, Household, Income, Person, Site
from indicators.engine.rules import (
    ACTIVE_HOUSEHOLD,
    ACTIVE_PERSON,
    SITE_FIELDS,
    SITE_RULES,
    SITE_THRESHOLDS,
    Rule,
    SiteRow,
    household_rules,
    person_rules,
    petition_rules,
)
from indicators.models import CountyFinance

ENGINE_WORK_MEM = "512MB"  # for the persons and households passes only (SET LOCAL)


@dataclass
class Counts:
    """Additive counts for one reference date: per village (area id), per site, per county (finance)."""

    reference_date: datetime.date
    by_village: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_site: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_county: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    site_population: dict[int, int] = field(default_factory=dict)
    sites: list[SiteRow] = field(default_factory=list)
    # Set for a recomputation of some units only (``incremental``): the passes read the records of
    # these villages and sites alone; only their own counts are then complete.
    within: "Within | None" = None


@dataclass(frozen=True)
class Within:
    """The villages and sites whose counts a partial pass must get complete: every record filed in
    one of the villages or on one of the sites (so a site's village and a village's sites are the
    caller's to include, ``incremental.closure``)."""

    villages: frozenset[int]
    sites: frozenset[int]

    def of(self, village: str, site: str) -> Q:
        """The records of these villages or sites, ``village`` and ``site`` naming their fields."""
        return Q(**{f"{village}__in": self.villages}) | Q(**{f"{site}__in": self.sites})

    def households(self) -> Q:
        """Persons and income rows of these households: through a subquery of household ids, so that
        PostgreSQL finds the households by their village and site indexes and their rows by the
        household index (an OR across the join reads every person: 9.6 million at national scale)."""
        return Q(household_id__in=Household.objects.filter(self.of("village_id", "site_id")).values("id"))


def _within(counts: Counts) -> Q:
    """The partial pass's filter of households and petitions (their own village and site fields)."""
    return Q() if counts.within is None else counts.within.of("village_id", "site_id")


def _within_households(counts: Counts) -> Q:
    """The partial pass's filter of persons and income rows (through their household)."""
    return Q() if counts.within is None else counts.within.households()


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
        Person.objects.filter(ACTIVE_PERSON, _within_households(counts))
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
    active = Household.objects.filter(ACTIVE_HOUSEHOLD, _within(counts)).order_by()
    with aggregate_settings():
        rows = active.values("village_id", "site_id").annotate(households=Count("id"), **_aggregates(rules))
        _spread(rows, counts, "village_id", "site_id", _names(rules, ["households"]))
        incomes, names = _income_rows(reference.year, _within_households(counts))
        _spread(incomes, counts, "household__village_id", "household__site_id", names)


def _income_rows(year: int, within: Q) -> tuple[QuerySet, dict[str, str]]:
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
        Income.objects.filter(within, year__in=[year - 1, year], household__status=RecordStatus.ACTIVE)
        .order_by()
        .values("household__village_id", "household__site_id")
        .annotate(**aggregates)
    )
    return rows, names


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
    rows = (
        Grievance.objects.filter(_within(counts))
        .order_by()
        .values("village_id", "site_id")
        .annotate(**_aggregates(rules))
    )
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
    sites = Site.objects.order_by("code")
    if counts.within is not None:
        sites = sites.filter(id__in=counts.within.sites)
    counts.sites = list(sites.values("id", "code", "name", "village_id", *SITE_FIELDS))
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


def collect_counts(
    reference: datetime.date, *, families: Iterable[str] | None = None, within: Within | None = None
) -> Counts:
    """The additive counts per village and per site at ``reference`` (reusable by dashboards).

    ``families`` restricts the passes (``sites``, ``households``, ``persons``, ``petitions``,
    ``incomes``, ``finance``); by default all of them. ``within`` restricts the records read.
    """
    counts = Counts(reference_date=reference, within=within)
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
