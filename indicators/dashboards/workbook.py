"""The indicator workbook for people (issue 19): the dashboards' export of one period and level.

Wide, in Chinese: sheet 总表 holds one row per unit (area or site) with its code and name and one
column per indicator headed ``M3-1 <名称>``; a sheet per measure (措施一 … 措施十) holds that
measure's indicators; sheet 说明 gives the period, reference date, computation time, run and the
colour legend. Values are shown as the dashboards show them (a rate floored to one decimal, so a
rate short of its target never reads 100.0%), and 达标/未达标/不适用 as the cell's fill.

The machine format (``export_indicators``, the command and the API, interfaces.md) is
``indicators.selectors.export`` and does not change. Every cell goes through
``core.spreadsheet.xlsx_write``: unit names come from users and stay inert text.
"""

import datetime
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

import xlsxwriter
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from accounts.access import scope
from accounts.models import User
from areas.choices import AreaLevel
from areas.models import Area
from core.spreadsheet import SafeWorkbook, xlsx_write
from households.models import Site
from indicators.dashboards.panels import NA, floor_one_decimal, period_label, target_text
from indicators.models import Indicator, IndicatorValue, Kind, Level, Met, Period

CHINESE_NUMERALS = ("", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十")
# The fills of Excel's own "good / bad / neutral" styles: the colours people already read that way.
FILLS: dict[str, dict[str, str]] = {
    Met.TRUE: {"bg_color": "#C6EFCE", "font_color": "#006100"},
    Met.FALSE: {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    Met.NA: {"bg_color": "#E7E6E6", "font_color": "#595959"},
}
AREA_LEVELS: dict[str, str] = {
    Level.CITY: AreaLevel.CITY,
    Level.COUNTY: AreaLevel.COUNTY,
    Level.TOWNSHIP: AreaLevel.TOWNSHIP,
}
HEADER_ROW = 3  # 0-based: title, legend, blank, header


class Stored(NamedTuple):
    """The columns of one stored value that the workbook shows: read with ``values_list``, because a
    model instance per value cost more than writing the whole workbook (24,000 values a city)."""

    unit_code: str
    indicator_id: int
    met: str
    value: Decimal | None
    value_exact: str
    numerator: int | None
    county_code: str
    township_code: str


STORED_FIELDS = Stored._fields


@dataclass
class Unit:
    code: str
    name: str
    county: str = ""
    township: str = ""
    values: dict[str, Stored] = field(default_factory=dict)


@dataclass
class WideData:
    period: Period
    level: str
    scope_name: str
    indicators: list[Indicator]
    units: list[Unit]
    reference_dates: list[datetime.date]
    computed_at: datetime.datetime | None
    run_ids: list[int]


def wide_data(*, actor: User | None, period: Period, level: str, indicators: list[Indicator]) -> WideData:
    """The stored values of one period and level inside the actor's area, by unit: one query for the
    values, one for their runs (grouped: a timestamp read per value cost 10 µs each) and one or two
    for the names, whatever the number of units."""
    values: QuerySet[IndicatorValue] = scope(IndicatorValue.objects.filter(period=period, level=level), actor)
    rows = [Stored._make(row) for row in values.order_by("unit_code").values_list(*STORED_FIELDS)]
    stamps = list(values.order_by().values_list("reference_date", "run_id").annotate(at=Max("computed_at")))
    by_id = {indicator.pk: indicator.code for indicator in indicators}
    parents = (AreaLevel.COUNTY, AreaLevel.TOWNSHIP) if level in (Level.VILLAGE, Level.SITE) else (AreaLevel.COUNTY,)
    if level == Level.SITE:
        names = dict(Site.objects.values_list("code", "name"))
        area_levels: tuple[str, ...] = parents
    else:
        names = {}
        area_levels = (AREA_LEVELS.get(level, AreaLevel.VILLAGE), *parents)
    area_names = dict(Area.objects.filter(level__in=area_levels).values_list("code", "name"))
    names = names or area_names
    units: dict[str, Unit] = {}
    for value in rows:
        unit = units.get(value.unit_code)
        if unit is None:
            unit = units[value.unit_code] = Unit(
                code=value.unit_code,
                name=names.get(value.unit_code, ""),
                county=area_names.get(value.county_code, "") if level != Level.COUNTY else "",
                township=area_names.get(value.township_code, "") if level in (Level.VILLAGE, Level.SITE) else "",
            )
        code = by_id.get(value.indicator_id)
        if code is not None:
            unit.values[code] = value
    actor_area = actor.area if actor is not None and not actor.is_superuser else None
    return WideData(
        period=period,
        level=level,
        scope_name=actor_area.name if actor_area is not None and actor_area.level != AreaLevel.CITY else _("全市"),
        indicators=indicators,
        units=list(units.values()),
        reference_dates=sorted({day for day, _run, _at in stamps}),
        computed_at=max((at for _day, _run, at in stamps), default=None),
        run_ids=sorted({run for _day, run, _at in stamps if run is not None}),
    )


# --- cells ----------------------------------------------------------------------------------------


def exact_of(value: IndicatorValue | Stored) -> Fraction | None:
    """The exact value (the stored fraction, else the rounded decimal), as the dashboards read it."""
    if value.value_exact:
        return Fraction(value.value_exact)
    return None if value.value is None else Fraction(value.value)


@functools.lru_cache(maxsize=4096)
def _shown(exact: str | Decimal) -> Decimal:
    """``floor_one_decimal`` of a stored exact value; few distinct fractions recur over many units, and
    parsing each one again was a third of a city's workbook."""
    return floor_one_decimal(Fraction(exact))


def cell_value(value: IndicatorValue | Stored | None, indicator: Indicator) -> Decimal | int | str | None:
    """What the workbook writes for one value: a rate as a fraction of 1 (shown as ``87.5%``), a gap
    in percentage points, a count as an integer, ``—`` where there is none; None for no stored value."""
    if value is None:
        return None
    kind = indicator.kind
    if kind in (Kind.RATE, Kind.GAP_PP):
        exact = None if value.met == Met.NA else (value.value_exact or value.value)
        if exact is None:
            return NA
        shown = _shown(exact)
        return shown / 100 if kind == Kind.RATE else shown
    return NA if value.numerator is None else value.numerator


def number_format(indicator: Indicator) -> str:
    if indicator.kind == Kind.RATE:
        return "0.0%"
    if indicator.kind == Kind.GAP_PP:
        return '0.0" 个百分点"'
    return f'#,##0" {indicator.unit_noun}"' if indicator.unit_noun else "#,##0"


def header_text(indicator: Indicator) -> str:
    return f"{indicator.code} {indicator.name}"


def measure_sheet_name(number: int) -> str:
    numeral = CHINESE_NUMERALS[number] if number < len(CHINESE_NUMERALS) else str(number)
    return _("措施%(n)s") % {"n": numeral}


# --- the workbook ---------------------------------------------------------------------------------


class _Formats:
    """XlsxWriter formats made once per (number format, met) pair."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.workbook = workbook
        self.cache: dict[tuple[str, str], Format] = {}
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.bold = workbook.add_format({"bold": True})
        self.header = workbook.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "border": 1, "bg_color": "#F2F2F2"}
        )
        self.text = workbook.add_format({"border": 1})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})

    def value(self, num_format: str, met: str) -> Format:
        key = (num_format, met)
        if key not in self.cache:
            self.cache[key] = self.workbook.add_format(
                {"num_format": num_format, "border": 1, "align": "right", **FILLS.get(met, {})}
            )
        return self.cache[key]

    def legend(self, met: str) -> Format:
        return self.value("@", met)


def _unit_columns(level: str) -> list[str]:
    columns = [_("编码"), _("安置点名称") if level == Level.SITE else _("区划名称")]
    if level not in (Level.CITY, Level.COUNTY):
        columns.append(_("所属县市区"))
    if level in (Level.VILLAGE, Level.SITE):
        columns.append(_("所属乡镇（街道）"))
    return columns


def _unit_cells(unit: Unit, level: str) -> list[str]:
    cells = [unit.code, unit.name]
    if level not in (Level.CITY, Level.COUNTY):
        cells.append(unit.county)
    if level in (Level.VILLAGE, Level.SITE):
        cells.append(unit.township)
    return cells


def _legend(sheet: Worksheet, row: int, fmt: _Formats) -> None:
    xlsx_write(sheet, row, 0, _("图例："), fmt.bold)
    for column, met in enumerate((Met.TRUE, Met.FALSE, Met.NA), start=1):
        xlsx_write(sheet, row, column, Met(met).label, fmt.legend(met))
    xlsx_write(sheet, row, 4, _("白底：监测指标，不评判达标；空白：本层级无此指标"))


# One unit's shown cells, by the position of their indicator in ``WideData.indicators``: the value
# (a float, or a text such as ``—``) and its format; None where the unit has no such value.
Grid = list[list[tuple[float | str, Format] | None]]


def _grid(data: WideData, fmt: _Formats) -> Grid:
    """Every unit's cells, worked out once for all the sheets that show them (总表 and a measure's)."""
    kinds = [(indicator.code, indicator.kind, number_format(indicator)) for indicator in data.indicators]
    grid: Grid = []
    for unit in data.units:
        cells: list[tuple[float | str, Format] | None] = []
        for (code, kind, num_format), indicator in zip(kinds, data.indicators, strict=True):
            value = unit.values.get(code)
            cell = cell_value(value, indicator)
            if cell is None or value is None:
                cells.append(None)
                continue
            shown = cell if isinstance(cell, str) else float(cell)
            cells.append((shown, fmt.value(num_format, "" if kind == Kind.INFO else value.met)))
        grid.append(cells)
    return grid


def _values_sheet(
    workbook: xlsxwriter.Workbook,
    fmt: _Formats,
    data: WideData,
    grid: Grid,
    name: str,
    title: str,
    positions: Sequence[int],
) -> None:
    """One sheet of the values: the unit columns, then the indicators at ``positions``. The cells are
    typed once in ``_grid`` (numbers as numbers, everything else as string cells: the rule of
    ``xlsx_write``), so they go straight to ``write_number``/``write_string``."""
    sheet = workbook.add_worksheet(name)
    columns = _unit_columns(data.level)
    xlsx_write(sheet, 0, 0, title, fmt.title)
    _legend(sheet, 1, fmt)
    headers = [*columns, *(header_text(data.indicators[position]) for position in positions)]
    for column, header in enumerate(headers):
        xlsx_write(sheet, HEADER_ROW, column, header, fmt.header)
    sheet.set_row(HEADER_ROW, 60)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, len(columns) - 1, 20)
    if positions:
        sheet.set_column(len(columns), len(headers) - 1, 16)
    write_string, write_number = sheet.write_string, sheet.write_number
    first = len(columns)
    for row, (unit, cells) in enumerate(zip(data.units, grid, strict=True), start=HEADER_ROW + 1):
        for column, text in enumerate(_unit_cells(unit, data.level)):
            write_string(row, column, text, fmt.text)
        for column, position in enumerate(positions, start=first):
            cell = cells[position]
            if cell is None:
                continue
            shown, cell_format = cell
            if isinstance(shown, str):
                write_string(row, column, shown, cell_format)
            else:
                write_number(row, column, shown, cell_format)
    sheet.freeze_panes(HEADER_ROW + 1, 2)
    if data.units:
        sheet.autofilter(HEADER_ROW, 0, HEADER_ROW + len(data.units), len(headers) - 1)


def _notes_sheet(workbook: xlsxwriter.Workbook, fmt: _Formats, data: WideData, level_label: str) -> None:
    sheet = workbook.add_worksheet(_("说明"))
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 60)
    sheet.set_column(2, 5, 16)
    period = data.period
    computed = timezone.localtime(data.computed_at).strftime("%Y-%m-%d %H:%M") if data.computed_at else NA
    lines: list[tuple[str, str]] = [
        (_("期间"), f"{period_label(period)}（{period.start.isoformat()} 至 {period.end.isoformat()}）"),
        (_("层级"), level_label),
        (_("范围"), data.scope_name),
        (_("参考日期"), "、".join(day.isoformat() for day in data.reference_dates) or NA),
        (_("计算时间"), computed),
        (_("计算批次"), "、".join(f"#{run}" for run in data.run_ids) or NA),
        (_("导出时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
        (_("单位数"), str(len(data.units))),
    ]
    xlsx_write(sheet, 0, 0, _("指标值导出说明"), fmt.title)
    row = 2
    for label, text in lines:
        xlsx_write(sheet, row, 0, label, fmt.bold)
        xlsx_write(sheet, row, 1, text)
        row += 1
    row += 1
    xlsx_write(sheet, row, 0, _("颜色图例"), fmt.bold)
    row += 1
    legend = (
        (Met.TRUE, _("达到目标值")),
        (Met.FALSE, _("未达到目标值（清零类指标：仍有未清零的对象）")),
        (Met.NA, _("不适用：本单位没有该指标的对象（分母为 0），不计入考核")),
    )
    for met, text in legend:
        xlsx_write(sheet, row, 0, Met(met).label, fmt.legend(met))
        xlsx_write(sheet, row, 1, text)
        row += 1
    xlsx_write(sheet, row, 0, _("白底"))
    xlsx_write(sheet, row, 1, _("监测指标，只统计、不评判达标；空白单元格：该层级没有此指标（如后扶资金只有县市区级）"))
    row += 2
    notes = (
        _("比率以百分数显示，保留一位小数并向下取（与看板一致：未达标的比率不会显示为 100.0%）。"),
        _("增幅差以“个百分点”计；其余为人数、户数或个数。"),
        _("精确的分子、分母和值见看板上的 CSV 导出（export_indicators 机器可读格式）。"),
    )
    for text in notes:
        xlsx_write(sheet, row, 0, text, fmt.wrap)
        row += 1
    row += 1
    headers = [_("指标代码"), _("指标名称"), _("措施"), _("类型"), _("目标"), _("责任单位")]
    for column, header in enumerate(headers):
        xlsx_write(sheet, row, column, header, fmt.header)
    for indicator in data.indicators:
        row += 1
        cells = [
            indicator.code,
            indicator.name,
            measure_sheet_name(indicator.measure.number) + " " + indicator.measure.name,
            indicator.get_kind_display(),
            target_text(None, indicator),
            indicator.lead,
        ]
        for column, text in enumerate(cells):
            xlsx_write(sheet, row, column, text, fmt.text)


def wide_workbook(data: WideData) -> bytes:
    """The workbook as bytes: 总表, one sheet per measure, 说明."""
    buffer = io.BytesIO()
    workbook = SafeWorkbook(buffer, {"in_memory": True})
    workbook.set_properties({"title": _("指标值"), "author": _("娄底市易地扶贫搬迁后续扶持工作平台")})
    fmt = _Formats(workbook)
    level_label = str(Level(data.level).label)
    head = f"{period_label(data.period)} · {level_label} · {data.scope_name}"
    grid = _grid(data, fmt)
    everything = range(len(data.indicators))
    _values_sheet(workbook, fmt, data, grid, _("总表"), _("指标值总表") + " · " + head, everything)
    measures: dict[int, list[int]] = {}
    for position, indicator in enumerate(data.indicators):
        measures.setdefault(indicator.measure.number, []).append(position)
    for number, positions in measures.items():
        measure = data.indicators[positions[0]].measure
        name = measure_sheet_name(number)
        _values_sheet(workbook, fmt, data, grid, name, f"{name} {measure.name} · {head}", positions)
    _notes_sheet(workbook, fmt, data, level_label)
    workbook.close()
    return buffer.getvalue()


def wide_filename(period: Period, level: str) -> str:
    return _("指标值-%(period)s-%(level)s级.xlsx") % {"period": period_label(period), "level": Level(level).label}


__all__ = ["WideData", "cell_value", "header_text", "measure_sheet_name", "wide_data", "wide_filename", "wide_workbook"]
