"""``export_indicators``: stored values as CSV (byte-exact, indicators.md "Export format") or xlsx."""

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
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


def export_rows(*, period: Period, level: str = Level.COUNTY, units: QuerySet[Any] | None = None) -> list[list[str]]:
    """The rows of one level, sorted by area code then catalogue order (interfaces.md). ``units``: the
    codes to keep (a subquery of the areas or sites an actor sees), else every unit. Read as tuples
    in one query: a model instance per value cost more than the rest of a city's export."""
    values = IndicatorValue.objects.filter(period=period, level=level)
    if units is not None:
        values = values.filter(unit_code__in=units)
    if level == Level.SITE:
        names = dict(Site.objects.values_list("code", "name"))
    else:
        names = dict(Area.objects.values_list("code", "name"))
    stored = values.values_list(
        "unit_code", "level", "indicator__code", "numerator", "denominator", "value", "target", "met"
    )
    rows = []
    for unit_code, unit_level, code, numerator, denominator, value, target, met in sorted(
        stored, key=lambda row: (row[0], ORDER.get(row[2], 999))
    ):
        fmt = format_money if code in MONEY_CODES else format_number
        rows.append(
            [
                unit_code,
                names.get(unit_code, ""),
                unit_level,
                code,
                fmt(numerator),
                fmt(denominator),
                format_number(value),
                format_number(target),
                met,
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
