"""Import jobs of the web page and the API: upload → dry run (preview) → confirm or abandon.

The long work runs in ``households.import_runs``, called by the thin tasks of ``households.tasks``
(queued on commit, taking the job id); the state machine and the lifecycle of the uploaded file live here:

    uploaded → validating → previewed ─confirm→ importing → done | invalid | failed
                          ↘ invalid                      (any of uploaded/previewed/invalid) → abandoned

The uploaded file holds personal data (access.md): it is stored under ``MEDIA_ROOT/imports/`` with a
random name, deleted once the import ran or was abandoned, and by ``import_jobs_purge`` after 24 h at
most. Job errors are those of the importer, personal data masked there.
"""

import contextlib
import datetime
import logging
import os
import secrets
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import sees_personal_data
from accounts.models import User
from accounts.personal_data import decrypt
from core.spreadsheet import SafeWorkbook, xlsx_write
from households.choices import Channel
from households.import_runs import RUNNING, discard_file, import_upload_dir
from households.importing import FileError, get_kind, kind_names
from households.importing.base import Kind, mask_value
from households.importing.monthly import MONTHLY, monthly_allows
from households.importing.readers import cell_value, check_extension, open_table, sniff_format
from households.models import ImportJob
from households.tasks import import_job_run_task, import_job_validate_task

if TYPE_CHECKING:
    from celery.contrib.django.task import DjangoTask

logger = logging.getLogger(__name__)

UPLOAD_SUFFIXES = (".xlsx", ".xls", ".csv")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ABANDONABLE = (ImportJob.Status.UPLOADED, ImportJob.Status.PREVIEWED, ImportJob.Status.INVALID)


# --- reads ---------------------------------------------------------------------------------------


def import_kinds_for(actor: User | None) -> list[Kind]:
    """The kinds the actor's role may import, in the loading order of data.md (the importer decides)."""
    kinds = [get_kind(name) for name in kind_names()]
    return [kind for kind in kinds if kind is not None and kind.allows(actor)]


def import_kind_for(actor: User | None, name: str) -> Kind:
    """The kind ``name`` if the actor may import it: 404 for an unknown kind, 403 for a refused one."""
    kind = get_kind(name)
    if kind is None:
        raise Http404
    if not kind.allows(actor):
        raise PermissionDenied(_("您的角色无权导入“%(kind)s”。") % {"kind": kind.label})
    return kind


def _job_kind(actor: User | None, name: str) -> str:
    """The job kind ``name`` if the actor may start it: an import kind, or the monthly workbook
    (``households.importing.monthly``: two sheets, village and township staff)."""
    if name == MONTHLY:
        if not monthly_allows(actor):
            raise PermissionDenied(_("您的角色无权使用月度更新。"))
        return MONTHLY
    return import_kind_for(actor, name).name


def import_job_list(*, actor: User | None) -> Any:
    """Jobs carry no area codes; each user sees the jobs they started (stricter than their area)."""
    return ImportJob.objects.filter(created_by=actor).order_by("-created_at", "-id")


def import_job_access(*, actor: User | None, pk: int) -> ImportJob:
    """One of the actor's own jobs, or 404 — a job of another user answers exactly like a missing one."""
    try:
        return import_job_list(actor=actor).get(pk=pk)
    except ImportJob.DoesNotExist as exc:
        raise Http404 from exc


def import_job_errors(*, actor: User | None, job: ImportJob) -> list[dict[str, Any]]:
    """The job's row errors as ``actor`` may see them. A secret cell (phone, ID number) is stored
    masked beside its ciphertext: the uploader is shown what they typed, so they can find the typo;
    anyone else (an official looking at the job) sees it masked. Masking is for other people's data."""
    own = actor is not None and job.created_by_id is not None and actor.pk == job.created_by_id
    errors = []
    for error in job.errors or []:
        shown = {key: value for key, value in error.items() if key != "sealed"}
        if own and error.get("sealed"):
            with contextlib.suppress(ImproperlyConfigured):  # its key was retired: the masked value stays
                shown["value"] = decrypt(error["sealed"])
        errors.append(shown)
    return errors


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


def import_job_create(
    *, actor: User | None, kind: str, upload: IO[bytes] | Any, channel: str = Channel.IMPORT
) -> ImportJob:
    """Store the upload and queue its dry run (after commit). Raises ``Http404`` for an unknown kind
    (callers validate the kind first), ``PermissionDenied`` for a kind the role may not import and
    ``ValidationError`` for a file that is not .xlsx/.xls/.csv or is too big."""
    job_kind = _job_kind(actor, kind)
    file_name = Path(getattr(upload, "name", "") or f"{kind}.xlsx").name
    suffix = _suffix(file_name)
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("文件过大（上限 50 MB）。")})
    path = _store(upload, suffix)
    try:
        _check_content(path, file_name)
        job = ImportJob.objects.create(
            kind=job_kind, file_name=file_name[:255], stored_file=str(path), created_by=actor, channel=channel
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    # Inside a caller's transaction the task waits for its commit; otherwise the row is committed already.
    # The casts: the app's task class is ``DjangoTask`` (relocation/celery.py), which the stubs of
    # ``shared_task`` cannot know.
    cast("DjangoTask[[int], str]", import_job_validate_task).delay_on_commit(job.pk)
    return job


@transaction.atomic
def import_job_confirm(*, actor: User | None, job: ImportJob) -> ImportJob:
    """Queue the real import of a clean preview (after commit). ``ValidationError`` otherwise."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk, created_by=actor)
    if not import_job_can_confirm(job):
        raise ValidationError({"status": [_("只有校验通过、待确认的导入任务可以确认导入。")]})
    _job_kind(actor, job.kind)
    job.status = ImportJob.Status.IMPORTING
    job.progress = 0
    job.save(update_fields=["status", "progress"])
    cast("DjangoTask[[int], str]", import_job_run_task).delay_on_commit(job.pk)
    return job


@transaction.atomic
def import_job_abandon(*, actor: User | None, job: ImportJob) -> ImportJob:
    """Give up an import that has not run: its uploaded file is deleted, nothing is written."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk, created_by=actor)
    if job.status not in ABANDONABLE:
        raise ValidationError({"status": [_("该导入任务正在进行或已结束，不能放弃。")]})
    discard_file(job)
    job.status = ImportJob.Status.ABANDONED
    job.finished_at = timezone.now()
    job.save(update_fields=["stored_file", "status", "finished_at"])
    return job


# --- the error workbook --------------------------------------------------------------------------


def _rows_while_readable(rows: Any) -> Any:
    """The uploaded rows up to where the reader refuses the file (its bounds): the errors say why."""
    try:
        yield from rows
    except FileError:
        return


def import_job_errors_workbook(*, actor: User | None, job: ImportJob, target: IO[bytes]) -> None:
    """An .xlsx of the job's errors: while the upload is kept, its rows with an extra 错误 column (so
    the file can be corrected and uploaded again), and always a sheet 错误清单 (row, column, value,
    reason). Every cell is written as a string (``core.spreadsheet.xlsx_write``): nothing starting with
    = + - @, tab or CR becomes a formula.
    Secret columns are masked for a role that sees personal data masked, unless it is the uploader's
    own file (``import_job_errors``)."""
    kind = get_kind(job.kind)
    workbook = SafeWorkbook(target, {"constant_memory": True, "strings_to_numbers": False})
    text = workbook.add_format({"num_format": "@"})
    bold = workbook.add_format({"bold": True, "num_format": "@"})
    red = workbook.add_format({"bold": True, "font_color": "#B42318", "num_format": "@"})
    by_row: dict[int, list[str]] = {}
    for error in job.errors or []:
        reason = f"{error.get('column')}: {error.get('reason')}" if error.get("column") else str(error.get("reason"))
        by_row.setdefault(int(error.get("row") or 0), []).append(reason)

    table = None
    # A monthly workbook's row numbers are per sheet: its errors are listed in 错误清单 only.
    if job.stored_file and Path(job.stored_file).is_file() and job.kind != MONTHLY:
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
        own = actor is not None and actor.pk == job.created_by_id  # the uploader's own typing
        masked = not (own or sees_personal_data(actor))
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
                    xlsx_write(sheet, out, column, cell, text)
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
    for out, error in enumerate(import_job_errors(actor=actor, job=job), start=1):
        row = int(error.get("row") or 0)
        cells = [str(row) if row else "", *(error.get(name) or "" for name in ("column", "value", "reason"))]
        for column, cell in enumerate(cells):
            if cell:
                xlsx_write(sheet, out, column, str(cell), text)
    workbook.close()
