"""REST API v1 of the monthly roster sign-off (issue 21, docs/signoff.md): every village's month with
its state, the steps taken (who, when, a note), the 审定后有修改 count and the deadline it waits on,
and the three steps as POST actions.

Reads come from ``signoff.selectors`` through ``signoff.export`` (the overview page's own read: the
same villages, states and counts, scoped by ``accounts.access.scope``); writes call the services the
pages call, after the same checks in the same order: the village through ``access_area`` (404 for a
missing and a foreign one alike), then the role's write kind (403), then the service (400 with its
Chinese message when the month is not at that step)."""

import datetime
from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import access_area, require_write, scope
from accounts.models import User
from accounts.types import api_actor
from areas.choices import AreaLevel
from areas.models import Area
from deadlines.workdays import WorkCalendar, work_calendar
from signoff import export, selectors, services
from signoff.models import Action, SignoffStep, Snapshot

DECISIONS = {str(Action.APPROVE.label): Action.APPROVE, str(Action.RETURN.label): Action.RETURN}


# --- shapes ---------------------------------------------------------------------------------------


class SignoffStepSerializer(serializers.Serializer):
    action = serializers.CharField(help_text="提交 / 审核通过 / 退回")
    level = serializers.CharField(help_text="村（社区） / 乡镇初审 / 县级审定")
    user = serializers.CharField(allow_null=True, help_text="操作人（姓名）")
    at = serializers.DateTimeField()
    note = serializers.CharField(allow_blank=True)


class DueSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="等待的环节：初审 / 审定")
    date = serializers.DateField(help_text="办理时限（该日为最后一个工作日）")
    state = serializers.CharField(help_text="正常 / 临期 / 逾期")
    working_days_left = serializers.IntegerField()
    working_days_late = serializers.IntegerField()


class SnapshotSerializer(serializers.Serializer):
    taken_at = serializers.DateTimeField()
    households_active = serializers.IntegerField()
    households_cancelled = serializers.IntegerField()
    persons_active = serializers.IntegerField()
    persons_cancelled = serializers.IntegerField()
    records_sha256 = serializers.CharField()


class ChangedSerializer(serializers.Serializer):
    entity = serializers.CharField(help_text="household / person")
    label = serializers.CharField(help_text="户主姓名或成员姓名")  # type: ignore[assignment]  # a DRF declared field
    household = serializers.CharField(help_text="户编号")
    last_at = serializers.DateTimeField()
    writes = serializers.IntegerField()


class VillageMonthSerializer(serializers.Serializer):
    village = serializers.CharField(help_text="村（社区）代码")
    village_name = serializers.CharField()
    township = serializers.CharField(help_text="乡镇（街道）代码")
    county = serializers.CharField(help_text="县市区代码")
    month = serializers.CharField(help_text="YYYY-MM")
    state = serializers.CharField(help_text="未提交 / 已提交 / 乡镇已初审 / 已审定 / 已退回 / 审定后有修改")
    changes_since_approval = serializers.IntegerField(help_text="审定后修改过的户和人员数")
    submitted_at = serializers.DateTimeField(allow_null=True)
    township_at = serializers.DateTimeField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    due = DueSerializer(allow_null=True)
    steps = SignoffStepSerializer(many=True)


class VillageMonthDetailSerializer(VillageMonthSerializer):
    snapshot = SnapshotSerializer(allow_null=True)
    changed = ChangedSerializer(many=True, help_text="审定后修改过的户和人员（最近的在前）")


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=list(DECISIONS), help_text="审核通过 / 退回")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class SubmitSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


def _step(step: SignoffStep) -> dict[str, Any]:
    return {
        "action": step.get_action_display(),
        "level": step.get_level_display(),
        "user": str(step.user) if step.user else None,
        "at": step.at,
        "note": step.note,
    }


def _due(due: selectors.Due | None, calendar: WorkCalendar, today: datetime.date) -> dict[str, Any] | None:
    if due is None:
        return None
    return {
        "step": due.step,
        "date": due.date,
        "state": str(export.DUE_LABELS[due.state]),
        "working_days_left": max(calendar.working_days_between(today, due.date), 0),
        "working_days_late": due.late,
    }


def month_data(
    row: selectors.Row, month: str, steps: list[SignoffStep], calendar: WorkCalendar, today: datetime.date
) -> dict[str, Any]:
    vm, village = row.month, row.village
    return {
        "village": village.code,
        "village_name": village.name,
        "township": village.township_code,
        "county": village.county_code,
        "month": month,
        "state": export.shown_state(row),
        "changes_since_approval": row.changes,
        "submitted_at": vm.submitted_at if vm else None,
        "township_at": vm.township_at if vm else None,
        "approved_at": vm.approved_at if vm else None,
        "due": _due(row.due, calendar, today),
        "steps": [_step(step) for step in steps],
    }


def _snapshot(snapshot: Snapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {
        "taken_at": snapshot.taken_at,
        "households_active": snapshot.households_active,
        "households_cancelled": snapshot.households_cancelled,
        "persons_active": snapshot.persons_active,
        "persons_cancelled": snapshot.persons_cancelled,
        "records_sha256": snapshot.records_sha256,
    }


# --- parsing --------------------------------------------------------------------------------------


def _month(text: str | None, today: datetime.date) -> str | None:
    return selectors.parse_month(text, today)


def home_area(actor: User) -> Area | None:
    """The area a list covers by default: the user's own, the city's for the city roles."""
    if actor.area_id is not None:
        return actor.area
    return scope(Area.objects.filter(level=AreaLevel.CITY), actor).first()


def _village(actor: User, code: str) -> Area:
    area = access_area(actor, code)
    if area.level != AreaLevel.VILLAGE:
        raise Http404
    return area


MONTH_PARAM = OpenApiParameter("month", str, description="月份 YYYY-MM（默认本月；不晚于本月）")
LIST_PARAMS = [
    MONTH_PARAM,
    OpenApiParameter(
        "area", str, description="区划代码（县市区、乡镇或村）：只列该区划内的村；辖区外与不存在的代码一样为空"
    ),
    OpenApiParameter("state", str, enum=list(export.state_choices()), description="状态"),
]
PATH_PARAMS = [
    OpenApiParameter("village", str, OpenApiParameter.PATH, description="村（社区）代码"),
    OpenApiParameter("month", str, OpenApiParameter.PATH, description="月份 YYYY-MM"),
]


class VillageMonthViewSet(viewsets.GenericViewSet):
    """村月度审核: ``signoff/`` lists every village of the user's area for a month (those without a row
    yet as 未提交), ``signoff/{村代码}/{月份}/`` is one village's month."""

    serializer_class = VillageMonthSerializer
    filter_backends: list = []

    @extend_schema(parameters=LIST_PARAMS, responses=VillageMonthSerializer(many=True))
    def list(self, request: Request) -> Response:
        actor, today = api_actor(request), timezone.localdate()
        params = request.query_params
        month = _month(params.get("month"), today) if params.get("month") else selectors.month_of(today)
        if month is None:
            raise ValidationError({"month": [_("月份格式应为 YYYY-MM，且不晚于本月。")]})
        states = export.state_choices()
        state = params.get("state") or None
        if state is not None and state not in states:
            raise ValidationError({"state": [_("“%(value)s”不是有效的状态。") % {"value": state}]})
        area = home_area(actor)
        if params.get("area"):
            # A code outside the area lists nothing, exactly like one that does not exist.
            area = scope(Area.objects.filter(code=params["area"]), actor).first()
        rows = export.month_rows(actor, area, month, today) if area is not None else []
        page = self.paginate_queryset(export.filter_rows(rows, states.get(state or ""))) or []
        steps, calendar = export.steps_of(page), work_calendar()
        data = [
            month_data(row, month, steps.get(row.month.pk, []) if row.month else [], calendar, today) for row in page
        ]
        return self.get_paginated_response(VillageMonthSerializer(data, many=True).data)

    @extend_schema(parameters=PATH_PARAMS, responses=VillageMonthDetailSerializer)
    def retrieve(self, request: Request, village: str, month: str) -> Response:
        actor, today = api_actor(request), timezone.localdate()
        area = _village(actor, village)
        key = _month(month, today)
        if key is None:
            raise Http404
        return Response(self._detail(actor, area, key, today))

    def _detail(self, actor: User, area: Area, month: str, today: datetime.date) -> dict[str, Any]:
        page = selectors.village_page(actor, area, month, today)
        vm = page["village_month"]
        row = selectors.Row(area, vm, page["state"], str(page["state_label"]), len(page["changed"]), page["due"])
        data = month_data(row, month, page["steps"], work_calendar(), today)
        data["snapshot"] = _snapshot(page["snapshot"])
        data["changed"] = [
            {
                "entity": item.entity,
                "label": item.label,
                "household": item.household_code,
                "last_at": item.last_at,
                "writes": item.writes,
            }
            for item in page["changed"]
        ]
        return VillageMonthDetailSerializer(data).data

    def _act(self, request: Request, village: str, month: str, kind: str) -> Response:
        actor, today = api_actor(request), timezone.localdate()
        area = _village(actor, village)  # 404 outside the area before 403 for the role
        key = _month(month, today)
        if key is None:
            raise Http404
        require_write(actor, kind)
        serializer = (SubmitSerializer if kind == "signoff_submit" else ReviewSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = serializer.validated_data["note"]
        if kind == "signoff_submit":
            services.submit(actor, area, key, note)
        else:
            review = services.township_review if kind == "signoff_township" else services.county_review
            review(actor, area, key, DECISIONS[serializer.validated_data["decision"]], note)
        return Response(self._detail(actor, area, key, today))

    @extend_schema(parameters=PATH_PARAMS, request=SubmitSerializer, responses=VillageMonthDetailSerializer)
    def submit(self, request: Request, village: str, month: str) -> Response:
        """村 提交 (village staff; township staff for a village without village staff)."""
        return self._act(request, village, month, "signoff_submit")

    @extend_schema(parameters=PATH_PARAMS, request=ReviewSerializer, responses=VillageMonthDetailSerializer)
    def township_review(self, request: Request, village: str, month: str) -> Response:
        """乡镇初审 of a submitted month: 审核通过, or 退回 with a reason."""
        return self._act(request, village, month, "signoff_township")

    @extend_schema(parameters=PATH_PARAMS, request=ReviewSerializer, responses=VillageMonthDetailSerializer)
    def county_review(self, request: Request, village: str, month: str) -> Response:
        """县级审定 of a month the township approved (or changed since its approval): 审核通过 or 退回."""
        return self._act(request, village, month, "signoff_county")
