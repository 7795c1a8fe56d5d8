"""Celery tasks of the indicator engine: thin, idempotent, taking ids; the work is in the engine
(``indicators.engine.runs``)."""

import contextlib

from celery import shared_task
from django.core.cache import cache

from indicators.engine import runs

# Edits within this many seconds coalesce into one sweep. A sweep recomputes only the units the
# edits touched (``engine.incremental``, tens of milliseconds), so it can follow a clerk closely: the
# freshness goal of issue 22 is 2 s from the edit to the stored value, at under a quarter of a core.
# At national scale (2,700,000 households, 20 edits/s) 0.2 s gave 941 sweeps in 300 s, p95 490 ms
# and 26.1 % of a core in the database; 0.5 s gave 497 sweeps, p95 996 ms and 18.9 %.
DEBOUNCE_SECONDS = 0.5
SWEEP_QUEUED_KEY = "indicators:sweep-queued"


@shared_task(
    name="indicators.tasks.compute_run_task", acks_late=True, time_limit=4 * 3600, soft_time_limit=4 * 3600 - 60
)
def compute_run_task(run_id: int) -> str:
    return runs.compute_run_execute(run_id=run_id).status


@shared_task(name="indicators.tasks.sweep_dirty_periods", time_limit=4 * 3600)
def sweep_dirty_periods() -> int:
    """Consume the change feed and recompute what it made dirty (beat: every minute)."""
    with contextlib.suppress(Exception):  # a missing cache only loses the debounce
        cache.delete(SWEEP_QUEUED_KEY)  # changes from now on queue the next sweep
    return len(runs.dirty_periods_compute())


@shared_task(name="indicators.tasks.close_ended_periods", time_limit=8 * 3600)
def close_ended_periods() -> int:
    """Compute each ended period a last time and close it (beat: hourly; acts the day after the end)."""
    return len(runs.ended_periods_close())


@shared_task(name="indicators.tasks.nightly_recompute", time_limit=4 * 3600)
def nightly_recompute() -> int:
    """Full recompute of the running month and year (beat: daily)."""
    return len(runs.running_periods_compute())
