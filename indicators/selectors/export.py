"""``export_indicators``: stored values as CSV (byte-exact, indicators.md "Export format") or xlsx."""

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from openpyxl import Workbook

from areas.models import Area
from core.money import format_money
from core.spreadsheet import csv_row, openpyxl_append
from households.models import Site
from indicators.catalogue import ORDER
from indicators.models import IndicatorValue, Level, Period

COLUMNS = ["area_code", "area_name", "level", "indicator", "numerator", "denominator", "value", "target", "met"]
# The columns holding text (names come from users): neutralised as formulas; the numbers never are.
TEXT_COLUMNS = frozenset({0, 1, 2, 3, 8})
MONEY_CODES = frozenset({"M9-1"})


def format_number(number: Decimal | int | None) -> str:
    """Integers plain; decimals (already rounded half-up to 10 places) without trailing zeros or exponent."""
    if number is None:
        return ""
    if isinstance(number, int):
        return str(number)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def export_rows(*, period: Period, level: str = Level.COUNTY) -> list[list[str]]:
    """The rows of one level, sorted by area code then catalogue order (interfaces.md)."""
    values = IndicatorValue.objects.filter(period=period, level=level).select_related("indicator")
    if level == Level.SITE:
        names = dict(Site.objects.values_list("code", "name"))
    else:
        names = dict(Area.objects.values_list("code", "name"))
    rows = []
    for value in sorted(values, key=lambda v: (v.unit_code, ORDER.get(v.indicator.code, 999))):
        code = value.indicator.code
        fmt = format_money if code in MONEY_CODES else format_number
        rows.append(
            [
                value.unit_code,
                names.get(value.unit_code, ""),
                value.level,
                code,
                fmt(value.numerator),
                fmt(value.denominator),
                format_number(value.value),
                format_number(value.target),
                value.met,
            ]
        )
    return rows


def rows_to_csv(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows(csv_row(row, TEXT_COLUMNS) for row in rows)
    return buffer.getvalue()


def rows_to_xlsx(rows: Iterable[list[str]]) -> bytes:
    """Same cells as the CSV; numbers written as numbers so Excel can sum them."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "indicators"
    sheet.append(COLUMNS)
    for row in rows:
        openpyxl_append(sheet, [_cell(cell) if index >= 4 and index <= 7 else cell for index, cell in enumerate(row)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(text: str) -> object:
    if text == "":
        return None
    return int(text) if text.lstrip("-").isdigit() else Decimal(text)
