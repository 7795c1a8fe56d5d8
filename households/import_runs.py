"""The worker's side of an import job: the dry run, the confirmed import, and the purge of old files.

Called only by the thin tasks of ``households.tasks``; the page and the API create, confirm and
abandon jobs through ``households.import_jobs``, which queues those tasks. Kept apart so that the
tasks import this module and ``import_jobs`` imports the tasks, with no cycle between them.
"""

import datetime
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.importing import FileError, run_import
from households.importing.monthly import MONTHLY, run_monthly
from households.models import ImportJob

logger = logging.getLogger(__name__)

# The beat runs the purge hourly, so a file is gone within FILE_MAX_AGE + 1 h = 24 h of its upload.
FILE_MAX_AGE = datetime.timedelta(hours=23)
RUNNING = (ImportJob.Status.UPLOADED, ImportJob.Status.VALIDATING, ImportJob.Status.IMPORTING)
FINISHED = (ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.ABANDONED)


def import_upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def discard_file(job: ImportJob) -> None:
    """The uploaded file holds personal data: gone as soon as the job no longer needs it."""
    if job.stored_file:
        Path(job.stored_file).unlink(missing_ok=True)
        job.stored_file = ""


def _claim(job_id: int, statuses: tuple[str, ...], status: str) -> ImportJob | None:
    """Move a job to ``status`` if it is in one of ``statuses``; the row lock makes a redelivered or
    duplicated task a no-op. ``None`` when there is nothing to do."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in statuses:
            return None
        job.status = status
        job.progress = 0
        job.save(update_fields=["status", "progress"])
        return job


def _progress_writer(job: ImportJob) -> Callable[[int], None]:
    """Each report is its own small commit (outside the import's transaction it is seen at once)."""
    last = [-1]

    def report(percent: int) -> None:
        if percent > last[0]:
            last[0] = percent
            # Never backwards: inside its write transaction the importer has already set 100.
            ImportJob.objects.filter(pk=job.pk, progress__lt=percent).update(progress=percent)
            job.progress = max(job.progress, percent)

    return report


def _file_error(reason: str) -> list[dict[str, Any]]:
    return [{"row": 0, "column": "", "value": "", "reason": reason}]


def _run(job: ImportJob, *, dry_run: bool) -> ImportJob:
    """Run the importer for ``job`` as its creator (their scope and role); every outcome lands on the row."""
    user, channel = job.created_by, job.channel
    try:
        if not job.stored_file or not Path(job.stored_file).is_file():
            raise FileError(_("上传的文件已删除（文件最多保留 24 小时），请重新上传。"))
        runner = run_monthly if job.kind == MONTHLY else run_import  # the monthly workbook: two sheets
        result = runner(job.kind, job.stored_file, user=user, dry_run=dry_run, job=job, progress=_progress_writer(job))
    except FileError as error:
        # The file as a whole is refused: no row to correct in it, so it is not kept.
        discard_file(job)
        job.status = ImportJob.Status.INVALID
        job.errors = _file_error(str(error))
        job.progress = 100
        job.save(update_fields=["status", "errors", "progress", "stored_file"])
        return job
    except Exception as error:  # the job row carries every failure; nothing was written (one transaction)
        logger.exception("import job %s failed", job.pk)
        _fail(job, _("导入失败（%(error)s），未写入任何数据。请稍后重试或联系管理员。") % {
            "error": error.__class__.__name__})  # fmt: skip
        return job
    file_warnings = [{"row": 0, "column": "", "value": "", "reason": text} for text in result.file_warnings]
    job.warnings = file_warnings + [warning.as_dict() for warning in result.warnings]
    job.progress = 100
    job.channel = channel  # the importer records web and API imports alike as channel "import"
    job.save(update_fields=["warnings", "progress", "channel"])
    return job


def _fail(job: ImportJob, reason: str) -> None:
    """End ``job`` as failed and delete its file (the exception text may quote row data: not shown)."""
    discard_file(job)
    job.status = ImportJob.Status.FAILED
    job.errors = _file_error(reason)
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "finished_at", "stored_file"])


@transaction.atomic
def _fail_if_lost(job_id: int, status: str, message: str) -> ImportJob | None:
    """A job still in ``status`` when its task starts was held by a worker that died: fail it (its
    file deleted) rather than read the file that may have killed that worker a second time."""
    lost = ImportJob.objects.select_for_update().filter(pk=job_id, status=status).first()
    if lost is not None:
        logger.error("import job %s: the worker died while it was %s", job_id, status)
        _fail(lost, message)
    return lost


def import_job_validate(*, job_id: int) -> ImportJob | None:
    """The dry run of an uploaded job (task body). Writes no record; idempotent: a job past
    validation is left alone. A job found still validating was being read by a worker that died
    (acks late redelivers it): the file is not read a second time — the job fails, its file deleted."""
    lost = _fail_if_lost(
        job_id,
        ImportJob.Status.VALIDATING,
        _("校验时处理进程意外中止，未写入任何数据。文件可能过大或格式异常：请检查后重新上传。"),
    )
    if lost is not None:
        return lost
    job = _claim(job_id, (ImportJob.Status.UPLOADED,), ImportJob.Status.VALIDATING)
    if job is None:
        return ImportJob.objects.filter(pk=job_id).first()
    return _run(job, dry_run=True)


def import_job_run(*, job_id: int, redelivered: bool = False) -> ImportJob | None:
    """The confirmed import (task body): all or nothing, progress on the job row, then the uploaded
    file is deleted whatever the outcome. Idempotent: a job already done is a no-op. ``redelivered``
    (the broker's flag: the worker running it died, its transaction rolled back): the job fails."""
    if redelivered:
        lost = _fail_if_lost(
            job_id, ImportJob.Status.IMPORTING, _("导入时处理进程意外中止，未写入任何数据。请重新上传文件后再试。")
        )
        if lost is not None:
            return lost
    job = _claim(job_id, (ImportJob.Status.IMPORTING,), ImportJob.Status.IMPORTING)
    if job is None:
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is not None and job.status in FINISHED and job.stored_file:
            discard_file(job)
            job.save(update_fields=["stored_file"])
        return job
    job = _run(job, dry_run=False)
    discard_file(job)
    job.finished_at = job.finished_at or timezone.now()
    job.save(update_fields=["stored_file", "finished_at"])
    return job


def import_jobs_purge(*, now: datetime.datetime | None = None, max_age: datetime.timedelta = FILE_MAX_AGE) -> int:
    """Delete uploaded files older than ``max_age`` (beat: hourly) and mark their unfinished jobs
    abandoned; also files no job refers to (an upload whose job was rolled back). Returns the
    number of files deleted."""
    cutoff = (now or timezone.now()) - max_age
    deleted = 0
    stale = ImportJob.objects.filter(created_at__lt=cutoff).exclude(stored_file="")
    for job_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if not job.stored_file:
                continue
            discard_file(job)
            deleted += 1
            fields = ["stored_file"]
            if job.status not in FINISHED:
                job.status = ImportJob.Status.ABANDONED
                job.finished_at = timezone.now()
                fields += ["status", "finished_at"]
            job.save(update_fields=fields)
    folder = import_upload_dir()
    if folder.is_dir():
        referenced = set(ImportJob.objects.exclude(stored_file="").values_list("stored_file", flat=True))
        for path in folder.iterdir():
            if not path.is_file() or str(path) in referenced:
                continue
            modified = datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC)
            if modified < cutoff:
                path.unlink(missing_ok=True)
                deleted += 1
    return deleted
