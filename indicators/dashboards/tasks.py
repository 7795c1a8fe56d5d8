"""The dashboards' one task: warm the cached county parts after a finished run (``parts``)."""

import logging

from celery import shared_task
from django.conf import settings

from indicators.dashboards.parts import dashboards_warm

logger = logging.getLogger(__name__)


@shared_task(name="indicators.tasks_dashboards.warm_dashboards_task", acks_late=True, time_limit=30 * 60)
def warm_dashboards_task(period_id: int, counties: list[str] | None = None) -> int:
    return dashboards_warm(period_id, counties=None if counties is None else set(counties))


def dashboards_warm_queue(period_id: int, counties: set[str] | None = None) -> None:
    """``engine.runs.RUN_FINISHED_LISTENERS`` entry. Only with a worker (``DASHBOARD_WARM``): without
    a broker the run itself ran in a web request or a command, which should not also render every
    county's board; the first reader builds a part then, as before."""
    if settings.DASHBOARD_WARM:
        warm_dashboards_task.delay(period_id, None if counties is None else sorted(counties))
