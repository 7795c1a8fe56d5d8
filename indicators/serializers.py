"""API shapes of the indicators app: the catalogue, stored values, the 清零清单 behind a value,
county finance and the annual assessment. Shapes only; the work is in selectors and services."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.access import display_id_number
from areas.models import Area
from households.models import (
    Grievance,
    Household,
    Person,
    Site,
)
from households.serializers import CodeField, Money, actor_of
from households.validators import age_on
from indicators.engine import rules
from indicators.models import CountyFinance, Indicator, IndicatorValue
from indicators.selectors.values import IncomeShortfall


class IndicatorSerializer(serializers.ModelSerializer):
    measure = serializers.IntegerField(source="measure.number", read_only=True)
    measure_name = serializers.CharField(source="measure.name", read_only=True)

    class Meta:
        model = Indicator
        fields = ["code", "name", "measure", "measure_name", "kind", "target", "lead", "unit_noun", "order"]


class IndicatorValueSerializer(serializers.ModelSerializer):
    """``area`` is the unit's code: an 区划代码, or a site's 安置点编码 when ``level`` is ``site``."""

    period = serializers.CharField(source="period.key", read_only=True)
    indicator = serializers.CharField(source="indicator.code", read_only=True)
    area = serializers.CharField(source="unit_code", read_only=True)

    class Meta:
        model = IndicatorValue
        fields = [
            "id", "period", "indicator", "level", "area", "numerator", "denominator", "value", "target", "met",
            "reference_date", "computed_at",
        ]  # fmt: skip


class FailingRecordSerializer(serializers.Serializer):
    """One record of a 清零清单, whatever its kind (household, person, petition, site, township,
    finance row); personal data as the reader may see it. ``reason`` says which rule lists it
    (``rules.reason``, with the stored value in the context as ``value``)."""

    type = serializers.SerializerMethodField()
    code = serializers.SerializerMethodField()
    name = serializers.SerializerMethodField()
    household = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()
    age = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()

    @staticmethod
    def _record(item: Any) -> Any:
        return getattr(item, "household", item) if type(item).__name__ == "IncomeShortfall" else item

    @extend_schema_field(
        {"type": "string", "enum": ["household", "person", "grievance", "site", "area", "finance", "other"]}
    )
    def get_type(self, item: Any) -> str:
        record = self._record(item)
        for model, name in (
            (Household, "household"),
            (Person, "person"),
            (Grievance, "grievance"),
            (Site, "site"),
            (Area, "area"),
            (CountyFinance, "finance"),
        ):
            if isinstance(record, model):
                return name
        return "other"

    @extend_schema_field({"type": "string", "nullable": True})
    def get_code(self, item: Any) -> str | None:
        record = self._record(item)
        if isinstance(record, Person):
            return str(record.pk)
        if isinstance(record, CountyFinance):
            return f"{record.county.code}/{record.year}"
        return getattr(record, "code", None)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_name(self, item: Any) -> str | None:
        record = self._record(item)
        if isinstance(record, Household):
            return record.head_name
        if isinstance(record, CountyFinance):
            return record.county.name
        return getattr(record, "name", None)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_household(self, item: Any) -> str | None:
        record = self._record(item)
        if isinstance(record, Household):
            return record.code
        household = getattr(record, "household", None)
        return household.code if household is not None else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_id_number(self, item: Any) -> str | None:
        record = self._record(item)
        if not isinstance(record, Person):
            return None
        return display_id_number(actor_of(self), record)

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_age(self, item: Any) -> int | None:
        record = self._record(item)
        return age_on(record.birth_date, timezone.localdate()) if isinstance(record, Person) else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_reason(self, item: Any) -> str | None:
        if isinstance(item, IncomeShortfall):
            return item.reason
        value = self.context.get("value")
        if value is None:
            return None
        return rules.reason(value.indicator.code, item, value.reference_date) or None


class FinanceSerializer(serializers.ModelSerializer):
    county = CodeField()
    asset_proceeds = Money()
    proceeds_to_households = Money()
    linkage_funds = Money()
    linkage_to_relocation = Money()

    class Meta:
        model = CountyFinance
        fields = [
            "county", "year", "asset_proceeds", "proceeds_to_households", "linkage_funds", "linkage_to_relocation",
            "updated_at",
        ]  # fmt: skip


class FinanceInputSerializer(serializers.Serializer):
    county = serializers.CharField(max_length=12)
    year = serializers.IntegerField(min_value=2016, max_value=2100)
    asset_proceeds = Money()
    proceeds_to_households = Money()
    linkage_funds = Money()
    linkage_to_relocation = Money()


class FinancePatchSerializer(serializers.Serializer):
    asset_proceeds = Money(required=False)
    proceeds_to_households = Money(required=False)
    linkage_funds = Money(required=False)
    linkage_to_relocation = Money(required=False)


class AssessmentUnitSerializer(serializers.Serializer):
    """One county-level unit or lead department: rank, scores (2-decimal strings), grade, and the
    dimension scores, commendations and indicator values it used."""

    unit_kind = serializers.CharField()
    unit_code = serializers.CharField(help_text="县市区代码或部门名称")
    unit_name = serializers.CharField()
    scored = serializers.BooleanField()
    rank = serializers.IntegerField(allow_null=True)
    base = serializers.CharField(allow_null=True)
    bonus = serializers.CharField(allow_null=True)
    total = serializers.CharField(allow_null=True)
    grade = serializers.CharField(allow_null=True, allow_blank=True)
    dimensions = serializers.JSONField()
    commendations = serializers.JSONField()
    indicators = serializers.JSONField()


class AssessmentDimensionSerializer(serializers.Serializer):
    name = serializers.CharField()
    points = serializers.CharField()


class AssessmentSerializer(serializers.Serializer):
    """The annual assessment (assessment.md) as ``indicators.assessment.assessment_result_for_year``
    returns it: scores, ranks and grades per county-level unit and lead department."""

    year = serializers.IntegerField()
    published = serializers.BooleanField()
    published_at = serializers.DateTimeField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    reference_date = serializers.DateField(allow_null=True)
    rate_floor = serializers.CharField()
    dimensions = AssessmentDimensionSerializer(many=True)
    counties = AssessmentUnitSerializer(many=True)
    departments = AssessmentUnitSerializer(many=True)
