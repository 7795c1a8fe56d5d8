"""Storing computed values: COPY on PostgreSQL, batched INSERT elsewhere, as the values stream in.

The writer knows the table's columns and the id scheme; what a run is, and when values replace
others, is ``runs``'.
"""

import datetime
import itertools
from collections.abc import Iterable, Iterator
from typing import Any, cast

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from indicators.engine import partitions
from indicators.engine.compute import BASIS_KEYS, UnitValues
from indicators.models import IndicatorValue, UnitBasis

VALUE_COLUMNS = (
    "period_id", "indicator_id", "level", "area_id", "site_id", "unit_code", "county_code", "township_code",
    "numerator", "denominator", "value", "value_exact", "target", "met", "reference_date", "computed_at", "run_id",
)  # fmt: skip
# ``UnitValues``' parts in order: run, unit, indicator and cells.
RUN_COLUMNS = ("period_id", "reference_date", "computed_at", "run_id")
UNIT_COLUMNS = ("level", "area_id", "site_id", "unit_code", "county_code", "township_code")
CELL_COLUMNS = ("indicator_id", "numerator", "denominator", "value", "value_exact", "target", "met")

ID_BLOCK = 10**9  # ids per run: national scale writes 2.5 million rows
RANKS = 100  # a row's id is ``run id × ID_BLOCK + unit's position × RANKS + indicator's rank``


def _copy_text(part: tuple[Any, ...]) -> str:
    """A tuple of cells in COPY's text format (none of our values holds a tab, newline or backslash)."""
    return "\t".join(
        "\\N" if cell is None else (cell.isoformat() if isinstance(cell, datetime.date) else str(cell)) for cell in part
    )


def values_insert(
    values: Iterable[UnitValues],
    *,
    table: str | None = None,
    run_defaults: bool = False,
    batch_size: int = 20000,
) -> None:
    """Insert computed values as they stream in, unit by unit, into ``table`` (the values table, or
    a new partition): COPY on PostgreSQL, batched ``executemany`` elsewhere. Each distinct part (run,
    unit, judged cells) is formatted once: at national scale 2.5 million rows have about 65,000
    units and a few thousand distinct cells.

    On PostgreSQL the ids are the run's own block, ``run id × ID_BLOCK + unit's position × RANKS +
    indicator's rank``: no sequence call per row, unique across runs, and in decimal the unit's part
    followed by the rank's two digits. The id column sits between the unit's columns and the cells',
    so a unit's lines are ``head + head.join(cells)`` — the head (run, unit, id but its last two
    digits) once per unit, each cell's text (rank, indicator, cells, newline) once per run — and no
    string is built per row (2.5 million of them cost ~1 s at national scale).

    ``run_defaults``: ``table`` is the run's own new partition, so the run's cells (period,
    reference date, computed at, run), the same in every row, become its column defaults for the
    load instead of being sent and parsed 2.5 million times (a third of each line)."""
    connection = transaction.get_connection()
    name = table or IndicatorValue._meta.db_table
    if connection.vendor == "postgresql":
        _copy_values(connection, name, values, run_defaults=run_defaults, batch_size=batch_size)
    else:
        _insert_values(connection, name, values, batch_size=batch_size)


def _copy_values(
    connection: BaseDatabaseWrapper,
    name: str,
    values: Iterable[UnitValues],
    *,
    run_defaults: bool,
    batch_size: int,
) -> None:
    """PostgreSQL: one COPY of every row; the first unit gives the run's cells (its id block, or the
    partition's column defaults for the load)."""
    ops = connection.ops
    blocks = iter(values)
    first = next(blocks, None)
    if first is None:
        return
    run_columns = () if run_defaults else RUN_COLUMNS
    columns = ", ".join(ops.quote_name(column) for column in (*run_columns, *UNIT_COLUMNS, "id", *CELL_COLUMNS))
    run_text = "" if run_defaults else f"{_copy_text(first.run)}\t"
    unit_base = (first.run[3] or 0) * (ID_BLOCK // RANKS)
    with connection.cursor() as cursor:
        if run_defaults:
            partitions.load_defaults(name, dict(zip(RUN_COLUMNS, first.run, strict=True)))
        with cursor.cursor.copy(f"COPY {ops.quote_name(name)} ({columns}) FROM STDIN") as copy:
            for text in _copy_batches(itertools.chain([first], blocks), run_text, unit_base, batch_size):
                copy.write(text)
        if run_defaults:
            partitions.load_defaults(name, dict.fromkeys(RUN_COLUMNS))  # dropped: only this load uses them


def _copy_batches(blocks: Iterable[UnitValues], run_text: str, unit_base: int, batch_size: int) -> Iterator[str]:
    """The COPY text, about ``batch_size`` rows at a time: per unit its head once, joined to the
    texts of its cells, each distinct cell formatted once per run (``_new_cell_texts``)."""
    ranks: dict[int, str] = {}  # indicator id: its two digits of the id
    texts: dict[int, str] = {}  # by id() of the engine's shared (indicator id, cells) tuples
    kept: list[tuple[Any, ...]] = []  # holding each formatted tuple keeps its id() unique
    chunks: list[str] = []
    rows = 0
    for position, block in enumerate(blocks):
        if position >= ID_BLOCK // RANKS:
            raise ValueError("more units than a run's block of ids holds")
        head = f"{run_text}{_copy_text(block.unit)}\t{unit_base + position}"
        cells = [texts.get(id(pair)) for pair in block.values]
        if None in cells:
            _new_cell_texts(block.values, cells, texts, ranks, kept)
        chunks += (head, head.join(cast(list[str], cells)))  # no gap left: _new_cell_texts filled them
        rows += len(cells)
        if rows >= batch_size:
            yield "".join(chunks)
            chunks.clear()
            rows = 0
    if chunks:
        yield "".join(chunks)


def _new_cell_texts(
    pairs: list[tuple[int, tuple[Any, ...]]],
    cells: list[str | None],
    texts: dict[int, str],
    ranks: dict[int, str],
    kept: list[tuple[Any, ...]],
) -> None:
    """Fill the gaps of ``cells``: the pairs not met before get their text (rank, indicator, cells,
    newline), remembered by the pair's id(); an indicator gets its rank when first seen. Rare (a few
    thousand distinct pairs per run), so kept out of the loop over units."""
    for index, pair in enumerate(pairs):
        if cells[index] is None:
            rank = ranks.get(pair[0])
            if rank is None:
                if len(ranks) >= RANKS:
                    raise ValueError("more indicators than a unit's ids hold")
                rank = ranks[pair[0]] = f"{len(ranks):02d}"
            kept.append(pair)
            cells[index] = texts[id(pair)] = f"{rank}\t{pair[0]}\t{_copy_text(pair[1])}\n"


def _insert_values(
    connection: BaseDatabaseWrapper, name: str, values: Iterable[UnitValues], *, batch_size: int
) -> None:
    """Elsewhere (SQLite): batched ``executemany`` of plain INSERTs, the database assigning the ids."""
    ops = connection.ops
    columns = ", ".join(ops.quote_name(column) for column in VALUE_COLUMNS)
    # The table and columns are the model's own, quoted; every value goes through a placeholder.
    sql = f"INSERT INTO {ops.quote_name(name)} ({columns}) VALUES ({', '.join(['%s'] * len(VALUE_COLUMNS))})"  # noqa: S608
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for block in values:
            period_id, reference_date, computed_at, run_id = block.run
            when = (ops.adapt_datefield_value(reference_date), ops.adapt_datetimefield_value(computed_at), run_id)
            for indicator_id, (numerator, denominator, value, value_exact, target, met) in block.values:
                rows.append(
                    (
                        period_id, indicator_id, *block.unit, numerator, denominator,
                        ops.adapt_decimalfield_value(value, 24, 10), value_exact,
                        ops.adapt_decimalfield_value(target, 24, 10), met, *when,
                    )
                )  # fmt: skip
            if len(rows) >= batch_size:
                cursor.executemany(sql, rows)
                rows.clear()
        if rows:
            cursor.executemany(sql, rows)


BASIS_COLUMNS = ("period_id", "level", "unit_code", "reference_date", *(column for column, _key in BASIS_KEYS))


def basis_replace(
    period_id: int,
    reference_date: datetime.date,
    rows: Iterable[tuple[Any, ...]],
    *,
    units: Iterable[tuple[str, str]] | None = None,
) -> None:
    """Replace the period's ``UnitBasis`` rows (``compute.basis_row`` tuples): all of them, or those
    of ``units`` (level, unit code). COPY on PostgreSQL (national scale: ~70,000 rows), batched
    INSERT elsewhere; in the caller's transaction, beside the values."""
    stored = UnitBasis.objects.filter(period_id=period_id)
    if units is not None:
        wanted = list(units)
        if not wanted:
            return
        for level in {level for level, _code in wanted}:
            stored.filter(level=level, unit_code__in=[code for kind, code in wanted if kind == level]).delete()
    else:
        stored.delete()
    connection = transaction.get_connection()
    ops = connection.ops
    table = ops.quote_name(UnitBasis._meta.db_table)
    columns = ", ".join(ops.quote_name(column) for column in BASIS_COLUMNS)
    day = reference_date.isoformat()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write("".join(f"{period_id}\t{row[0]}\t{row[1]}\t{day}\t{_copy_text(row[2:])}\n" for row in rows))
        else:
            placeholders = ", ".join(["%s"] * len(BASIS_COLUMNS))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 (the model's own names)
            cursor.executemany(sql, [(period_id, row[0], row[1], day, *row[2:]) for row in rows])
