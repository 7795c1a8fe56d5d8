"""REST API v1 of the indicators app (interfaces.md, HTTP API): the catalogue, stored values, the
清零清单 behind a value, county finance and the annual assessment.

Scoping goes through ``accounts.access`` like everywhere else; the lists come from
``indicators.selectors`` (the very filters the engine counts with).
"""

import importlib
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import access_object, require_write, scope
from accounts.models import User
from accounts.types import api_actor
from accounts.viewsets import ReadViewSet
from areas.choices import AreaLevel
from areas.models import Area
from core.api import CodeFilterSet
from core.money import yuan_to_fen
from households.choices import Channel
from households.models import Grievance, Person
from indicators.finance import finance_amounts, finance_save
from indicators.models import CountyFinance, Indicator, IndicatorValue, Kind, Level, Met
from indicators.selectors import values as selectors
from indicators.serializers import (
    AssessmentSerializer,
    FailingRecordSerializer,
    FinanceInputSerializer,
    FinancePatchSerializer,
    FinanceSerializer,
    IndicatorSerializer,
    IndicatorValueSerializer,
)


def scope_counties(actor: User | None) -> QuerySet[Area]:
    """The county-level areas the actor may see (finance rows are scoped through their county)."""
    return scope(Area.objects.filter(level=AreaLevel.COUNTY), actor)


# --- the catalogue -------------------------------------------------------------------------------


class IndicatorFilter(CodeFilterSet):
    measure = django_filters.NumberFilter(field_name="measure__number")
    kind = django_filters.ChoiceFilter(choices=Kind.choices)

    class Meta:
        model = Indicator
        fields = ["measure", "kind"]


class IndicatorViewSet(ReadViewSet):
    """The indicator catalogue (indicators.md): the same for every user."""

    output_serializer = IndicatorSerializer
    filterset_class = IndicatorFilter

    def scoped_queryset(self) -> QuerySet:
        return Indicator.objects.select_related("measure").order_by("order")

    def get_object(self) -> Any:
        return access_object(self.scoped_queryset(), None, code=self.kwargs["code"])


# --- stored values and their 清零清单 -------------------------------------------------------------


class IndicatorValueFilter(CodeFilterSet):
    period = django_filters.CharFilter(field_name="period__key", help_text="期间：2025 或 2025-12")
    level = django_filters.ChoiceFilter(choices=Level.choices, help_text="city/county/township/village/site")
    area = django_filters.CharFilter(field_name="unit_code", help_text="区划代码或安置点编码")
    indicator = django_filters.CharFilter(field_name="indicator__code", help_text="指标代码，如 M3-2")
    county = django_filters.CharFilter(field_name="county_code", help_text="所属县市区代码")
    met = django_filters.ChoiceFilter(choices=Met.choices)

    class Meta:
        model = IndicatorValue
        fields = ["period", "level", "area", "indicator", "county", "met"]


@extend_schema_view(
    retrieve=extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)]),
    failing=extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses=FailingRecordSerializer(many=True),
    ),
)
class IndicatorValueViewSet(ReadViewSet):
    """Stored indicator values the user may see (``accounts.access.scope`` on their county/township)."""

    output_serializer = IndicatorValueSerializer
    filterset_class = IndicatorValueFilter
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"

    def base_queryset(self) -> QuerySet:
        return IndicatorValue.objects.select_related("period", "indicator").order_by(
            "-period__start", "period__key", "level", "unit_code", "indicator__order"
        )

    def get_object(self) -> Any:
        return access_object(self.scoped_queryset(), api_actor(self.request), pk=self.kwargs["id"])

    def get_serializer_class(self) -> Any:
        return FailingRecordSerializer if self.action == "failing" else self.output_serializer

    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=ReadViewSet.pagination_class)
    def failing(self, request: Request, id: str) -> Response:  # noqa: A002 - the URL keyword
        """The 清零清单 behind one value: the records keeping it from its target, paginated."""
        value = access_object(
            IndicatorValue.objects.select_related("indicator", "period", "area", "site").filter(
                pk__in=self.scoped_queryset().values("pk")
            ),
            api_actor(request),
            pk=id,
        )
        records = selectors.failing_records(value=value)
        if isinstance(records, QuerySet):
            records = self._scoped_records(records)
        page = self.paginate_queryset(records)
        serializer = FailingRecordSerializer(page, many=True, context={**self.get_serializer_context(), "value": value})
        return self.get_paginated_response(serializer.data)

    def _scoped_records(self, records: QuerySet) -> QuerySet:
        actor = api_actor(self.request)
        if records.model is CountyFinance:
            return records.filter(county__in=scope_counties(actor))
        records = scope(records, actor)
        if records.model in (Person, Grievance):
            records = records.select_related("household")
        return records


# --- county finance ------------------------------------------------------------------------------


class FinanceFilter(CodeFilterSet):
    county = django_filters.CharFilter(field_name="county__code", help_text="县市区代码")
    year = django_filters.NumberFilter()

    class Meta:
        model = CountyFinance
        fields = ["county", "year"]


@extend_schema_view(
    create=extend_schema(request=FinanceInputSerializer, responses={201: FinanceSerializer}),
    partial_update=extend_schema(
        request=FinancePatchSerializer,
        responses=FinanceSerializer,
        parameters=[OpenApiParameter("year", int, OpenApiParameter.PATH)],
    ),
    retrieve=extend_schema(parameters=[OpenApiParameter("year", int, OpenApiParameter.PATH)]),
)
class FinanceViewSet(ReadViewSet):
    """后扶资金, one row per county-level unit and year, addressed as ``finance/{county}/{year}/``.
    County officials write their county's rows; 市财政局 users every county's."""

    output_serializer = FinanceSerializer
    filterset_class = FinanceFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self) -> QuerySet:
        return (
            CountyFinance.objects.filter(county__in=scope_counties(api_actor(self.request)))
            .select_related("county")
            .order_by("county__code", "year")
        )

    def get_object(self) -> Any:
        # Already scoped through the county: the lookup itself answers 404.
        return get_object_or_404(self.scoped_queryset(), county__code=self.kwargs["county"], year=self.kwargs["year"])

    @staticmethod
    def _fen(data: dict[str, Any]) -> dict[str, int]:
        return {name: yuan_to_fen(value) for name, value in finance_amounts(data).items()}

    @transaction.atomic
    def create(self, request: Request) -> Response:
        actor = api_actor(request)
        require_write(actor, "finance")
        data = self.validated(FinanceInputSerializer)
        county = scope_counties(actor).filter(code=data["county"]).first()
        if county is not None and CountyFinance.objects.filter(county=county, year=data["year"]).exists():
            message = _("%(county)s %(year)s 年度的后扶资金已登记，请用 PATCH 修改。")
            raise ValidationError({"year": message % {"county": county.name, "year": data["year"]}})
        finance = finance_save(
            actor=actor,
            county_code=data["county"],
            year=data["year"],
            amounts=self._fen(data),
            channel=Channel.API,
        )
        return self.answer(finance, status.HTTP_201_CREATED)

    @transaction.atomic
    def partial_update(self, request: Request, county: str, year: int) -> Response:
        finance = self.get_object()
        data = self.validated(FinancePatchSerializer)
        finance = finance_save(
            actor=api_actor(request),
            county_code=finance.county.code,
            year=finance.year,
            amounts=self._fen(data),
            channel=Channel.API,
        )
        return self.answer(finance)


# --- the annual assessment -----------------------------------------------------------------------

# The assessment engine (``indicators.assessment``) is being finished beside this API: it is looked up
# at call time, so the endpoint answers 404 until it (and a computed year) exists.
ASSESSMENT_MODULE = "indicators.assessment.scoring"


def assessment_lookup(*, year: int, actor: User | None) -> dict[str, Any] | None:
    """The stored assessment of ``year`` if the actor may read it (published: every role; not yet
    published: the city roles), else None — an unreadable year answers like a missing one."""
    try:
        module = importlib.import_module(ASSESSMENT_MODULE)
    except ModuleNotFoundError:
        return None
    reader = getattr(module, "assessment_result_for_year", None)
    readable = getattr(module, "assessment_readable", None)
    if reader is None or readable is None:
        return None
    data = reader(year)
    if data is None or not readable(actor, published=data["published"]):
        return None
    return data


class AssessmentView(APIView):
    """The annual assessment of ``year``: scores, ranks, grades. 404 while none is stored."""

    @extend_schema(
        parameters=[OpenApiParameter("year", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=AssessmentSerializer,
    )
    def get(self, request: Request, year: int) -> Response:
        data = assessment_lookup(year=year, actor=api_actor(request))
        if data is None:
            raise NotFound(_("尚无 %(year)s 年度的考核结果。") % {"year": year})
        return Response(AssessmentSerializer(data).data)
