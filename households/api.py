"""REST API v1 of the registry (interfaces.md, HTTP API): areas, sites, households, persons, incomes,
petitions, follow-up actions and import jobs.

Thin views: a serializer checks the request's shape, ``households.services`` does the work (scope,
validation, history with channel "api", change feed), and ``accounts.access`` scopes every queryset
and masks personal data. Records outside the user's area answer 404 (``access_object``); a write the
role may not make answers 403; a reference to a code outside the area answers 400 with the message of
an unknown code. Every list is fetched in a fixed number of queries, however many rows it has.
"""

from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import personal_data
from accounts.access import access_object, require_write, scope, sees_personal_data
from accounts.types import api_actor
from accounts.viewsets import ReadViewSet
from areas.models import Area
from core.api import CodeFilterSet, neutral_duplicate
from core.money import yuan_to_fen
from households import (
    id_lookup,
    import_jobs,
    selectors,
    services,
)
from households.choices import (
    ActionKind,
    ActionStatus,
    Channel,
    Employment,
    GrievanceStatus,
    GrievanceTopic,
    HouseholdCategory,
    Monitoring,
    RecordStatus,
)
from households.importing import kind_names
from households.models import (
    FollowUpAction,
    Grievance,
    Household,
    ImportJob,
    Income,
    Person,
    Site,
)
from households.serializers import (
    LEVEL_BY_WORD,
    ActionInputSerializer,
    ActionPatchSerializer,
    ActionSerializer,
    AreaSerializer,
    GrievanceInputSerializer,
    GrievancePatchSerializer,
    GrievanceSerializer,
    HouseholdInputSerializer,
    HouseholdPatchSerializer,
    HouseholdSerializer,
    ImportJobSerializer,
    ImportUploadSerializer,
    IncomeInputSerializer,
    IncomePatchSerializer,
    IncomeSerializer,
    PersonInputSerializer,
    PersonPatchSerializer,
    PersonSerializer,
    SiteInputSerializer,
    SitePatchSerializer,
    SiteSerializer,
    is_masked,
)
from households.validators import normalise_id_number

API = Channel.API

# --- errors and the schema ------------------------------------------------------------------------


# --- shared plumbing ------------------------------------------------------------------------------


def full_id_hash(request: Request, id_number: str, channel: str) -> str:
    """The blind index of a lookup by full ID number, checked, counted and logged (issue 17 finding 4):
    403 for a role that may not search by ID number, 429 above the hourly limit, whether or not the
    number exists."""
    try:
        return id_lookup.full_id_search(
            actor=api_actor(request), id_number=id_number, channel=channel, ip_address=request.META.get("REMOTE_ADDR")
        )
    except id_lookup.IdLookupRefused as exc:
        raise (Throttled(detail=exc.message) if exc.throttled else PermissionDenied(exc.message)) from exc


# --- areas ---------------------------------------------------------------------------------------


class AreaFilter(CodeFilterSet):
    level = django_filters.ChoiceFilter(
        choices=[(word, word) for word in LEVEL_BY_WORD],
        method="filter_level",
        help_text="city/county/township/village",
    )
    parent = django_filters.CharFilter(field_name="parent__code", help_text="上级区划代码")

    def filter_level(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(level=LEVEL_BY_WORD[value])

    class Meta:
        model = Area
        fields = ["level", "parent"]


class AreaViewSet(ReadViewSet):
    """The area tree (区划) the user may see."""

    output_serializer = AreaSerializer
    filterset_class = AreaFilter

    def base_queryset(self) -> QuerySet:
        return Area.objects.select_related("parent").order_by("code")


# --- sites ---------------------------------------------------------------------------------------


def site_population() -> Count:
    """Active persons in active households of the site (data.md: never typed in)."""
    return Count(
        "households__members",
        filter=Q(households__status=RecordStatus.ACTIVE, households__members__status=RecordStatus.ACTIVE),
    )


class SiteFilter(CodeFilterSet):
    village = django_filters.CharFilter(field_name="village__code", help_text="所在村社区代码")
    township = django_filters.CharFilter(field_name="township_code", help_text="乡镇代码")
    kind = django_filters.ChoiceFilter(choices=Site._meta.get_field("kind").choices)

    class Meta:
        model = Site
        fields = ["village", "township", "kind"]


@extend_schema_view(
    create=extend_schema(request=SiteInputSerializer, responses={201: SiteSerializer}),
    partial_update=extend_schema(request=SitePatchSerializer, responses=SiteSerializer),
)
class SiteViewSet(ReadViewSet):
    """安置点, with the computed ``population``."""

    output_serializer = SiteSerializer
    filterset_class = SiteFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self) -> QuerySet:
        return Site.objects.select_related("village").annotate(population=site_population()).order_by("code")

    def create(self, request: Request) -> Response:
        require_write(api_actor(request), "sites")
        data = self.validated(SiteInputSerializer)
        code = data.pop("code")
        if Site.objects.filter(code=code).exists():
            raise neutral_duplicate("code", _("安置点编码"))
        village = data.pop("village")
        site = services.site_save(actor=api_actor(request), code=code, village_code=village, data=data, channel=API)
        return self.answer(site, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, code: str) -> Response:
        site = self.get_object()
        data = self.validated(SitePatchSerializer)
        village = data.pop("village", None) or site.village.code
        site = services.site_save(
            actor=api_actor(request), code=site.code, village_code=village, data=data, channel=API
        )
        return self.answer(site)


# --- households ----------------------------------------------------------------------------------


def _cancel_of(data: dict[str, Any]) -> dict[str, Any] | None:
    """A body's ``status: 已注销`` with its date (today when not given) and reason, which the
    serializers require, taken out of ``data`` as the cancel services' keywords (the portal's 注销
    pages call the same services, issue 20). None when the body does not cancel."""
    cancelled_on = data.pop("cancelled_on", None)
    reason = data.pop("cancel_reason", "")
    if data.get("status") != RecordStatus.CANCELLED:
        return None
    data.pop("status")
    return {"cancelled_on": cancelled_on or timezone.localdate(), "reason": reason}


class HouseholdFilter(CodeFilterSet):
    """Validated here, applied by ``selectors.household_list`` (the same search as the pages)."""

    village = django_filters.CharFilter(help_text="现居村社区代码")
    site = django_filters.CharFilter(help_text="安置点编码")
    category = django_filters.ChoiceFilter(choices=HouseholdCategory.choices)
    monitoring = django_filters.ChoiceFilter(choices=Monitoring.choices)
    status = django_filters.ChoiceFilter(choices=RecordStatus.choices)
    q = django_filters.CharFilter(
        help_text="户编号或户主、成员姓名（部分匹配）；完整身份证号仅限可查看身份证号的用户，每次查询都记录在案"
    )

    class Meta:
        model = Household
        fields = ["village", "site", "category", "monitoring", "status", "q"]


@extend_schema_view(
    create=extend_schema(request=HouseholdInputSerializer, responses={201: HouseholdSerializer}),
    partial_update=extend_schema(request=HouseholdPatchSerializer, responses=HouseholdSerializer),
)
class HouseholdViewSet(ReadViewSet):
    """搬迁户. A PATCH with another ``village`` transfers the household (county officials); ``status``
    已注销 cancels it and its members."""

    output_serializer = HouseholdSerializer
    filterset_class = HouseholdFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self) -> QuerySet:
        return Household.objects.select_related("village", "site", "origin").annotate(
            member_count=Count("members", filter=Q(members__status=RecordStatus.ACTIVE))
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action != "list":
            return queryset
        filterset = HouseholdFilter(self.request.query_params, queryset=queryset, request=self.request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        filters = {name: value for name, value in filterset.form.cleaned_data.items() if value}
        if selectors.looks_like_id_number(filters.get("q", "")):  # the same rule as the page search
            filters["id_hash"] = full_id_hash(self.request, filters.pop("q"), "API 户查询")
        households = selectors.household_list(actor=api_actor(self.request), filters=filters)
        return households.select_related("origin")

    def _references(self, data: dict[str, Any]) -> None:
        actor = api_actor(self.request)
        if "site" in data:
            data["site"] = selectors.site_reference(actor, data["site"]) if data["site"] else None
        if "origin" in data:
            data["origin"] = selectors.origin_reference(actor, data["origin"]) if data["origin"] else None
        if "dividend" in data:
            data["dividend"] = yuan_to_fen(data["dividend"])

    @transaction.atomic
    def create(self, request: Request) -> Response:
        require_write(api_actor(request), "households")
        data = self.validated(HouseholdInputSerializer)
        code, village = data.pop("code"), data.pop("village")
        if Household.objects.filter(code=code).exists():
            raise neutral_duplicate("code", _("户编号"))
        phone = data.pop("phone", "")
        cancel = _cancel_of(data)
        self._references(data)
        household = services.household_register(
            actor=api_actor(request), code=code, village_code=village, data=data, phone=phone, channel=API
        )
        if cancel is not None:
            household = services.household_cancel(actor=api_actor(request), household=household, channel=API, **cancel)
        return self.answer(household, status.HTTP_201_CREATED)

    @transaction.atomic
    def partial_update(self, request: Request, code: str) -> Response:
        actor = api_actor(request)
        household = self.get_object()
        data = self.validated(HouseholdPatchSerializer)
        village = data.pop("village", None)
        if village and village != household.village.code:
            household = services.household_transfer(actor=actor, household=household, village_code=village, channel=API)
        cancel = _cancel_of(data)
        wanted_status = data.pop("status", None)
        phone = data.pop("phone", None)
        if phone is not None and is_masked(phone):
            phone = None  # the masked phone read back: unchanged
        self._references(data)
        if data or phone is not None:
            household = services.household_update(actor=actor, household=household, data=data, phone=phone, channel=API)
        if cancel is not None and household.status != RecordStatus.CANCELLED:
            household = services.household_cancel(actor=actor, household=household, channel=API, **cancel)
        elif wanted_status == RecordStatus.ACTIVE and household.status == RecordStatus.CANCELLED:
            raise DjangoValidationError({"status": _("已注销的户不能在此恢复，请通过导入或联系县级管理员。")})
        return self.answer(household)


# --- persons -------------------------------------------------------------------------------------


class PersonFilter(CodeFilterSet):
    household = django_filters.CharFilter(field_name="household__code", help_text="户编号")
    status = django_filters.ChoiceFilter(choices=RecordStatus.choices)
    employment = django_filters.ChoiceFilter(choices=Employment.choices)

    class Meta:
        model = Person
        fields = ["household", "status", "employment"]


@extend_schema_view(
    create=extend_schema(request=PersonInputSerializer, responses={201: PersonSerializer}),
    partial_update=extend_schema(request=PersonPatchSerializer, responses=PersonSerializer),
    retrieve=extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)]),
)
class PersonViewSet(ReadViewSet):
    """家庭成员. A person's key is the ID number, which never travels in a URL: single persons are
    addressed by their numeric ``id``. ``id_number`` is input; answers show it as the role may see it."""

    output_serializer = PersonSerializer
    filterset_class = PersonFilter
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self) -> QuerySet:
        return Person.objects.select_related("household").order_by("household__code", "id")

    def get_object(self) -> Any:
        return access_object(self.scoped_queryset(), api_actor(self.request), pk=self.kwargs["id"])

    @services.counts_foreign_ids  # outside the transaction: its log survives a refused write
    @transaction.atomic
    def create(self, request: Request) -> Response:
        actor = api_actor(request)
        require_write(actor, "persons")
        data = self.validated(PersonInputSerializer)
        household = selectors.household_reference(actor, data.pop("household"))
        id_number = data.pop("id_number")
        cancel = _cancel_of(data)
        data.pop("status", None)
        person = services.person_create(actor=actor, household=household, id_number=id_number, data=data, channel=API)
        if cancel is not None:
            person = services.person_cancel(actor=actor, person=person, channel=API, **cancel)
        return self.answer(person, status.HTTP_201_CREATED)

    @services.counts_foreign_ids  # outside the transaction: its log survives a refused write
    @transaction.atomic
    def partial_update(self, request: Request, id: str) -> Response:  # noqa: A002 - the URL keyword
        actor = api_actor(request)
        person = self.get_object()
        # Before comparing numbers: a 200 for "same number" beside a 403 would confirm a full ID.
        require_write(actor, "persons")
        data = self.validated(PersonPatchSerializer)
        id_number = normalise_id_number(data.pop("id_number", "") or "")
        # A masked number (as read back by a masked role) or the stored one: nothing to change.
        if id_number and not is_masked(id_number) and personal_data.blind_index(id_number) != person.id_number_hash:
            person = services.person_correct_id_number(actor=actor, person=person, id_number=id_number, channel=API)
        cancel = _cancel_of(data)
        if data:
            person = services.person_update(actor=actor, person=person, data=data, channel=API)
        if cancel is not None and person.status != RecordStatus.CANCELLED:
            # After the other fields, as the last history entry; an already cancelled person keeps
            # the date and reason it was cancelled with.
            person = services.person_cancel(actor=actor, person=person, channel=API, **cancel)
        return self.answer(person)


# --- incomes -------------------------------------------------------------------------------------


class IncomeFilter(CodeFilterSet):
    household = django_filters.CharFilter(field_name="household__code", help_text="户编号")
    year = django_filters.NumberFilter()

    class Meta:
        model = Income
        fields = ["household", "year"]


@extend_schema_view(
    create=extend_schema(request=IncomeInputSerializer, responses={201: IncomeSerializer}),
    partial_update=extend_schema(request=IncomePatchSerializer, responses=IncomeSerializer),
)
class IncomeViewSet(ReadViewSet):
    """收入, one row per household and year, addressed as ``incomes/{household}/{year}/``."""

    output_serializer = IncomeSerializer
    filterset_class = IncomeFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self) -> QuerySet:
        return Income.objects.select_related("household").order_by("household__code", "year")

    def scoped_queryset(self) -> QuerySet:
        # Incomes carry no area codes: they are scoped through their household.
        households = scope(Household.objects.all(), api_actor(self.request))
        return self.base_queryset().filter(household__in=households)

    def get_object(self) -> Any:
        # Already scoped through the household: the lookup itself answers 404.
        return get_object_or_404(
            self.scoped_queryset(), household__code=self.kwargs["household"], year=self.kwargs["year"]
        )

    @transaction.atomic
    def create(self, request: Request) -> Response:
        actor = api_actor(request)
        require_write(actor, "incomes")
        data = self.validated(IncomeInputSerializer)
        household = selectors.household_reference(actor, data["household"])
        if Income.objects.filter(household=household, year=data["year"]).exists():
            raise DjangoValidationError(
                {"year": _("该户 %(year)s 年度的收入已登记，请用 PATCH 修改。") % {"year": data["year"]}}
            )
        income = services.income_set(
            actor=actor,
            household=household,
            year=data["year"],
            size=data["size"],
            per_capita_income_fen=yuan_to_fen(data["per_capita_income"]),
            channel=API,
        )
        return self.answer(income, status.HTTP_201_CREATED)

    @transaction.atomic
    def partial_update(self, request: Request, household: str, year: int) -> Response:
        income = self.get_object()
        data = self.validated(IncomePatchSerializer)
        amount = yuan_to_fen(data["per_capita_income"]) if "per_capita_income" in data else income.per_capita_income
        income = services.income_set(
            actor=api_actor(request),
            household=income.household,
            year=income.year,
            size=data.get("size", income.size),
            per_capita_income_fen=amount,
            channel=API,
        )
        return self.answer(income)


# --- petitions -----------------------------------------------------------------------------------


class GrievanceFilter(CodeFilterSet):
    village = django_filters.CharFilter(field_name="village__code", help_text="所在村社区代码")
    site = django_filters.CharFilter(field_name="site__code", help_text="安置点编码")
    household = django_filters.CharFilter(field_name="household__code", help_text="户编号")
    status = django_filters.ChoiceFilter(choices=GrievanceStatus.choices)
    topic = django_filters.ChoiceFilter(choices=GrievanceTopic.choices)

    class Meta:
        model = Grievance
        fields = ["village", "site", "household", "status", "topic"]


@extend_schema_view(
    create=extend_schema(request=GrievanceInputSerializer, responses={201: GrievanceSerializer}),
    partial_update=extend_schema(request=GrievancePatchSerializer, responses=GrievanceSerializer),
)
class GrievanceViewSet(ReadViewSet):
    """信访舆情. County officials may close a petition (``status`` 已办结); village and township staff
    write everything else."""

    output_serializer = GrievanceSerializer
    filterset_class = GrievanceFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self) -> QuerySet:
        return Grievance.objects.select_related("village", "site", "household").order_by("code")

    def _references(self, data: dict[str, Any], current: Grievance | None) -> str:
        """Resolve site and household codes; returns the village code (given, or theirs)."""
        actor = api_actor(self.request)
        if data.get("site"):
            data["site"] = selectors.site_reference(actor, data["site"])
        elif "site" in data:
            data["site"] = None
        if data.get("household"):
            data["household"] = selectors.household_reference(actor, data["household"])
        elif "household" in data:
            data["household"] = None
        village = data.pop("village", "") or ""
        if not village:
            related = data.get("household") or data.get("site")
            village = related.village.code if related else (current.village.code if current else "")
        if not village:
            raise DjangoValidationError({"village": _("请填写所在村社区代码（或户编号、安置点编码）。")})
        return village

    @transaction.atomic
    def create(self, request: Request) -> Response:
        actor = api_actor(request)
        require_write(actor, "grievances")
        data = self.validated(GrievanceInputSerializer)
        code = data.pop("code", "") or services.grievance_next_code()
        if Grievance.objects.filter(code=code).exists():
            raise neutral_duplicate("code", _("事项编号"))
        village = self._references(data, None)
        grievance = services.grievance_save(actor=actor, code=code, village_code=village, data=data, channel=API)
        return self.answer(grievance, status.HTTP_201_CREATED)

    @transaction.atomic
    def partial_update(self, request: Request, code: str) -> Response:
        grievance = self.get_object()
        data = self.validated(GrievancePatchSerializer)
        village = self._references(data, grievance)
        grievance = services.grievance_save(
            actor=api_actor(request), code=grievance.code, village_code=village, data=data, channel=API
        )
        return self.answer(grievance)


# --- follow-up actions ---------------------------------------------------------------------------


class ActionFilter(CodeFilterSet):
    household = django_filters.CharFilter(field_name="household__code", help_text="户编号")
    site = django_filters.CharFilter(field_name="site__code", help_text="安置点编码")
    status = django_filters.ChoiceFilter(choices=ActionStatus.choices)
    kind = django_filters.ChoiceFilter(choices=ActionKind.choices)
    indicator = django_filters.CharFilter(help_text="指标代码，如 M3-2")

    class Meta:
        model = FollowUpAction
        fields = ["household", "site", "status", "kind", "indicator"]


@extend_schema_view(
    create=extend_schema(request=ActionInputSerializer, responses={201: ActionSerializer}),
    partial_update=extend_schema(request=ActionPatchSerializer, responses=ActionSerializer),
)
class ActionViewSet(ReadViewSet):
    """帮扶台账. ``person`` is a member's ID number (input), shown as the role may see it."""

    output_serializer = ActionSerializer
    filterset_class = ActionFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self) -> QuerySet:
        return FollowUpAction.objects.select_related("household", "site", "person").order_by("code")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """A member named by full ID number confirms or denies that number (issue 17 finding 4): for a
        role that sees ID numbers masked it is checked, counted and logged here, before the write's
        transaction, so the log stays when the write is refused."""
        super().initial(request, *args, **kwargs)
        if self.action not in ("create", "partial_update") or sees_personal_data(api_actor(request)):
            return
        value = request.data.get("person") if hasattr(request.data, "get") else None
        if isinstance(value, str) and selectors.looks_like_id_number(value):
            full_id_hash(request, value, "API 帮扶台账成员")

    def _person(self, data: dict[str, Any], household: Household | None) -> None:
        if "person" not in data:
            return
        value = normalise_id_number(data.pop("person") or "")
        if not value:
            data["person"] = None
        elif not is_masked(value):  # a masked number read back: unchanged
            data["person"] = selectors.member_reference(api_actor(self.request), household, id_number=value)

    @transaction.atomic
    def create(self, request: Request) -> Response:
        actor = api_actor(request)
        require_write(actor, "actions")
        data = self.validated(ActionInputSerializer)
        code = data.pop("code", "") or ""
        if code and FollowUpAction.objects.filter(code=code).exists():
            raise neutral_duplicate("code", _("台账编号"))
        household_code, site_code = data.pop("household", None), data.pop("site", None)
        household = selectors.household_reference(actor, household_code) if household_code else None
        site = selectors.site_reference(actor, site_code) if site_code else None
        self._person(data, household)
        if code:
            data["code"] = code
        record = services.action_create(actor=actor, data=data, household=household, site=site, channel=API)
        return self.answer(record, status.HTTP_201_CREATED)

    @transaction.atomic
    def partial_update(self, request: Request, code: str) -> Response:
        record = self.get_object()
        data = self.validated(ActionPatchSerializer)
        self._person(data, record.household)
        record = services.action_update(actor=api_actor(request), action=record, data=data, channel=API)
        return self.answer(record)


# --- imports -------------------------------------------------------------------------------------


class ImportViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """导入任务. ``POST imports/`` uploads a template file and queues its dry run (nothing written);
    ``POST imports/{id}/confirm/`` queues the import (all or nothing); ``GET imports/{id}/`` answers
    status, progress, counts and the row errors. The same jobs and tasks as the web page
    (``households.import_jobs``); a user sees only the jobs they started."""

    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]
    throttle_scope = "imports"
    lookup_value_regex = "[0-9]+"
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.objects.none()
        return import_jobs.import_job_list(actor=api_actor(self.request))

    def get_object(self) -> ImportJob:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["id"])

    def _answer(self, job: ImportJob, code: int = status.HTTP_200_OK) -> Response:
        # Without a broker the task already ran on commit; with one, the job shows its progress.
        job.refresh_from_db()
        return Response(ImportJobSerializer(job, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, responses={201: ImportJobSerializer})
    def create(self, request: Request) -> Response:
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        kind, file = upload.validated_data["kind"], upload.validated_data["file"]
        if kind not in kind_names():
            raise ValidationError({"kind": [_("未知的数据类型“%(kind)s”，可选：%(kinds)s。") % {
                "kind": kind, "kinds": "、".join(kind_names())}]})  # fmt: skip
        job = import_jobs.import_job_create(actor=api_actor(request), kind=kind, upload=file, channel=API)
        return self._answer(job, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ImportJobSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, id: str) -> Response:  # noqa: A002 - the URL keyword
        """Import a previewed file for real (all or nothing)."""
        job = import_jobs.import_job_confirm(actor=api_actor(request), job=self.get_object())
        return self._answer(job)

    @extend_schema(request=None, responses=ImportJobSerializer)
    @action(detail=True, methods=["post"])
    def abandon(self, request: Request, id: str) -> Response:  # noqa: A002 - the URL keyword
        """Give up an import that has not run: the uploaded file is deleted."""
        job = import_jobs.import_job_abandon(actor=api_actor(request), job=self.get_object())
        return self._answer(job)
