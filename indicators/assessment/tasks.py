"""Celery tasks of the annual assessment: thin, idempotent, taking the run id (work in ``scoring``
and ``report_files``).

The tasks keep the ``indicators.tasks_assessment.`` names they had before the module moved into
``indicators/assessment/`` (queued messages and routes name them: scoring goes to the "compute"
queue, the files to "reports"); ``CELERY_IMPORTS`` makes the worker load this module.
"""

import logging

from celery import shared_task
from django.conf import settings

from indicators.assessment import report_files
from indicators.assessment import scoring as assessment
from indicators.models import AssessmentRun

logger = logging.getLogger(__name__)


@shared_task(
    name="indicators.tasks_assessment.assessment_run_task",
    acks_late=True,
    time_limit=4 * 3600,
    soft_time_limit=4 * 3600 - 60,
)
def assessment_run_task(run_id: int) -> str:
    return assessment.assessment_run_execute(run_id=run_id).status


@shared_task(
    name="indicators.tasks_assessment.assessment_report_task",
    acks_late=True,
    time_limit=30 * 60,
    soft_time_limit=30 * 60 - 60,
)
def assessment_report_task(run_id: int) -> str:
    return report_files.assessment_report_build(run_id=run_id).report_status


def assessment_report_queue(run_id: int) -> None:
    """``scoring.PUBLISH_LISTENERS`` entry: queue the report build (in-process without a broker). A
    broker that refuses the message marks the build failed, so the page says so and publishing
    again retries, instead of a report that waits forever."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assessment_report_task.apply(args=(run_id,))
        return
    try:
        assessment_report_task.delay(run_id)
    except Exception as exc:  # broker down
        logger.exception("could not queue the assessment report of run %s", run_id)
        AssessmentRun.objects.filter(pk=run_id).update(
            report_status=AssessmentRun.ReportStatus.FAILED, report_error=str(exc) or type(exc).__name__
        )
