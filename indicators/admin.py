"""Admin for the catalogue, periods, values and the county/city inputs (city administrator only).
Computed values and runs are read-only: they are rebuilt by the engine, never typed in."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.models import User
from households.admin import ReadOnlyAdmin, RecordedAdmin, RecordedImportMixin, ServiceAdmin
from households.choices import Channel
from indicators.finance import AMOUNTS, finance_save
from indicators.models import (
    AssessmentConfig,
    AssessmentConfigItem,
    AssessmentResult,
    AssessmentRun,
    CityStatistic,
    Commendation,
    ComputeRun,
    CountyFinance,
    Indicator,
    IndicatorValue,
    Measure,
    MonitoringLine,
    Period,
)
from indicators.resources import (
    AssessmentConfigItemResource,
    CityStatisticResource,
    CommendationResource,
    MonitoringLineResource,
)


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ("number", "name")


@admin.register(Indicator)
class IndicatorAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "target", "lead", "dimension", "weight")
    list_filter = ("kind", "lead", "measure")
    search_fields = ("code", "name")


@admin.register(Period)
class PeriodAdmin(ReadOnlyAdmin):
    list_display = ("key", "start", "end", "closed_at", "published_at", "dirty_since")
    search_fields = ("key",)


@admin.register(ComputeRun)
class ComputeRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "period", "scope", "reference_date", "status", "progress", "created_at", "finished_at")
    list_filter = ("status", "scope")


@admin.register(IndicatorValue)
class IndicatorValueAdmin(ReadOnlyAdmin):
    list_display = ("period", "indicator", "level", "unit_code", "numerator", "denominator", "value", "met")
    list_filter = ("level", "met", "indicator")
    search_fields = ("unit_code",)
    list_select_related = ("period", "indicator")


@admin.register(CountyFinance)
class CountyFinanceAdmin(ServiceAdmin):
    """Amounts only, through ``finance_save`` (its checks, history and change feed); the county and the
    year of a row are fixed (issue 17 finding 19)."""

    list_display = (
        "county",
        "year",
        "asset_proceeds",
        "proceeds_to_households",
        "linkage_funds",
        "linkage_to_relocation",
    )
    list_filter = ("year",)
    raw_id_fields = ("county",)
    write_kind, service_fields = "finance", frozenset(AMOUNTS)

    def service_save(self, actor: User, obj: CountyFinance, data: dict[str, Any]) -> None:
        county_code = obj.county.code
        finance_save(actor=actor, county_code=county_code, year=obj.year, amounts=data, channel=Channel.ADMIN)


@admin.register(CityStatistic)
class CityStatisticAdmin(RecordedImportMixin, RecordedAdmin):
    resource_classes = [CityStatisticResource]
    list_display = ("year", "city_income_growth")


@admin.register(Commendation)
class CommendationAdmin(RecordedImportMixin, RecordedAdmin):
    resource_classes = [CommendationResource]
    list_display = ("unit", "year", "level", "title")
    list_filter = ("year", "level")
    search_fields = ("unit", "title")


@admin.register(MonitoringLine)
class MonitoringLineAdmin(RecordedImportMixin, RecordedAdmin):
    resource_classes = [MonitoringLineResource]
    list_display = ("year", "line")


@admin.register(AssessmentConfig)
class AssessmentConfigAdmin(RecordedImportMixin, ReadOnlyAdmin):
    """Read-only records; the points are imported and exported as one row per indicator and year
    (``AssessmentConfigItemResource``), written through ``assessment_config_update``."""

    list_display = ("year",)
    resource_classes = [AssessmentConfigItemResource]

    def get_export_queryset(self, request: HttpRequest) -> Any:
        configs = super().get_export_queryset(request)
        return (
            AssessmentConfigItem.objects.filter(config__in=configs)
            .select_related("config", "indicator")
            .order_by("-config__year", "indicator__order")
        )


@admin.register(AssessmentRun)
class AssessmentRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "year", "status", "progress")


@admin.register(AssessmentResult)
class AssessmentResultAdmin(ReadOnlyAdmin):
    list_display = ("run", "unit_code", "grade", "rank")
