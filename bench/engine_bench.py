"""Indicator engine benchmark (issue 4; not a test): time a full recompute of one year (every
indicator, every area and site, written in one transaction) and, in the same run, the floor — one
GROUP BY pass over persons joined to their households computing the person-based counts — and print
both and their ratio.

Build the data and measure, per scale, on the PostgreSQL server of ``DATABASE_URL`` (a database
``<name>_engine_<N>`` per scale, seeded once by ``seed_demo --no-compute`` and kept for later runs)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python bench/engine_bench.py \\
        --households 19200 190000 2700000 --year 2025 --repeat 3

Without ``--households`` it measures the database of ``DATABASE_URL`` as it is (SQLite too), which
must already hold ``seed_demo`` data. The year must not be closed (``seed_demo`` does not close it).
The national scale takes about 20 minutes to seed and needs ~10 GB of disk. Each run leaves a new
2.5-million-row partition that autovacuum then analyses: on a 2-core machine that slows whichever
query runs beside it, so measure on a server with ``autovacuum = off`` (``ALTER SYSTEM``).
"""

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # the models load only after django.setup()
    from indicators.models import ComputeRun

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings.local")


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def full_recompute(year: int) -> "ComputeRun":
    from indicators.engine.runs import compute_run_create, compute_run_execute
    from indicators.models import ComputeRun

    run = compute_run_create(period_key=str(year))
    run = compute_run_execute(run_id=run.pk)
    if run.status != ComputeRun.Status.DONE:
        raise SystemExit(f"run failed: {run.error}")
    return run


def floor_query(reference: datetime.date) -> None:
    """The person-based counts alone: one GROUP BY (village, site) over active persons ⋈ households,
    with the same conditional aggregates the engine uses for persons, fetched to the client."""
    from django.db.models import Count, Q

    from households.choices import LABOUR_FORCE
    from households.models import Person
    from indicators.engine.passes import aggregate_settings
    from indicators.engine.rules import ACTIVE_PERSON, person_rules

    rules = person_rules(reference)
    aggregates: dict[str, Count] = {
        "persons": Count("id"),
        "labour_force": Count("id", filter=Q(labour__in=LABOUR_FORCE)),
    }
    for code, (denominator, numerator) in rules.items():
        aggregates[f"{code}_n".replace("-", "_")] = Count("id", filter=numerator)
        if denominator is not None:
            aggregates[f"{code}_d".replace("-", "_")] = Count("id", filter=denominator)
    with aggregate_settings():  # the same session settings as the engine's persons pass
        list(
            Person.objects.filter(ACTIVE_PERSON)
            .order_by()
            .values("household__village_id", "household__site_id")
            .annotate(**aggregates)
        )


def measure(year: int, repeat: int) -> None:
    import django

    django.setup()
    from django.db import connection

    from households.models import Household, Person, Site
    from indicators.models import IndicatorValue

    persons = Person.objects.count()
    if not persons:
        raise SystemExit("empty database: run `python manage.py seed_demo` first")
    print(
        f"database {connection.vendor}: {Household.objects.count():,} households, {persons:,} persons, "
        f"{Site.objects.count():,} sites",
        flush=True,
    )
    reference = datetime.date(year, 12, 31)
    full_recompute(year)  # warm the cache and the catalogue
    full_times, floor_times = [], []
    for _ in range(repeat):  # side by side, so that a busy machine slows both
        full_times.append(timed(lambda: full_recompute(year)))
        floor_times.append(timed(lambda: floor_query(reference)))
    values = IndicatorValue.objects.filter(period__key=str(year)).count()
    full, floor = statistics.median(full_times), statistics.median(floor_times)
    print(f"full recompute of {year} ({values:,} values): {full * 1000:10.1f} ms (median of {repeat})")
    print(f"floor: one GROUP BY over persons ⋈ households: {floor * 1000:10.1f} ms")
    print(f"ratio full / floor: {full / floor:.1f}x", flush=True)


def scale_database(url: str, households: int) -> str:
    """The URL of this scale's database, created and seeded when it does not exist yet."""
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'relocation'}_engine_{households}"
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    scaled = urlunsplit(parts._replace(path=f"/{name}"))
    environment = {**os.environ, "DATABASE_URL": scaled}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], check=True, env=environment)
    if not exists:
        print(f"seeding {households:,} households into {name} …", flush=True)
        seed = [*manage, "seed_demo", "--households", str(households), "--seed", "1", "--no-compute"]
        subprocess.run(seed, check=True, env=environment)
    return scaled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=datetime.datetime.now(datetime.UTC).year - 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--households", type=int, nargs="*", help="scales to build and measure (PostgreSQL)")
    options = parser.parse_args()
    if not options.households:
        measure(options.year, options.repeat)
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--households needs DATABASE_URL=postgres://… (the server to build the databases on)")
    for households in options.households:
        scaled = scale_database(url, households)
        print(f"== {households:,} households", flush=True)
        command = [sys.executable, __file__, "--year", str(options.year), "--repeat", str(options.repeat)]
        subprocess.run(command, check=True, env={**os.environ, "DATABASE_URL": scaled})


if __name__ == "__main__":
    main()
