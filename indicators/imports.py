"""Import templates of the indicators app: county finance, city statistics, commendations (data.md).

They register into ``households.importing`` from ``IndicatorsConfig.ready()``: ``households`` never
imports ``indicators``.
"""

from typing import Any

from accounts.models import Department, Role
from areas.choices import AreaLevel
from households.importing.base import Column, Context, ImportRow, Kind, money
from households.importing.cells import (
    CellError,
    area_code_parser,
    choice_parser,
    int_parser,
    max_length,
    normalise_area_code,
    parse_percent,
    text_of,
)
from households.importing.kinds import fetch, this_year
from households.importing.registry import register
from indicators.models import CityStatistic, Commendation, CommendationLevel, CountyFinance

FIRST_YEAR = 2016


def year_column(**options: Any) -> Column:
    return Column("年度", "year", int_parser(FIRST_YEAR, this_year, "年度"), key=True, **options)


def county_info(ctx: Context, row: ImportRow, header: str, code: str) -> Any:
    info = ctx.areas.get(code)
    if info is None or not ctx.in_scope(info.county_code):
        ctx.error(row, header, f"县市区代码“{code}”不存在，请核对。")
        return None
    if info.level != AreaLevel.COUNTY:
        ctx.error(row, header, f"“{code}”不是县级区划，请填写县市区（含经开区）的 6 位代码。")
        return None
    return info


class FinanceKind(Kind):
    name = "finance"
    label = "后扶资金"
    model = CountyFinance
    roles = frozenset({Role.COUNTY_OFFICIAL, Role.CITY_BUREAU})
    change_family = "finance"
    year_field = "year"
    columns = [
        Column(
            "县市区代码", "county", area_code_parser(AreaLevel.COUNTY), key=True, getter=lambda f, _m: f.county.code
        ),
        year_column(),
        money("盘活资产收益", "asset_proceeds", required=True),
        money("收益用于搬迁户后扶", "proceeds_to_households", required=True),
        money("衔接资金总额", "linkage_funds", required=True),
        money("衔接资金用于搬迁后扶", "linkage_to_relocation", required=True),
    ]

    def allows(self, user: Any) -> bool:
        if user is not None and not user.is_superuser and user.role == Role.CITY_BUREAU:
            return user.department == Department.FINANCE
        return super().allows(user)

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:
        ctx.load_areas(row.values["county"] for row in rows)
        ids = {info.id: code for code, info in ctx.areas.items() if info is not None}
        ctx.existing = {
            (ids[f.county_id], f.year): f for f in fetch(CountyFinance.objects.all(), "county_id", set(ids))
        }

    def resolve(self, ctx: Context, row: ImportRow) -> None:
        values = row.values
        county = county_info(ctx, row, "县市区代码", values["county"])
        if values["proceeds_to_households"] > values["asset_proceeds"]:
            ctx.error(row, "收益用于搬迁户后扶", "收益用于搬迁户后扶的金额不能大于盘活资产收益。")
        if values["linkage_to_relocation"] > values["linkage_funds"]:
            ctx.error(row, "衔接资金用于搬迁后扶", "衔接资金用于搬迁后扶的金额不能大于衔接资金总额。")
        if county is None:
            return
        row.extra["county"] = county
        row.existing = ctx.existing.get(row.key)
        row.attrs = {name: value for name, value in values.items() if name != "county"}
        row.attrs["county_id"] = county.id

    def history_codes(self, row: ImportRow) -> tuple[str, str, str]:
        county = row.extra["county"].code
        return county, "", f"{county}/{row.instance.year}"

    def export_queryset(self, ctx: Context) -> Any:
        queryset = CountyFinance.objects.select_related("county").order_by("county__code", "year")
        if ctx.scope_area is not None:
            queryset = queryset.filter(county__code=ctx.scope_area.county_code or ctx.scope_area.code)
        return queryset


class CityStatsKind(Kind):
    name = "citystats"
    label = "全市统计"
    model = CityStatistic
    roles = frozenset({Role.CITY_ADMIN})
    change_family = "citystats"
    year_field = "year"
    number_formats = True
    columns = [
        year_column(),
        Column("全市居民人均可支配收入增长率", "city_income_growth", parse_percent, required=True),
    ]

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:
        ctx.existing = {(s.year,): s for s in CityStatistic.objects.filter(year__in=[row.key[0] for row in rows])}

    def resolve(self, ctx: Context, row: ImportRow) -> None:
        row.existing = ctx.existing.get(row.key)
        row.attrs = dict(row.values)

    def history_codes(self, row: ImportRow) -> tuple[str, str, str]:
        return "", "", str(row.instance.year)

    def export_queryset(self, ctx: Context) -> Any:
        return CityStatistic.objects.order_by("year")


def parse_unit(value: Any) -> str:
    """A county-level area code (6 digits, or 12 padded), or a lead department's name."""
    text = text_of(value)
    if text.isdigit():
        code = normalise_area_code(text, AreaLevel.COUNTY)
        if len(code) != 6:
            raise CellError("被表彰单位应为县市区的 6 位区划代码，或市直部门名称（如 市人社局）。")
        return code
    if text not in Department.values:
        raise CellError(f"被表彰单位应为县市区代码或以下部门之一：{'、'.join(Department.values)}。")
    return text


class CommendationsKind(Kind):
    name = "commendations"
    label = "表彰加分"
    model = Commendation
    roles = frozenset({Role.CITY_ADMIN})
    change_family = None
    columns = [
        Column("被表彰单位", "unit", parse_unit, key=True),
        year_column(),
        Column("表彰级别", "level", choice_parser(CommendationLevel.values), required=True),
        Column("表彰名称", "title", max_length(200), key=True),
    ]

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:
        ctx.load_areas(row.values["unit"] for row in rows if row.values["unit"].isdigit())
        units = {row.values["unit"] for row in rows}
        ctx.existing = {(c.unit, c.year, c.title): c for c in fetch(Commendation.objects.all(), "unit", units)}

    def resolve(self, ctx: Context, row: ImportRow) -> None:
        unit = row.values["unit"]
        if unit.isdigit() and county_info(ctx, row, "被表彰单位", unit) is None:
            return
        row.existing = ctx.existing.get(row.key)
        row.attrs = dict(row.values)

    def history_codes(self, row: ImportRow) -> tuple[str, str, str]:
        unit = row.instance.unit
        return (unit if unit.isdigit() else ""), "", f"{unit}/{row.instance.year}/{row.instance.title}"[:60]

    def export_queryset(self, ctx: Context) -> Any:
        return Commendation.objects.order_by("year", "unit", "title")


def register_kinds() -> None:
    for kind_class in (FinanceKind, CityStatsKind, CommendationsKind):
        register(kind_class())
