"""Forms of the township workspace. They only parse what was typed; the services validate the
records and write them. Service errors come back onto the form with ``apply_service_errors``."""

from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import yuan_to_fen
from households.choices import (
    ActionKind,
    ActionStatus,
    Employment,
    GrievanceStatus,
    GrievanceTopic,
    HouseholdCategory,
    HousingHazard,
    Labour,
    Monitoring,
    RecordStatus,
    Relation,
    SafetyNet,
    Schooling,
)
from households.services import PERSON_FIELDS
from households.validators import (
    INDICATOR_CODE_VALIDATORS,
    RECORD_CODE_VALIDATORS,
    validate_due_date,
    validate_household_size,
    validate_past_date,
    validate_phone,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

BLANK = [("", _("— 请选择 —"))]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def yes_no(label: "StrOrPromise") -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False)


def choice(
    label: "StrOrPromise", choices: Any, *, required: bool = True, initial: str | None = None
) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=BLANK + list(choices), required=required, initial=initial)


def money(label: "StrOrPromise", *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        help_text=_("单位：元，最多两位小数"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


def set_choices(form: forms.BaseForm, name: str, choices: list[tuple[str, Any]]) -> None:
    """The options of a choice field that depend on the actor (villages, sites, members).
    ``form.fields`` is typed ``Field``: every name passed here is declared a ``ChoiceField``."""
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def _message_fields() -> dict[str, str]:
    """Constraint messages (households.models), in the current language, and their field."""
    return {
        str(_("每户只能有一名状态为“正常”的户主。")): "relation",
        str(_("该身份证号已在系统中登记，请联系县级管理员")): "id_number",
    }


def apply_service_errors(form: forms.BaseForm, error: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError beside the fields it names; anything else goes on top."""
    field_map = field_map or {}
    message_fields = _message_fields()
    errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    for key, messages in errors.items():
        for message in messages:
            # Database constraints checked by full_clean() come without a field: place the known ones.
            name = message_fields.get(message, key) if key == NON_FIELD_ERRORS else field_map.get(key, key)
            form.add_error(name if name in form.fields else None, message)


def attach_id_check(form: forms.BaseForm, field_name: str = "id_number") -> None:
    """The live ID validator: htmx posts the value when the user leaves the field."""
    bound = form[field_name]
    bound.field.widget.attrs.update(
        {
            "hx-post": reverse("household_validate_id"),
            "hx-trigger": "change",
            "hx-target": f"#{bound.auto_id}_check",
            "hx-swap": "innerHTML",
            "aria-describedby": f"{bound.auto_id}_helptext {bound.auto_id}_check {bound.auto_id}_error",
            "autocomplete": "off",
            "spellcheck": "false",
        }
    )


class AreaChoiceField(forms.ChoiceField):
    """The actor's villages as options; any other code typed in is left to the services, which say
    whether it is missing or outside the area (issue 20), instead of Django's "选择一个有效的选项"."""

    def valid_value(self, value: Any) -> bool:
        return True


class HouseholdForm(forms.Form):
    code = forms.CharField(label=_("户编号"), max_length=40, validators=RECORD_CODE_VALIDATORS)
    head_name = forms.CharField(label=_("户主姓名"), max_length=50)
    village = AreaChoiceField(label=_("现居村（社区）"))
    site = forms.ChoiceField(label=_("安置点"), required=False, help_text=_("留空表示分散安置"))
    origin = forms.CharField(label=_("迁出地代码"), max_length=12, required=False, help_text=_("区划代码，可留空"))
    relocation_year = forms.IntegerField(label=_("搬迁年份"), required=False, min_value=2001)
    category = choice(_("户类型"), HouseholdCategory.choices)
    monitoring = choice(_("监测对象类别"), Monitoring.choices, initial=Monitoring.NONE)
    monitoring_assisted = yes_no(_("帮扶措施已落实"))
    housing_hazard = choice(_("住房安全隐患"), HousingHazard.choices, initial=HousingHazard.NONE)
    tap_water = yes_no(_("自来水"))
    seasonal_water_shortage = yes_no(_("季节性缺水"))
    industry_project = forms.CharField(label=_("后扶产业项目"), max_length=200, required=False)
    dividend = money(_("产业分红金额（元/年）"), required=False)
    safety_net_eligible = yes_no(_("符合兜底条件"))
    safety_net = choice(_("兜底保障类型"), SafetyNet.choices, initial=SafetyNet.NONE)
    helper = forms.CharField(label=_("结对帮扶人"), max_length=50, required=False)
    contact = forms.CharField(label=_("结对联系人"), max_length=50, required=False)
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def __init__(
        self,
        *args: Any,
        villages: list[tuple[str, str]],
        sites: list[tuple[str, str]],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "village", BLANK + [(code, f"{name}（{code}）") for code, name in villages])
        set_choices(
            self, "site", [("", _("分散安置（无安置点）"))] + [(code, f"{name}（{code}）") for code, name in sites]
        )
        this_year = timezone.localdate().year
        self.fields["relocation_year"].validators.append(MaxValueValidator(this_year))
        self.fields["relocation_year"].widget.attrs["max"] = str(this_year)
        if editing:
            # The code and the village are fixed here: moving a household is a transfer.
            del self.fields["code"]
            del self.fields["village"]

    def clean_phone(self) -> str:
        return validate_phone(self.cleaned_data["phone"])

    def service_data(self) -> dict[str, Any]:
        """The fields as ``household_register``/``household_update`` take them (site/origin resolved by the view)."""
        data = self.cleaned_data
        return {
            "head_name": data["head_name"],
            "relocation_year": data["relocation_year"],
            "category": data["category"],
            "monitoring": data["monitoring"] or Monitoring.NONE,
            "monitoring_assisted": data["monitoring_assisted"],
            "housing_hazard": data["housing_hazard"] or HousingHazard.NONE,
            "tap_water": data["tap_water"],
            "seasonal_water_shortage": data["seasonal_water_shortage"],
            "industry_project": data["industry_project"],
            "dividend": yuan_to_fen(data["dividend"]),
            "safety_net_eligible": data["safety_net_eligible"],
            "safety_net": data["safety_net"] or SafetyNet.NONE,
            "helper": data["helper"],
            "contact": data["contact"],
        }


# The fields a person form hands to the services: exactly those the services accept.
PERSON_DATA_FIELDS = tuple(sorted(PERSON_FIELDS))


class PersonForm(forms.Form):
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=30,
        help_text=_("18 位，最后一位可为 X；离开此栏时自动校验"),
    )
    name = forms.CharField(label=_("姓名"), max_length=50)
    relation = choice(_("与户主关系"), Relation.choices)
    status = forms.ChoiceField(label=_("状态"), choices=RecordStatus.choices, initial=RecordStatus.ACTIVE)
    labour = choice(_("劳动能力"), Labour.choices)
    wants_work = yes_no(_("就业意愿"))
    employment = forms.ChoiceField(label=_("就业状态"), choices=Employment.choices, initial=Employment.UNEMPLOYED)
    employment_checked_on = forms.DateField(
        label=_("就业信息更新日期"),
        required=False,
        widget=DateInput(),
        validators=[validate_past_date],
        help_text=_("有劳动能力（普通、技能、弱或半劳动力）的人员必填"),
    )
    work_place = forms.CharField(label=_("务工地点"), max_length=100, required=False)
    transport_subsidy = yes_no(_("交通补助已发放"))
    wants_training = yes_no(_("培训意愿"))
    trained_on = forms.DateField(
        label=_("最近培训日期"), required=False, widget=DateInput(), validators=[validate_past_date]
    )
    schooling = forms.ChoiceField(label=_("在校情况"), choices=Schooling.choices, initial=Schooling.NOT_IN_SCHOOL)
    hardship_student = yes_no(_("困难学生"))
    student_aid = yes_no(_("已获资助"))
    medical_insurance = yes_no(_("基本医疗保险"))
    family_doctor = yes_no(_("家庭医生签约"))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # A mistyped ID number is corrected by its own recorded action, not by editing.
            del self.fields["id_number"]
        else:
            del self.fields["status"]
            attach_id_check(self)

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in PERSON_DATA_FIELDS}
        if "status" in self.fields:
            data["status"] = self.cleaned_data["status"]
        return data


class MemberForm(PersonForm):
    """A member typed together with a new household; an untouched extra form is skipped."""

    use_required_attribute = False


class BaseMemberFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        """At least a 户主, checked beside the members' own errors (one pass, issue 20); a member whose
        关系 did not parse has its own error instead."""
        typed = [form for form in self.forms if form.has_changed()]
        if any("relation" in form.errors for form in typed):
            return
        heads = [form for form in typed if form.cleaned_data.get("relation") == Relation.HEAD]
        if not heads:
            raise ValidationError(_("请至少填写户主本人的信息（与户主关系选“户主”）。"))


MemberFormSet = forms.formset_factory(MemberForm, formset=BaseMemberFormSet, extra=2, min_num=1, validate_min=True)


class IncomeForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2016)
    size = forms.IntegerField(label=_("家庭人口数"), min_value=1, validators=[validate_household_size])
    per_capita_income = money(_("人均可支配收入（元）"))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].widget.attrs["max"] = str(timezone.localdate().year)
        if editing:
            self.fields["year"].disabled = True


class GrievanceForm(forms.Form):
    code = forms.CharField(
        label=_("事项编号"),
        max_length=40,
        required=False,
        help_text=_("留空则自动生成"),
        validators=RECORD_CODE_VALIDATORS,
    )
    site = forms.ChoiceField(label=_("安置点"), required=False)
    received_on = forms.DateField(label=_("受理日期"), widget=DateInput(), validators=[validate_past_date])
    topic = forms.ChoiceField(label=_("事项类别"), choices=GrievanceTopic.choices, initial=GrievanceTopic.OTHER)
    content = forms.CharField(label=_("反映内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    handling = forms.CharField(label=_("办理情况"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    status = forms.ChoiceField(
        label=_("办理状态"), choices=GrievanceStatus.choices, initial=GrievanceStatus.IN_PROGRESS
    )
    resolved_on = forms.DateField(
        label=_("办结日期"),
        required=False,
        widget=DateInput(),
        help_text=_("已办结时必填，不早于受理日期"),
        validators=[validate_past_date],
    )
    resolved_in_village = yes_no(_("村社区内解决"))

    def __init__(self, *args: Any, sites: list[tuple[str, str]], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "site", [("", _("不涉及安置点"))] + [(code, f"{name}（{code}）") for code, name in sites])
        if editing:
            del self.fields["code"]

    def service_data(self) -> dict[str, Any]:
        names = ("received_on", "topic", "content", "handling", "status", "resolved_on", "resolved_in_village")
        return {name: self.cleaned_data[name] for name in names}


class ActionForm(forms.Form):
    kind = forms.ChoiceField(label=_("帮扶类别"), choices=ActionKind.choices, initial=ActionKind.OTHER)
    person = forms.ChoiceField(label=_("涉及成员"), required=False)
    indicator = forms.CharField(
        label=_("指标代码"),
        max_length=8,
        required=False,
        help_text=_("如 M3-2，可留空"),
        validators=INDICATOR_CODE_VALIDATORS,
    )
    description = forms.CharField(label=_("措施内容"), widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.CharField(label=_("责任人"), max_length=50)
    due_on = forms.DateField(label=_("期限"), required=False, widget=DateInput(), validators=[validate_due_date])
    status = forms.ChoiceField(label=_("办理状态"), choices=ActionStatus.choices, initial=ActionStatus.TODO)
    done_on = forms.DateField(
        label=_("完成日期"),
        required=False,
        widget=DateInput(),
        help_text=_("已完成时必填"),
        validators=[validate_past_date],
    )
    visit_note = forms.CharField(label=_("走访记录"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "person", [("", _("整户"))] + [(str(pk), name) for pk, name in members])

    def service_data(self) -> dict[str, Any]:
        names = ("kind", "indicator", "description", "owner", "due_on", "status", "done_on", "visit_note")
        return {name: self.cleaned_data[name] for name in names}


class EmploymentQuickForm(forms.Form):
    employment = forms.ChoiceField(label=_("就业状态"), choices=Employment.choices)
