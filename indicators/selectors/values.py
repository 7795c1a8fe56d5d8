"""Reads of the indicator engine: the 清零清单 behind a value, the gap to a target, data-quality
warnings and scores, and the 预警清单 (indicators.md, "Kinds of target" and "Beyond the catalogue").

The lists use the very filters the engine counts with (``indicators.engine.rules``), so a list's length equals
the count behind its value. Querysets are returned where the records are rows of one table (so they
paginate in SQL); computed lists (sites judged against their population, M3-4, M3-5, warnings) are
Python lists. Scoping to what a user may see is the caller's job (``accounts.access.scope``).
"""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from areas.choices import AreaLevel
from areas.models import Area
from areas.selectors import within
from households.choices import (
    LABOUR_FORCE,
    Employment,
    Labour,
    Monitoring,
    MonitoringDecisionKind,
    RecordStatus,
    Relation,
    Schooling,
)
from households.models import (
    Grievance,
    HistoryEntry,
    Household,
    Income,
    MonitoringDecision,
    Person,
    Site,
)
from indicators.catalogue import BY_CODE
from indicators.engine import judging, rules
from indicators.engine.periods import period_bounds, previous_key
from indicators.models import CityStatistic, CountyFinance, IndicatorValue, Kind, MonitoringLine, Period

# --- scoping a list to one area or site ------------------------------------------------------------


def _household_scope(area: Area | None, site: Site | None, prefix: str = "") -> Q:
    if site is not None:
        return Q(**{f"{prefix}site": site})
    return within(area, prefix)


# --- the 清零清单 ---------------------------------------------------------------------------------


def failing_records(*, value: IndicatorValue) -> QuerySet | list[Any]:
    """The records behind one stored value that keep it from its target."""
    return failing_records_for(
        code=value.indicator.code,
        reference_date=value.reference_date,
        period=value.period,
        area=value.area,
        site=value.site,
    )


def failing_records_for(
    *,
    code: str,
    reference_date: datetime.date,
    period: Period | None = None,
    area: Area | None = None,
    site: Site | None = None,
) -> QuerySet | list[Any]:
    """The 清零清单 of ``code`` for ``area`` (None = the city) or ``site`` at ``reference_date``."""
    household_rules = rules.household_rules(reference_date)
    person_rules = rules.person_rules(reference_date)
    petition_rules = rules.petition_rules(reference_date)
    if code in rules.SITE_RULES:
        return _failing_sites(code, area, site)
    if code == "M2-4":
        if site is not None:
            return Area.objects.none()
        townships = Area.objects.filter(level=AreaLevel.TOWNSHIP, has_industrial_park=False).filter(
            Exists(Site.objects.filter(township_code=OuterRef("code")))
        )
        return townships.filter(within(area)) if area is None or area.level != AreaLevel.VILLAGE else townships.none()
    if code in household_rules:
        denominator, numerator = household_rules[code]
        households = Household.objects.filter(rules.ACTIVE_HOUSEHOLD, _household_scope(area, site))
        if denominator is None:  # zero kind: the records counted
            return households.filter(numerator).order_by("code")
        return households.filter(denominator).exclude(numerator).order_by("code")
    if code in person_rules:
        persons = Person.objects.filter(rules.ACTIVE_PERSON, _household_scope(area, site, "household__"))
        denominator, numerator = person_rules[code]
        if code == "M5-1":  # the 净入园 list: aged 3–5 and not 在园, even when the gross rate is met
            return persons.filter(denominator).exclude(schooling=Schooling.KINDERGARTEN).order_by("household_id", "id")
        if code == "M3-4":
            return public_welfare_losses(period=period, area=area, site=site)
        return persons.filter(denominator).exclude(numerator).order_by("household_id", "id")
    if code in petition_rules:
        denominator, numerator = petition_rules[code]
        petitions = Grievance.objects.filter(Q(site=site) if site is not None else within(area))
        return petitions.filter(denominator).exclude(numerator).order_by("code")
    if code == "M3-5":
        return income_growth_shortfalls(reference_date=reference_date, area=area, site=site)
    if code in ("M9-1", "M9-2"):
        years = [reference_date.year] if code == "M9-1" else [reference_date.year - 1, reference_date.year]
        rows = CountyFinance.objects.filter(year__in=years).select_related("county")
        if area is not None and area.level == AreaLevel.COUNTY:
            rows = rows.filter(county=area)
        elif site is not None or (area is not None and area.level != AreaLevel.CITY):
            rows = rows.none()
        return rows.order_by("county__code", "year")
    return []


def list_kind(code: str, reference_date: datetime.date) -> str:
    """What a row of ``code``'s 清零清单 is, decided as ``failing_records_for`` decides (one branch
    each): person, household, shortfall (M3-5's households with a reason), site, petition,
    township (M2-4) or finance (M9-1, M9-2 and any code without a list)."""
    if code in rules.SITE_RULES:
        return "site"
    if code == "M2-4":
        return "township"
    if code in rules.household_rules(reference_date):
        return "household"
    if code in rules.person_rules(reference_date):
        return "person"
    if code in rules.petition_rules(reference_date):
        return "petition"
    if code == "M3-5":
        return "shortfall"
    return "finance"


def _failing_sites(code: str, area: Area | None, site: Site | None) -> list[Site]:
    denominator, numerator = rules.SITE_RULES[code]
    sites = Site.objects.filter(Q(pk=site.pk) if site is not None else within(area)).order_by("code")
    population = dict(
        Person.objects.filter(rules.ACTIVE_PERSON, household__site__in=sites)
        .order_by()
        .values_list("household__site_id")
        .annotate(persons=Count("id"))
    )
    failing = []
    for candidate in sites:
        row = {name: getattr(candidate, name) for name in rules.SITE_FIELDS}
        people = population.get(candidate.pk, 0)
        if denominator is not None and denominator(row, people) and not numerator(row, people):
            # Read like a queryset annotation (the site list, the API's failing records).
            candidate.population = people  # type: ignore[attr-defined]  # an ad-hoc attribute on the model
            failing.append(candidate)
    return failing


@dataclass
class IncomeShortfall:
    household: Household
    reason: str
    growth: Fraction | None = None  # the household's own per-capita growth, in percent


def income_growth_shortfalls(
    *, reference_date: datetime.date, area: Area | None = None, site: Site | None = None
) -> list[IncomeShortfall]:
    """M3-5's list: households missing an income row for Y or Y−1 first, then households whose own
    per-capita income grew less than the city's growth + 2 pp (slowest first)."""
    year = reference_date.year
    households = Household.objects.filter(rules.ACTIVE_HOUSEHOLD, _household_scope(area, site)).order_by("code")
    incomes: dict[int, dict[int, int]] = defaultdict(dict)
    for household_id, income_year, amount in Income.objects.filter(
        household__in=households, year__in=[year - 1, year]
    ).values_list("household_id", "year", "per_capita_income"):
        incomes[household_id][income_year] = amount
    statistic = CityStatistic.objects.filter(year=year).first()
    target = BY_CODE["M3-5"].target  # the catalogue gives M3-5 its +2 pp
    bar = None if statistic is None or target is None else Fraction(statistic.city_income_growth) + Fraction(target)
    missing, slow = [], []
    for household in households:
        rows = incomes.get(household.pk, {})
        if year not in rows or year - 1 not in rows:
            absent = "、".join(str(y) for y in (year - 1, year) if y not in rows)
            missing.append(IncomeShortfall(household, f"缺少 {absent} 年收入数据"))
            continue
        if bar is None or rows[year - 1] == 0:
            continue
        growth = (Fraction(rows[year], rows[year - 1]) - 1) * 100
        if growth < bar:
            slow.append(
                IncomeShortfall(household, f"人均收入增幅 {float(growth):.1f}% 低于全市增幅 + 2 个百分点", growth)
            )
    slow.sort(key=lambda item: (item.growth, item.household.code))
    return missing + slow


def _period_end_moment(key: str) -> datetime.datetime:
    _start, end = period_bounds(key)
    return timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min))


def public_welfare_losses(*, period: Period | None, area: Area | None = None, site: Site | None = None) -> list[Person]:
    """M3-4's list: persons who held a 公益性岗位 at the previous period's close and no longer do,
    read from the history (entity ``person``, ``before``/``after`` with field ``employment``)."""
    if period is None:
        return []
    closed_at = _period_end_moment(previous_key(period.key))
    first_change: dict[int, dict[str, Any]] = {}
    changes = HistoryEntry.objects.filter(entity="person", at__gte=closed_at, before__has_key="employment").order_by(
        "at", "id"
    )
    for object_id, before in changes.values_list("object_id", "before"):
        first_change.setdefault(object_id, before)
    created_after = set(
        HistoryEntry.objects.filter(entity="person", action=HistoryEntry.Action.CREATE, at__gte=closed_at).values_list(
            "object_id", flat=True
        )
    )
    persons = Person.objects.filter(_household_scope(area, site, "household__")).select_related("household")
    holders = persons.filter(pk__in=[pk for pk, before in first_change.items() if before["employment"] == "公益性岗位"])
    unchanged_holders = persons.filter(employment=Employment.PUBLIC_WELFARE).exclude(pk__in=list(first_change))
    losses = []
    for person in list(holders) + list(unchanged_holders):
        if person.pk in created_after:
            continue
        still_holds = (
            person.status == RecordStatus.ACTIVE
            and person.household.status == RecordStatus.ACTIVE
            and person.employment == Employment.PUBLIC_WELFARE
        )
        if not still_holds:
            losses.append(person)
    return sorted(losses, key=lambda person: (person.household_id, person.pk))


def gap(value: IndicatorValue) -> int | None:
    """How many records must change for ``value`` to meet its target; None when not applicable or
    when no record count can say it (M3-5, M9-x: money and growth, not records)."""
    code = value.indicator.code
    kind = value.indicator.kind
    numerator, denominator, target = value.numerator, value.denominator, value.target
    if value.met == "na" or kind in (Kind.INFO, Kind.GAP_PP) or code == "M9-1":
        return None
    if kind == Kind.ZERO:
        return numerator
    if numerator is None or target is None:  # never for a judged count or rate (the engine stores both)
        return None
    if kind == Kind.RATE:
        needed = math.ceil(Fraction(target) * (denominator or 0) / 100)
        return max(0, needed - numerator)
    return max(0, int(target) - numerator)  # no_decrease: back to the previous count


def gap_text(value: IndicatorValue) -> str:
    """``还差 12 人`` (empty when met, not applicable, or not counted in records)."""
    missing = gap(value)
    if not missing:
        return ""
    return f"还差 {missing} {value.indicator.unit_noun}"


# --- data quality --------------------------------------------------------------------------------

WARNINGS = {
    "labour_age": "劳动能力与年龄不符（16 岁以下或 70 岁以上标为普通/技能劳动力）",
    "schooling_age": "在校情况与年龄不符",
    "employed_no_labour": "丧失劳动力或无劳动力却登记为就业",
    "employment_stale": f"就业信息超过 {rules.EMPLOYMENT_CHECK_DAYS} 天未核实（M3-1 就业动态管理的口径）",
    "no_head": "户内没有状态正常的户主",
    "income_size": "最近一年收入的家庭人口数与正常成员数不符",
}


def _person_warning_qs(reference_date: datetime.date) -> dict[str, Q]:
    young = rules.age_below(reference_date, 16)
    old = rules.age_at_least(reference_date, 71)
    return {
        "labour_age": Q(labour__in=[Labour.ORDINARY, Labour.SKILLED]) & (young | old),
        "schooling_age": (rules.age_between(reference_date, 6, 15) & Q(schooling=Schooling.NOT_IN_SCHOOL))
        | (rules.age_between(reference_date, 3, 5) & Q(schooling=Schooling.PRIMARY))
        | (rules.age_at_least(reference_date, 19) & Q(schooling=Schooling.KINDERGARTEN)),
        "employed_no_labour": Q(labour__in=[Labour.LOST, Labour.NONE]) & ~Q(employment=Employment.UNEMPLOYED),
        # M3-1's own rule (``rules.employment_checked``): a person missing from M3-1 is warned here too.
        "employment_stale": Q(labour__in=LABOUR_FORCE) & ~rules.employment_checked(reference_date),
        "no_head": Q(has_head=False),
        "income_size": Q(latest_income_size__isnull=False) & ~Q(latest_income_size=F("active_members")),
    }


def _persons_with_household_facts() -> QuerySet:
    members = (
        Person.objects.filter(household=OuterRef("household"), status=RecordStatus.ACTIVE)
        .order_by()
        .values("household")
        .annotate(total=Count("id"))
        .values("total")
    )
    latest_size = Income.objects.filter(household=OuterRef("household")).order_by("-year").values("size")[:1]
    head = Person.objects.filter(household=OuterRef("household"), status=RecordStatus.ACTIVE, relation=Relation.HEAD)
    return Person.objects.filter(rules.ACTIVE_PERSON).annotate(
        active_members=Subquery(members), latest_income_size=Subquery(latest_size), has_head=Exists(head)
    )


def data_quality_warnings(*, reference_date: datetime.date, area: Area | None = None) -> list[dict[str, Any]]:
    """Every warning of the active persons in ``area``: ``{"person", "household", "warning", "message"}``."""
    persons = _persons_with_household_facts().filter(within(area, "household__")).select_related("household")
    found = []
    for name, condition in _person_warning_qs(reference_date).items():
        for person in persons.filter(condition).order_by("household__code", "id"):
            found.append({"person": person, "household": person.household, "warning": name, "message": WARNINGS[name]})
    return found


def data_quality_scores(*, reference_date: datetime.date) -> dict[str, dict[str, Any]]:
    """Per township code: active persons, those with no warning, and the score (share, exact)."""
    conditions = _person_warning_qs(reference_date)
    any_warning = Q()
    for condition in conditions.values():
        any_warning |= condition
    rows = (
        _persons_with_household_facts()
        .order_by()
        .values("household__township_code")
        .annotate(persons=Count("id"), warned=Count("id", filter=any_warning))
    )
    scores = {}
    for row in rows:
        clean = row["persons"] - row["warned"]
        score = Fraction(clean, row["persons"]) * 100 if row["persons"] else None
        scores[row["household__township_code"]] = {
            "persons": row["persons"],
            "clean": clean,
            "score": score,
            "score_display": None if score is None else judging.round_half_up(score, 1),
        }
    return scores


# --- early warning (预警清单) ----------------------------------------------------------------------


def early_warnings(*, area: Area | None = None) -> list[dict[str, Any]]:
    """Active households with monitoring 无 whose latest per-capita income is below that year's line or
    fell by 30 % or more from the year before, and labour-force persons who were employed before their
    latest employment change and are now 未就业. A 核实排除 decision clears a warning until a newer
    income row or employment change; 纳入监测 sets the household's category (then it is monitored)."""
    lines = dict(MonitoringLine.objects.values_list("year", "line"))
    households = Household.objects.filter(rules.ACTIVE_HOUSEHOLD, within(area)).order_by("code")
    last_exclusion = dict(
        MonitoringDecision.objects.filter(household__in=households, decision=MonitoringDecisionKind.EXCLUDE)
        .order_by()
        .values_list("household_id")
        .annotate(latest=Max("created_at"))
    )
    incomes: dict[int, list[tuple[int, int, datetime.datetime]]] = defaultdict(list)
    for household_id, year, amount, updated_at in (
        Income.objects.filter(household__in=households.filter(monitoring=Monitoring.NONE))
        .order_by("household_id", "-year")
        .values_list("household_id", "year", "per_capita_income", "updated_at")
    ):
        incomes[household_id].append((year, amount, updated_at))
    by_id = {household.pk: household for household in households}
    warnings = []
    for household_id, rows in incomes.items():
        year, amount, updated_at = rows[0]
        reasons = []
        if year in lines and amount < lines[year]:
            income, line = Decimal(amount) / 100, Decimal(lines[year]) / 100
            reasons.append(f"{year} 年人均可支配收入 {income:.2f} 元低于监测收入线 {line:.2f} 元")
        previous = next((row for row in rows[1:] if row[0] == year - 1), None)
        if previous is not None and previous[1] > 0 and amount * 10 <= previous[1] * 7:
            reasons.append(f"{year} 年人均可支配收入较上年下降 30% 以上")
        excluded_at = last_exclusion.get(household_id)
        if reasons and (excluded_at is None or excluded_at < updated_at):
            household = by_id[household_id]
            warnings.append({"household": household, "person": None, "reason": "；".join(reasons)})
    warnings.extend(_employment_losses(households, last_exclusion))
    return warnings


def _employment_losses(households: QuerySet, last_exclusion: dict[int, datetime.datetime]) -> list[dict[str, Any]]:
    persons = Person.objects.filter(
        status=RecordStatus.ACTIVE,
        household__in=households.filter(monitoring=Monitoring.NONE),
        labour__in=LABOUR_FORCE,
        employment=Employment.UNEMPLOYED,
    ).select_related("household")
    by_id = {person.pk: person for person in persons}
    latest: dict[int, tuple[dict[str, Any], datetime.datetime]] = {}
    for object_id, before, at in (
        HistoryEntry.objects.filter(entity="person", object_id__in=list(by_id), before__has_key="employment")
        .order_by("at", "id")
        .values_list("object_id", "before", "at")
    ):
        latest[object_id] = (before, at)
    found = []
    for object_id, (before, at) in latest.items():
        if before.get("employment") in (None, "", Employment.UNEMPLOYED):
            continue
        person = by_id[object_id]
        excluded_at = last_exclusion.get(person.household_id)
        if excluded_at is None or excluded_at < at:
            found.append(
                {"household": person.household, "person": person, "reason": f"由“{before['employment']}”变为未就业"}
            )
    return found
