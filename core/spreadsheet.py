"""The one rule for every spreadsheet cell the portal writes: a text that a spreadsheet program would
run as a formula (it starts with ``= + - @``, a tab or a carriage return) stays inert text.

Names, titles and free text come from users and imports, so a site named ``=HYPERLINK(...)`` must
never become a live formula in somebody's Excel. Numbers are never touched: a negative number stays a
number. xlsx cells are written as string cells (never parsed as formulas); CSV cells get a leading
``'``, which Excel and WPS hide and which the importer removes again.
"""

from decimal import Decimal
from typing import Any

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


XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False}

__all__ = [
    "FORMULA_PREFIXES",
    "XLSXWRITER_OPTIONS",
    "csv_row",
    "csv_text",
    "is_formula_like",
    "openpyxl_append",
    "xlsx_write",
    "xlsx_write_row",
]
