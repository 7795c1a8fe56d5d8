"""Celery task of the annual assessment: thin, idempotent, taking the run id (work in ``assessment``).

The worker must import this module (``CELERY_IMPORTS`` or the app's ``ready``), since
``autodiscover_tasks`` only looks for ``tasks.py``.
"""

from celery import shared_task

from . import assessment


@shared_task(acks_late=True, time_limit=4 * 3600, soft_time_limit=4 * 3600 - 60)
def assessment_run_task(run_id: int) -> str:
    return assessment.assessment_run_execute(run_id=run_id).status
