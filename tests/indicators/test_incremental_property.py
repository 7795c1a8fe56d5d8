"""The recomputation of changed units agrees with a full recompute, row for row (issue 22,
acceptance 1).

Hypothesis draws sequences of writes through the services a clerk's pages call: households
registered, edited (tap water, monitoring, a site of their village), moved to another village,
cancelled; persons added, edited and cancelled; income rows of this year and the last; petitions
filed and closed; sites created and their flags changed. Sweeps (``changes_compute``) fall between
the writes where the sequence says. After the last sweep, the stored values of the running month and
year are read, a full recompute of both is judged, and every row must be the same: the level, unit,
numerator, denominator, value, exact value, target and met of every indicator of every area and
site. The periods must not have been left for a full run: the recomputation really ran.

Runs on the database of the suite (SQLite by default, PostgreSQL in CI); ``.ci/run`` runs it on
SQLite too. ``INCREMENTAL_EXAMPLES`` sets the number of sequences (200 by default).
"""

import datetime
import os
from decimal import Decimal
from typing import Any

from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from areas.models import Area
from households import services
from households.choices import Employment, Labour, Monitoring, RecordStatus, Relation
from households.models import Grievance, Household, Person, Site
from indicators.engine import runs
from indicators.engine.compute import iter_values
from indicators.engine.periods import running_keys
from indicators.finance import finance_save
from indicators.models import CityStatistic, ComputeRun, IndicatorValue, Period
from tests.factories import AreaFactory, make_id_number

EXAMPLES = int(os.environ.get("INCREMENTAL_EXAMPLES", "200"))
TODAY = timezone.localdate()
YEAR = TODAY.year
COMPARED = (
    "level", "unit_code", "indicator_id", "area_id", "site_id", "county_code", "township_code",
    "numerator", "denominator", "value", "value_exact", "target", "met",
)  # fmt: skip

SITE_FLAGS = ("party_org", "one_stop_centre", "kindergarten", "property_management", "public_transport")
_codes = iter(range(10**6))


def _code(prefix: str) -> str:
    return f"{prefix}{next(_codes):06d}"


def _born(years: int) -> datetime.date:
    return datetime.date(TODAY.year - years, 3, 1)


def _person(household: Household, pick: int, *, head: bool = False) -> Person:
    age = (4, 10, 15, 30, 45, 70)[pick % 6]
    labour = Labour.ORDINARY if 16 <= age < 60 else Labour.NONE
    data: dict[str, Any] = {
        "name": f"成员{pick}",
        "relation": Relation.HEAD if head else Relation.CHILD,
        "labour": labour,
        "medical_insurance": pick % 3 != 0,
        "family_doctor": pick % 2 == 0,
    }
    if labour == Labour.ORDINARY:
        data["employment"] = (Employment.UNEMPLOYED, Employment.MIGRANT, Employment.LOCAL_FIRM)[pick % 3]
        data["employment_checked_on"] = TODAY - datetime.timedelta(days=(10, 200)[pick % 2])
    return services.person_create(
        actor=None, household=household, id_number=make_id_number(_born(age), sequence=next(_codes) % 1000), data=data
    )


def _household(village: Area, pick: int) -> Household:
    site = Site.objects.filter(village=village).order_by("code")[pick % 3 : pick % 3 + 1].first()
    household = services.household_register(
        actor=None,
        code=_code("H"),
        village_code=village.code,
        data={"head_name": "户主", "category": "建档立卡户", "site": site, "tap_water": pick % 4 != 0},
    )
    _person(household, pick, head=True)
    return household


def _nth(queryset: Any, pick: int) -> Any:
    rows = list(queryset.order_by("pk"))
    return rows[pick % len(rows)] if rows else None


# --- the writes ------------------------------------------------------------------------------------


def op_register(pick: int) -> None:
    village = _nth(Area.objects.filter(level="村"), pick)
    household = _household(village, pick)
    for extra in range(pick % 3):
        _person(household, pick + extra + 1)


def op_edit_household(pick: int) -> None:
    household = _nth(Household.objects.filter(status=RecordStatus.ACTIVE), pick)
    if household is None:
        return
    sites = list(Site.objects.filter(village_id=household.village_id).order_by("code"))
    data: dict[str, Any] = {
        "tap_water": not household.tap_water,
        "monitoring": (Monitoring.NONE, Monitoring.MARGINAL)[pick % 2],
        "site": sites[pick % len(sites)] if sites and pick % 3 else None,
    }
    services.household_update(actor=None, household=household, data=data)


def op_transfer(pick: int) -> None:
    household = _nth(Household.objects.filter(status=RecordStatus.ACTIVE), pick)
    village = _nth(Area.objects.filter(level="村"), pick // 7 + 1)
    if household is None or village is None:
        return
    site = Site.objects.filter(village=village).order_by("code").first() if pick % 2 else None
    if village.pk == household.village_id and (site.pk if site else None) == household.site_id:
        return
    services.household_transfer(
        actor=None, household=household, village_code=village.code, site_code=site.code if site else ""
    )


def op_cancel_household(pick: int) -> None:
    household = _nth(Household.objects.filter(status=RecordStatus.ACTIVE), pick)
    if household is not None:
        services.household_cancel(actor=None, household=household, cancelled_on=TODAY, reason="自然消亡")


def op_add_person(pick: int) -> None:
    household = _nth(Household.objects.filter(status=RecordStatus.ACTIVE), pick)
    if household is not None:
        _person(household, pick)


def op_edit_person(pick: int) -> None:
    person = _nth(Person.objects.filter(status=RecordStatus.ACTIVE, household__status=RecordStatus.ACTIVE), pick)
    if person is None:
        return
    data: dict[str, Any] = {"medical_insurance": not person.medical_insurance, "family_doctor": pick % 2 == 1}
    if person.labour == Labour.ORDINARY:
        data["employment_checked_on"] = TODAY if pick % 2 else TODAY - datetime.timedelta(days=300)
        data["employment"] = (Employment.UNEMPLOYED, Employment.WORKSHOP)[pick % 2]
    services.person_update(actor=None, person=person, data=data)


def op_cancel_person(pick: int) -> None:
    person = _nth(
        Person.objects.filter(status=RecordStatus.ACTIVE, household__status=RecordStatus.ACTIVE).exclude(
            relation=Relation.HEAD
        ),
        pick,
    )
    if person is not None:
        services.person_cancel(actor=None, person=person, cancelled_on=TODAY, reason="死亡")


def op_income(pick: int) -> None:
    household = _nth(Household.objects.filter(status=RecordStatus.ACTIVE), pick)
    if household is not None:
        services.income_set(
            actor=None,
            household=household,
            year=YEAR - pick % 2,
            size=1 + pick % 4,
            per_capita_income_fen=1_000_000 + 37_000 * (pick % 11),
        )


def op_petition(pick: int) -> None:
    open_one = _nth(Grievance.objects.filter(status="办理中"), pick)
    if open_one is not None and pick % 2:
        services.grievance_save(
            actor=None,
            code=open_one.code,
            village_code=open_one.village.code,
            data={"status": "已办结", "resolved_on": TODAY},
        )
        return
    household = _nth(Household.objects.filter(status=RecordStatus.ACTIVE), pick)
    if household is None:
        return
    services.grievance_save(
        actor=None,
        code=_code("XF"),
        village_code=household.village.code,
        data={"household": household, "site": household.site, "received_on": TODAY, "status": "办理中"},
    )


def op_site(pick: int) -> None:
    site = _nth(Site.objects.all(), pick)
    if site is None or pick % 5 == 0:
        village = _nth(Area.objects.filter(level="村"), pick)
        services.site_save(
            actor=None, code=_code("S"), village_code=village.code, data={"name": "新安置点", "kind": "城镇集中安置"}
        )
        return
    flag = SITE_FLAGS[pick % len(SITE_FLAGS)]
    data = {name: getattr(site, name) for name in ("name", "kind", *SITE_FLAGS)}
    data[flag] = not data[flag]
    services.site_save(actor=None, code=site.code, village_code=site.village.code, data=data)


def op_sweep(pick: int) -> None:
    runs.changes_compute(today=TODAY)


OPERATIONS = {
    "register": op_register,
    "edit_household": op_edit_household,
    "transfer": op_transfer,
    "cancel_household": op_cancel_household,
    "add_person": op_add_person,
    "edit_person": op_edit_person,
    "cancel_person": op_cancel_person,
    "income": op_income,
    "petition": op_petition,
    "site": op_site,
    "sweep": op_sweep,
}
steps = st.lists(st.tuples(st.sampled_from(sorted(OPERATIONS)), st.integers(0, 1000)), min_size=1, max_size=10)


def _stored() -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The stored rows of the running month and year."""
    rows = IndicatorValue.objects.filter(period__key__in=running_keys(today=TODAY))
    return {
        (key, level, unit, indicator): tuple(rest)
        for key, level, unit, indicator, *rest in rows.values_list("period__key", *COMPARED)
    }


def _full() -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The same rows from a full recompute of both periods (the engine's own ``iter_values``, judged
    in memory: storing them is the full run's business and tested with it)."""
    rows = {}
    for key in running_keys(today=TODAY):
        period = Period.objects.get(key=key)
        for block in iter_values(period, TODAY):
            level, area_id, site_id, unit, county_code, township_code = block.unit
            for indicator_id, cells in block.values:
                rows[(key, level, unit, indicator_id)] = (area_id, site_id, county_code, township_code, *cells)
    return rows


class IncrementalAgreesWithFull(TestCase):
    """Each example runs in its own transaction, rolled back after it, on the world built once here."""

    @classmethod
    def setUpTestData(cls) -> None:
        city = AreaFactory.city()
        for county_index, townships in enumerate((2, 1), start=1):
            county = AreaFactory.county(code=f"43130{county_index}", name=f"县{county_index}", parent=city)
            for township_index in range(1, townships + 1):
                township = AreaFactory.township(
                    code=f"{county.code}{township_index:03d}",
                    name=f"镇{county_index}{township_index}",
                    parent=county,
                    has_industrial_park=township_index == 1,
                )
                for village_index in range(1, 3):
                    AreaFactory.village(
                        code=f"{township.code}{village_index:03d}",
                        name=f"村{county_index}{township_index}{village_index}",
                        parent=township,
                    )
        villages = list(Area.objects.filter(level="村").order_by("code"))
        for index, village in enumerate(villages[:3]):
            services.site_save(
                actor=None,
                code=f"S9{index:02d}",
                village_code=village.code,
                data={"name": f"安置点{index}", "kind": "城镇集中安置", "party_org": index % 2 == 0},
            )
        for index, village in enumerate(villages):
            for pick in range(2):
                household = _household(village, index * 3 + pick)
                _person(household, index + pick + 1)
                services.income_set(
                    actor=None, household=household, year=YEAR - 1, size=2, per_capita_income_fen=900_000 + 1000 * index
                )
        CityStatistic.objects.create(year=YEAR, city_income_growth=Decimal("6.5"))
        for county in Area.objects.filter(level="县"):
            for year in (YEAR - 1, YEAR):
                finance_save(
                    actor=None,
                    county_code=county.code,
                    year=year,
                    amounts={
                        "asset_proceeds": 10_000,
                        "proceeds_to_households": 7_000 + year % 7,
                        "linkage_funds": 100_000,
                        "linkage_to_relocation": 20_000 + year % 5,
                    },
                )
        runs.dirty_periods_compute(today=TODAY)  # consume the set-up's changes
        runs.running_periods_compute(today=TODAY)  # the values and basis every example starts from

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(steps=steps)
    def test_recomputing_the_changes_equals_a_full_recompute(self, steps: list[tuple[str, int]]) -> None:
        for name, pick in steps:
            OPERATIONS[name](pick)
        done = runs.changes_compute(today=TODAY)
        assert all(run.scope == ComputeRun.Scope.CHANGES for run in done)
        left = Period.objects.filter(key__in=running_keys(today=TODAY), dirty_since__isnull=False)
        assert not left.exists(), f"left for a full run after {steps}"
        incremental, full = _stored(), _full()
        assert incremental.keys() == full.keys(), f"units differ after {steps}: {set(incremental) ^ set(full)}"
        differing = {key: (incremental[key], full[key]) for key in full if incremental[key] != full[key]}
        assert not differing, f"after {steps}: {dict(list(differing.items())[:5])}"
