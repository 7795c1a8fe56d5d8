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
query runs beside it, so measure on a server with ``autovacuum = off`` (``ALTER SYSTEM``); ``--autovacuum-off`` switches
it off for the run and back on after.

Before and after a change (issue 22: the full recompute must not get slower), ``--against TREE``
times this tree's full recompute and the one of another checkout of the project (``git worktree
add /tmp/before <commit>``) on the same database, alternately (ABBA, after one warm-up run each),
and prints both medians and their ratio; ``bench/engine_compare.sh`` does the worktree and the
flags. Each tree runs in its own long-lived process on its own code, through its own
``bench/engine_bench.py``'s ``full_recompute``. When this tree has migrations the other lacks, the
other measures a copy ``<database>_before`` migrated back to its own migrations (made once, by
``CREATE DATABASE … TEMPLATE``: the same rows, laid out the same).
"""

import argparse
import contextlib
import datetime
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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
        with psycopg.connect(scaled, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")  # statistics and visibility maps: autovacuum may be off
    return scaled


# Run in the other tree's directory (``python -c``): its own code, its own ``full_recompute``. One
# full recompute per line read on stdin, its time printed after the marker.
WORKER = """
import sys, time
from bench import engine_bench
import django
django.setup()
for _ in sys.stdin:
    started = time.perf_counter()
    engine_bench.full_recompute(int(sys.argv[1]))
    print("ENGINE_SECONDS", time.perf_counter() - started, flush=True)
"""


class Worker:
    """One tree's long-lived recompute process, so that each timed run is warm."""

    def __init__(self, tree: Path, url: str, year: int) -> None:
        self.tree = tree
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(year)],
            cwd=tree,
            env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "relocation.settings.local"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self) -> float:
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:  # both piped in __init__
            raise RuntimeError("the worker has no pipes")
        stdin.write("run\n")
        stdin.flush()
        for line in stdout:
            if line.startswith("ENGINE_SECONDS "):
                return float(line.split()[1])
        raise SystemExit(f"the recompute process of {self.tree} ended (exit {self.process.wait()})")

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()


def _migrations(tree: Path) -> set[tuple[str, str]]:
    return {(path.parent.parent.name, path.stem) for path in tree.glob("*/migrations/[0-9]*.py")}


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def database_for(tree: Path, url: str) -> str:
    """The database ``tree`` measures: this one when both trees have the same migrations, else a
    copy of it migrated back to ``tree``'s (with this tree's migrations, which include them)."""
    ours, theirs = _migrations(ROOT), _migrations(tree)
    if ours == theirs:
        return url
    if not theirs <= ours:
        raise SystemExit(f"{tree} has migrations this tree lacks: {sorted(theirs - ours)}")
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    copy = f"{name}_before"
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [copy]).fetchone():
            print(f"copying {name} to {copy} …", flush=True)
            connection.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    copied = _with_database(url, copy)
    for app in sorted({app for app, _ in ours - theirs}):
        leaf = max((migration for label, migration in theirs if label == app), default="zero")
        print(f"{copy}: migrating {app} back to {leaf}", flush=True)
        manage = [sys.executable, str(ROOT / "manage.py"), "migrate", app, leaf, "-v0"]
        subprocess.run(manage, check=True, env={**os.environ, "DATABASE_URL": copied})
    return copied


def compare(url: str, other: Path, year: int, repeat: int, *, same_database: bool = False) -> None:
    """Full recompute of this tree and of ``other``, alternately on the same data; medians and ratio.
    ``same_database``: ``other`` too measures ``url`` although this tree has more migrations (fine
    when they only add tables or nullable columns, and it saves the copy)."""
    trees = {"after": ROOT, "before": other}
    labels = {
        key: subprocess.run(
            ["git", "-C", str(tree), "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
        ).stdout.strip()
        for key, tree in trees.items()
    }
    other_url = url if same_database else database_for(other, url)
    workers = {"after": Worker(ROOT, url, year), "before": Worker(other, other_url, year)}
    try:
        for key, worker in workers.items():
            print(f"warm-up {key} ({labels[key]}): {worker.run() * 1000:10.1f} ms", flush=True)
        times: dict[str, list[float]] = {"after": [], "before": []}
        for index in range(repeat):  # ABBA: a machine getting busier or quieter slows both alike
            order = ("after", "before") if index % 2 == 0 else ("before", "after")
            for key in order:
                times[key].append(workers[key].run())
            print(
                f"round {index + 1}: after {times['after'][-1] * 1000:10.1f} ms, "
                f"before {times['before'][-1] * 1000:10.1f} ms",
                flush=True,
            )
    finally:
        for worker in workers.values():
            worker.close()
    print(f"full recompute of {year}, median (fastest) of {repeat}:")
    for key in ("after", "before"):
        print(
            f"  {key:6} ({labels[key]}, {trees[key]}): {statistics.median(times[key]) * 1000:10.1f} ms "
            f"({min(times[key]) * 1000:.1f} ms)"
        )
    print(
        f"  ratio after / before: {statistics.median(times['after']) / statistics.median(times['before']):.3f} "
        f"(fastest: {min(times['after']) / min(times['before']):.3f})",
        flush=True,
    )


@contextlib.contextmanager
def autovacuum_off(url: str) -> Iterator[None]:
    """``autovacuum = off`` on the whole server for the block, back on after (when it was on)."""
    import psycopg

    server = _with_database(url, "postgres")
    with psycopg.connect(server, autocommit=True) as connection:
        row = connection.execute("SHOW autovacuum").fetchone()
        was_on = row is not None and row[0] == "on"
        if was_on:
            connection.execute("ALTER SYSTEM SET autovacuum = off")
            connection.execute("SELECT pg_reload_conf()")
    try:
        yield
    finally:
        if was_on:
            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute("ALTER SYSTEM RESET autovacuum")
                connection.execute("SELECT pg_reload_conf()")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=datetime.datetime.now(datetime.UTC).year - 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--households", type=int, nargs="*", help="scales to build and measure (PostgreSQL)")
    parser.add_argument("--against", type=Path, help="another checkout: compare its full recompute with this one's")
    parser.add_argument("--autovacuum-off", action="store_true", help="ALTER SYSTEM autovacuum off while measuring")
    parser.add_argument(
        "--same-database", action="store_true", help="with --against: no copy even when the migrations differ"
    )
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.startswith(("postgres://", "postgresql://"))
    if (options.households or options.against or options.autovacuum_off) and not postgres:
        raise SystemExit("--households, --against and --autovacuum-off need DATABASE_URL=postgres://…")
    with autovacuum_off(url) if options.autovacuum_off else contextlib.nullcontext():
        for households in options.households or [None]:
            scaled = scale_database(url, households) if households else url
            if households:
                print(f"== {households:,} households", flush=True)
            if options.against:
                compare(
                    scaled, options.against.resolve(), options.year, options.repeat, same_database=options.same_database
                )
            elif households:
                command = [sys.executable, __file__, "--year", str(options.year), "--repeat", str(options.repeat)]
                subprocess.run(command, check=True, env={**os.environ, "DATABASE_URL": scaled})
            else:
                measure(options.year, options.repeat)


if __name__ == "__main__":
    main()
