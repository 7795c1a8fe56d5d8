"""REST API v1 of the monitoring-identification procedure (issue 21, docs/monitoring.md): the cases the
user may see, each with its household code, source, state, the step it waits for and its deadline in
working days (left, or late), and the procedure's writes as POST actions.

Cases are scoped by ``accounts.access.scope`` (``ScopedViewSet``: 404 for a missing and a foreign case
alike). Nothing personal beyond the head's name is shown: no ID number, phone or birth date. The writes
call the services the pages call (``monitoring.services.take_step``, ``open_case``,
``record_objection``) in the pages' order: the case (404), the role's write kind (403), then the step
(400 with the service's Chinese message when the case is not at this level's step)."""

from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import require_write, scope
from accounts.types import api_actor
from accounts.viewsets import ReadViewSet
from core.api import CodeFilterSet, unknown_code
from deadlines.workdays import WorkCalendar, work_calendar
from households.choices import MONITORED, MonitoringDecisionKind
from households.models import Household
from monitoring import clock, export, services
from monitoring.models import CLOSED_STATES, OPEN_STATES, Case, CaseState, Source, StepAction

# What a case may be opened from in the API (部门预警 starts from the 预警清单 page).
OPEN_SOURCES = [Source.CADRE.value, Source.DECLARED.value]
ACTIONS = {str(StepAction.DONE.label): StepAction.DONE, str(StepAction.RETURN.label): StepAction.RETURN}


# --- shapes ---------------------------------------------------------------------------------------


class CaseDeadlineSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="入户核实 / 监测对象识别（全程）")
    date = serializers.DateField()
    state = serializers.CharField(help_text="正常 / 临期 / 逾期")
    working_days_left = serializers.IntegerField()
    working_days_late = serializers.IntegerField()


class CaseSerializer(serializers.ModelSerializer):
    household = serializers.CharField(source="household.code", help_text="户编号")
    head_name = serializers.CharField(source="household.head_name", help_text="户主")
    village = serializers.CharField(source="village_code")
    township = serializers.CharField(source="township_code")
    county = serializers.CharField(source="county_code")
    category = serializers.CharField(help_text="拟纳入类别（审定后为纳入类别）")
    step = serializers.SerializerMethodField(help_text="待办环节（办结后为空）")
    publicity_start_on = serializers.DateField(source="publicity.start_on", allow_null=True, default=None)
    publicity_end_on = serializers.DateField(source="publicity.end_on", allow_null=True, default=None)
    deadline = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "household", "head_name", "village", "township", "county", "source", "category", "state",
            "step", "returned", "opened_on", "visit_due_on", "due_on", "closed_on", "publicity_start_on",
            "publicity_end_on", "deadline",
        ]  # fmt: skip

    def get_step(self, case: Case) -> str:
        return export.current_step(case)

    @extend_schema_field(CaseDeadlineSerializer(allow_null=True))
    def get_deadline(self, case: Case) -> dict[str, Any] | None:
        calendar: WorkCalendar = self.context["calendar"]
        deadline = export.deadline_of(case, calendar, self.context["today"])
        return CaseDeadlineSerializer(deadline).data if deadline else None


class CaseStepSerializer(serializers.Serializer):
    step = serializers.CharField()
    action = serializers.CharField(help_text="办理 / 退回")
    user = serializers.CharField(allow_null=True, help_text="操作人（姓名）")
    at = serializers.DateTimeField()
    note = serializers.CharField(allow_blank=True)


class CaseDetailSerializer(CaseSerializer):
    steps = serializers.SerializerMethodField()
    objections = serializers.SerializerMethodField(help_text="公示异议条数")

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "steps", "objections"]

    @extend_schema_field(CaseStepSerializer(many=True))
    def get_steps(self, case: Case) -> list[dict[str, Any]]:
        return [
            {
                "step": step.get_step_display(),
                "action": step.get_action_display(),
                "user": str(step.user) if step.user else None,
                "at": step.at,
                "note": step.note,
            }
            for step in case.steps.select_related("user").order_by("at", "pk")
        ]

    def get_objections(self, case: Case) -> int:
        return case.objections.count()


class OpenSerializer(serializers.Serializer):
    household = serializers.CharField(max_length=40, help_text="户编号")
    source = serializers.ChoiceField(  # type: ignore[assignment]  # a DRF declared field
        choices=OPEN_SOURCES, help_text="干部排查 / 农户申报（部门预警从预警清单发起）"
    )
    category = serializers.ChoiceField(choices=[str(value) for value in MONITORED], help_text="拟纳入类别")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class TakeSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(ACTIONS), default=str(StepAction.DONE.label), help_text="办理 / 退回")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    place = serializers.CharField(
        required=False, allow_blank=True, max_length=100, default="", help_text="村级评议：异议受理地点"
    )
    phone = serializers.CharField(
        required=False, allow_blank=True, max_length=30, default="", help_text="村级评议：村委会联系电话"
    )
    start_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="村级评议：公示开始日期（默认今天）"
    )
    outcome = serializers.ChoiceField(
        choices=MonitoringDecisionKind.values,
        required=False,
        allow_blank=True,
        default="",
        help_text="县级审定：纳入监测 / 核实排除",
    )
    category = serializers.ChoiceField(
        choices=[str(value) for value in MONITORED],
        required=False,
        allow_blank=True,
        default="",
        help_text="县级审定：纳入类别（默认拟纳入类别）",
    )


class ObjectionSerializer(serializers.Serializer):
    received_on = serializers.DateField(help_text="收到异议的日期")
    text = serializers.CharField(max_length=2000, help_text="异议内容")


# --- the resource ---------------------------------------------------------------------------------


class CaseFilter(CodeFilterSet):
    village = django_filters.CharFilter(field_name="village_code", help_text="村（社区）代码")
    township = django_filters.CharFilter(field_name="township_code", help_text="乡镇（街道）代码")
    county = django_filters.CharFilter(field_name="county_code", help_text="县市区代码")
    household = django_filters.CharFilter(field_name="household__code", help_text="户编号")
    state = django_filters.ChoiceFilter(choices=CaseState.choices)
    source = django_filters.ChoiceFilter(choices=Source.choices)
    open = django_filters.BooleanFilter(method="filter_open", help_text="true：办理中；false：已办结")

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(state__in=OPEN_STATES if value else CLOSED_STATES)

    class Meta:
        model = Case
        fields = ["village", "township", "county", "household", "state", "source", "open"]


ID_PARAM = OpenApiParameter("id", int, OpenApiParameter.PATH)


@extend_schema_view(
    retrieve=extend_schema(parameters=[ID_PARAM], responses=CaseDetailSerializer),
    create=extend_schema(request=OpenSerializer, responses={201: CaseDetailSerializer}),
    step=extend_schema(parameters=[ID_PARAM], request=TakeSerializer, responses=CaseDetailSerializer),
    township_review=extend_schema(parameters=[ID_PARAM], request=TakeSerializer, responses=CaseDetailSerializer),
    county_review=extend_schema(parameters=[ID_PARAM], request=TakeSerializer, responses=CaseDetailSerializer),
    objections=extend_schema(parameters=[ID_PARAM], request=ObjectionSerializer, responses=CaseDetailSerializer),
)
class CaseViewSet(ReadViewSet):
    """监测对象识别: the cases of the user's area, newest first, with the deadline each runs against."""

    output_serializer = CaseSerializer
    filterset_class = CaseFilter
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "post", "head", "options"]

    def base_queryset(self) -> QuerySet:
        return Case.objects.select_related("household", "publicity").order_by("-opened_on", "-pk")

    def get_serializer_class(self) -> Any:
        return CaseSerializer if self.action == "list" else CaseDetailSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not hasattr(self, "_calendar"):
            self._calendar = work_calendar()  # one query per request, not per case
        return {**context, "calendar": self._calendar, "today": clock.today()}

    def _detail(self, case: Case, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.scoped_queryset().get(pk=case.pk)
        return Response(CaseDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @transaction.atomic
    def create(self, request: Request) -> Response:
        """发起识别 for a household (干部排查 or 农户申报 entered by staff); a household outside the
        area answers like one that does not exist (400)."""
        actor = api_actor(request)
        require_write(actor, "monitoring")
        data = self.validated(OpenSerializer)
        household = scope(Household.objects.all(), actor).filter(code=data["household"]).first()
        if household is None:
            raise unknown_code("household", _("户编号"), data["household"])
        case = services.open_case(
            actor=actor, household=household, source=data["source"], category=data["category"], note=data["note"]
        )
        return self._detail(case, status.HTTP_201_CREATED)

    def _take(self, kind: str) -> Response:
        case = self.get_object()  # 404 outside the area before 403 for the role
        actor = api_actor(self.request)
        require_write(actor, kind)
        data = self.validated(TakeSerializer)
        case = services.take_step(actor=actor, case=case, kind=kind, **{**data, "action": ACTIONS[data["action"]]})
        return self._detail(case)

    @action(detail=True, methods=["post"], filterset_class=None)
    def step(self, request: Request, id: str) -> Response:  # noqa: A002 - the URL keyword
        """入户核实 (note required), 村级评议 (starts the 公示: place, phone, start_on), 公示结束: village and
        township staff; ``action`` 退回 sends the case back a step with the note as the reason."""
        return self._take("monitoring")

    @action(detail=True, methods=["post"], url_path="township-review", filterset_class=None)
    def township_review(self, request: Request, id: str) -> Response:  # noqa: A002 - the URL keyword
        """乡镇初审 (township staff)."""
        return self._take("monitoring_township")

    @action(detail=True, methods=["post"], url_path="county-review", filterset_class=None)
    def county_review(self, request: Request, id: str) -> Response:  # noqa: A002 - the URL keyword
        """县级审定 (county official): ``outcome`` 纳入监测 (with ``category``) or 核实排除; refused (400)
        until the 公示 has run its working days."""
        return self._take("monitoring_county")

    @action(detail=True, methods=["post"], filterset_class=None)
    def objections(self, request: Request, id: str) -> Response:  # noqa: A002 - the URL keyword
        """An objection to the 公示, recorded against the case (village and township staff)."""
        case = self.get_object()
        actor = api_actor(request)
        require_write(actor, "monitoring")
        data = self.validated(ObjectionSerializer)
        services.record_objection(actor=actor, case=case, received_on=data["received_on"], text=data["text"])
        return self._detail(case)
