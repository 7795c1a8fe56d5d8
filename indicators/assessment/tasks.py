"""Celery task of the annual assessment: thin, idempotent, taking the run id (work in ``assessment``).

The task keeps the name it had before the module moved into ``indicators/assessment/`` (queued
messages and routes name it); ``CELERY_IMPORTS`` makes the worker load this module.
"""

from celery import shared_task

from indicators.assessment import scoring as assessment


@shared_task(
    name="indicators.tasks_assessment.assessment_run_task",
    acks_late=True,
    time_limit=4 * 3600,
    soft_time_limit=4 * 3600 - 60,
)
def assessment_run_task(run_id: int) -> str:
    return assessment.assessment_run_execute(run_id=run_id).status
