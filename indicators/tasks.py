"""Celery tasks of the indicator engine: thin, idempotent, taking ids; the work is in ``services``."""

import contextlib

from celery import shared_task
from django.core.cache import cache

from . import services


@shared_task(acks_late=True, time_limit=4 * 3600, soft_time_limit=4 * 3600 - 60)
def compute_run_task(run_id: int) -> str:
    return services.compute_run_execute(run_id=run_id).status


@shared_task(time_limit=4 * 3600)
def sweep_dirty_periods() -> int:
    """Consume the change feed and recompute what it made dirty (beat: every minute)."""
    with contextlib.suppress(Exception):  # a missing cache only loses the debounce
        cache.delete(services.SWEEP_QUEUED_KEY)  # changes from now on queue the next sweep
    return len(services.dirty_periods_compute())


@shared_task(time_limit=8 * 3600)
def close_ended_periods() -> int:
    """Compute each ended period a last time and close it (beat: hourly; acts the day after the end)."""
    return len(services.ended_periods_close())


@shared_task(time_limit=4 * 3600)
def nightly_recompute() -> int:
    """Full recompute of the running month and year (beat: daily)."""
    return len(services.running_periods_compute())
