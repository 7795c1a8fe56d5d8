"""Issue 22: ``core.spreadsheet.TextWorksheet`` shortens XlsxWriter's innermost loop for formatted
numbers and strings (the wide indicator workbook's 76,000 cells). Its XML must be the library's own,
byte for byte: the same cells written through the portal's ``SafeWorkbook`` and through a stock
``xlsxwriter.Workbook`` (same options) give identical sheets, shared strings and styles."""

import datetime
import io
import math
import zipfile
from typing import Any

import xlsxwriter

from core.spreadsheet import XLSXWRITER_OPTIONS, SafeWorkbook


def _write(workbook: Any) -> None:
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": '#,##0" 元"', "border": 1, "bg_color": "#C6EFCE"})
    rate = workbook.add_format({"num_format": "0.0%", "align": "right"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for index in range(2):
        sheet = workbook.add_worksheet(f"表{index}")
        sheet.set_row(3, 30, bold)
        sheet.set_column(5, 5, 12, rate)
        numbers = [0, -5, 7, 1234567890123, 0.875, 1 / 3, -0.1, 99.9 / 100, 1e-12, math.pi * 1e20]
        texts = ["娄底市", "", " 前后空格 ", '<&">', '=HYPERLINK("http://x","y")', "—", "a\u0001b", "x" * 300]
        row = 0
        for number in numbers:
            sheet.write_number(row, 0, number, money)
            sheet.write_number(row, 1, number, rate)
            sheet.write_number(row, 2, number)  # no format of its own
            sheet.write_number(3, 3 + row, number)  # the row's format
            sheet.write_number(row + 10, 5, number)  # the column's format
            row += 1
        for text in texts:
            sheet.write_string(row, 0, text, bold)
            sheet.write_string(row, 1, text)
            sheet.write_string(row, 2, text, money)
            row += 1
        sheet.write_boolean(row, 0, True, bold)
        sheet.write_blank(row, 1, None, bold)
        sheet.write_datetime(row, 2, datetime.date(2026, 12, 5), date)
        sheet.write_formula(row, 3, "=A1+B1", money, 3)
        sheet.write_rich_string(row, 4, "普通", bold, "加粗", "之后")
        sheet.write_url(row, 5, "internal:'表0'!A1", string="链接")
        sheet.freeze_panes(4, 2)
        sheet.autofilter(3, 0, row, 5)


def _parts(workbook_class: Any) -> dict[str, bytes]:
    buffer = io.BytesIO()
    workbook = workbook_class(buffer, {"in_memory": True, **XLSXWRITER_OPTIONS})
    workbook.set_properties({"created": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)})
    _write(workbook)
    workbook.close()
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    return {name: archive.read(name) for name in archive.namelist()}


def test_portal_sheets_are_xlsxwriters_own_xml():
    portal, stock = _parts(SafeWorkbook), _parts(xlsxwriter.Workbook)
    assert portal.keys() == stock.keys()
    assert any(name.startswith("xl/worksheets/sheet") for name in portal)
    for name in portal:
        assert portal[name] == stock[name], name


def test_constant_memory_takes_the_librarys_path(tmp_path):
    """Inline strings (constant memory) are not the shortened path's shared strings."""
    path = tmp_path / "cm.xlsx"
    workbook = SafeWorkbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_string(0, 0, "娄底", workbook.add_format({"bold": True}))
    workbook.close()
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert 't="inlineStr"' in xml
    assert "<t>娄底</t>" in xml
