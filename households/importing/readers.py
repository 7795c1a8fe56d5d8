"""Read a template file (.xlsx, .xls, .csv) into ``(excel_row_number, {header: cell})`` rows.

Cells come back as text, or as ``datetime.date`` for real Excel date cells. Numeric cells holding
codes read as their integer digits (``431300.0`` → ``431300``); a number of 16+ digits reads as what
Excel kept of it (15 significant digits), so a truncated ID number is recognised as such.
"""

import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

try:  # Rust reader, about 10x faster than openpyxl; openpyxl is the fallback.
    from python_calamine import CalamineWorkbook
except ImportError:  # pragma: no cover - depends on the installation
    CalamineWorkbook = None

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
Row = tuple[int, dict[str, Any]]


class FileError(Exception):
    """The file as a whole cannot be imported (exit status 2)."""


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    format: str
    warnings: list[str] = field(default_factory=list)


def cell_value(value: Any) -> Any:
    """Normalise one cell: ``None`` → ``""``, integral floats without ``.0``, dates as ``date``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            if abs(value) >= 1e15:
                # Excel keeps 15 significant digits: show what it kept, not binary noise.
                return str(int(Decimal(format(value, ".15g"))))
            return str(int(value))
        return repr(value)
    return str(value)


def open_table(source: str | Path | IO[bytes], *, number_formats: bool = False) -> Table:
    """Open ``source`` (a path or a binary file object), sniffing the format from its first bytes.

    ``number_formats``: read .xlsx through openpyxl with cell formats, so a percent-formatted
    number (0.061 shown as 6.1%) reads as ``6.1%``.
    """
    if isinstance(source, str | Path):
        data = Path(source).read_bytes()
    else:
        data = source.read()
        if isinstance(data, str):
            data = data.encode()
    if data.startswith(XLSX_MAGIC):
        if CalamineWorkbook is not None and not number_formats:
            return _calamine_table(data)
        return _openpyxl_table(data, number_formats=number_formats)
    if data.startswith(XLS_MAGIC):
        return _xls_table(data)
    return _csv_table(data)


def _split(rows: Iterator[list[Any]], fmt: str) -> Table:
    try:
        first = next(rows)
    except StopIteration:
        raise FileError("文件是空的：第 1 行应为表头。") from None
    headers = [str(cell_value(value)).strip().lstrip("\ufeff") for value in first]
    while headers and not headers[-1]:
        headers.pop()
    numbered = ((number, row) for number, row in enumerate(rows, start=2))
    return Table(headers=headers, rows=numbered, format=fmt)


def _calamine_table(data: bytes) -> Table:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except Exception as error:  # noqa: BLE001 - any reader failure means an unreadable file
        raise FileError(f"无法读取该 Excel 文件（{error}），请另存为 .xlsx 后重试。") from None
    return _split(([cell_value(value) for value in row] for row in rows), "xlsx")


def _openpyxl_table(data: bytes, *, number_formats: bool) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.active
    except Exception as error:  # noqa: BLE001
        raise FileError(f"无法读取该 Excel 文件（{error}），请另存为 .xlsx 后重试。") from None
    if not number_formats:
        return _split(([cell_value(value) for value in row] for row in sheet.iter_rows(values_only=True)), "xlsx")

    def with_formats() -> Iterator[list[Any]]:
        for row in sheet.iter_rows():
            values = []
            for cell in row:
                value = getattr(cell, "value", None)
                if isinstance(value, int | float) and not isinstance(value, bool) and "%" in (cell.number_format or ""):
                    values.append(f"{Decimal(repr(value)) * 100:f}".rstrip("0").rstrip(".") + "%")
                else:
                    values.append(cell_value(value))
            yield values

    return _split(with_formats(), "xlsx")


def _xls_table(data: bytes) -> Table:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data)
        sheet = book.sheet_by_index(0)
    except Exception as error:  # noqa: BLE001
        raise FileError(f"无法读取该 .xls 文件（{error}），请另存为 .xlsx 后重试。") from None

    def rows() -> Iterator[list[Any]]:
        for index in range(sheet.nrows):
            values = []
            for cell in sheet.row(index):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    values.append(cell_value(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)))
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    values.append(cell_value(bool(cell.value)))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    values.append("")
                else:
                    values.append(cell_value(cell.value))
            yield values

    return _split(rows(), "xls")


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK, what Chinese Excel saves)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise FileError("无法识别 CSV 文件的编码：请保存为 UTF-8 或 GBK 编码的 CSV。") from None


def _csv_table(data: bytes) -> Table:
    text = decode_csv(data)
    if "\x00" in text:
        raise FileError("无法读取该文件：它不是 .xlsx、.xls 或 CSV 文件。")
    return _split(iter(csv.reader(io.StringIO(text, newline=""))), "csv")
