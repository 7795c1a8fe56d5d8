"""``run_import``: validate every row and write them in one transaction — or nothing.

The validation and the writes are ours (not django-import-export's). The file streams in chunks
(``IMPORT_CHUNK_ROWS``) inside the one transaction: each chunk is checked against the file so far and
the database, then written while no row has failed; the rules over the whole file run after the last
row on compact state, and any row error rolls every chunk back (issue 22: bounded memory for a
1,000,000-row file). The writes are batched inserts and upserts
(INSERT … ON CONFLICT (id) DO UPDATE), which the ecosystem guide measured ~25x faster than
``bulk_update``. Unchanged rows are not written: no history, no re-encryption, no change-feed row.
On PostgreSQL a chunk's writes run in a second thread on the same connection and transaction
(``_Writer``) while the next chunk is read, parsed and keyed: the server's work overlaps the
process's, and the two never query at once.

Households and persons keep the keyed fingerprint of the row that last wrote them
(``import_digest``, cleared by a trigger on any other write): a re-imported row whose fingerprint
is still on its record is not parsed, resolved or compared, only checked against the file and the
references that may have changed since (``Kind.unchanged``; setting ``IMPORT_SKIP_UNCHANGED``).
"""

import contextlib
import gc
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.personal_data import keyed_hasher
from households.choices import Channel
from households.history import ID_KEYS, SECRET_FIELDS, _plain, redact_ids
from households.importing.base import (
    CHUNK_ROWS,
    DIGEST_VERSION,
    SKIPPED,
    Context,
    ImportRow,
    Kind,
    RowError,
    get_field_name,
)
from households.importing.cells import CellError
from households.importing.readers import FileError, blank_row, open_table
from households.importing.registry import get_kind, kind_names
from households.importing.sql import created_snapshot, insert_history, model_name, new_instance, set_digests
from households.models import ChangeFeed, HistoryEntry, ImportJob

Progress = Callable[[int], None]


@dataclass
class ImportResult:
    kind: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    file_warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    job: ImportJob | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def summary(self) -> str:
        mode = "（试运行，未写入）" if self.dry_run else ""
        return (
            f"{self.kind}: {self.total} 行；新增 {self.created}，修改 {self.updated}，未变 {self.unchanged}{mode} "
            f"(created {self.created}, updated {self.updated}, unchanged {self.unchanged})"
        )


class PermissionRefused(FileError):
    """The user's role may not import this kind (reported like a file-level refusal)."""


def run_import(
    kind: str,
    source: str | Path | IO[bytes],
    *,
    user: User | None = None,
    dry_run: bool = False,
    job: ImportJob | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one template file. Raises ``FileError`` (unreadable file, missing required columns,
    unknown kind, role not allowed — exit 2); otherwise returns the result, with row errors if any
    (then nothing was written). ``user=None`` runs as the system (whole city, channel "system").
    With ``job``, its status, counts and (masked) errors are kept up to date."""
    report = progress or (lambda _percent: None)
    definition = get_kind(kind)
    if definition is None:
        raise FileError(f"未知的数据类型“{kind}”，可选：{', '.join(kind_names())}。")
    if not definition.allows(user):
        raise PermissionRefused(f"您的角色无权导入“{definition.label}”。")
    if job is not None:
        running = ImportJob.Status.VALIDATING if dry_run else ImportJob.Status.IMPORTING
        _job_update(job, status=running, progress=0)
    try:
        with _fewer_collections():
            result = _run(definition, source, user=user, dry_run=dry_run, job=job, report=report)
    except FileError as error:
        if job is not None:
            _job_update(job, status=ImportJob.Status.INVALID, errors=[{"row": 0, "column": "", "reason": str(error)}])
        raise
    except Exception:
        if job is not None:
            _job_update(job, status=ImportJob.Status.FAILED)
        raise
    return result


GC_FIRST_THRESHOLD = 50_000


class _Collector:
    lock = threading.Lock()
    imports = 0  # running in this process
    before: tuple[int, ...] = ()  # the thresholds before the first of them


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cyclic collector less often while a file is imported. A chunk allocates about ten
    objects a row, almost none in a cycle (reference counting frees them), and a collection every
    700 allocations walked the chunk's live rows again and again: about 40 % of the CPU of an
    unchanged 72,000-row re-import, measured (issue 22). The thresholds are restored after the last
    import running in the process."""
    with _Collector.lock:
        if not _Collector.imports:
            _Collector.before = before = gc.get_threshold()
            gc.set_threshold(max(before[0], GC_FIRST_THRESHOLD), *before[1:])
        _Collector.imports += 1
    try:
        yield
    finally:
        with _Collector.lock:
            _Collector.imports -= 1
            if not _Collector.imports:
                gc.set_threshold(*_Collector.before)


def _job_update(job: ImportJob, **values: Any) -> None:
    for name, value in values.items():
        setattr(job, name, value)
    if job.pk:
        job.save(update_fields=list(values))


class _RolledBack(Exception):
    """Raised inside the import's transaction to undo every chunk written (row errors, a dry run)."""


def chunk_rows(kind: Kind) -> int:
    """Rows validated and written at a time: a kind whose rows refer to each other anywhere in the
    file (areas and their parents) reads the whole file as one chunk."""
    if not kind.streams:
        return 1 << 62
    return max(1, int(getattr(settings, "IMPORT_CHUNK_ROWS", CHUNK_ROWS)))


def _run(
    kind: Kind,
    source: str | Path | IO[bytes],
    *,
    user: User | None,
    dry_run: bool,
    job: ImportJob | None,
    report: Progress,
) -> ImportResult:
    """Stream the file in chunks inside one transaction: each chunk is parsed, validated against the
    file so far (its keys) and the database, compared, and — while no row of the file has failed —
    written with its history. File-wide rules run at the end on compact state (``Kind.finish``); a
    row error anywhere, or a dry run, rolls every chunk back. Memory holds one chunk's rows, not
    the file's (issue 22: a 1,000,000-row file)."""
    table = open_table(source, number_formats=kind.number_formats, columns=len(kind.columns))
    result = ImportResult(kind=kind.name, dry_run=dry_run)
    present = _checked_headers(kind, table.headers, result)
    ctx = Context(kind=kind, user=user, headers=present)
    positions = [
        (index, kind.column_by_header[header])
        for index, header in enumerate(table.headers)
        if header in kind.column_by_header
    ]
    run = _Stream(kind, ctx, result, user=user, dry_run=dry_run, job=job, file_name=f"{kind.name}.{table.format}")
    settle_later = False
    # A dry run writes nothing: no transaction, so its progress commits are seen as it goes.
    outer = contextlib.nullcontext() if dry_run else transaction.atomic()
    try:
        with _closed(table.rows), outer, _Writer(background=not dry_run and _overlapping()) as writer:
            batches = _batches(table.rows, chunk_rows(kind))
            upcoming = _next_chunk(ctx, kind, batches, positions)
            done = 0
            while upcoming is not None:
                found, done = upcoming, done + 1
                # The previous chunk is written while this one is parsed and keyed and the next one read
                # (no query in between): the database's work on it overlaps this process's (PostgreSQL,
                # issue 22). The next chunk's ``unchanged`` reads before this chunk's writes: those
                # touch this chunk's keys only, and a key in two chunks fails the file either way.
                writer.start(run.pending)
                rows = _parse_found(ctx, found)
                kind.prepare(ctx, rows, ahead=writer.background)
                upcoming = _next_chunk(ctx, kind, batches, positions, after=writer)
                if done == 1:
                    report(20)
                run.chunk(rows, report if done == 1 else lambda _percent: None)
                # 65 after the first chunk, then towards 90: the number of rows is not known ahead.
                report(90 - 25 * 4 ** (done - 1) // 5 ** (done - 1))
            writer.start(run.pending)
            writer.join()
            if not result.total:
                raise FileError(_("文件中没有数据行：第 1 行是表头，请从第 2 行起填写数据后重新上传。"))
            settle_later = kind.finish_outside(ctx)
            if not settle_later:
                kind.finish(ctx)
            if ctx.errors or settle_later or dry_run:
                raise _RolledBack
            run.finish()
    except _RolledBack:
        if settle_later:
            kind.finish(ctx)  # after the rollback: what it logs is kept (household.id_lookup)
    result.file_warnings.extend(table.warnings)
    result.warnings = ctx.warnings
    result.errors = sorted(
        ctx.errors,
        key=lambda error: (error.row, kind.headers.index(error.column) if error.column in kind.headers else 0),
    )
    if result.errors:
        result.created = result.updated = result.unchanged = 0
        result.job = None
        if job is not None:
            _job_invalid(job, result)
        return result
    result.unchanged = result.total - result.created - result.updated
    if dry_run:
        if job is not None:
            _job_previewed(job, result)
        return result
    report(100)
    return result


def _overlapping() -> bool:
    """Chunks written in the background (``_Writer``): on PostgreSQL, whose server works apart from
    this process; SQLite runs in it, so there is nothing to overlap. Setting ``IMPORT_OVERLAP``."""
    return connection.vendor == "postgresql" and bool(getattr(settings, "IMPORT_OVERLAP", True))


class _Writer:
    """Runs a chunk's writes in a second thread on the import's own connection (its transaction),
    while the caller parses the next chunk. The two never query at once: ``join`` comes before the
    caller's next query, and the writes of the chunks keep their order. The thread's error is raised
    by ``join``; leaving the ``with`` waits for the thread, so a failing import rolls back only once
    nothing runs on the connection. Measured (issue 22): a first import of 72,000 persons on
    PostgreSQL spent about 5 s waiting for the server, which now parses the next chunk meanwhile."""

    def __init__(self, *, background: bool) -> None:
        self.background = background
        self.connection = connections[DEFAULT_DB_ALIAS]
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def __enter__(self) -> "_Writer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            self.join()
        else:
            self._wait()  # the caller's error wins; the thread's, if any, is dropped with the rollback

    def start(self, work: Callable[[], None] | None) -> None:
        if work is None:
            return
        if not self.background:
            work()
            return
        self._wait()
        self.connection.inc_thread_sharing()
        self.thread = threading.Thread(target=self._run, args=(work,), name="import-writer", daemon=True)
        self.thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        connections[DEFAULT_DB_ALIAS] = self.connection  # this thread's queries go to the same transaction
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - handed to the caller by join()
            self.error = error

    def _wait(self) -> None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None
            self.connection.dec_thread_sharing()

    def join(self) -> None:
        self._wait()
        error, self.error = self.error, None
        if error is not None:
            raise error


@contextlib.contextmanager
def _closed(rows: Iterator[Any]) -> Iterator[None]:
    """The reader closed on leaving, not when collected: a failed import leaves it unfinished."""
    try:
        yield
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def _next_chunk(
    ctx: Context,
    kind: Kind,
    batches: Iterator[Iterator[Any]],
    positions: list[tuple[int, Any]],
    *,
    after: "_Writer | None" = None,
) -> list[tuple[ImportRow, list[Any]]] | None:
    """The next chunk's rows as read (``None`` after the last), the unchanged ones marked. The file is
    read before ``after`` (the writes in the background) is joined; ``Kind.unchanged`` queries after."""
    raw = next(batches, None)
    found = None if raw is None else _gather_rows(ctx, raw, positions, fingerprint=kind.skips)
    if after is not None:
        after.join()
    if found is not None and kind.skips and _skipping():
        kind.unchanged(ctx, [row for row, _values in found])
    return found


def _batches(rows: Iterator[Any], size: int) -> Iterator[Iterator[Any]]:
    """The reader's rows ``size`` at a time (the reader streams; so do these)."""
    iterator = iter(rows)
    while True:
        batch = list(islice(iterator, size))
        if not batch:
            return
        yield iter(batch)


class _Stream:
    """One import's state across chunks: the keys seen (a key only once in the file), the counts, the
    job row and the change-feed years; rows themselves are dropped after their chunk."""

    def __init__(
        self,
        kind: Kind,
        ctx: Context,
        result: ImportResult,
        *,
        user: User | None,
        dry_run: bool,
        job: ImportJob | None,
        file_name: str,
    ) -> None:
        self.kind, self.ctx, self.result, self.user, self.dry_run = kind, ctx, result, user, dry_run
        self.job, self.file_name = job, file_name
        self.job_open = False
        self.seen: dict[Any, int] = {}
        self.years: set[int | None] = set()
        self.pending: Callable[[], None] | None = None  # the last chunk's writes, not yet run

    def chunk(self, rows: list[ImportRow], report: Progress) -> None:
        """Validate and compare a chunk; its writes wait in ``pending`` (run by ``_Writer``)."""
        self.pending = None
        if not rows:
            return
        self.result.total += len(rows)
        ctx, kind = self.ctx, self.kind
        _validate(kind, ctx, rows, report, seen=self.seen, final=False)
        if ctx.errors or kind.finish_outside(ctx):
            return  # the file fails: the rest is validated only
        creates, updates = _diff(kind, rows)
        self.result.created += len(creates)
        self.result.updated += len(updates)
        if self.dry_run:
            return
        creates, updates = kind.defer(ctx, creates, updates)
        # Unchanged records without this row's fingerprint (imported before it existed, or by another
        # file): the fingerprint alone, so the next re-import skips them. Not user data: no history, no
        # change feed, ``updated_at`` kept.
        digests = [
            (row.instance.pk, row.digest)
            for row in rows
            if kind.skips and row.action == "unchanged" and row.instance.__dict__.get("import_digest") != row.digest
        ]

        def pending() -> None:
            self.write(creates, updates)
            set_digests(kind.model, digests)

        self.pending = pending

    def write(self, creates: list[ImportRow], updates: list[ImportRow]) -> None:
        if not (creates or updates):
            return
        job = self.open_job()
        self.kind.write(creates, updates)
        _history(self.kind, creates, updates, user=self.user, job=job)
        self.years |= self.kind.changed_years(creates + updates)

    def open_job(self) -> ImportJob:
        """The job row the history points at: created (command line) or updated in the transaction."""
        job = self.job
        if job is None:
            job = self.job = ImportJob(kind=self.kind.name, file_name=self.file_name, created_by=self.user)
        if not self.job_open:
            self.job_open = True
            job.kind = self.kind.name
            job.channel = Channel.IMPORT if self.user is not None else Channel.SYSTEM
            job.save()
        return job

    def finish(self) -> None:
        """No row failed: the deferred rows, the job done, one change-feed entry per year touched."""
        creates, updates = self.kind.deferred(self.ctx)
        self.write(creates, updates)
        result = self.result
        if not self.job_open and self.job is None:
            return  # a command-line import that changed nothing leaves no job
        job = self.open_job()
        job.status = ImportJob.Status.DONE
        job.progress = 100
        job.total_rows = result.total
        result.unchanged = result.total - result.created - result.updated
        job.created_count, job.updated_count, job.unchanged_count = result.created, result.updated, result.unchanged
        job.errors = []
        job.warnings = [error.as_dict() for error in self.ctx.warnings]
        job.finished_at = timezone.now()
        job.save()
        result.job = job
        _changefeed(self.kind, self.years)


def _checked_headers(kind: Kind, headers: list[str], result: ImportResult) -> list[str]:
    """The file's non-empty headers; a repeated or missing required header refuses the whole file
    (``FileError``), an unknown one is only a warning."""
    present = [header for header in headers if header]
    # Counted once (linear): the reader already caps the number of columns.
    duplicates = sorted(header for header, count in Counter(present).items() if count > 1)
    if duplicates:
        raise FileError(f"表头重复：{'、'.join(duplicates)}。每一列只能出现一次。")
    missing = [header for header in kind.required_headers() if header not in present]
    if kind.one_of and not any(header in present for header in kind.one_of):
        missing.append(" 或 ".join(kind.one_of))
    if missing:
        raise FileError(f"缺少必需的列：{'、'.join(missing)}。请使用模板的表头（第 1 行）。")
    for header in present:
        if header not in kind.column_by_header:
            result.file_warnings.append(f"未知的列“{header}”已忽略。")
    return present


def _validate(
    kind: Kind,
    ctx: Context,
    rows: list[ImportRow],
    report: Progress,
    *,
    seen: dict[Any, int] | None = None,
    final: bool = True,
) -> None:
    """Every row against the file (a key only once: ``seen`` holds the keys of earlier chunks, key →
    row number) and the database (references, then the kind's checks across rows); errors are
    collected on ``ctx``, none raised, so one upload shows them all. A row with cell errors still has
    its parsed references and row rules checked (issue 20). ``final``: the file ends here, so the
    file-wide rules run too (``Kind.finish``); the streaming engine runs them after its last chunk."""
    keyed: dict[Any, int] = {} if seen is None else seen
    broken = [row for row in rows if not row.valid]
    for row in rows:
        if not row.valid:
            continue
        if row.action != SKIPPED and not row.key:  # a skipped row's key is its record's (``Kind.unchanged``)
            row.key = kind.make_key(ctx, row)  # unless ``Kind.prepare`` made it
            if not row.valid:
                continue
        compact = row.key[0] if len(row.key) == 1 else row.key  # 1,000,000 keys: no tuple each
        first = keyed.setdefault(compact, row.number)
        if first != row.number:
            header = kind.key_columns[0].header
            ctx.error(
                row,
                header,
                f"与第 {first} 行重复：同一{'+'.join(c.header for c in kind.key_columns)}只能出现一次。",
            )
    valid_rows = [row for row in rows if row.valid]
    kind.load(ctx, valid_rows)
    report(35)
    for row in valid_rows:
        kind.resolve(ctx, row)
    kind.check_rows(ctx, [row for row in valid_rows if row.valid])
    kind.check_broken(ctx, broken)
    if final:
        kind.finish(ctx)
    report(50)


def _job_invalid(job: ImportJob, result: ImportResult) -> None:
    """The job ends invalid, with every (masked) row error to show; nothing was written."""
    _job_update(
        job,
        status=ImportJob.Status.INVALID,
        total_rows=result.total,
        errors=[error.as_dict() for error in result.errors],
        warnings=[error.as_dict() for error in result.warnings],
    )


def _job_previewed(job: ImportJob, result: ImportResult) -> None:
    """A dry run's job keeps the counts it would write, for the preview page."""
    _job_update(
        job,
        status=ImportJob.Status.PREVIEWED,
        progress=100,
        total_rows=result.total,
        created_count=result.created,
        updated_count=result.updated,
        unchanged_count=result.unchanged,
        warnings=[error.as_dict() for error in result.warnings],
    )


MEMO_CELLS = 512  # distinct cells remembered per column (choices, yes/no, dates, codes repeat)
MEMO_ROWS = 4096  # distinct runs of such cells remembered per file
LEARN_ROWS = 1000  # rows parsed cell by cell before the repeating columns are known
NARROW_CELLS = 32  # a column with at most this many distinct cells in those rows repeats


def _skipping() -> bool:
    return bool(getattr(settings, "IMPORT_SKIP_UNCHANGED", True))


def _gather_rows(
    ctx: Context, raw_rows: Any, positions: list[tuple[int, Any]], *, fingerprint: bool = False
) -> list[tuple[ImportRow, list[Any]]]:
    """Each non-blank row's cells (by header), with the row's values as read, for ``_parse_found``;
    no query. ``fingerprint``: each row gets ``digest``, a keyed hash of the kind, ``DIGEST_VERSION``,
    the file's known headers in order and the row's raw cells (``repr``: types and text, unambiguous),
    for ``Kind.unchanged`` to mark the rows it need not parse."""
    memory = _memory(ctx, positions, fingerprint)
    headers = [column.header for _index, column in positions]
    indexes = [index for index, _column in positions]
    last = max(indexes, default=-1)
    in_order = indexes == list(range(len(indexes)))  # the template's columns and no others: a slice
    found: list[tuple[ImportRow, list[Any]]] = []
    base = memory.get("digest") if fingerprint else None
    for number, values in raw_rows:
        if len(values) <= last:
            values = [*values, *([""] * (last + 1 - len(values)))]
        picked = values[: last + 1] if in_order else [values[index] for index in indexes]
        if blank_row(picked):
            continue
        row = ImportRow(number=number, cells=dict(zip(headers, picked, strict=True)))
        if base is not None:
            digest = base.copy()
            digest.update(repr(picked).encode())
            row.digest = digest.hexdigest()
        found.append((row, values))
    return found


def _parse_rows(ctx: Context, raw_rows: Any, positions: list[tuple[int, Any]]) -> list[ImportRow]:
    """``_gather_rows`` and ``_parse_found`` in one, for a kind that skips nothing (the monthly sheets)."""
    return _parse_found(ctx, _gather_rows(ctx, raw_rows, positions))


def _memory(ctx: Context, positions: list[tuple[int, Any]], fingerprint: bool) -> dict[str, Any]:
    """The parse memos of this file (on ``ctx``: they span the chunks)."""
    memory = ctx.parse_memo
    if memory.get("positions") != positions:
        memory.clear()
        memory["positions"] = positions
        memory["cells"] = [{} if not column.secret else None for _index, column in positions]
        memory["rows"] = {}
        memory["seen"] = 0
        if fingerprint:
            keyed = keyed_hasher("import-row")
            keyed.update(repr((ctx.kind.name, DIGEST_VERSION, [column.header for _i, column in positions])).encode())
            memory["digest"] = keyed
    return memory


def _parse_found(ctx: Context, found: list[tuple[ImportRow, list[Any]]]) -> list[ImportRow]:
    """The rows' parsed values (the rows ``Kind.unchanged`` skipped are not parsed); a cell that does
    not parse, or a blank required one, is a row error. No query: it runs while the previous chunk is
    written. The inner loop runs once per cell of the file: kept lean.

    A column's parser is pure for the run, so a cell seen before is not parsed again (the first
    ``MEMO_CELLS`` distinct cells of a column are remembered; ID numbers and phones never). After
    ``LEARN_ROWS`` rows, the columns that repeat (fewer distinct cells than that) are parsed together:
    a row whose cells in them were all seen in an earlier clean row takes those parsed values at once
    (on a re-import most of a row's columns)."""
    memory = ctx.parse_memo  # set up by ``_gather_rows``
    positions = memory["positions"]
    rows: list[ImportRow] = []
    plan = [(index, column.header, column.field, column.parse, column.required or column.key, column.default, memo)
            for (index, column), memo in zip(positions, memory["cells"], strict=True)]  # fmt: skip
    names = tuple(dict.fromkeys(name for _index, _header, name, *_rest in plan))
    narrow_plan: list[tuple[Any, ...]] = []
    wide_plan: list[tuple[Any, ...]] = plan
    narrow_indexes: list[int] = []
    runs: dict[tuple[Any, ...], dict[str, Any]] | None = None
    for row, values in found:
        rows.append(row)
        if row.action == SKIPPED:
            continue
        if runs is None and memory["seen"] >= LEARN_ROWS:
            narrow_plan = [entry for entry in plan if entry[6] is not None and len(entry[6]) <= NARROW_CELLS]
            wide_plan = [entry for entry in plan if entry not in narrow_plan]
            narrow_indexes = [entry[0] for entry in narrow_plan]
            runs = memory["rows"]
        memory["seen"] += 1
        if runs is None:
            _parse_cells(ctx, row, values, plan)
        else:
            run = tuple([values[index] for index in narrow_indexes])
            known = runs.get(run)
            if known is not None:
                parsed = row.values = dict.fromkeys(names)  # the columns' order, as cell by cell
                parsed.update(known)
                _parse_cells(ctx, row, values, wide_plan)
            else:
                errors = len(ctx.errors)
                _parse_cells(ctx, row, values, narrow_plan)
                if len(ctx.errors) == errors and len(runs) < MEMO_ROWS:
                    runs[run] = {entry[2]: row.values[entry[2]] for entry in narrow_plan}
                _parse_cells(ctx, row, values, wide_plan)
                row.values = {name: row.values[name] for name in names if name in row.values}
    return rows


def _parse_cells(ctx: Context, row: ImportRow, values: list[Any], plan: list[tuple[Any, ...]]) -> None:
    parsed = row.values
    for index, header, name, parse, required, default, memo in plan:
        cell = values[index]
        if type(cell) is str:
            cell = cell.strip()
        if cell == "":
            if required:
                ctx.error(row, header, "必填：此格不能为空。")
            parsed[name] = default
            continue
        if memo is not None:
            known = memo.get(cell, memo)
            if known is not memo:
                if type(known) is CellError:
                    parsed.pop(name, None)
                    ctx.error(row, header, str(known))
                else:
                    parsed[name] = known
                continue
        try:
            value = parsed[name] = parse(cell)
        except CellError as error:
            parsed.pop(name, None)
            ctx.error(row, header, str(error))
            value = error
        if memo is not None and len(memo) < MEMO_CELLS:
            memo[cell] = value


def _diff(kind: Kind, rows: list[ImportRow]) -> tuple[list[ImportRow], list[ImportRow]]:
    creates: list[ImportRow] = []
    updates: list[ImportRow] = []
    model = kind.model
    for row in rows:
        existing = row.existing
        if row.action == SKIPPED:
            continue
        if existing is None:
            instance = new_instance(model, row.attrs) or model(**row.attrs)
            if kind.skips:
                setattr(instance, "import_digest", row.digest or None)  # noqa: B010 - the skipping kinds' models
            kind.complete(row, instance, None)
            row.instance, row.action = instance, "create"
            creates.append(row)
            continue
        loaded = existing.__dict__  # the loaded attributes, without a descriptor call each
        changed = [
            name
            for name, value in row.attrs.items()
            if (loaded[name] if name in loaded else getattr(existing, name)) != value
        ]
        kind.complete(row, existing, changed)
        row.instance = existing
        if not changed:
            row.action = "unchanged"
            continue
        row.before = {name: getattr(existing, name) for name in changed}
        for name in changed:
            if name in row.attrs:
                setattr(existing, name, row.attrs[name])
        row.changed, row.action = changed, "update"
        updates.append(row)
    return creates, updates


def _history(
    kind: Kind, creates: list[ImportRow], updates: list[ImportRow], *, user: User | None, job: ImportJob
) -> None:
    """One history entry per created or changed record, tied to the job, written as plain rows
    (``sql.insert_history``): a created record's snapshot, a changed one's changed fields."""
    channel = Channel.IMPORT if user is not None else Channel.SYSTEM
    names = {f.attname: f.name for f in kind.model._meta.concrete_fields}
    entity = model_name(kind.model)
    user_id = user.pk if user is not None and user.pk else None
    now = timezone.now()

    def entries() -> Iterator[tuple[Any, ...]]:
        for row in creates:
            county, township, code = kind.history_codes(row)
            yield (
                entity,
                row.instance.pk,
                code,
                HistoryEntry.Action.CREATE,
                channel,
                user_id,
                job.pk,
                county,
                township,
                {},
                created_snapshot(row.instance),
                now,
            )
        for row in updates:
            visible = [
                name for name in row.changed if names.get(name, name) not in SECRET_FIELDS and name not in SECRET_FIELDS
            ]
            before = {names.get(name, name): _plain(row.before[name]) for name in visible}
            after = {names.get(name, name): _plain(getattr(row.instance, name)) for name in visible}
            for secret, key in ID_KEYS.items():  # recorded as "changed" only (redact_ids)
                if secret in row.changed:
                    before[key], after[key] = row.before[secret], getattr(row.instance, secret)
            county, township, code = kind.history_codes(row)
            yield (
                entity,
                row.instance.pk,
                code,
                HistoryEntry.Action.UPDATE,
                channel,
                user_id,
                job.pk,
                county,
                township,
                redact_ids(before),
                redact_ids(after),
                now,
            )

    insert_history(entries())


def _changefeed(kind: Kind, years: set[int | None]) -> None:
    if kind.change_family is None or not years:
        return
    for year in sorted(years, key=lambda value: value or 0):
        ChangeFeed.objects.create(family=kind.change_family, data_year=year)


__all__ = ["run_import", "ImportResult", "FileError", "PermissionRefused", "get_field_name"]
