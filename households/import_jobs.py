"""Import jobs of the web page and the API: upload → dry run (preview) → confirm or abandon.

The long work runs in ``households.tasks`` (thin tasks taking the job id, queued on commit); the
state machine and the lifecycle of the uploaded file live here:

    uploaded → validating → previewed ─confirm→ importing → done | invalid | failed
                          ↘ invalid                      (any of uploaded/previewed/invalid) → abandoned

The uploaded file holds personal data (access.md): it is stored under ``MEDIA_ROOT/imports/`` with a
random name, deleted once the import ran or was abandoned, and by ``import_jobs_purge`` after 24 h at
most. Job errors are those of the importer, personal data masked there.
"""

import datetime
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import Channel
from .importing import FileError, get_kind, kind_names, run_import
from .importing.base import Kind, mask_value
from .importing.readers import check_extension, sniff_format
from .models import ImportJob

logger = logging.getLogger(__name__)

UPLOAD_SUFFIXES = (".xlsx", ".xls", ".csv")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# The beat runs the purge hourly, so a file is gone within FILE_MAX_AGE + 1 h = 24 h of its upload.
FILE_MAX_AGE = datetime.timedelta(hours=23)
RUNNING = (ImportJob.Status.UPLOADED, ImportJob.Status.VALIDATING, ImportJob.Status.IMPORTING)
ABANDONABLE = (ImportJob.Status.UPLOADED, ImportJob.Status.PREVIEWED, ImportJob.Status.INVALID)
FINISHED = (ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.ABANDONED)


def import_upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


# --- reads ---------------------------------------------------------------------------------------


def import_kinds_for(actor: Any) -> list[Kind]:
    """The kinds the actor's role may import, in the loading order of data.md (the importer decides)."""
    kinds = [get_kind(name) for name in kind_names()]
    return [kind for kind in kinds if kind is not None and kind.allows(actor)]


def import_kind_for(actor: Any, name: str) -> Kind:
    """The kind ``name`` if the actor may import it: 404 for an unknown kind, 403 for a refused one."""
    kind = get_kind(name)
    if kind is None:
        raise Http404
    if not kind.allows(actor):
        raise PermissionDenied(_("您的角色无权导入“%(kind)s”。") % {"kind": kind.label})
    return kind


def import_job_list(*, actor: Any) -> Any:
    """Jobs carry no area codes; each user sees the jobs they started (stricter than their area)."""
    return ImportJob.objects.filter(created_by=actor).order_by("-created_at", "-id")


def import_job_access(*, actor: Any, pk: int) -> ImportJob:
    """One of the actor's own jobs, or 404 — a job of another user answers exactly like a missing one."""
    try:
        return import_job_list(actor=actor).get(pk=pk)
    except ImportJob.DoesNotExist as exc:
        raise Http404 from exc


def import_job_running(job: ImportJob) -> bool:
    return job.status in RUNNING


def import_job_can_confirm(job: ImportJob) -> bool:
    return job.status == ImportJob.Status.PREVIEWED and bool(job.stored_file) and not job.errors


# --- writes --------------------------------------------------------------------------------------


def _suffix(file_name: str) -> str:
    suffix = Path(file_name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise ValidationError({"file": _("请上传 .xlsx、.xls 或 .csv 文件。")})
    return suffix


def _store(upload: Any, suffix: str) -> Path:
    """Write the upload under a random name: the original name (often a person's) never reaches the disk.
    Owner-only (0600 in a 0700 folder): the file holds personal data."""
    folder = import_upload_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / f"{secrets.token_hex(16)}{suffix}"
    chunks = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        for chunk in chunks:
            target.write(chunk)
    return path


def _check_content(path: Path, file_name: str) -> None:
    """The content must be what the extension says (a CSV named .xls is refused, not imported)."""
    try:
        with path.open("rb") as handle:
            check_extension(file_name, sniff_format(handle))
    except FileError as error:
        raise ValidationError({"file": str(error)}) from None


def _discard_file(job: ImportJob) -> None:
    if job.stored_file:
        Path(job.stored_file).unlink(missing_ok=True)
        job.stored_file = ""


def import_job_create(*, actor: Any, kind: str, upload: IO[bytes] | Any, channel: str = Channel.IMPORT) -> ImportJob:
    """Store the upload and queue its dry run (after commit). Raises ``Http404`` for an unknown kind
    (callers validate the kind first), ``PermissionDenied`` for a kind the role may not import and
    ``ValidationError`` for a file that is not .xlsx/.xls/.csv or is too big."""
    definition = import_kind_for(actor, kind)
    file_name = Path(getattr(upload, "name", "") or f"{kind}.xlsx").name
    suffix = _suffix(file_name)
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("文件过大（上限 50 MB）。")})
    path = _store(upload, suffix)
    try:
        _check_content(path, file_name)
        job = ImportJob.objects.create(
            kind=definition.name, file_name=file_name[:255], stored_file=str(path), created_by=actor, channel=channel
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    from .tasks import import_job_validate_task

    # Inside a caller's transaction the task waits for its commit; otherwise the row is committed already.
    import_job_validate_task.delay_on_commit(job.pk)
    return job


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
        result = run_import(
            job.kind, job.stored_file, user=user, dry_run=dry_run, job=job, progress=_progress_writer(job)
        )
    except FileError as error:
        # The file as a whole is refused: no row to correct in it, so it is not kept.
        _discard_file(job)
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
    _discard_file(job)
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


@transaction.atomic
def import_job_confirm(*, actor: Any, job: ImportJob) -> ImportJob:
    """Queue the real import of a clean preview (after commit). ``ValidationError`` otherwise."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk, created_by=actor)
    if not import_job_can_confirm(job):
        raise ValidationError({"status": [_("只有校验通过、待确认的导入任务可以确认导入。")]})
    import_kind_for(actor, job.kind)
    job.status = ImportJob.Status.IMPORTING
    job.progress = 0
    job.save(update_fields=["status", "progress"])
    from .tasks import import_job_run_task

    import_job_run_task.delay_on_commit(job.pk)
    return job


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
            _discard_file(job)
            job.save(update_fields=["stored_file"])
        return job
    job = _run(job, dry_run=False)
    _discard_file(job)
    job.finished_at = job.finished_at or timezone.now()
    job.save(update_fields=["stored_file", "finished_at"])
    return job


@transaction.atomic
def import_job_abandon(*, actor: Any, job: ImportJob) -> ImportJob:
    """Give up an import that has not run: its uploaded file is deleted, nothing is written."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk, created_by=actor)
    if job.status not in ABANDONABLE:
        raise ValidationError({"status": [_("该导入任务正在进行或已结束，不能放弃。")]})
    _discard_file(job)
    job.status = ImportJob.Status.ABANDONED
    job.finished_at = timezone.now()
    job.save(update_fields=["stored_file", "status", "finished_at"])
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
            _discard_file(job)
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


# --- the error workbook --------------------------------------------------------------------------


def _rows_while_readable(rows: Any) -> Any:
    """The uploaded rows up to where the reader refuses the file (its bounds): the errors say why."""
    try:
        yield from rows
    except FileError:
        return


def import_job_errors_workbook(*, actor: Any, job: ImportJob, target: IO[bytes]) -> None:
    """An .xlsx of the job's errors: while the upload is kept, its rows with an extra 错误 column (so
    the file can be corrected and uploaded again), and always a sheet 错误清单 (row, column, value,
    reason). Every cell is written as a string: nothing starting with = + - @ becomes a formula.
    Secret columns are masked for a role that sees personal data masked."""
    import xlsxwriter

    from accounts.access import sees_personal_data

    from .importing.readers import cell_value, open_table

    kind = get_kind(job.kind)
    workbook = xlsxwriter.Workbook(
        target,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    text = workbook.add_format({"num_format": "@"})
    bold = workbook.add_format({"bold": True, "num_format": "@"})
    red = workbook.add_format({"bold": True, "font_color": "#B42318", "num_format": "@"})
    by_row: dict[int, list[str]] = {}
    for error in job.errors or []:
        reason = f"{error.get('column')}: {error.get('reason')}" if error.get("column") else str(error.get("reason"))
        by_row.setdefault(int(error.get("row") or 0), []).append(reason)

    table = None
    if job.stored_file and Path(job.stored_file).is_file():
        try:
            table = open_table(job.stored_file, columns=len(kind.columns) if kind is not None else None)
        except FileError:
            table = None
    if table is not None:
        secret = {
            index: kind.column_by_header[header].secret
            for index, header in enumerate(table.headers)
            if kind is not None and header in kind.column_by_header and kind.column_by_header[header].secret
        }
        masked = not sees_personal_data(actor)
        sheet = workbook.add_worksheet(_("导入数据及错误"))
        sheet.freeze_panes(1, 0)
        error_column = len(table.headers)
        for column, header in enumerate(table.headers):
            sheet.write_string(0, column, str(header), bold)
            sheet.set_column(column, column, max(10, len(str(header)) * 2 + 2), text)
        sheet.write_string(0, error_column, _("错误"), red)
        sheet.set_column(error_column, error_column, 60, text)
        out = 1
        for number, values in _rows_while_readable(table.rows):
            for column, value in enumerate(values):
                cell = value.isoformat() if isinstance(value, datetime.date) else str(cell_value(value))
                if column in secret and masked and cell:
                    cell = mask_value(secret[column], cell)
                if cell:
                    sheet.write_string(out, column, cell, text)
            if number in by_row:
                sheet.write_string(out, error_column, "；".join(by_row[number]), red)
            out += 1

    sheet = workbook.add_worksheet(_("错误清单"))
    headers = [_("行号"), _("列名"), _("填写的值"), _("错误原因")]
    for column, header in enumerate(headers):
        sheet.write_string(0, column, header, bold)
    sheet.set_column(0, 0, 8, text)
    sheet.set_column(1, 2, 20, text)
    sheet.set_column(3, 3, 80, text)
    for out, error in enumerate(job.errors or [], start=1):
        row = int(error.get("row") or 0)
        cells = [str(row) if row else "", *(error.get(name) or "" for name in ("column", "value", "reason"))]
        for column, cell in enumerate(cells):
            if cell:
                sheet.write_string(out, column, str(cell), text)
    workbook.close()
