"""The rules of the indicators: which records each indicator counts, as filters.

Per record family a ``(denominator filter, numerator filter)`` pair per indicator: ``Q`` objects on
``Household``, ``Person`` and ``Grievance``, and Python predicates on a site's flags and population
(sites are few). The counting passes (``passes``) and the 清零清单 (``indicators.selectors``) share
them, so a list and its count can never disagree.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django.db.models import Q

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


def person_rules(reference: datetime.date) -> dict[str, Rule]:
    """On ``Person``, within active persons of active households."""
    poor = Q(household__category=HouseholdCategory.REGISTERED_POOR)
    labour_force = Q(labour__in=LABOUR_FORCE)
    employed = ~Q(employment=Employment.UNEMPLOYED)
    year_start = datetime.date(reference.year, 1, 1)
    return {
        "M3-1": _rate(
            labour_force,
            Q(employment_checked_on__gte=reference - datetime.timedelta(days=90), employment_checked_on__lte=reference),
        ),
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
        _flag("governance_centre", "public_assistance", "convenience_store", "social_orgs"), min_population=SITE_800
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
