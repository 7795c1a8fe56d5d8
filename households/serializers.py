"""API shapes of the registry (interfaces.md, HTTP API). Serializers check the shape of a request and
render records; every rule, scope check and write is in ``households.services``.

Field names are the keys of ``data.md``; references are codes; choice values are the Chinese values;
money is in yuan (two decimals) on the wire and in fen in the database. ID and phone numbers are
shown as the reader's role may see them (``accounts.access``) and accepted as input.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypedDict, cast

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import personal_data
from accounts.access import display_id_number, display_phone, sees_personal_data
from accounts.models import User
from accounts.types import api_actor
from areas.models import Area
from core.money import fen_to_yuan
from households.choices import (
    ActionKind,
    ActionStatus,
    Employment,
    GrievanceStatus,
    GrievanceTopic,
    HouseholdCancelReason,
    HouseholdCategory,
    HousingHazard,
    Labour,
    Monitoring,
    PersonCancelReason,
    RecordStatus,
    Relation,
    SafetyNet,
    Schooling,
    SiteKind,
)
from households.import_jobs import import_job_errors
from households.importing.monthly import monthly_changes
from households.models import (
    FollowUpAction,
    Grievance,
    Household,
    ImportJob,
    Income,
    Person,
    Site,
)
from households.services import SITE_FIELDS
from households.validators import (
    CHOSEN_ACTION_CODE_VALIDATORS,
    INDICATOR_CODE_VALIDATORS,
    RECORD_CODE_VALIDATORS,
    FieldValidator,
    age_on,
    validate_due_date,
    validate_past_date,
)


class CodeOptions(TypedDict):
    max_length: int
    validators: list[FieldValidator]


class PastOptions(TypedDict):
    validators: list[Callable[[datetime.date | None], None]]


CODE: CodeOptions = {"max_length": 40, "validators": RECORD_CODE_VALIDATORS}
PAST: PastOptions = {"validators": [validate_past_date]}

# The ``level`` words of export_indicators (interfaces.md) for the Chinese levels of data.md.
LEVEL_WORDS = {"市": "city", "县": "county", "乡镇": "township", "村": "village"}
LEVEL_BY_WORD = {word: level for level, word in LEVEL_WORDS.items()}
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


def is_masked(value: str) -> bool:
    """A value the API sent out masked (``431302********1234``, ``138****5678``)."""
    return "*" in (value or "")


def actor_of(serializer: serializers.BaseSerializer) -> User | None:
    """The user the API answers (the permission classes let only a portal user in); ``None``, the
    system, for a serializer used without a request."""
    request = serializer.context.get("request")
    return api_actor(request) if request is not None else None


class Money(serializers.DecimalField):
    """Yuan with two decimals on the wire, whole fen in the database."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{**MONEY, **kwargs})

    def to_representation(self, value: Any) -> Any:
        return super().to_representation(fen_to_yuan(value))


class CodeField(serializers.CharField):
    """A reference to another record by its code; resolved (and scoped) by the view or service."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        related = super().get_attribute(instance)
        return getattr(related, "code", related)


class Choice(serializers.ChoiceField):
    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(choices=choices.choices, **kwargs)


def cancel_checked(attrs: dict[str, Any], reasons: Any) -> dict[str, Any]:
    """``status: 已注销`` cancels as the portal's 注销 page does (issue 20): with a reason, which the
    API requires, and a date (today when not given). Both come only with that status."""
    cancelling = attrs.get("status") == RecordStatus.CANCELLED
    if cancelling and not attrs.get("cancel_reason"):
        raise serializers.ValidationError(
            {"cancel_reason": _("注销时请填写注销原因（%(choices)s）。") % {"choices": "、".join(reasons.values)}}
        )
    if not cancelling and ("cancel_reason" in attrs or "cancelled_on" in attrs):
        raise serializers.ValidationError({"cancel_reason": _("注销原因和注销日期只随状态“已注销”一起填写。")})
    return attrs


# --- areas ---------------------------------------------------------------------------------------


class AreaSerializer(serializers.ModelSerializer):
    level = serializers.SerializerMethodField()
    # A declared field named like ``Field.parent`` (the enclosing serializer): the metaclass moves
    # declared fields into ``_declared_fields``, so the class attribute never shadows it.
    parent = serializers.SerializerMethodField()  # type: ignore[assignment]  # a DRF declared field

    class Meta:
        model = Area
        fields = ["code", "name", "level", "parent", "has_industrial_park"]

    @extend_schema_field({"type": "string", "enum": list(LEVEL_WORDS.values())})
    def get_level(self, area: Area) -> str:
        return LEVEL_WORDS[area.level]

    @extend_schema_field({"type": "string", "nullable": True})
    def get_parent(self, area: Area) -> str | None:
        return area.parent.code if area.parent is not None else None


# --- sites ---------------------------------------------------------------------------------------


SITE_FLAGS = sorted(SITE_FIELDS - {"name", "kind"})


class SiteSerializer(serializers.ModelSerializer):
    """Read shape; ``population`` = active persons in active households of the site (annotated)."""

    village = CodeField()
    population = serializers.IntegerField(read_only=True)

    class Meta:
        model = Site
        fields = ["code", "name", "village", "kind", *SITE_FLAGS, "population"]


class SiteInputSerializer(serializers.Serializer):
    code = serializers.CharField(**CODE)
    name = serializers.CharField(max_length=100)
    village = serializers.CharField(max_length=12)
    kind = Choice(SiteKind)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in SITE_FLAGS:
            fields[name] = serializers.BooleanField(required=False)
        return fields


class SitePatchSerializer(SiteInputSerializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields.pop("code")
        for field in fields.values():
            field.required = False
        return fields


# --- households ----------------------------------------------------------------------------------


class HouseholdSerializer(serializers.ModelSerializer):
    village = CodeField()
    site = CodeField(allow_null=True)
    origin = CodeField(allow_null=True)
    head_id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    dividend = Money()
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Household
        fields = [
            "code", "head_name", "head_id_number", "village", "site", "origin", "relocation_year", "category",
            "status", "cancelled_on", "cancel_reason", "monitoring", "monitoring_assisted", "housing_hazard",
            "tap_water", "seasonal_water_shortage", "industry_project", "dividend", "safety_net_eligible", "safety_net",
            "helper", "contact", "phone", "member_count", "updated_at",
        ]  # fmt: skip

    def _full(self) -> bool:
        return sees_personal_data(actor_of(self))

    def get_head_id_number(self, household: Household) -> str:
        return display_id_number(actor_of(self), household, "head_id_encrypted")

    def get_phone(self, household: Household) -> str:
        plaintext = personal_data.decrypt(household.phone_encrypted) if self._full() else None
        return display_phone(actor_of(self), household.phone_masked, plaintext)


class HouseholdInputSerializer(serializers.Serializer):
    code = serializers.CharField(**CODE)
    head_name = serializers.CharField(max_length=50)
    village = serializers.CharField(max_length=12)
    site = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    origin = serializers.CharField(max_length=12, required=False, allow_blank=True, allow_null=True)
    relocation_year = serializers.IntegerField(required=False, allow_null=True, min_value=2001)
    category = Choice(HouseholdCategory)
    status = Choice(RecordStatus, required=False)
    cancelled_on = serializers.DateField(required=False, **PAST)
    cancel_reason = Choice(HouseholdCancelReason, required=False)
    monitoring = Choice(Monitoring, required=False)
    monitoring_assisted = serializers.BooleanField(required=False)
    housing_hazard = Choice(HousingHazard, required=False)
    tap_water = serializers.BooleanField(required=False)
    seasonal_water_shortage = serializers.BooleanField(required=False)
    industry_project = serializers.CharField(max_length=200, required=False, allow_blank=True)
    dividend = Money(required=False)
    safety_net_eligible = serializers.BooleanField(required=False)
    safety_net = Choice(SafetyNet, required=False)
    helper = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact = serializers.CharField(max_length=50, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)

    def validate_relocation_year(self, value: int | None) -> int | None:
        if value is not None and value > timezone.localdate().year:
            raise serializers.ValidationError(_("搬迁年份不能晚于今年。"))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return cancel_checked(attrs, HouseholdCancelReason)


class HouseholdPatchSerializer(HouseholdInputSerializer):
    """Every field optional; ``code`` comes from the URL. A changed ``village`` is a transfer."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields.pop("code")
        for field in fields.values():
            field.required = False
        return fields


# --- persons -------------------------------------------------------------------------------------


class PersonSerializer(serializers.ModelSerializer):
    """``id_number`` as the reader may see it: full for village/township staff, masked otherwise;
    masked readers get ``age`` and no ``birth_date`` (access.md)."""

    household = CodeField()
    id_number = serializers.SerializerMethodField()
    birth_date = serializers.SerializerMethodField()
    age = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id", "id_number", "name", "household", "relation", "status", "cancelled_on", "cancel_reason", "sex",
            "birth_date", "age", "labour",
            "wants_work", "employment", "employment_checked_on", "work_place", "transport_subsidy", "wants_training",
            "trained_on", "schooling", "hardship_student", "student_aid", "medical_insurance", "family_doctor",
            "updated_at",
        ]  # fmt: skip

    def get_id_number(self, person: Person) -> str:
        return display_id_number(actor_of(self), person)

    @extend_schema_field({"type": "string", "format": "date", "nullable": True})
    def get_birth_date(self, person: Person) -> Any:
        return person.birth_date.isoformat() if sees_personal_data(actor_of(self)) else None

    def get_age(self, person: Person) -> int:
        return age_on(person.birth_date, timezone.localdate())


class PersonInputSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=30, write_only=True)
    name = serializers.CharField(max_length=50)
    household = serializers.CharField(max_length=40)
    relation = Choice(Relation)
    status = Choice(RecordStatus, required=False)
    cancelled_on = serializers.DateField(required=False, **PAST)
    cancel_reason = Choice(PersonCancelReason, required=False)
    labour = Choice(Labour)
    wants_work = serializers.BooleanField(required=False)
    employment = Choice(Employment, required=False)
    employment_checked_on = serializers.DateField(required=False, allow_null=True, **PAST)
    work_place = serializers.CharField(max_length=100, required=False, allow_blank=True)
    transport_subsidy = serializers.BooleanField(required=False)
    wants_training = serializers.BooleanField(required=False)
    trained_on = serializers.DateField(required=False, allow_null=True, **PAST)
    schooling = Choice(Schooling, required=False)
    hardship_student = serializers.BooleanField(required=False)
    student_aid = serializers.BooleanField(required=False)
    medical_insurance = serializers.BooleanField(required=False)
    family_doctor = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return cancel_checked(attrs, PersonCancelReason)


class PersonPatchSerializer(PersonInputSerializer):
    """Every field optional. A masked ``id_number`` (as read back) is ignored; a different full one is
    a correction of a mistyped number. ``household`` cannot change here."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields.pop("household")
        for field in fields.values():
            field.required = False
        cast(serializers.CharField, fields["id_number"]).allow_blank = True  # declared a CharField above
        return fields


# --- incomes -------------------------------------------------------------------------------------


class IncomeSerializer(serializers.ModelSerializer):
    household = CodeField()
    per_capita_income = Money()

    class Meta:
        model = Income
        fields = ["household", "year", "size", "per_capita_income", "updated_at"]


class IncomeInputSerializer(serializers.Serializer):
    household = serializers.CharField(max_length=40)
    year = serializers.IntegerField(min_value=2016, max_value=2100)
    size = serializers.IntegerField(min_value=1, max_value=99)
    per_capita_income = Money()


class IncomePatchSerializer(serializers.Serializer):
    size = serializers.IntegerField(min_value=1, max_value=99, required=False)
    per_capita_income = Money(required=False)


# --- grievances ----------------------------------------------------------------------------------


class GrievanceSerializer(serializers.ModelSerializer):
    village = CodeField()
    site = CodeField(allow_null=True)
    household = CodeField(allow_null=True)

    class Meta:
        model = Grievance
        fields = [
            "code", "site", "household", "village", "received_on", "topic", "content", "handling", "status",
            "resolved_on", "resolved_in_village", "updated_at",
        ]  # fmt: skip


class GrievanceInputSerializer(serializers.Serializer):
    code = serializers.CharField(required=False, allow_blank=True, **CODE)
    site = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    household = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    village = serializers.CharField(max_length=12, required=False, allow_blank=True)
    received_on = serializers.DateField(**PAST)
    topic = Choice(GrievanceTopic, required=False)
    content = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    handling = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    status = Choice(GrievanceStatus)
    resolved_on = serializers.DateField(required=False, allow_null=True, **PAST)
    resolved_in_village = serializers.BooleanField(required=False)


class GrievancePatchSerializer(GrievanceInputSerializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields.pop("code")
        for field in fields.values():
            field.required = False
        return fields


# --- follow-up actions ---------------------------------------------------------------------------


class ActionSerializer(serializers.ModelSerializer):
    household = CodeField(allow_null=True)
    site = CodeField(allow_null=True)
    person = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = FollowUpAction
        fields = [
            "code", "household", "site", "person", "kind", "indicator", "description", "owner", "due_on", "status",
            "done_on", "visit_note", "overdue", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field({"type": "string", "nullable": True})
    def get_person(self, action: FollowUpAction) -> str | None:
        """The member's ID number as the reader may see it."""
        person = action.person  # no query when there is no member (``person_id`` is None)
        if person is None:
            return None
        return display_id_number(actor_of(self), person)

    def get_overdue(self, action: FollowUpAction) -> bool:
        return action.status != ActionStatus.DONE and action.due_on is not None and action.due_on < timezone.localdate()


class ActionInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=40, required=False, allow_blank=True, validators=CHOSEN_ACTION_CODE_VALIDATORS
    )
    household = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    site = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    person = serializers.CharField(max_length=30, required=False, allow_blank=True, allow_null=True)
    kind = Choice(ActionKind, required=False)
    indicator = serializers.CharField(
        max_length=8, required=False, allow_blank=True, validators=INDICATOR_CODE_VALIDATORS
    )
    description = serializers.CharField(max_length=5000)
    owner = serializers.CharField(max_length=50)
    due_on = serializers.DateField(required=False, allow_null=True, validators=[validate_due_date])
    status = Choice(ActionStatus, required=False)
    done_on = serializers.DateField(required=False, allow_null=True, **PAST)
    visit_note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class ActionPatchSerializer(ActionInputSerializer):
    """``household`` and ``site`` are fixed once the action exists."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in ("code", "household", "site"):
            fields.pop(name)
        for field in fields.values():
            field.required = False
        return fields


# --- imports -------------------------------------------------------------------------------------


class ImportJobSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    # Named like ``Serializer.errors``: a declared field (see ``AreaSerializer.parent``).
    errors = serializers.SerializerMethodField()  # type: ignore[assignment]  # a DRF declared field
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "file_name", "status", "status_display", "progress", "total_rows", "created_count",
            "updated_count", "unchanged_count", "errors", "warnings", "created_at", "finished_at",
        ]  # fmt: skip

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "row": {"type": "integer"},
                    "column": {"type": "string"},
                    "value": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        }
    )
    def get_errors(self, job: ImportJob) -> list[dict[str, Any]]:
        """Row errors as the importer kept them: secret cells masked, except for the uploader."""
        return import_job_errors(actor=actor_of(self), job=job)

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_warnings(self, job: ImportJob) -> list[dict[str, Any]]:
        """Warnings, and a monthly update's previewed cell changes as ``monthly_changes`` shows them:
        the typed ID and phone values for the uploader, masked for anyone else, never a ciphertext."""
        changes = monthly_changes(actor=actor_of(self), job=job)
        return [entry for entry in job.warnings or [] if not entry.get("change")] + changes


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=20)
    file = serializers.FileField(max_length=255, allow_empty_file=False)

    MAX_BYTES = 50 * 1024 * 1024

    def validate_file(self, upload: Any) -> Any:
        name = upload.name.lower()
        if not name.endswith((".xlsx", ".xls", ".csv")):
            raise serializers.ValidationError(_("请上传 .xlsx、.xls 或 .csv 文件。"))
        if upload.size > self.MAX_BYTES:
            raise serializers.ValidationError(_("文件过大（上限 50 MB）。"))
        return upload
