"""The dashboards' one task: warm the cached county parts after a finished run (``parts``)."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from indicators.dashboards.parts import dashboards_warm

logger = logging.getLogger(__name__)


# After recomputations of changed units, one warming at most every this many seconds per period.
WARM_CHANGES_SECONDS = 5


def _queued_key(period_id: int) -> str:
    return f"dashboard:warm-queued:{period_id}"


@shared_task(name="indicators.tasks_dashboards.warm_dashboards_task", acks_late=True, time_limit=30 * 60)
def warm_dashboards_task(period_id: int, changed_only: bool = False) -> int:
    if changed_only:
        cache.delete(_queued_key(period_id))  # later sweeps queue the next warming
    return dashboards_warm(period_id, changed_only=changed_only)


def dashboards_warm_queue(period_id: int, counties: set[str] | None = None) -> None:
    """``engine.runs.RUN_FINISHED_LISTENERS`` entry. Only with a worker (``DASHBOARD_WARM``): without
    a broker the run itself ran in a web request or a command, which should not also render every
    county's board; the first reader builds a part then, as before.

    A full run warms at once. Recomputations of changed units (``counties`` given) come several a
    second under a stream of edits: they coalesce into one warming ``WARM_CHANGES_SECONDS`` later,
    which builds only the counties whose values moved."""
    if not settings.DASHBOARD_WARM:
        return
    if counties is None:
        warm_dashboards_task.delay(period_id)
    elif cache.add(_queued_key(period_id), 1, timeout=10 * WARM_CHANGES_SECONDS):
        warm_dashboards_task.apply_async((period_id,), {"changed_only": True}, countdown=WARM_CHANGES_SECONDS)
