"""Export a kind with its template headers, so that export → import changes nothing (round trip).

.xlsx through XlsxWriter in constant-memory mode, every cell written as a string (codes keep their
leading zeros, and a cell starting with ``= + - @``, tab or CR can never become a formula:
``core.spreadsheet``);
.csv in UTF-8 with BOM (Excel opens it correctly), with such cells guarded by a leading ``'`` that
the importer removes again.
"""

import csv
import io
from pathlib import Path
from typing import IO, Any

from accounts.access import sees_personal_data
from accounts.models import User
from core.spreadsheet import SafeWorkbook, csv_row, xlsx_write
from households.importing.base import Context
from households.importing.readers import FileError
from households.importing.registry import get_kind, kind_names


def export_kind(
    kind: str,
    target: str | Path | IO[bytes],
    *,
    user: User | None = None,
    masked: bool | None = None,
    fmt: str | None = None,
) -> int:
    """Write every record of ``kind`` inside the user's scope (the whole city for the system) to ``target``.

    ``masked``: ID and phone numbers as ``431302********1234``; defaults to the user's role (access.md),
    unmasked for the system. Returns the number of data rows written."""
    definition = get_kind(kind)
    if definition is None:
        raise FileError(f"未知的数据类型“{kind}”，可选：{', '.join(kind_names())}。")
    if masked is None:
        # The same rule as every page (a superuser is masked too: issue 17).
        masked = user is not None and not sees_personal_data(user)
    if fmt is None:
        fmt = "csv" if str(getattr(target, "name", target)).lower().endswith(".csv") else "xlsx"
    ctx = Context(kind=definition, user=user, headers=definition.headers)
    queryset = definition.export_queryset(ctx)
    rows = (definition.export_row(instance, masked) for instance in queryset.iterator(chunk_size=2000))
    if fmt == "csv":
        return _write_csv(target, definition.headers, rows)
    return _write_xlsx(target, definition.label, definition.headers, rows)


def _write_csv(target: Any, headers: list[str], rows: Any) -> int:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow(csv_row(row))
        count += 1
    data = "\ufeff" + buffer.getvalue()
    if isinstance(target, str | Path):
        Path(target).write_text(data, encoding="utf-8", newline="")
    else:
        target.write(data.encode("utf-8"))
    return count


def _write_xlsx(target: Any, title: str, headers: list[str], rows: Any) -> int:
    workbook = SafeWorkbook(
        str(target) if isinstance(target, str | Path) else target,
        {"constant_memory": True, "strings_to_numbers": False},
    )
    sheet = workbook.add_worksheet(title[:31])
    text_format = workbook.add_format({"num_format": "@"})
    bold = workbook.add_format({"bold": True, "num_format": "@"})
    for column, header in enumerate(headers):
        sheet.write_string(0, column, header, bold)
        sheet.set_column(column, column, max(10, len(header) * 2 + 2), text_format)
    count = 0
    for count, row in enumerate(rows, start=1):
        for column, cell in enumerate(row):
            if cell:
                xlsx_write(sheet, count, column, cell, text_format)
    workbook.close()
    return count
