"""The sweep recomputes only what a change touches (issue 22), and falls back to a full run when it
cannot: a change that names no units, a basis at another date, a full run under way. Its number of
queries does not grow with the number of changed villages."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from areas.models import Area
from households import services
from households.choices import Labour, Relation
from households.models import ChangeFeed, Person
from indicators.engine import runs
from indicators.engine.periods import running_keys
from indicators.engine.store import basis_replace
from indicators.finance import finance_save
from indicators.models import ComputeRun, IndicatorValue, Period, UnitBasis
from tests.factories import AreaFactory, make_id_number

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def world() -> dict[str, Any]:
    city = AreaFactory.city()
    county = AreaFactory.county(parent=city)
    township = AreaFactory.township(parent=county)
    villages = [
        AreaFactory.village(code=f"{township.code}{index:03d}", name=f"村{index}", parent=township)
        for index in range(1, 7)
    ]
    persons = []
    for index, village in enumerate(villages):
        household = services.household_register(
            actor=None,
            code=f"H{index:05d}",
            village_code=village.code,
            data={"head_name": "户主", "category": "建档立卡户"},
        )
        persons.append(
            services.person_create(
                actor=None,
                household=household,
                id_number=make_id_number(datetime.date(1980, 1, 1), sequence=index),
                data={"name": "户主", "relation": Relation.HEAD, "labour": Labour.NONE, "medical_insurance": False},
            )
        )
    runs.dirty_periods_compute(today=TODAY)
    runs.running_periods_compute(today=TODAY)
    return {"county": county, "villages": villages, "persons": persons}


def _insured(person: Person) -> None:
    services.person_update(actor=None, person=person, data={"medical_insurance": True})


def _m63(village: Area) -> IndicatorValue:
    month = running_keys(today=TODAY)[0]
    return IndicatorValue.objects.get(
        period__key=month, indicator__code="M6-3", level="village", unit_code=village.code
    )


def test_an_edit_recomputes_its_village_and_ancestors_only(world: dict[str, Any]) -> None:
    first, other = world["villages"][0], world["villages"][1]
    untouched = _m63(other).computed_at
    _insured(world["persons"][0])
    done = runs.dirty_periods_compute(today=TODAY)
    assert [run.scope for run in done] == [ComputeRun.Scope.CHANGES] * 2  # the month and the year
    assert (_m63(first).numerator, _m63(first).denominator) == (1, 1)
    assert _m63(other).computed_at == untouched  # a value that did not change is not rewritten
    county = IndicatorValue.objects.get(
        period__key=running_keys(today=TODAY)[0], indicator__code="M6-3", level="county", unit_code=world["county"].code
    )
    assert (county.numerator, county.denominator) == (1, 6)
    assert not Period.objects.filter(dirty_since__isnull=False).exists()


def test_a_change_naming_no_units_runs_in_full(world: dict[str, Any]) -> None:
    finance_save(actor=None, county_code=world["county"].code, year=TODAY.year, amounts={"asset_proceeds": 100})
    done = runs.dirty_periods_compute(today=TODAY)
    assert {run.scope for run in done} == {ComputeRun.Scope.FULL}


def test_a_basis_of_another_day_runs_in_full(world: dict[str, Any]) -> None:
    UnitBasis.objects.update(reference_date=TODAY - datetime.timedelta(days=1))
    _insured(world["persons"][0])
    done = runs.dirty_periods_compute(today=TODAY)
    assert {run.scope for run in done} == {ComputeRun.Scope.FULL}
    assert (_m63(world["villages"][0]).numerator, _m63(world["villages"][0]).denominator) == (1, 1)


def test_a_full_run_under_way_leaves_the_period_for_a_full_run(world: dict[str, Any]) -> None:
    month = Period.objects.get(key=running_keys(today=TODAY)[0])
    ComputeRun.objects.create(
        period=month, reference_date=TODAY, status=ComputeRun.Status.RUNNING, started_at=timezone.now()
    )
    _insured(world["persons"][0])
    done = runs.changes_compute(today=TODAY)
    assert month.pk not in [run.period_id for run in done]  # the year, with no full run, is recomputed
    month.refresh_from_db()
    assert month.dirty_since is not None  # the running full run read the records before the edit
    assert not ChangeFeed.objects.filter(consumed_at__isnull=True).exists()


def test_a_sweep_runs_the_same_queries_for_one_village_or_five(world: dict[str, Any]) -> None:
    def sweep_queries(persons: list[Person]) -> int:
        for person in persons:
            _insured(person)
        with CaptureQueriesContext(connection) as queries:
            done = runs.changes_compute(today=TODAY)
        assert len(done) == 2
        return len(queries)

    one = sweep_queries(world["persons"][:1])
    five = sweep_queries(world["persons"][1:6])
    assert one == five


def _basis(period: Period) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (row[0], row[1]): row[2:]
        for row in UnitBasis.objects.filter(period=period).values_list(
            "level", "unit_code", "reference_date", "households", "labour_force", "income_cur_total"
        )
    }


def test_basis_replace_replaces_the_rows_and_drops_the_units_gone(world):
    period = Period.objects.get(key=running_keys(today=TODAY)[1])
    first, second = (village.code for village in world["villages"][:2])
    counts = (1, 0, 500, 3, 1, 0, 0, 0)
    basis_replace(period.pk, TODAY, [("village", first, *counts), ("village", second, *counts)])

    later = TODAY + datetime.timedelta(days=1)
    basis_replace(period.pk, later, [("village", first, 2, 1, 900, 4, 2, 0, 0, 0)])  # the second is gone

    assert _basis(period) == {("village", first): (later, 2, 1, 900)}

    # Some units only: the others stay; a unit named without a row is dropped.
    basis_replace(period.pk, later, [("village", second, *counts)], units=[("village", second)])
    basis_replace(period.pk, TODAY, [], units=[("village", first)])
    assert _basis(period) == {("village", second): (later, 1, 0, 500)}
