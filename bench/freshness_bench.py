"""How fresh the stored values stay under a steady stream of edits (issue 22; not a test).

A clerk's edit goes through the services (history, change feed, commit), the commit queues a sweep
on the broker, a real Celery worker recomputes the units the edit touched, and the village's stored
value moves. This bench drives that stream for ``--seconds`` at ``--rate`` edits a second, each one
toggling a person's 医疗保险 (M6-3's numerator) in a random village of any county, and measures for
every edit the time from its commit until the village's stored M6-3 of the running month shows it.
It prints p50, p95 and max, and what the recomputing cost: the worker's CPU (the engine's Python),
the share of the window its recompute transactions were open, and the database server's CPU.

Usage (PostgreSQL with a ``seed_demo`` data set; Redis for the broker and the cache)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fresh CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \\
        REDIS_URL=redis://127.0.0.1:6379/3 python bench/freshness_bench.py --seconds 300 --rate 20

Before the stream it migrates, consumes pending changes and runs today's full recompute of the
running month and year (the incremental recompute re-sums what that run stored), then starts the
worker (``compute,default`` queues, solo pool, as in docker-compose.yml). An edit is chosen only in a
village with no edit still in flight, so its expected value is known: stored numerator ± 1.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings.local")
os.environ.setdefault("DEBUG", "0")  # no query log growing in memory for 6,000 edits

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from households import services  # noqa: E402
from households.choices import RecordStatus  # noqa: E402
from households.models import Person  # noqa: E402
from indicators.engine import runs  # noqa: E402
from indicators.engine.periods import running_keys  # noqa: E402
from indicators.models import ComputeRun, Indicator, IndicatorValue, Period  # noqa: E402

INDICATOR = "M6-3"  # 医疗保险参保率: one person's 医疗保险 moves its village's numerator by one


def prepare() -> None:
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    started = time.perf_counter()
    runs.dirty_periods_compute()
    runs.running_periods_compute()
    print(f"full recompute of the running month and year: {time.perf_counter() - started:.1f} s")


def candidates(count: int) -> list[tuple[int, str]]:
    """(person id, village code) of ``count`` random active persons, at most 20 per village."""
    rows = list(
        Person.objects.filter(status=RecordStatus.ACTIVE, household__status=RecordStatus.ACTIVE)
        .order_by("?")
        .values_list("pk", "household__village__code")[: count * 3]
    )
    per_village: dict[str, int] = {}
    chosen = []
    for pk, village in rows:
        if per_village.get(village, 0) < 20:
            per_village[village] = per_village.get(village, 0) + 1
            chosen.append((pk, village))
    return chosen[:count]


class Watcher(threading.Thread):
    """Polls the stored M6-3 numerators of the villages with an edit in flight (one query every
    20 ms) and notes when each expected value shows; samples the database server's CPU."""

    def __init__(self, period_id: int, indicator_id: int) -> None:
        super().__init__(daemon=True)
        self.period_id, self.indicator_id = period_id, indicator_id
        self.pending: dict[str, tuple[float, int]] = {}  # village: (commit time, expected numerator)
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.db_cpu = 0.0
        self.recompute_db_cpu = 0.0  # of the worker's own server process (its one persistent connection)
        self.worker_pid = 0
        self._seen: dict[int, float] = {}

    def stored(self, villages: list[str]) -> dict[str, int]:
        rows = IndicatorValue.objects.filter(
            period_id=self.period_id, indicator_id=self.indicator_id, level="village", unit_code__in=villages
        ).values_list("unit_code", "numerator")
        return {code: numerator or 0 for code, numerator in rows}

    def backends(self) -> tuple[set[int], set[int]]:
        """The server processes of this database, and among them those serving the worker (their
        client ports are the worker's sockets). Other databases on the server are not counted."""
        ports: set[int] = set()
        if self.worker_pid:
            try:
                found = psutil.Process(self.worker_pid).net_connections("tcp")
                ports = {c.laddr.port for c in found if c.raddr}
            except psutil.Error:
                pass
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid, client_port FROM pg_stat_activity WHERE datname = current_database()")
            rows = cursor.fetchall()
        return {pid for pid, _port in rows}, {pid for pid, port in rows if port in ports}

    def sample_db_cpu(self) -> None:
        ours, worker_backends = self.backends()
        for process in psutil.process_iter(["name"]):
            if process.pid not in ours:
                continue
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total = times.user + times.system
            used = max(0.0, total - self._seen.get(process.pid, total))
            self.db_cpu += used
            if process.pid in worker_backends:
                self.recompute_db_cpu += used
            self._seen[process.pid] = total

    def run(self) -> None:
        last_sample = 0.0
        while not self.stop.is_set():
            with self.lock:
                waiting = dict(self.pending)
            if waiting:
                found = self.stored(list(waiting))
                now = time.perf_counter()
                with self.lock:
                    for village, (committed, expected) in waiting.items():
                        if found.get(village) == expected and village in self.pending:
                            self.latencies.append(now - committed)
                            del self.pending[village]
            if time.perf_counter() - last_sample > 0.5:
                self.sample_db_cpu()
                last_sample = time.perf_counter()
            time.sleep(0.02)
        connection.close()


WORKER = """
import django
django.setup()
from relocation.celery import app
app.conf["CELERY_DB_REUSE_MAX"] = 10**9  # keep the one connection: its server process is the recompute's
app.worker_main(["worker", "-Q", "compute,default", "-n", "freshness@%h", "--pool=solo", "--loglevel=WARNING",
                 "--without-mingle", "--without-gossip"])
"""


def worker_start() -> subprocess.Popen:
    """The production worker on the queues a sweep goes to, keeping its database connection (Celery
    closes it after every task otherwise) so that ``Watcher`` can tell the recompute's server CPU."""
    return subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env={**os.environ, "CONN_MAX_AGE": "600"})


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def drive(watcher: Watcher, queue: list[tuple[int, str]], counts: dict[str, int], start: float, args: Any) -> None:
    """One driver thread: its share of the edits, each at its due time (``rate`` over all threads)."""
    mine = 0
    try:
        while time.perf_counter() - start < args.seconds:
            due = start + mine * args.threads / args.rate
            if due > time.perf_counter():
                time.sleep(due - time.perf_counter())
            with watcher.lock:
                if not queue:
                    return
                pk, village = queue.pop()
                if village in watcher.pending:
                    counts["skipped"] += 1
                    continue
                watcher.pending[village] = (float("inf"), -1)  # reserved until committed
            person = Person.objects.get(pk=pk)
            before = watcher.stored([village]).get(village, 0)
            services.person_update(actor=None, person=person, data={"medical_insurance": not person.medical_insurance})
            committed = time.perf_counter()
            with watcher.lock:
                watcher.pending[village] = (committed, before + (-1 if person.medical_insurance else 1))
                counts["edits"] += 1
            mine += 1
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--rate", type=float, default=20, help="edits per second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4, help="driver threads (each its own connection)")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        raise SystemExit("needs DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://… (and REDIS_URL)")
    random.seed(args.seed)
    prepare()
    period = Period.objects.get(key=running_keys()[0])
    watcher = Watcher(period.pk, Indicator.objects.get(code=INDICATOR).pk)
    people = candidates(int(args.seconds * args.rate) + 500)
    print(f"{len(people)} candidate persons in {len({village for _, village in people})} villages")
    worker = worker_start()
    time.sleep(8)  # the worker connects to the broker
    worker_process = psutil.Process(worker.pid)
    worker_cpu = cpu_seconds(worker_process)
    watcher.worker_pid = worker.pid
    watcher.sample_db_cpu()
    watcher.db_cpu = watcher.recompute_db_cpu = 0.0
    watcher.start()
    started_at = timezone.now()
    start = time.perf_counter()
    queue = list(people)
    counts = {"edits": 0, "skipped": 0}
    threads = [
        threading.Thread(target=drive, args=(watcher, queue, counts, start, args), daemon=True)
        for _ in range(args.threads)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        window = time.perf_counter() - start
        deadline = time.perf_counter() + 60
        while watcher.pending and time.perf_counter() < deadline:
            time.sleep(0.1)
    finally:
        watcher.stop.set()
        watcher.join(timeout=5)
        worker_used = cpu_seconds(worker_process) - worker_cpu
        worker.terminate()
        worker.wait(timeout=30)
    edits, skipped = counts["edits"], counts["skipped"]
    changes = ComputeRun.objects.filter(scope=ComputeRun.Scope.CHANGES, started_at__gte=started_at)
    sweeps: dict[object, float] = {}  # a sweep's runs (month and year) share their start
    for run in changes:
        if run.finished_at and run.started_at:
            took = (run.finished_at - run.started_at).total_seconds()
            sweeps[run.started_at] = max(sweeps.get(run.started_at, 0.0), took)
    open_seconds = sum(sweeps.values())
    full = ComputeRun.objects.filter(scope=ComputeRun.Scope.FULL, started_at__gte=started_at).count()
    latencies = sorted(watcher.latencies)
    print(f"edits {edits} in {window:.0f} s ({edits / window:.1f}/s; {skipped} skipped: village busy)")
    print(f"seen {len(latencies)}, not seen within 60 s after the stream: {len(watcher.pending)}")
    if latencies:
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        print(
            f"edit → stored value: p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms"
        )
    print(f"sweeps: {len(sweeps)} recomputing changed units (month and year each), {full} full runs")
    print(f"worker CPU (the engine's Python): {worker_used / window:.1%} of one core")
    print(f"sweep transactions open: {open_seconds / window:.1%} of the window")
    server = watcher.db_cpu / window
    recomputing = watcher.recompute_db_cpu / window
    print(f"database server CPU of the worker's connection (recomputing): {recomputing:.1%} of one core")
    print(f"database server CPU (this database's connections, the edits' own included): {server:.1%} of one core")


if __name__ == "__main__":
    main()
