"""django-import-export resources of the indicators admin (issue 18): monitoring lines, city
statistics, commendations and the assessment configuration, imported with the library's preview and
written through the recording path of ``households.resources`` or, for the configuration, through
``assessment_config_update`` (its whole-year checks). Headers are data.md's where a template exists."""

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _
from import_export.fields import Field
from import_export.results import InvalidRow

from areas.choices import AreaLevel
from areas.models import Area
from households.choices import Channel
from households.history import build_entry, snapshot
from households.importing.base import Column, money
from households.importing.cells import CellError, max_length, number_text
from households.models import ChangeFeed, HistoryEntry
from households.resources import CellWidget, RecordedResource, column_field, kind_columns
from indicators.assessment.scoring import (
    DIMENSION_NAMES,
    AssessmentError,
    ConfigItem,
    assessment_config_update,
    config_for_year,
)
from indicators.imports import CityStatsKind, CommendationsKind, year_column
from indicators.models import (
    AssessmentConfigItem,
    CityStatistic,
    Commendation,
    Indicator,
    Kind,
    MonitoringLine,
)


class MonitoringLineResource(RecordedResource):
    """防止返贫监测范围 by year, typed in yuan like every amount of the portal (stored in fen)."""

    write_kind = "monitoring_line"
    template: ClassVar[dict[str, Column]] = {
        "year": year_column(),
        "line": money("监测收入线（元）", "line", required=True),
    }

    class Meta(RecordedResource.Meta):
        model = MonitoringLine
        fields = ("year", "line")
        import_id_fields = ("year",)

    def object_code(self, instance: Any) -> str:
        return str(instance.year)


class CityStatisticResource(RecordedResource):
    write_kind = "citystats"
    template = kind_columns(CityStatsKind)
    change_family = ChangeFeed.Family.CITYSTATS
    year_field = "year"

    class Meta(RecordedResource.Meta):
        model = CityStatistic
        fields = ("year", "city_income_growth")
        import_id_fields = ("year",)

    def object_code(self, instance: Any) -> str:
        return str(instance.year)


class CommendationResource(RecordedResource):
    """Commendations are read by the assessment only: no change-feed row (as the portal's import)."""

    write_kind = "commendations"
    template = kind_columns(CommendationsKind)
    change_family = None

    class Meta(RecordedResource.Meta):
        model = Commendation
        fields = ("unit", "year", "level", "title")
        import_id_fields = ("unit", "year", "title")

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        unit = instance.unit or ""
        if unit.isdigit() and not Area.objects.filter(code=unit, level=AreaLevel.COUNTY).exists():
            raise ValidationError({"unit": _("县市区代码“%(code)s”不存在，请核对。") % {"code": unit}})

    def object_code(self, instance: Any) -> str:
        return f"{instance.unit}/{instance.year}/{instance.title}"


# -- assessment configuration -----------------------------------------------------------------


def parse_points(value: Any) -> Decimal:
    try:
        points = Decimal(number_text(value))
    except ArithmeticError:
        raise CellError(_("分值应为数字，最多保留两位小数。")) from None
    if not points.is_finite():
        raise CellError(_("分值应为数字，最多保留两位小数。"))
    return points


CONFIG_COLUMNS = {
    "year": year_column(),
    "code": Column("指标代码", "code", max_length(8), required=True, key=True),
    "dimension": Column("考核维度", "dimension", max_length(10), required=True),
    "points": Column("分值", "points", parse_points, required=True),
}


class AssessmentConfigItemResource(RecordedResource):
    """A year's assessment configuration as a flat table: one row per judged indicator with the year
    (年度, 指标代码, 指标名称, 考核维度, 分值); the rate floor keeps its saved value. Rows are checked one by
    one here, then each year is written whole by ``assessment_config_update`` (points add up to 100,
    every judged indicator placed once, nothing after publishing): a year that fails marks its first
    row invalid, so the preview shows why and the confirm writes nothing. Indicators of the year that
    the file leaves out keep their saved (or default) points."""

    write_kind = "assessment"
    error_columns: ClassVar[dict[str, str]] = {"year": "年度", "code": "指标代码"}
    change_family = None  # read when the year is assessed, not by the indicator engine
    year = Field(column_name="年度", widget=CellWidget(CONFIG_COLUMNS["year"]), dehydrate_method="year_of")
    code = Field(column_name="指标代码", widget=CellWidget(CONFIG_COLUMNS["code"]), dehydrate_method="code_of")
    name = Field(column_name="指标名称", readonly=True, dehydrate_method="name_of")
    dimension = column_field(CONFIG_COLUMNS["dimension"])
    points = column_field(CONFIG_COLUMNS["points"])

    class Meta(RecordedResource.Meta):
        model = AssessmentConfigItem
        fields = ("year", "code", "name", "dimension", "points")
        import_id_fields = ("year", "code")
        clean_model_instances = False  # the item has no config until its year is written

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.indicators: dict[str, Indicator] = {}
        self.rows: dict[int, dict[str, tuple[AssessmentConfigItem, dict[str, Any] | None, int]]] = defaultdict(dict)

    def get_queryset(self) -> Any:
        return AssessmentConfigItem.objects.select_related("config", "indicator")

    def year_of(self, item: AssessmentConfigItem) -> int:
        return item.config.year

    def code_of(self, item: AssessmentConfigItem) -> str:
        return item.indicator.code

    def name_of(self, item: AssessmentConfigItem) -> str:
        return item.indicator.name

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        super().before_import(dataset, **kwargs)
        self.indicators = {indicator.code: indicator for indicator in Indicator.objects.all()}
        self.rows.clear()

    def key(self, row: Any) -> tuple[int, Indicator]:
        """The row's year and judged indicator, or the row is invalid."""
        values = {}
        for name in ("year", "code"):
            try:
                values[name] = self.fields[name].clean(row)
            except ValueError as error:
                raise ValidationError({name: str(error)}) from None
        code = values["code"]
        indicator = self.indicators.get(code)
        if indicator is None:
            raise ValidationError({"code": _("未知指标 %(code)s。") % {"code": code}})
        if indicator.kind == Kind.INFO:
            raise ValidationError({"code": _("%(code)s 为监测类指标，不计分。") % {"code": code}})
        return values["year"], indicator

    def get_instance(self, instance_loader: Any, row: Any) -> Any:
        year, indicator = self.key(row)
        return self.get_queryset().filter(config__year=year, indicator=indicator).first()

    def init_instance(self, row: Any = None) -> AssessmentConfigItem:
        _year, indicator = self.key(row)
        return AssessmentConfigItem(indicator=indicator)

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        code = instance.indicator.code
        if instance.dimension not in DIMENSION_NAMES:
            raise ValidationError({"dimension": _("%(code)s 须放在八个考核维度之一中。") % {"code": code}})
        if instance.points < 0:
            raise ValidationError({"points": _("分值不能为负数。")})
        if instance.points * 100 != int(instance.points * 100):
            raise ValidationError({"points": _("分值最多保留两位小数。")})

    def save_instance(self, instance: Any, is_create: bool, row: Any, **kwargs: Any) -> None:
        """Kept for the year's write in ``after_import``; the row's number marks it if the year fails."""
        year, indicator = self.key(row)
        if indicator.code in self.rows[year]:
            raise ValidationError(
                {"code": _("%(code)s 重复出现，每个指标只能放在一个维度中。") % {"code": indicator.code}}
            )
        before = None if is_create else snapshot(AssessmentConfigItem.objects.get(pk=instance.pk))
        self.rows[year][indicator.code] = (instance, before, kwargs.get("row_number", 0))

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        if result.has_errors() or result.has_validation_errors():
            return
        for year, rows in sorted(self.rows.items()):
            try:
                self.write_year(year, rows)
            except (ValidationError, AssessmentError) as error:
                messages = error.messages if isinstance(error, ValidationError) else [str(error)]
                number = min(row_number for _item, _before, row_number in rows.values())
                failed = ValidationError(
                    {NON_FIELD_ERRORS: [_("%(year)s 年度：") % {"year": year} + m for m in messages]}
                )
                result.invalid_rows.append(InvalidRow(number=number, validation_error=failed, values=()))

    def write_year(self, year: int, rows: dict[str, tuple[AssessmentConfigItem, dict[str, Any] | None, int]]) -> None:
        saved = config_for_year(year)
        items = [
            ConfigItem(item.code, rows[item.code][0].dimension, Fraction(rows[item.code][0].points))
            if item.code in rows
            else item
            for item in saved.items
        ]
        known = {item.code for item in saved.items}
        items += [
            ConfigItem(code, instance.dimension, Fraction(instance.points))
            for code, (instance, _before, _number) in rows.items()
            if code not in known
        ]
        config = assessment_config_update(year=year, actor=self.actor, rate_floor=saved.rate_floor, items=items)
        written = {item.indicator.code: item for item in config.items.select_related("indicator")}
        for code, (_instance, before, _number) in rows.items():
            item = written[code]
            after = snapshot(item)
            old = {key: value for key, value in (before or {}).items() if key != "config" and value != after.get(key)}
            new = {key: after[key] for key in old} if before is not None else after
            if before is not None and not old:
                continue
            entry = build_entry(
                instance=item,
                action=HistoryEntry.Action.CREATE if before is None else HistoryEntry.Action.UPDATE,
                channel=Channel.ADMIN,
                user=self.actor,
                before=old,
                after=new,
            )
            entry.object_code = f"{year}/{code}"
            entry.save()
            self.written.append(item)
