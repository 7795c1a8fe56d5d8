"""The import's bulk reads and writes without per-row ORM work: new records and history rows go to
the database as multi-row ``INSERT … VALUES (…), (…)`` statements of plain values, and the records a
file names are read back by one ``SELECT … WHERE key IN (…)`` per batch into model instances built
the way ``Model.from_db`` builds them, minus its per-field ``__init__``.

Profiled on a 72,000-row persons file, ``bulk_create`` spent most of the import in Django's per-value
machinery (model ``__init__``, ``prepare_value``, ``field_as_sql``: about 20 µs a row each) and in
batches of 33 rows (SQLite's 999-parameter default). Here each field's conversion is chosen once per
batch (plain values for text, numbers, booleans and keys; the field's own ``get_db_prep_save``
otherwise), batches fill the database's real parameter limit, and the new primary keys come back
through ``RETURNING`` in insertion order, as ``bulk_create`` itself relies on.
"""

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from json import dumps
from typing import Any, cast

from django.db import connections, models, router
from django.db.models.base import ModelState
from django.utils import timezone

from households.history import ID_CHANGED, ID_KEYS, SECRET_FIELDS
from households.history import _plain as history_plain
from households.models import MEMBER_COUNT_FIELDS, HistoryEntry

# Types whose Python value is what the driver binds (Django's prep returns them unchanged).
PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)
MAX_BATCH_ROWS = 1000
FETCH_BATCH = 2000
NO_DEFAULT = object()


def _fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def new_instance(model: type[models.Model], attrs: dict[str, Any]) -> models.Model | None:
    """A model instance holding ``attrs`` (attribute names) and the defaults, built without
    ``Model.__init__``'s per-field work (the ORM's ``from_db`` path does the same); ``None`` when
    ``attrs`` names something that is not an attribute of the model (the caller uses the model)."""
    static, called = _default_plan(model)
    if not static.keys() >= attrs.keys():
        return None
    instance = model.__new__(model)
    values = dict(static)
    for name, default in called:
        values[name] = default()
    values.update(attrs)
    instance.__dict__.update(values)
    instance._state = ModelState()
    return instance


_DEFAULTS: dict[type[models.Model], tuple[dict[str, Any], list[tuple[str, Callable[[], Any]]]]] = {}


def _default_plan(model: type[models.Model]) -> tuple[dict[str, Any], list[tuple[str, Callable[[], Any]]]]:
    """attname → default, and the callable defaults (called per record, as the model does)."""
    plan = _DEFAULTS.get(model)
    if plan is None:
        static: dict[str, Any] = {}
        called: list[tuple[str, Callable[[], Any]]] = []
        for field in model._meta.concrete_fields:
            static[field.attname] = field.get_default()
            if field.has_default() and callable(field.default):
                called.append((field.attname, field.default))
        plan = _DEFAULTS[model] = (static, called)
    return plan


def _converter(field: models.Field, connection: Any) -> Callable[[Any], Any] | None:
    """How a value of ``field`` is bound: as is, as the backend adapts a date, or through the
    field (the same ``now`` of every row's timestamp converted once)."""
    internal = field.get_internal_type()
    if internal in PLAIN_TYPES:
        return None
    if internal == "DateField":
        return cast(Callable[[Any], Any], connection.ops.adapt_datefield_value)
    if internal == "JSONField" and getattr(field, "encoder", None) is None:
        # What the field binds (``json.dumps``), without its three calls a value; half the history
        # rows of a first import have an empty "before". PostgreSQL's COPY takes the text as it takes
        # the adapter's (``Jsonb``), which cost about 1 s of the 72,000-person first import (issue 22).
        return lambda value: "{}" if type(value) is dict and not value else (None if value is None else dumps(value))
    last: list[Any] = [NO_DEFAULT, None]

    def convert(value: Any) -> Any:
        if value is not last[0] or internal != "DateTimeField":
            last[0], last[1] = value, field.get_db_prep_save(value, connection)
        return last[1]

    return convert


def _max_params(connection: Any) -> int:
    if connection.vendor == "sqlite":
        raw = connection.connection
        limit = getattr(raw, "getlimit", None)
        return int(limit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) if limit is not None else 999
    return 65535


def insert_rows(
    model: type[models.Model],
    fields: Sequence[models.Field],
    rows: Iterable[Sequence[Any]],
    *,
    returning: bool = False,
) -> list[Any]:
    """Insert ``rows`` (values in ``fields`` order) in multi-row statements; with ``returning``, the
    new primary keys in the order of ``rows``."""
    alias = router.db_for_write(model)
    connection = connections[alias]
    connection.ensure_connection()
    quote = connection.ops.quote_name
    converters = [(index, convert) for index, field in enumerate(fields) if (convert := _converter(field, connection))]
    if connection.vendor == "postgresql":
        return _copy_rows(connection, model, fields, rows, converters, returning=returning)
    per_batch = max(1, min(MAX_BATCH_ROWS, _max_params(connection) // max(len(fields), 1)))
    columns = ", ".join(quote(cast(str, field.column)) for field in fields)
    head = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608 - names from the model
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" RETURNING {quote(cast(str, cast(models.Field, model._meta.pk).column))}" if returning else ""
    keys: list[Any] = []
    batch: list[Any] = []
    count = 0

    def flush(cursor: Any) -> None:
        cursor.execute(head + ", ".join([one] * count) + tail, batch)
        if returning:
            keys.extend(key for (key,) in cursor.fetchall())

    with connection.cursor() as cursor:
        for row in rows:
            if converters:
                row = list(row)
                for index, convert in converters:
                    row[index] = convert(row[index])
            batch.extend(row)
            count += 1
            if count == per_batch:
                flush(cursor)
                batch, count = [], 0
        if count:
            flush(cursor)
    return keys


def _copy_rows(
    connection: Any,
    model: type[models.Model],
    fields: Sequence[models.Field],
    rows: Iterable[Sequence[Any]],
    converters: list[tuple[int, Callable[[Any], Any]]],
    *,
    returning: bool,
) -> list[Any]:
    """PostgreSQL: one ``COPY … FROM STDIN`` (psycopg adapts the values in C; Django's client-side
    binding of a 30,000-parameter INSERT cost ~200 µs a row). New keys are drawn from the table's
    sequence first and copied with the rows. A statement-level trigger fires once for the COPY."""
    quote = connection.ops.quote_name
    table = model._meta.db_table
    pk_column = cast(str, cast(models.Field, model._meta.pk).column)
    names = [cast(str, field.column) for field in fields]
    keys: list[Any] = []
    with connection.cursor() as cursor:
        if returning:
            rows = list(rows)
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [quote(table), pk_column, len(rows)],
            )
            keys = [key for (key,) in cursor.fetchall()]
            names.append(pk_column)
        columns = ", ".join(quote(name) for name in names)
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for number, row in enumerate(rows):
                values = list(row)
                for index, convert in converters:
                    values[index] = convert(values[index])
                if returning:
                    values.append(keys[number])
                copy.write_row(values)
    return keys


def insert_instances(model: type[models.Model], instances: list[models.Model]) -> None:
    """``bulk_create`` for new records of a kind: ``auto_now``/``auto_now_add`` fields set, the
    primary keys assigned back (``bulk_create`` is used where the database cannot return them)."""
    if not instances:
        return
    connection = connections[router.db_for_write(model)]
    if not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(instances, batch_size=500)
        return
    fields = _fields(model)
    now = timezone.now()
    stamped = [
        field.attname for field in fields if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    attnames = [field.attname for field in fields]
    for instance in instances:
        for name in stamped:
            setattr(instance, name, now)
    keys = insert_rows(
        model,
        fields,
        ([instance.__dict__[name] for name in attnames] for instance in instances),
        returning=True,
    )
    for instance, key in zip(instances, keys, strict=True):
        instance.pk = key
        instance._state.adding = False
        instance._state.db = connection.alias


def select_in(
    model: type[models.Model],
    select: str,
    column: str,
    values: Iterable[Any],
    params: Sequence[Any] = (),
    *,
    where: str = "",
    array_type: str = "varchar",
    batch_size: int = FETCH_BATCH,
) -> list[tuple[Any, ...]]:
    """The rows of ``select`` (``SELECT … FROM …`` without WHERE; ``params`` for its own ``%s`` and
    those of ``where``, a condition ending in ``AND``) whose ``column`` is one of ``values``, as the
    driver returns them (no converters: for text,
    numbers and booleans read as truthy). One statement per batch, without the ORM's per-value
    lookup preparation (PostgreSQL: one array parameter of ``array_type``, the column's own type,
    so that its index stays usable; a text array would cast the column)."""
    connection = connections[router.db_for_read(model)]
    array = connection.vendor == "postgresql"
    wanted = sorted(set(values))
    found: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start : start + batch_size]
            if array:
                cursor.execute(f"{select} WHERE {where}{column} = ANY(%s::{array_type}[])", [*params, batch])
            else:
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(f"{select} WHERE {where}{column} IN ({marks})", [*params, *batch])
            found.extend(cursor.fetchall())
    return found


def set_digests(model: type[models.Model], pairs: Sequence[tuple[int, str]]) -> None:
    """Set ``import_digest`` alone on records (primary key, fingerprint): one ``UPDATE … FROM`` a
    list of pairs per batch, not a statement per record. The triggers keep a changed fingerprint."""
    if not pairs:
        return
    connection = connections[router.db_for_write(model)]
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for start in range(0, len(pairs), 10_000):
                batch = pairs[start : start + 10_000]
                cursor.execute(
                    f"UPDATE {table} AS t SET import_digest = v.d "  # noqa: S608 - the model's table
                    "FROM unnest(%s::bigint[], %s::varchar[]) AS v(id, d) WHERE t.id = v.id",
                    [[pk for pk, _digest in batch], [digest for _pk, digest in batch]],
                )
            return
        per_batch = max(1, min(MAX_BATCH_ROWS, _max_params(connection) // 2))
        for start in range(0, len(pairs), per_batch):
            batch = pairs[start : start + per_batch]
            values = ", ".join(["(%s, %s)"] * len(batch))
            cursor.execute(
                f"UPDATE {table} SET import_digest = v.column2 FROM (VALUES {values}) AS v "  # noqa: S608 - the model's table
                f"WHERE {table}.id = v.column1",
                [value for pair in batch for value in pair],
            )


# -- history --------------------------------------------------------------------------------------


_SNAPSHOT_PLANS: dict[type[models.Model], list[tuple[str, str, int]]] = {}
AS_IS, ID_SET, ISO_DATE, TEXT, PLAIN = range(5)


def _snapshot_plan(model: type[models.Model]) -> list[tuple[str, str, int]]:
    """(key, attname, how) per entry, in ``households.history.snapshot``'s order and by its rules
    (``_plain`` decided once per field from its type, ``redact_ids`` for the ID keys)."""
    plan = _SNAPSHOT_PLANS.get(model)
    if plan is None:
        plan = []
        for field in model._meta.concrete_fields:
            if field.name in ID_KEYS:
                plan.append((ID_KEYS[field.name], field.attname, ID_SET))
            elif field.name in SECRET_FIELDS or field.name in MEMBER_COUNT_FIELDS or field.primary_key:
                continue
            elif isinstance(field, models.ForeignKey) or field.get_internal_type() in PLAIN_TYPES:
                plan.append((field.name, field.attname, AS_IS))
            elif isinstance(field, models.DateField):  # DateTimeField too
                plan.append((field.name, field.attname, ISO_DATE))
            elif isinstance(field, models.DecimalField):
                plan.append((field.name, field.attname, TEXT))
            else:
                plan.append((field.name, field.attname, PLAIN))
        _SNAPSHOT_PLANS[model] = plan
    return plan


def created_snapshot(instance: models.Model) -> dict[str, Any]:
    """``redact_ids(snapshot(instance))`` in one pass over a precomputed plan (a created record's
    history "after"): no ID number, only whether one was set."""
    values = instance.__dict__
    data: dict[str, Any] = {}
    for key, attname, how in _snapshot_plan(type(instance)):
        value = values[attname]
        if how == ID_SET:
            data[key] = ID_CHANGED if value else ""
        elif how == AS_IS or value is None:
            data[key] = value
        elif how == ISO_DATE:
            data[key] = value.isoformat()
        elif how == TEXT:
            data[key] = str(value)
        else:
            data[key] = history_plain(value)
    return data


ID_VALUES = frozenset(ID_KEYS.values())
HISTORY_FIELDS = [
    cast(models.Field, HistoryEntry._meta.get_field(name))
    for name in (
        "entity",
        "object_id",
        "object_code",
        "action",
        "channel",
        "user",
        "import_job",
        "county_code",
        "township_code",
        "before",
        "after",
        "at",
    )
]


def insert_history(rows: Iterable[tuple[Any, ...]]) -> None:
    """History rows as tuples in ``HISTORY_FIELDS`` order (before/after already redacted)."""
    insert_rows(HistoryEntry, HISTORY_FIELDS, rows)


def model_name(model: type[models.Model]) -> str:
    return cast(str, model._meta.model_name)


# -- reads ----------------------------------------------------------------------------------------


def fetch_instances(
    model: type[models.Model], attname: str, values: Iterable[Any], *, only: Sequence[str] = ()
) -> list[models.Model]:
    """The records of ``model`` whose ``attname`` is one of ``values`` (``only``: just those
    attributes and the key, the others deferred as ``QuerySet.only`` leaves them). Profiled on a
    72,000-row re-import, ``filter(field__in=…)`` spent ~70 µs a record in building the lookups,
    ``Model.__init__`` and the converters; this spends the converters only."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    meta = model._meta
    fields = [
        field for field in meta.concrete_fields if not only or field.primary_key or field.attname in {*only, attname}
    ]
    key = cast(models.Field, meta.pk if attname == "pk" else meta.get_field(attname))
    quote = connection.ops.quote_name
    table = meta.db_table
    plan = []
    for index, field in enumerate(fields):
        column = field.get_col(table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            plan.append((index, column, converters))
    columns = ", ".join(f"{quote(table)}.{quote(cast(str, field.column))}" for field in fields)
    head = f"SELECT {columns} FROM {quote(table)} WHERE {quote(cast(str, key.column))} "  # noqa: S608 - names from the model
    # PostgreSQL: one array parameter (``= ANY``) instead of 2,000 placeholders to bind and parse.
    array = connection.vendor == "postgresql"
    attnames = [field.attname for field in fields]
    found: list[models.Model] = []
    wanted = sorted({value for value in values if value is not None}, key=str)
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), FETCH_BATCH):
            batch = wanted[start : start + FETCH_BATCH]
            if array:
                cursor.execute(head + "= ANY(%s)", [batch])
            else:
                cursor.execute(head + "IN (" + ", ".join(["%s"] * len(batch)) + ")", batch)
            for record in cursor.fetchall():
                if plan:
                    record = list(record)
                    for index, column, converters in plan:
                        value = record[index]
                        for convert in converters:
                            value = convert(value, column, connection)
                        record[index] = value
                instance = model.__new__(model)
                instance.__dict__.update(zip(attnames, record, strict=True))
                state = instance._state = ModelState()
                state.adding, state.db = False, alias
                found.append(instance)
    return found
