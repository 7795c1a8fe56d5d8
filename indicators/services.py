"""Writes that hand work to the task queue: run a period's computation and wait, and queue a sweep
after each commit that changed the registry. The engine itself (``indicators.engine``) never queues
anything, so the tasks import the engine and only this module imports the tasks."""

import contextlib
import datetime
import logging
import threading
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from accounts.models import User
from indicators.engine.runs import compute_run_create
from indicators.models import ComputeRun
from indicators.tasks import DEBOUNCE_SECONDS, SWEEP_QUEUED_KEY, compute_run_task, sweep_dirty_periods

logger = logging.getLogger(__name__)


def compute_period(
    *,
    period_key: str,
    as_of: datetime.date | None = None,
    actor: User | None = None,
    scope: str = ComputeRun.Scope.FULL,
    timeout: float = 3600,
) -> ComputeRun:
    """Create a run, hand it to the task queue (in-process without a broker) and wait for it."""
    run = compute_run_create(period_key=period_key, as_of=as_of, actor=actor, scope=scope)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        compute_run_task.apply(args=(run.pk,))  # in-process, without touching a broker connection
    else:
        compute_run_task.delay(run.pk)
    deadline = time.monotonic() + timeout
    while True:
        run.refresh_from_db()
        if run.status in (ComputeRun.Status.DONE, ComputeRun.Status.FAILED):
            return run
        if time.monotonic() > deadline:
            return run
        time.sleep(0.5)


_paused = threading.local()


@contextlib.contextmanager
def recompute_paused() -> Iterator[None]:
    """Inside this block committed changes queue no sweep (bulk loaders such as ``seed_demo`` compute
    once at the end); the change-feed rows stay and the next sweep consumes them."""
    _paused.active = True
    try:
        yield
    finally:
        _paused.active = False


def indicators_changes_committed() -> None:
    """Listener for ``households.history.CHANGE_LISTENERS`` (called once after each commit that added
    change-feed rows): queue a sweep. With a broker, commits within ``DEBOUNCE_SECONDS`` coalesce into
    one sweep (a cache key set with ``add``); the beat sweep every minute catches anything a lost
    message missed. Without a broker the sweep runs in-process at once (one per transaction)."""
    if getattr(_paused, "active", False):
        return
    if settings.CELERY_TASK_ALWAYS_EAGER:
        sweep_dirty_periods.apply()
        return
    try:
        # The key goes when the sweep starts; its timeout only matters if the message is lost.
        first = cache.add(SWEEP_QUEUED_KEY, 1, timeout=10)
    except Exception:  # cache table missing or cache down: rather one sweep too many than none
        logger.warning("cache unavailable; queueing the sweep without debounce", exc_info=True)
        first = True
    if first:
        sweep_dirty_periods.apply_async(countdown=DEBOUNCE_SECONDS)


def indicators_data_changed() -> None:
    """For writers that bypass ``changefeed_add``: queue a sweep once the transaction commits."""
    transaction.on_commit(indicators_changes_committed)
