"""The monthly prefilled update (一表同享, issue 20): download the area's current households and persons
as one workbook, edit only what changed, upload it, preview the changed cells, confirm.

The workbook has the sheets and columns of the 搬迁户 and 家庭成员 import templates, plus a hidden last
column 校验码: a keyed HMAC (the project's secret) of the row's exported values. On upload a row whose
values still hash to its 校验码 is skipped unread — no query, no write, no history — and cannot be
forged without the secret: an edited value or an edited 校验码 only sends the row through the same
validation as the imports (``engine``), where an unchanged record stays unchanged.

The job is an ordinary ``ImportJob`` of kind ``monthly`` (queued, dry run, confirm, error workbook);
the preview's cell changes ride in ``job.warnings`` as entries marked ``"change"`` (the job has no
other field for them), ID and phone values masked there with the typed value sealed beside, as
``RowError`` does.
"""

import contextlib
import dataclasses
import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.access import sees_personal_data
from accounts.models import User
from accounts.personal_data import decrypt, encrypt
from core.money import format_money
from core.spreadsheet import SafeWorkbook, xlsx_write
from households.choices import Channel, RecordStatus
from households.importing.base import Column, Context, ImportRow, Kind, RowError, chunks, export_text, mask_value
from households.importing.cells import parse_money
from households.importing.engine import (
    ImportResult,
    PermissionRefused,
    Progress,
    _checked_headers,
    _diff,
    _history,
    _job_invalid,
    _job_previewed,
    _job_update,
    _parse_rows,
    _validate,
)
from households.importing.readers import (
    EXTRA_COLUMNS,
    FileError,
    _check_zip,
    _opened,
    _split,
    _streaming_workbook,
    cell_value,
    max_rows,
    sniff_format,
)
from households.importing.registry import get_kind
from households.models import ChangeFeed, ImportJob, Person

MONTHLY = "monthly"
LABEL = "月度更新"
KINDS = ("households", "persons")  # sheet order: a person's household is validated against the database
CHECKSUM_HEADER = "校验码（请勿修改）"
HMAC_SALT = "households.importing.monthly"
SECOND_SELF = gettext_noop(
    "户 %(household)s 已有成员“%(name)s”：身份证号有误请在户档案中使用“更正身份证号”，不能在月度更新表中修改。"
)


def _kinds() -> list[Kind]:
    kinds = [get_kind(name) for name in KINDS]
    return [kind for kind in kinds if kind is not None]


def monthly_allows(user: User | None) -> bool:
    """Village and township staff: they may import both sheets and see the personal data the sheets
    must carry in full (a masked ID number could not come back)."""
    return user is not None and sees_personal_data(user) and all(kind.allows(user) for kind in _kinds())


def row_checksum(kind: str, values: list[str]) -> str:
    """The keyed HMAC of a row's exported texts, in template column order."""
    payload = kind + "\x1e" + "\x1f".join(values)
    return salted_hmac(HMAC_SALT, payload, algorithm="sha256").hexdigest()[:32]


# --- the download ----------------------------------------------------------------------------------


def _current(kind: Kind, ctx: Context) -> Any:
    queryset = kind.export_queryset(ctx).filter(status=RecordStatus.ACTIVE)
    if kind.name == "persons":
        queryset = queryset.filter(household__status=RecordStatus.ACTIVE)
    return queryset


def monthly_file_name(user: User, today: datetime.date | None = None) -> str:
    """「XX镇_住户人员月度更新表_2026年12月.xlsx」"""
    today = today or timezone.localdate()
    area = user.area.name if user.area is not None else ""
    return _("%(area)s_住户人员月度更新表_%(year)s年%(month)s月.xlsx") % {
        "area": area,
        "year": today.year,
        "month": today.month,
    }


def monthly_workbook(user: User, target: IO[bytes]) -> int:
    """Write the user's current active households and persons, prefilled, with a hidden 校验码 column.
    One query per sheet (constant memory); returns the number of data rows."""
    workbook = SafeWorkbook(target, {"constant_memory": True, "strings_to_numbers": False})
    text = workbook.add_format({"num_format": "@"})
    header = workbook.add_format({"bold": True, "num_format": "@", "bg_color": "#F2F2F2", "border": 1})
    required = workbook.add_format(
        {"bold": True, "font_color": "#C00000", "num_format": "@", "bg_color": "#FDE8E8", "border": 1}
    )
    total = 0
    for kind in _kinds():
        sheet = workbook.add_worksheet(kind.label[:31])
        sheet.freeze_panes(1, 0)
        for index, column in enumerate(kind.columns):
            needed = column.key or column.required or column.required_column
            sheet.write_string(0, index, column.header, required if needed else header)
            sheet.set_column(index, index, max(12, len(column.header) * 2 + 4), text)
        hidden = len(kind.columns)
        sheet.write_string(0, hidden, CHECKSUM_HEADER, header)
        sheet.set_column(hidden, hidden, 34, text, {"hidden": True})
        ctx = Context(kind=kind, user=user, headers=kind.headers)
        for number, instance in enumerate(_current(kind, ctx).iterator(chunk_size=2000), start=1):
            values = kind.export_row(instance, False)
            for index, value in enumerate(values):
                if value:
                    xlsx_write(sheet, number, index, value, text)
            sheet.write_string(number, hidden, row_checksum(kind.name, values), text)
            total += 1
    workbook.close()
    return total


# --- reading the upload ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell as the export wrote it: dates in ISO form, everything else its text."""
    value = cell_value(value)
    return value.isoformat() if isinstance(value, datetime.date) else str(value).strip()


@dataclasses.dataclass
class Sheet:
    kind: Kind
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # the rows whose checksum no longer matches
    unchanged: int = 0
    total: int = 0


def _sheet_rows(workbook: Any, kind: Kind) -> Iterator[list[Any]]:
    try:
        sheet = workbook[kind.label[:31]]
    except KeyError:
        raise FileError(
            _("找不到工作表“%(sheet)s”：请上传从本页下载的本月更新表，不要改动工作表的名称。") % {"sheet": kind.label}
        ) from None
    bounds = {"min_row": 1, "max_row": max_rows() + 2, "min_col": 1, "max_col": len(kind.columns) + EXTRA_COLUMNS + 1}
    return ([cell_value(value) for value in row] for row in sheet.iter_rows(values_only=True, **bounds))


def _at(texts: list[str], index: int | None) -> str:
    return texts[index] if index is not None and index < len(texts) else ""


def _read_sheet(workbook: Any, kind: Kind) -> Sheet:
    """Stream one sheet; keep only the rows whose values no longer hash to their 校验码."""
    table = _split(_sheet_rows(workbook, kind), "xlsx", width=len(kind.columns) + EXTRA_COLUMNS)
    headers = list(table.headers)
    checksum_at = headers.index(CHECKSUM_HEADER) if CHECKSUM_HEADER in headers else None
    if checksum_at is not None:
        headers[checksum_at] = ""  # not a template column: neither read nor reported as unknown
    at = {header: index for index, header in enumerate(headers) if header}
    sheet = Sheet(kind=kind, headers=headers, rows=[])
    for number, values in table.rows:
        texts = [_text(value) for value in values]
        if not any(text for index, text in enumerate(texts) if index != checksum_at):
            continue
        sheet.total += 1
        exported = [_at(texts, at.get(column.header)) for column in kind.columns]
        given = _at(texts, checksum_at)
        if given and constant_time_compare(given, row_checksum(kind.name, exported)):
            sheet.unchanged += 1
            continue
        sheet.rows.append((number, values))
    return sheet


def _read(source: str | Path | IO[bytes]) -> list[Sheet]:
    with contextlib.ExitStack() as stack:
        handle, _name = stack.enter_context(_opened(source))
        if sniff_format(handle) != "xlsx":
            raise FileError(_("月度更新只接受从本页下载的本月更新表（.xlsx），请在其中修改后上传。"))
        stack.enter_context(_check_zip(handle))
        handle.seek(0)
        try:
            workbook = _streaming_workbook(handle)
        except Exception as error:  # noqa: BLE001 - any reader failure means an unreadable file
            raise FileError(f"无法读取该 Excel 文件（{error}），请另存为 .xlsx 后重试。") from None
        stack.callback(workbook.close)
        return [_read_sheet(workbook, kind) for kind in _kinds()]


# --- the changes -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CellChange(RowError):
    """One changed cell of the preview: ``record`` names it, ``old`` → ``new`` as exported texts; for
    an ID or phone column both are masked, the typed values sealed (``sealed_old``/``sealed``)."""

    sheet: str = ""
    record: str = ""
    old: str = ""
    new: str = ""
    sealed_old: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = {"change": True, "sheet": self.sheet, "row": self.row, "record": self.record}
        data.update(column=self.column, old=self.old, new=self.new, sealed_old=self.sealed_old, sealed=self.sealed)
        return data


def _new_text(column: Column, value: Any) -> str:
    if column.parse is parse_money:
        return format_money(value)
    return export_text(value)


def _record(kind: Kind, texts: dict[str, str]) -> str:
    if kind.name == "households":
        return f"{texts.get('户编号', '')} {texts.get('户主姓名', '')}".strip()
    return f"{texts.get('户编号', '')} {texts.get('姓名', '')}".strip()


def _changes(kind: Kind, ctx: Context, rows: list[ImportRow], present: set[str]) -> list[CellChange]:
    """Per changed row, each column whose text differs from the record's export (a query per 2,000 rows)."""
    existing_ids = [row.existing.pk for row in rows if row.existing is not None]
    old_rows: dict[int, list[str]] = {}
    for batch in chunks(existing_ids):
        queryset = kind.export_queryset(ctx).filter(pk__in=batch)
        old_rows.update({record.pk: kind.export_row(record, False) for record in queryset})
    changes: list[CellChange] = []
    for row in rows:
        old = old_rows.get(row.existing.pk) if row.existing is not None else None
        old_texts = dict(zip(kind.headers, old or [""] * len(kind.columns), strict=True))
        new_texts = {
            column.header: _new_text(column, row.values.get(column.field, column.default))
            for column in kind.columns
            if column.header in present
        }
        label = _record(kind, old_texts if old is not None else new_texts)
        if old is None:
            label = _("新增：%(record)s") % {"record": label}
        for column in kind.columns:
            if column.header not in present or old_texts[column.header] == new_texts[column.header]:
                continue
            before, after = old_texts[column.header], new_texts[column.header]
            sealed_old = sealed = ""
            if column.secret:
                sealed_old, sealed = encrypt(before), encrypt(after)
                before, after = mask_value(column.secret, before), mask_value(column.secret, after)
            changes.append(
                CellChange(
                    row=row.number,
                    column=column.header,
                    value="",
                    reason="",
                    sealed=sealed,
                    sheet=kind.label,
                    record=label,
                    old=before,
                    new=after,
                    sealed_old=sealed_old,
                )
            )
    return changes


def monthly_changes(*, actor: User | None, job: ImportJob) -> list[dict[str, Any]]:
    """The job's previewed cell changes as ``actor`` may see them: the uploader sees the ID and phone
    values (their own sheet), anyone else sees them masked (``import_jobs.import_job_errors``)."""
    own = actor is not None and job.created_by_id is not None and actor.pk == job.created_by_id
    shown = []
    for entry in job.warnings or []:
        if not entry.get("change"):
            continue
        change = {key: value for key, value in entry.items() if key not in ("sealed", "sealed_old")}
        if own and (entry.get("sealed") or entry.get("sealed_old")):
            with contextlib.suppress(ImproperlyConfigured):  # a retired key: the masked values stay
                change["old"], change["new"] = decrypt(entry.get("sealed_old", "")), decrypt(entry.get("sealed", ""))
        shown.append(change)
    return shown


# --- the run ---------------------------------------------------------------------------------------


def run_monthly(
    kind: str,
    source: str | Path | IO[bytes],
    *,
    user: User | None = None,
    dry_run: bool = False,
    job: ImportJob | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """``run_import`` for a monthly workbook (same signature, so the worker runs either): both sheets
    read, the changed rows validated as their imports validate them, then — unless a dry run or any
    error in either sheet — every change written in one transaction with its history and one
    change-feed entry."""
    report = progress or (lambda _percent: None)
    if user is None or not monthly_allows(user):
        raise PermissionRefused(_("您的角色无权使用月度更新。"))
    if job is not None:
        _job_update(job, status=ImportJob.Status.VALIDATING if dry_run else ImportJob.Status.IMPORTING, progress=0)
    try:
        return _run(source, user=user, dry_run=dry_run, job=job, report=report)
    except FileError as error:
        if job is not None:
            _job_update(job, status=ImportJob.Status.INVALID, errors=[{"row": 0, "column": "", "reason": str(error)}])
        raise
    except Exception:
        if job is not None:
            _job_update(job, status=ImportJob.Status.FAILED)
        raise


@dataclasses.dataclass
class Checked:
    kind: Kind
    ctx: Context
    rows: list[ImportRow]
    present: set[str]


def _run(
    source: str | Path | IO[bytes], *, user: User, dry_run: bool, job: ImportJob | None, report: Progress
) -> ImportResult:
    sheets = _read(source)
    result = ImportResult(kind=MONTHLY, dry_run=dry_run)
    result.total = sum(sheet.total for sheet in sheets)
    if not result.total:
        raise FileError(_("本月更新表中没有数据行：请在下载的表格中修改后上传。"))
    report(20)
    checked: list[Checked] = []
    for sheet in sheets:
        kind = sheet.kind
        present = _checked_headers(kind, sheet.headers, result)
        ctx = Context(kind=kind, user=user, headers=present)
        positions = [
            (index, kind.column_by_header[h]) for index, h in enumerate(sheet.headers) if h in kind.column_by_header
        ]
        rows = _parse_rows(ctx, iter(sheet.rows), positions)
        _validate(kind, ctx, rows, lambda _percent: None)
        if kind.name == "persons":
            _no_second_self(ctx, rows)
        result.errors += [dataclasses.replace(e, column=f"{kind.label}·{e.column}") for e in _sorted(kind, ctx.errors)]
        result.warnings += [dataclasses.replace(w, column=f"{kind.label}·{w.column}") for w in ctx.warnings]
        checked.append(Checked(kind, ctx, rows, set(present)))
    report(50)
    if result.errors:
        if job is not None:
            _job_invalid(job, result)
        return result

    changes: list[RowError] = []
    plans = []
    for item in checked:
        cells = _changes(item.kind, item.ctx, item.rows, item.present)
        creates, updates = _diff(item.kind, item.rows)
        written = {row.number for row in creates + updates}
        changes += [change for change in cells if change.row in written]
        result.created += len(creates)
        result.updated += len(updates)
        plans.append((item.kind, creates, updates))
    result.unchanged = result.total - result.created - result.updated
    result.warnings = changes + result.warnings
    report(65)
    if dry_run:
        if job is not None:
            _job_previewed(job, result)
        return result
    result.job = _write(plans, result, user=user, job=job)
    report(100)
    return result


def _no_second_self(ctx: Context, rows: list[ImportRow]) -> None:
    """A new person named like an active member of the same household is that member with an edited ID
    number: refused (one query), or the sheet would add the person a second time."""
    new = [row for row in rows if row.valid and row.existing is None and row.attrs.get("household_id")]
    households = {row.attrs["household_id"] for row in new}
    members: set[tuple[int, str]] = set()
    for batch in chunks(sorted(households)):
        members.update(
            Person.objects.filter(household_id__in=batch, status=RecordStatus.ACTIVE).values_list(
                "household_id", "name"
            )
        )
    for row in new:
        if (row.attrs["household_id"], row.attrs.get("name")) in members:
            ctx.error(
                row,
                "身份证号",
                _(SECOND_SELF) % {"household": row.extra["household"].code, "name": row.attrs["name"]},
            )


def _sorted(kind: Kind, errors: list[RowError]) -> list[RowError]:
    headers = kind.headers
    return sorted(errors, key=lambda e: (e.row, headers.index(e.column) if e.column in headers else 0))


def _write(
    plans: list[tuple[Kind, list[ImportRow], list[ImportRow]]],
    result: ImportResult,
    *,
    user: User,
    job: ImportJob | None,
) -> ImportJob:
    """All or nothing: the job done, every sheet's rows, their history tied to the job, one change-feed
    entry (nothing at all but the job when no row changed)."""
    with transaction.atomic():
        if job is None:
            job = ImportJob(kind=MONTHLY, file_name=f"{MONTHLY}.xlsx", created_by=user)
        job.kind = MONTHLY
        job.channel = Channel.IMPORT
        job.status = ImportJob.Status.DONE
        job.progress = 100
        job.total_rows = result.total
        job.created_count, job.updated_count, job.unchanged_count = result.created, result.updated, result.unchanged
        job.errors = []
        job.warnings = [warning.as_dict() for warning in result.warnings]
        job.finished_at = timezone.now()
        job.save()
        for kind, creates, updates in plans:
            if creates or updates:
                kind.write(creates, updates)
                _history(kind, creates, updates, user=user, job=job)
        if result.created or result.updated:
            ChangeFeed.objects.create(family="records", data_year=None)
    return job


__all__ = [
    "CHECKSUM_HEADER",
    "LABEL",
    "MONTHLY",
    "monthly_allows",
    "monthly_changes",
    "monthly_file_name",
    "monthly_workbook",
    "row_checksum",
    "run_monthly",
]
