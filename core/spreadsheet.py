"""The one rule for every spreadsheet cell the portal writes: a text that a spreadsheet program would
run as a formula (it starts with ``= + - @``, a tab or a carriage return) stays inert text.

Names, titles and free text come from users and imports, so a site named ``=HYPERLINK(...)`` must
never become a live formula in somebody's Excel. Numbers are never touched: a negative number stays a
number. xlsx cells are written as string cells (never parsed as formulas); CSV cells get a leading
``'``, which Excel and WPS hide and which the importer removes again.
"""

import re
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellNumberTuple, CellStringTuple, Worksheet

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: object) -> bool:
    """Whether a spreadsheet program would treat ``value`` as a formula (strings only)."""
    return isinstance(value, str) and value[:1] in FORMULA_PREFIXES


def csv_text(value: Any) -> Any:
    """A CSV cell: a formula-like string gets a leading ``'``; anything else is returned unchanged."""
    return f"'{value}" if is_formula_like(value) else value


def csv_row(row: Any, text_columns: Any = None) -> list[Any]:
    """A CSV row through ``csv_text``; ``text_columns`` limits it to the columns holding text (so a
    number already formatted as ``-5`` stays a number)."""
    if text_columns is None:
        return [csv_text(cell) for cell in row]
    return [csv_text(cell) if index in text_columns else cell for index, cell in enumerate(row)]


def xlsx_write(sheet: Any, row: int, column: int, value: Any, cell_format: Any = None) -> None:
    """One XlsxWriter cell: numbers as numbers, everything else as a string cell (never a formula)."""
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, column, value, cell_format)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, column, float(value), cell_format)
    else:
        sheet.write_string(row, column, str(value), cell_format)


def xlsx_write_row(sheet: Any, row: int, column: int, values: Any, cell_format: Any = None) -> None:
    for offset, value in enumerate(values):
        xlsx_write(sheet, row, column + offset, value, cell_format)


def openpyxl_append(sheet: Any, values: list[Any]) -> None:
    """``sheet.append`` for openpyxl, which would store a string starting with ``=`` as a formula: such
    cells are forced back to string cells."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if is_formula_like(cell.value):
            cell.data_type = "s"


# What Excel refuses in a sheet name (and a name may neither start nor end with an apostrophe).
_SHEET_NAME_REFUSED = re.compile(r"[\[\]:*?/\\]")


def sheet_name(text: str, fallback: str) -> str:
    """A sheet name made from a user's text (a county's name): Excel's refused characters dropped, cut to
    31 characters; ``fallback`` (a code) when nothing is left."""
    name = _SHEET_NAME_REFUSED.sub("", text or "").strip().strip("'")[:31].strip("'")
    return name or fallback[:31]


XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False}


def _write_text(sheet: Worksheet, row: int, column: int, value: str, *args: Any) -> int:
    xlsx_write(sheet, row, column, value, *args[:1])
    return 0


class TextWorksheet(Worksheet):
    """A worksheet whose plain ``write``/``write_row`` of a text goes through ``xlsx_write``."""

    def __init__(self) -> None:
        super().__init__()
        self.add_write_handler(str, _write_text)

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        """XlsxWriter's innermost loop, shortened for its two commonest cells: a formatted number and a
        formatted shared string. It wrote a city's wide workbook (76,000 cells) in 350 ms, 190 ms this
        way. The XML is the library's own, byte for byte (tests/relocation/test_spreadsheet_cells.py
        compares them); every other cell, and the constant-memory mode, take the library's path."""
        cell_format = cell.format
        if cell_format is not None and not self.constant_memory:
            kind = type(cell)
            if kind is CellNumberTuple:
                reference = xl_rowcol_to_cell_fast(row, col)
                self.fh.write(f'<c r="{reference}" s="{cell_format._get_xf_index()}"><v>{cell.number:.16G}</v></c>')
                return
            if kind is CellStringTuple:  # ``string`` is the index into the shared strings here
                reference = xl_rowcol_to_cell_fast(row, col)
                self.fh.write(f'<c r="{reference}" s="{cell_format._get_xf_index()}" t="s"><v>{cell.string}</v></c>')
                return
        super()._write_cell(row, col, cell)


class SafeWorkbook(xlsxwriter.Workbook):
    """The portal's XlsxWriter workbook: ``XLSXWRITER_OPTIONS`` always on, and every sheet a
    ``TextWorksheet``, so even a bare ``sheet.write(...)`` of a user's text is a string cell."""

    worksheet_class = TextWorksheet

    def __init__(self, filename: Any, options: dict[str, Any] | None = None) -> None:
        super().__init__(filename, {**(options or {}), **XLSXWRITER_OPTIONS})


__all__ = [
    "FORMULA_PREFIXES",
    "XLSXWRITER_OPTIONS",
    "SafeWorkbook",
    "TextWorksheet",
    "csv_row",
    "csv_text",
    "is_formula_like",
    "openpyxl_append",
    "sheet_name",
    "xlsx_write",
    "xlsx_write_row",
]
