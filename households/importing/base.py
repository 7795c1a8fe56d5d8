"""The import framework: columns, kinds, the registry, and the context a kind validates in."""

import abc
import datetime
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from accounts.models import User
from accounts.personal_data import encrypt, mask_id_number, mask_phone, plain_of
from areas.choices import AreaLevel
from areas.models import Area
from core.money import format_money
from households.importing.cells import (
    CellError,
    area_code_candidates,
    format_decimal,
    max_length,
    parse_bool,
    parse_date,
    parse_money,
    today,
)
from households.importing.sql import fetch_instances, insert_instances
from households.validators import (
    ID_CHECK_CHARS,
    ID_WEIGHTS,
    id_birth_date,
    out_of_area_message,
    validate_id_number,
    validate_phone,
)

CHUNK = 2000
# Rows the engine validates and writes at a time (setting IMPORT_CHUNK_ROWS): one chunk's rows are in
# memory at once, never the file's.
CHUNK_ROWS = 10_000
# A row found unchanged by its fingerprint (``Kind.unchanged``): not parsed, resolved or compared.
SKIPPED = "skip"
# Part of every row fingerprint: raise it when a kind's columns, parsers or row rules change, so that
# rows imported under the old rules are checked in full once more.
DIGEST_VERSION = 1


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def export_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format_decimal(value)
    return str(value)


@dataclass(frozen=True)
class Column:
    """One template column. ``field`` is the model attribute it fills (or a name the kind resolves).

    ``required``: the column must be present and its cells non-blank. ``required_column``: the column
    must be present, the kind checks the cell ("required when …"). ``secret``: ``"id"`` or ``"phone"`` —
    shown masked in errors. ``getter``: how an export reads the value from a record.
    """

    header: str
    field: str
    parse: Callable[[Any], Any]
    default: Any = ""
    required: bool = False
    required_column: bool = False
    key: bool = False
    secret: str = ""
    getter: Callable[[Any, bool], Any] | None = None

    def export(self, instance: Any, masked: bool) -> str:
        if self.getter is not None:
            return export_text(self.getter(instance, masked))
        return export_text(getattr(instance, self.field))


def text(header: str, name: str, limit: int, **options: Any) -> Column:
    return Column(header, name, max_length(limit), **options)


def yes_no(header: str, name: str) -> Column:
    return Column(header, name, parse_bool, default=False)


def date(header: str, name: str, **options: Any) -> Column:
    return Column(header, name, parse_date, default=None, **options)


def money(header: str, name: str, **options: Any) -> Column:
    return Column(
        header, name, parse_money, default=0, getter=lambda obj, _m: format_money(getattr(obj, name)), **options
    )


def related_code(relation: str) -> Callable[[Any, bool], Any]:
    def get(instance: Any, _masked: bool) -> str:
        related = getattr(instance, relation)
        return related.code if related is not None else ""

    return get


ID_FORM = re.compile(r"[0-9]{17}[0-9X]")
ZERO_WEIGHT = ord("0") * sum(ID_WEIGHTS)


def parse_id_number(value: Any) -> str:
    """``validate_id_number``, with a fast path for the common cell: 18 ASCII characters, the right
    check digit and a real birth date not after today (then the full check would return it as is)."""
    if type(value) is str and ID_FORM.fullmatch(value):
        birth = id_birth_date(value)
        # The digits' bytes less the weighted "0"s: no int() per digit.
        check = ID_CHECK_CHARS[(sum(map(operator.mul, value[:17].encode(), ID_WEIGHTS)) - ZERO_WEIGHT) % 11]
        if check == value[17] and birth is not None and birth <= today():
            return value
    try:
        return validate_id_number(str(value), today=today())
    except ValidationError as error:
        raise CellError(error.messages[0]) from None


def parse_phone(value: Any) -> str:
    try:
        return validate_phone(str(value))
    except ValidationError as error:
        raise CellError(error.messages[0]) from None


def secret_getter(encrypted: str, masked_field: str = "") -> Callable[[Any, bool], str]:
    """Exports decrypt for the system's round trip; masked exports show the masked form: the stored
    one for phones, the ID number masked from its ciphertext (no masked copy is stored, issue 17)."""

    def get(instance: Any, masked: bool) -> str:
        if masked and masked_field:
            return getattr(instance, masked_field)
        plaintext = plain_of(instance, encrypted)
        return mask_id_number(plaintext) if masked else plaintext

    return get


def mask_value(kind: str, value: str) -> str:
    if kind == "id":  # stored in the job's error rows: no fragment of the number (issue 17)
        return "*" * len(value)
    if kind == "phone":
        return mask_phone(value)
    return value


@dataclass(frozen=True)
class RowError:
    """``value`` is masked for a secret column; ``sealed`` then holds the typed value encrypted, so the
    uploader alone is shown what they typed (``import_jobs.import_job_errors``)."""

    row: int
    column: str
    value: str
    reason: str
    sealed: str = ""

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        data = {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}
        if self.sealed:
            data["sealed"] = self.sealed
        return data


@dataclass(slots=True)  # a chunk holds 10,000 of them
class ImportRow:
    number: int
    cells: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    key: tuple[Any, ...] = ()
    valid: bool = True
    existing: Any = None
    attrs: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    instance: Any = None
    action: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    digest: str = ""  # the keyed fingerprint of the row's cells (kinds that ``skips``)


@dataclass(slots=True)
class Known:
    """What a skipped row's checks read of its record (``Kind.unchanged``), in place of the record."""

    pk: int
    status: str
    household_id: int | None = None
    code: str = ""
    head_id_hash: str = ""


@dataclass(frozen=True)
class AreaInfo:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    county_code: str
    township_code: str

    @property
    def path(self) -> tuple[str, str, str]:
        """(county, township, village) codes of a record placed in this area."""
        village = self.code if self.level == AreaLevel.VILLAGE else ""
        return self.county_code, self.township_code, village


class Context:
    """Everything one import run shares: who runs it, the scope, loaded references, errors."""

    def __init__(self, *, kind: "Kind", user: User | None, headers: Sequence[str]) -> None:
        self.kind = kind
        self.user = user
        self.headers = set(headers)
        self.today = timezone.localdate()
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []
        self.scope_area: Area | None = None
        area = user.area if user is not None and not user.is_superuser else None  # no query without one
        if area is not None and area.level != AreaLevel.CITY:
            self.scope_area = area
        self.areas: dict[str, AreaInfo | None] = {}
        self.existing: dict[tuple[Any, ...], Any] = {}
        self.data: dict[str, Any] = {}
        self.parse_memo: dict[str, Any] = {}  # the engine's parsed cells, across chunks

    # -- errors -------------------------------------------------------------------------------
    def error(self, row: ImportRow, header: str, reason: str) -> None:
        self.errors.append(self.row_error(row, header, reason))

    def row_error(self, row: ImportRow, header: str, reason: str) -> RowError:
        """The error, the row marked invalid, the error not yet reported (``error`` reports it)."""
        row.valid = False
        column = self.kind.column_by_header.get(header)
        value = str(row.cells.get(header, ""))
        if column is not None and column.secret and value:
            return RowError(row.number, header, mask_value(column.secret, value), reason, encrypt(value))
        return RowError(row.number, header, value, reason)

    def warn(self, row: ImportRow, header: str, reason: str) -> None:
        self.warnings.append(RowError(row.number, header, "", reason))

    # -- scope --------------------------------------------------------------------------------
    def in_scope(self, county: str, township: str = "", village: str = "") -> bool:
        area = self.scope_area
        if area is None:
            return True
        if area.level == AreaLevel.COUNTY:
            return county == area.code
        if area.level == AreaLevel.TOWNSHIP:
            return township == area.code
        return village == area.code

    def record_in_scope(self, record: Any) -> bool:
        return self.in_scope(record.county_code, record.township_code, record.village_code)

    # -- areas --------------------------------------------------------------------------------
    def load_areas(self, codes: Iterable[str]) -> None:
        wanted = {form for code in codes if code for form in area_code_candidates(code)} - set(self.areas)
        for batch in chunks(sorted(wanted)):
            found = Area.objects.filter(code__in=batch).values_list(
                "id", "code", "name", "level", "parent_id", "county_code", "township_code"
            )
            for row in found:
                self.areas[row[1]] = AreaInfo(*row)
            for code in batch:
                self.areas.setdefault(code, None)

    def area(self, code: str) -> AreaInfo | None:
        for form in area_code_candidates(code):
            info = self.areas.get(form)
            if info is not None:
                return info
        return None

    def village(self, row: ImportRow, header: str, code: str) -> AreaInfo | None:
        """A 村 area inside the user's scope; a missing code is "不存在", one outside the scope says so."""
        info = self.areas.get(code)
        if info is not None and info.level == AreaLevel.VILLAGE and self.in_scope(*info.path):
            return info
        if info is not None and info.level != AreaLevel.VILLAGE and self.scope_area is None:
            self.error(row, header, f"“{code}”是{info.level}级区划（{info.name}），这里应填写村/社区的代码。")
            return None
        if info is not None and info.level == AreaLevel.VILLAGE and self.scope_area is not None:
            # A public division code outside the area is named as such (issue 20).
            self.error(row, header, out_of_area_message(level=info.level, code=code, area_name=self.scope_area.name))
            return None
        self.error(row, header, f"村社区代码“{code}”不存在，请核对（应为本辖区内村/社区的 12 位区划代码）。")
        return None


class Kind(abc.ABC):
    """One template of data.md. Subclasses declare columns and implement the cross-record rules."""

    name: ClassVar[str]
    label: ClassVar[str]
    model: ClassVar[type[models.Model]]
    columns: ClassVar[list[Column]]
    roles: ClassVar[frozenset[str]] = frozenset()
    one_of: ClassVar[tuple[str, ...]] = ()
    number_formats: ClassVar[bool] = False
    change_family: ClassVar[str | None] = "records"
    # The engine may validate and write the file in chunks: no rule needs a later row of the file
    # except those ``finish`` checks on compact state.
    streams: ClassVar[bool] = False
    year_field: ClassVar[str | None] = None
    # The model keeps ``import_digest``: the import writes each row's fingerprint and may skip a row
    # whose record still holds it (``unchanged``).
    skips: ClassVar[bool] = False
    auto_now_fields: tuple[str, ...] = ()  # set per instance from the model

    def __init__(self) -> None:
        self.column_by_header = {column.header: column for column in self.columns}
        self.column_by_field = {column.field: column for column in self.columns}
        self.key_columns = [column for column in self.columns if column.key]
        self.auto_now_fields = tuple(
            f.attname for f in self.model._meta.concrete_fields if getattr(f, "auto_now", False)
        )

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def required_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.key or c.required or c.required_column]

    # -- permissions --------------------------------------------------------------------------
    def allows(self, user: User | None) -> bool:
        if user is None or user.is_superuser:
            return True
        return user.role in self.roles

    # -- hooks --------------------------------------------------------------------------------
    def make_key(self, ctx: Context, row: ImportRow) -> tuple[Any, ...]:
        return tuple(row.values[column.field] for column in self.key_columns)

    def prepare(self, ctx: Context, rows: list[ImportRow], *, ahead: bool) -> None:
        """Work on a chunk's parsed rows that needs no query: their keys. It runs while the previous
        chunk is written; ``ahead``: that write runs in the background (PostgreSQL), so CPU spent here
        on what the later steps may need is free."""
        for row in rows:
            if row.valid and row.action != SKIPPED:
                row.key = self.make_key(ctx, row)

    def unchanged(self, ctx: Context, rows: list[ImportRow]) -> None:  # noqa: B027 - optional hook
        """``skips`` kinds: mark ``SKIPPED`` (with key, ``existing`` and what the later checks read) the
        rows of a chunk, not yet parsed, whose record was last written from the same cells and whose
        references still resolve as the full path would resolve them; the others are parsed and
        checked in full. Skipped rows still pass the file-wide checks (duplicates, scope, 户主)."""

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:  # noqa: B027 - optional hook
        """Bulk-load referenced and existing records into ``ctx`` (no query per row)."""

    @abc.abstractmethod
    def resolve(self, ctx: Context, row: ImportRow) -> None:
        """Set ``row.existing`` and ``row.attrs`` (model attribute → new value), or report errors."""

    def check_rows(self, ctx: Context, rows: list[ImportRow]) -> None:  # noqa: B027 - optional hook
        """Rules across rows of the file and the database together."""

    def check_broken(self, ctx: Context, rows: list[ImportRow]) -> None:  # noqa: B027 - optional hook
        """Rows with cell errors: check what did parse (references, scope, row rules) as well, batched,
        so one upload lists every problem of a row (issue 20)."""

    def finish(self, ctx: Context) -> None:  # noqa: B027 - optional hook
        """After the last row: the rules over the whole file, on what ``check_rows`` kept in ``ctx``."""

    def finish_outside(self, ctx: Context) -> bool:
        """``finish`` must run after the import's transaction is rolled back (what it logs must stay)."""
        return False

    def defer(
        self, ctx: Context, creates: list[ImportRow], updates: list[ImportRow]
    ) -> tuple[list[ImportRow], list[ImportRow]]:
        """The rows of a chunk to write now; the others wait for ``deferred`` (a unique place a later
        chunk may free first)."""
        return creates, updates

    def deferred(self, ctx: Context) -> tuple[list[ImportRow], list[ImportRow]]:
        """The rows ``defer`` held back, written after the file-wide checks passed."""
        return [], []

    def complete(self, row: ImportRow, instance: Any, changed: list[str] | None) -> None:  # noqa: B027 - optional hook
        """After the diff: derive costly values (encryption) only for created or changed rows."""

    def history_codes(self, row: ImportRow) -> tuple[str, str, str]:
        instance = row.instance
        return (
            getattr(instance, "county_code", "") or "",
            getattr(instance, "township_code", "") or "",
            str(getattr(instance, "code", "") or ""),
        )

    def changed_years(self, rows: list[ImportRow]) -> set[int | None]:
        if self.year_field is None:
            return {None}
        return {getattr(row.instance, self.year_field) for row in rows}

    # -- export -------------------------------------------------------------------------------
    @abc.abstractmethod
    def export_queryset(self, ctx: Context) -> models.QuerySet:
        """The records of this kind the context's user may export."""

    def export_row(self, instance: Any, masked: bool) -> list[str]:
        return [column.export(instance, masked) for column in self.columns]

    # -- writes -------------------------------------------------------------------------------
    def write(self, creates: list[ImportRow], updates: list[ImportRow]) -> None:
        """Batched writes: inserts, then one upsert (INSERT … ON CONFLICT (id) DO UPDATE) of changed rows."""
        self.insert([row.instance for row in creates])
        self.upsert(updates)

    def insert(self, instances: list[Any]) -> None:
        insert_instances(self.model, instances)

    def upsert(self, rows: list[ImportRow]) -> None:
        if not rows:
            return
        if rows[0].instance.get_deferred_fields():
            # Read partly for the comparison (``load``): the changed records in full, then their changes.
            full = {item.pk: item for item in fetch_instances(self.model, "pk", [row.instance.pk for row in rows])}
            for row in rows:
                record = full[row.instance.pk]
                for name in row.changed:
                    setattr(record, name, getattr(row.instance, name))
                row.instance = record
        fields = sorted({name for row in rows for name in row.changed} | set(self.auto_now_fields))
        if self.skips:  # the new fingerprint; a write without one (monthly update) clears it
            fields.append("import_digest")
            for row in rows:
                row.instance.import_digest = row.digest or None
        names = [self.model._meta.get_field(name).name for name in fields]
        self.model._default_manager.bulk_create(
            [row.instance for row in rows],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=names,
        )


def get_field_name(model: type[models.Model], attname: str) -> str:
    for model_field in model._meta.concrete_fields:
        if model_field.attname == attname:
            return model_field.name
    return attname
