"""Indicator engine benchmark (not a test): on a database filled by ``seed_demo``, time a full
recompute of one year (every indicator, every area and site, written in one transaction) and, in
the same run, the floor — one GROUP BY pass over persons joined to their households computing the
person-based counts — and print both and their ratio.

    DATABASE_URL=sqlite:////tmp/engine.sqlite3 python manage.py migrate
    DATABASE_URL=sqlite:////tmp/engine.sqlite3 python manage.py seed_demo --households 19200 --seed 1 --no-compute
    DATABASE_URL=sqlite:////tmp/engine.sqlite3 python bench/engine_bench.py --year 2025 --repeat 3

The year must not be closed (``seed_demo`` computes but does not close it).
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402

from households.choices import LABOUR_FORCE  # noqa: E402
from households.models import Household, Person, Site  # noqa: E402
from indicators import engine  # noqa: E402
from indicators.models import ComputeRun, IndicatorValue  # noqa: E402
from indicators.services import compute_run_create, compute_run_execute  # noqa: E402


def timed(function) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def full_recompute(year: int) -> ComputeRun:
    run = compute_run_create(period_key=str(year))
    run = compute_run_execute(run_id=run.pk)
    if run.status != ComputeRun.Status.DONE:
        raise SystemExit(f"run failed: {run.error}")
    return run


def floor_query(reference: datetime.date) -> None:
    """The person-based counts alone: one GROUP BY (village, site) over active persons ⋈ households,
    with the same conditional aggregates the engine uses for persons, fetched to the client."""
    rules = engine.person_rules(reference)
    aggregates: dict[str, Count] = {
        "persons": Count("id"),
        "labour_force": Count("id", filter=Q(labour__in=LABOUR_FORCE)),
    }
    for code, (denominator, numerator) in rules.items():
        aggregates[f"{code}_n".replace("-", "_")] = Count("id", filter=numerator)
        if denominator is not None:
            aggregates[f"{code}_d".replace("-", "_")] = Count("id", filter=denominator)
    list(
        Person.objects.filter(engine.ACTIVE_PERSON)
        .order_by()
        .values("household__village_id", "household__site_id")
        .annotate(**aggregates)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=datetime.date.today().year - 1)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    persons = Person.objects.count()
    if not persons:
        raise SystemExit("empty database: run `python manage.py seed_demo` first")
    print(
        f"database {connection.vendor}: {Household.objects.count():,} households, {persons:,} persons, "
        f"{Site.objects.count():,} sites"
    )
    reference = datetime.date(options.year, 12, 31)
    full_recompute(options.year)  # warm the cache and the catalogue
    full_times, floor_times = [], []
    for _ in range(options.repeat):
        full_times.append(timed(lambda: full_recompute(options.year)))
        floor_times.append(timed(lambda: floor_query(reference)))
    values = IndicatorValue.objects.filter(period__key=str(options.year)).count()
    full, floor = statistics.median(full_times), statistics.median(floor_times)
    print(f"full recompute of {options.year} ({values:,} values): {full * 1000:8.1f} ms (median of {options.repeat})")
    print(f"floor: one GROUP BY over persons ⋈ households:   {floor * 1000:8.1f} ms")
    print(f"ratio full / floor: {full / floor:.1f}x")


if __name__ == "__main__":
    main()
