"""The portal's titled xlsx reports (the sign-off, case and deadline exports of issue 21): each sheet
has a bold title row, a line saying when it was exported and how many rows, a blank row, the Chinese
headers on row 4 and the rows below, like the 预警清单 and 清零清单 exports. Every cell goes through
``core.spreadsheet`` (a text never becomes a formula)."""

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse

from core.http import attachment
from core.spreadsheet import SafeWorkbook, sheet_name, xlsx_write, xlsx_write_row

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_ROW = 3  # zero-based: title, subtitle, a blank row, then the headers


@dataclass
class Sheet:
    name: str
    title: str
    subtitle: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    widths: dict[int, int] = field(default_factory=dict)  # column → width; 14 otherwise


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    buffer = io.BytesIO()
    workbook = SafeWorkbook(buffer, {"in_memory": True})
    bold = workbook.add_format({"bold": True})
    for index, sheet in enumerate(sheets):
        page = workbook.add_worksheet(sheet_name(sheet.name, f"Sheet{index + 1}"))
        xlsx_write(page, 0, 0, sheet.title, bold)
        xlsx_write(page, 1, 0, sheet.subtitle)
        xlsx_write_row(page, HEADER_ROW, 0, [str(header) for header in sheet.headers], bold)
        for offset, row in enumerate(sheet.rows, start=HEADER_ROW + 1):
            xlsx_write_row(page, offset, 0, row)
        page.set_column(0, max(len(sheet.headers) - 1, 0), 14)
        for column, width in sheet.widths.items():
            page.set_column(column, column, width)
        page.freeze_panes(HEADER_ROW + 1, 0)
    workbook.close()
    return buffer.getvalue()


def xlsx_response(sheets: Sequence[Sheet], filename: str, fallback: str) -> HttpResponse:
    """A download of the workbook under its Chinese name (``fallback``: the ASCII name)."""
    response = HttpResponse(workbook_bytes(sheets), content_type=XLSX)
    attachment(response, filename, fallback=fallback)
    return response
