"""The rules of the indicators: which records each indicator counts, as filters.

Per record family a ``(denominator filter, numerator filter)`` pair per indicator: ``Q`` objects on
``Household``, ``Person`` and ``Grievance``, and Python predicates on a site's flags and population
(sites are few). The counting passes (``passes``) and the 清零清单 (``indicators.selectors``) share
them, so a list and its count can never disagree.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from households.choices import (
    LABOUR_FORCE,
    MONITORED,
    Employment,
    GrievanceStatus,
    HouseholdCategory,
    HousingHazard,
    RecordStatus,
    SafetyNet,
    Schooling,
    SiteKind,
)
from households.validators import age_on

# --- ages and windows ---------------------------------------------------------------------------


def years_before(reference: datetime.date, years: int) -> datetime.date:
    """The latest birth date of someone aged at least ``years`` on ``reference``.

    A person born on 29 February has a birthday on 1 March in common years, so when ``reference``
    minus ``years`` would be 29 February of a common year the cut-off is 28 February.
    """
    try:
        return reference.replace(year=reference.year - years)
    except ValueError:  # 29 February → common year
        return datetime.date(reference.year - years, 2, 28)


def age_between(reference: datetime.date, low: int, high: int, prefix: str = "") -> Q:
    """Aged ``low``..``high`` whole years (inclusive) on ``reference``, from ``birth_date`` in SQL."""
    return Q(**{f"{prefix}birth_date__lte": years_before(reference, low)}) & Q(
        **{f"{prefix}birth_date__gt": years_before(reference, high + 1)}
    )


def age_at_least(reference: datetime.date, years: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}birth_date__lte": years_before(reference, years)})


def age_below(reference: datetime.date, years: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}birth_date__gt": years_before(reference, years)})


# --- the rules: (denominator filter, numerator filter) per indicator and family ------------------

Rule = tuple[Q | None, Q]  # (denominator or None for count kinds, numerator)


def _rate(denominator: Q, condition: Q) -> Rule:
    return denominator, denominator & condition


ACTIVE_HOUSEHOLD = Q(status=RecordStatus.ACTIVE)
ACTIVE_PERSON = Q(status=RecordStatus.ACTIVE, household__status=RecordStatus.ACTIVE)


def household_rules(reference: datetime.date) -> dict[str, Rule]:
    """On ``Household``, within active households."""
    poor = Q(category=HouseholdCategory.REGISTERED_POOR)
    return {
        "M2-2": _rate(Q(), ~Q(industry_project="")),
        "M2-5": (None, Q(dividend__gt=0)),
        # The members with LABOUR_FORCE_MEMBER, and with EMPLOYED too, counted by triggers on persons
        # (households.models). An employed labour-force member is one: the numerator needs no "and".
        "M3-3": (Q(labour_force_members__gt=0), Q(employed_labour_force_members__gt=0)),
        "M4-1": _rate(Q(), Q(housing_hazard__in=[HousingHazard.NONE, HousingHazard.FIXED])),
        "M7-1": _rate(Q(safety_net_eligible=True), Q(safety_net__in=[SafetyNet.DIBAO, SafetyNet.TEKUN])),
        "M7-2": _rate(Q(monitoring__in=MONITORED), Q(monitoring_assisted=True)),
        "M7-3": _rate(poor, ~Q(helper="")),
        "M8-1": _rate(poor, Q(tap_water=True)),
        "M8-2": (None, Q(seasonal_water_shortage=True)),
    }


EMPLOYMENT_CHECK_DAYS = 90  # M3-1 (indicators.md): the 就业信息更新日期 counts for 90 days; data quality says the same


def employment_checked(reference: datetime.date) -> Q:
    """就业信息 checked in the ``EMPLOYMENT_CHECK_DAYS`` up to ``reference`` (both ends; a later date
    does not count): M3-1's numerator, and what the data-quality warning ``employment_stale`` negates."""
    since = reference - datetime.timedelta(days=EMPLOYMENT_CHECK_DAYS)
    return Q(employment_checked_on__gte=since, employment_checked_on__lte=reference)


def person_rules(reference: datetime.date) -> dict[str, Rule]:
    """On ``Person``, within active persons of active households."""
    poor = Q(household__category=HouseholdCategory.REGISTERED_POOR)
    labour_force = Q(labour__in=LABOUR_FORCE)
    employed = ~Q(employment=Employment.UNEMPLOYED)
    year_start = datetime.date(reference.year, 1, 1)
    return {
        "M3-1": _rate(labour_force, employment_checked(reference)),
        "M3-2": _rate(labour_force & Q(wants_work=True), employed),
        "M3-4": (None, Q(employment=Employment.PUBLIC_WELFARE)),
        "M3-6": _rate(poor & Q(wants_training=True), Q(trained_on__gte=year_start, trained_on__lte=reference)),
        "M3-7": _rate(poor & Q(employment=Employment.MIGRANT), Q(transport_subsidy=True)),
        # Gross rate: the numerator is not a subset of the denominator (any age 在园).
        "M5-1": (poor & age_between(reference, 3, 5), poor & Q(schooling=Schooling.KINDERGARTEN)),
        "M5-2": _rate(
            poor & age_between(reference, 6, 15), ~Q(schooling__in=[Schooling.DROPPED_OUT, Schooling.NOT_IN_SCHOOL])
        ),
        "M5-3": _rate(Q(hardship_student=True), Q(student_aid=True)),
        "M6-2": _rate(Q(), Q(family_doctor=True)),
        "M6-3": _rate(Q(), Q(medical_insurance=True)),
    }


def petition_rules(reference: datetime.date) -> dict[str, Rule]:
    """On ``Grievance``: received in the calendar year up to the reference date, plus carried over."""
    year_start = datetime.date(reference.year, 1, 1)
    window = Q(received_on__lte=reference) & (
        Q(received_on__gte=year_start) | ~Q(status=GrievanceStatus.RESOLVED, resolved_on__lt=year_start)
    )
    resolved = window & Q(status=GrievanceStatus.RESOLVED, resolved_on__lte=reference)
    return {"M1-6": (window, resolved), "M1-7": (resolved, resolved & Q(resolved_in_village=True))}


SiteRow = dict[str, Any]
SITE_500, SITE_800 = 500, 800  # the 500+ and 800+ sites of indicators.md
SITE_THRESHOLDS = (SITE_500, SITE_800)  # the only populations a site rule compares with
SitePredicate = Callable[[SiteRow, int], bool]


def _sites(
    condition: Callable[[SiteRow], bool], *, min_population: int = 0, kind: str | None = None
) -> tuple[SitePredicate, SitePredicate]:
    def denominator(site: SiteRow, population: int) -> bool:
        return population >= min_population and (kind is None or site["kind"] == kind)

    def numerator(site: SiteRow, population: int) -> bool:
        return denominator(site, population) and condition(site)

    return denominator, numerator


def _flag(*names: str) -> Callable[[SiteRow], bool]:
    return lambda site: all(site[name] for name in names)


SITE_RULES: dict[str, tuple[SitePredicate | None, SitePredicate]] = {
    "M1-1": _sites(_flag("party_org")),
    "M1-2": _sites(_flag("self_gov_org")),
    "M1-3": _sites(_flag("one_stop_centre"), min_population=SITE_800),
    "M1-4": _sites(_flag("first_secretary", "work_team")),
    "M1-5": _sites(
        _flag("governance_centre", "public_assistance", "convenience_store", "social_orgs"),
        min_population=SITE_800,
    ),
    "M2-1": _sites(_flag("industry_plan")),
    "M2-3": _sites(_flag("industry_base")),
    "M4-2": _sites(_flag("property_management"), min_population=SITE_500),
    "M4-3": _sites(_flag("complete_community"), kind=SiteKind.URBAN),
    "M4-4": (None, lambda site, population: bool(site["smart_community"])),
    "M5-4": _sites(_flag("kindergarten"), min_population=SITE_800),
    "M6-1": _sites(_flag("medical_facility")),
    "M8-3": (
        lambda site, population: bool(site["ceremony_hall_needed"]),
        lambda site, population: bool(site["ceremony_hall_needed"] and site["ceremony_hall"]),
    ),
    "M8-4": (
        lambda site, population: bool(site["tool_storage_needed"]),
        lambda site, population: bool(site["tool_storage_needed"] and site["tool_storage"]),
    ),
    "M8-5": _sites(_flag("public_transport")),
    "M10-1": _sites(_flag("cultural_venue")),
}
SITE_FIELDS = sorted(
    {
        "party_org", "self_gov_org", "one_stop_centre", "first_secretary", "work_team", "governance_centre",
        "public_assistance", "convenience_store", "social_orgs", "industry_plan", "industry_base",
        "property_management", "complete_community", "smart_community", "kindergarten", "medical_facility",
        "cultural_venue", "public_transport", "ceremony_hall_needed", "ceremony_hall", "tool_storage_needed",
        "tool_storage", "kind",
    }
)  # fmt: skip


# --- why a record is on a 清零清单 ------------------------------------------------------------------
# One function per rule above, from the record's own columns (those the list query already loads: no
# query per row), so a list row says in words which rule put it there and with which value.

Reason = Callable[[Any, datetime.date], str]


def _day(value: datetime.date | None) -> str:
    return value.isoformat() if value is not None else ""


def _employment_check(person: Any, reference: datetime.date) -> str:
    checked = person.employment_checked_on
    if checked is None:
        return _("未登记就业信息更新日期")
    if checked > reference:
        return _("就业信息 %(date)s 核实，晚于参考日期 %(reference)s") % {
            "date": _day(checked),
            "reference": _day(reference),
        }
    return _("就业信息 %(date)s 核实，已超过 %(days)s 天") % {"date": _day(checked), "days": EMPLOYMENT_CHECK_DAYS}


def _training(person: Any, reference: datetime.date) -> str:
    trained = person.trained_on
    if trained is None:
        return _("有培训意愿，未参加过培训")
    if trained > reference:
        return _("最近培训 %(date)s，晚于参考日期 %(reference)s") % {
            "date": _day(trained),
            "reference": _day(reference),
        }
    return _("有培训意愿，最近培训 %(date)s，%(year)s 年未参加培训") % {"date": _day(trained), "year": reference.year}


def _welfare_post_lost(person: Any, reference: datetime.date) -> str:
    if person.status != RecordStatus.ACTIVE or person.household.status != RecordStatus.ACTIVE:
        return _("上期末在公益性岗位，现已注销")
    return _("上期末在公益性岗位，现为%(employment)s") % {"employment": person.get_employment_display()}


def _kindergarten(person: Any, reference: datetime.date) -> str:
    return _("%(age)s 岁未入园（%(schooling)s）") % {
        "age": age_on(person.birth_date, reference),
        "schooling": person.get_schooling_display(),
    }


def _compulsory_schooling(person: Any, reference: datetime.date) -> str:
    age = age_on(person.birth_date, reference)
    if person.schooling == Schooling.DROPPED_OUT:
        return _("适龄（%(age)s 岁）辍学") % {"age": age}
    return _("适龄（%(age)s 岁）未入学") % {"age": age}


def _housing(household: Any, reference: datetime.date) -> str:
    return _("住房安全隐患：%(hazard)s") % {"hazard": household.get_housing_hazard_display()}


def _safety_net(household: Any, reference: datetime.date) -> str:
    return _("符合兜底保障条件，未纳入低保或特困（现为%(net)s）") % {"net": household.get_safety_net_display()}


def _monitoring(household: Any, reference: datetime.date) -> str:
    return _("%(monitoring)s，未落实帮扶措施") % {"monitoring": household.get_monitoring_display()}


def _labour_without_work(household: Any, reference: datetime.date) -> str:
    return _("有劳动力 %(count)s 人，无人就业") % {"count": household.labour_force_members}


def _petition_open(petition: Any, reference: datetime.date) -> str:
    if petition.status == GrievanceStatus.RESOLVED and petition.resolved_on is not None:
        return _("%(received)s 受理，%(resolved)s 办结，晚于参考日期") % {
            "received": _day(petition.received_on),
            "resolved": _day(petition.resolved_on),
        }
    return _("%(received)s 受理，至参考日期未办结") % {"received": _day(petition.received_on)}


def _petition_outside(petition: Any, reference: datetime.date) -> str:
    return _("%(resolved)s 办结，未在村（社区）内解决") % {"resolved": _day(petition.resolved_on)}


def _fixed(text: Promise) -> Reason:
    """A rule whose record has no value to name beyond the one the sentence states."""
    return lambda record, reference: str(text)


def _site_missing(*names: str, floor: int | None = None) -> Reason:
    """A site rule: the facilities the site lacks, with its population when the rule has a threshold."""

    def reason(site: Any, reference: datetime.date) -> str:
        missing = "、".join(str(site._meta.get_field(name).verbose_name) for name in names if not getattr(site, name))
        population = getattr(site, "population", None)  # set by the list (``_failing_sites``)
        if floor is None or population is None:
            return _("未配套%(missing)s") % {"missing": missing}
        return _("安置 %(population)s 人（%(floor)s 人以上），未配套%(missing)s") % {
            "population": population,
            "floor": floor,
            "missing": missing,
        }

    return reason


def _finance_share(part: str, whole: str, label: Promise) -> Reason:
    """A county finance row behind M9-1 or M9-2: the share the rule compares, from the row's own sums."""

    def reason(row: Any, reference: datetime.date) -> str:
        base = getattr(row, whole)
        share = f"{getattr(row, part) * 1000 // base / 10}%" if base else "—"
        return _("%(year)s 年%(label)s %(share)s") % {"year": row.year, "label": label, "share": share}

    return reason


PERSON_REASONS: dict[str, Reason] = {
    "M3-1": _employment_check,
    "M3-2": _fixed(_lazy("有就业意愿，未就业")),
    "M3-4": _welfare_post_lost,
    "M3-6": _training,
    "M3-7": _fixed(_lazy("外出务工，未发放交通补助")),
    "M5-1": _kindergarten,
    "M5-2": _compulsory_schooling,
    "M5-3": _fixed(_lazy("困难学生，未获资助")),
    "M6-2": _fixed(_lazy("未签约家庭医生")),
    "M6-3": _fixed(_lazy("未参加基本医疗保险")),
}
HOUSEHOLD_REASONS: dict[str, Reason] = {
    "M2-2": _fixed(_lazy("未登记后扶产业项目")),
    "M3-3": _labour_without_work,
    "M4-1": _housing,
    "M7-1": _safety_net,
    "M7-2": _monitoring,
    "M7-3": _fixed(_lazy("建档立卡户，未落实结对帮扶人")),
    "M8-1": _fixed(_lazy("未通自来水")),
    "M8-2": _fixed(_lazy("季节性缺水")),
}
PETITION_REASONS: dict[str, Reason] = {"M1-6": _petition_open, "M1-7": _petition_outside}
SITE_REASONS: dict[str, Reason] = {
    "M1-1": _site_missing("party_org"),
    "M1-2": _site_missing("self_gov_org"),
    "M1-3": _site_missing("one_stop_centre", floor=SITE_800),
    "M1-4": _site_missing("first_secretary", "work_team"),
    "M1-5": _site_missing("governance_centre", "public_assistance", "convenience_store", "social_orgs", floor=SITE_800),
    "M2-1": _site_missing("industry_plan"),
    "M2-3": _site_missing("industry_base"),
    "M4-2": _site_missing("property_management", floor=SITE_500),
    "M4-3": _fixed(_lazy("城镇安置点，未达到完整居住社区标准")),
    "M5-4": _site_missing("kindergarten", floor=SITE_800),
    "M6-1": _site_missing("medical_facility"),
    "M8-3": _fixed(_lazy("有红白喜事场所需求，未配套")),
    "M8-4": _fixed(_lazy("有农具存放需求，未配套")),
    "M8-5": _site_missing("public_transport"),
    "M10-1": _site_missing("cultural_venue"),
}
FINANCE_REASONS: dict[str, Reason] = {
    "M9-1": _finance_share("proceeds_to_households", "asset_proceeds", _lazy("盘活资产收益用于搬迁户")),
    "M9-2": _finance_share("linkage_to_relocation", "linkage_funds", _lazy("衔接资金用于搬迁后扶")),
}
REASONS: dict[str, Reason] = {
    **PERSON_REASONS,
    **HOUSEHOLD_REASONS,
    **PETITION_REASONS,
    **SITE_REASONS,
    **FINANCE_REASONS,
    "M2-4": _fixed(_lazy("乡镇有安置点，未建后扶产业园")),
}
"""Why a record is on each 清零清单, keyed like the rules (M3-5's reason comes with its list)."""


def reason(code: str, record: Any, reference: datetime.date) -> str:
    """Why ``record`` is on ``code``'s 清零清单 at ``reference`` (empty for a code without a rule)."""
    explain = REASONS.get(code)
    return explain(record, reference) if explain is not None else ""


# --- what fixes a record on a 清零清单 ------------------------------------------------------------------


@dataclass(frozen=True)
class Fix:
    """The one field whose new value takes a record off a list, set from the list row itself (issue 20):
    ``True``, or today's date when ``today`` (a 就业信息 checked today)."""

    record: str  # "person" or "household": the list's rows
    field: str
    label: Promise  # the row's button
    confirm: Promise  # the bulk confirmation, with %(count)s
    done: Promise  # after a bulk fix, with %(count)s
    today: bool = False

    @property
    def write_kind(self) -> str:
        """The ``accounts.access.can_write`` kind the fix needs."""
        return "persons" if self.record == "person" else "households"


FIXES: dict[str, Fix] = {
    "M3-1": Fix(
        "person",
        "employment_checked_on",
        _lazy("确认就业（今天）"),
        _lazy("将为 %(count)s 人确认今日就业信息，确定吗？"),
        _lazy("已为 %(count)s 人确认今日就业信息。"),
        today=True,
    ),
    "M6-2": Fix(
        "person",
        "family_doctor",
        _lazy("设为已签约家庭医生"),
        _lazy("将为 %(count)s 人设为已签约家庭医生，确定吗？"),
        _lazy("已为 %(count)s 人设为已签约家庭医生。"),
    ),
    "M6-3": Fix(
        "person",
        "medical_insurance",
        _lazy("设为已参保"),
        _lazy("将为 %(count)s 人设为已参加基本医疗保险，确定吗？"),
        _lazy("已为 %(count)s 人设为已参加基本医疗保险。"),
    ),
    "M8-1": Fix(
        "household",
        "tap_water",
        _lazy("记录自来水"),
        _lazy("将为 %(count)s 户记录已通自来水，确定吗？"),
        _lazy("已为 %(count)s 户记录已通自来水。"),
    ),
}
"""The 清零清单 a row can be fixed from (the rest need work done first, not a record corrected)."""
