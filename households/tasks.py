"""Celery tasks of the registry: thin, idempotent, taking job ids (never row data); the work is in
``households.import_runs``. Queued with ``delay_on_commit``; in-process without a broker."""

from celery import Task, shared_task

from households import import_runs

# An import of a national-scale file takes minutes; the hard limit only stops a runaway worker.
IMPORT_TIME_LIMIT = 2 * 3600


@shared_task(
    name="households.tasks.import_job_validate_task",
    acks_late=True,
    time_limit=IMPORT_TIME_LIMIT,
    soft_time_limit=IMPORT_TIME_LIMIT - 60,
)
def import_job_validate_task(job_id: int) -> str:
    """The dry run of an uploaded file: counts and row errors on the job row, nothing written."""
    job = import_runs.import_job_validate(job_id=job_id)
    return job.status if job is not None else "missing"


@shared_task(
    name="households.tasks.import_job_run_task",
    bind=True,
    acks_late=True,
    time_limit=IMPORT_TIME_LIMIT,
    soft_time_limit=IMPORT_TIME_LIMIT - 60,
)
def import_job_run_task(self: "Task[[int], str]", job_id: int) -> str:
    """The confirmed import, all or nothing; a job already done is left alone. A redelivered message
    (its worker died mid-run) fails the job instead of reading the file again."""
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    job = import_runs.import_job_run(job_id=job_id, redelivered=redelivered)
    return job.status if job is not None else "missing"


@shared_task(name="households.tasks.import_jobs_purge_task", time_limit=600)
def import_jobs_purge_task() -> int:
    """Delete uploaded files older than a day (beat: hourly)."""
    return import_runs.import_jobs_purge()
