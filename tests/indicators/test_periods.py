"""Periods: reference dates, refusals, dirty marking from the change feed, closing and publishing."""

import datetime

import pytest
from django.core.management import CommandError, call_command

from households import history
from households.choices import Employment, Labour
from households.history import changefeed_add
from households.models import ChangeFeed
from indicators import services as queueing
from indicators.engine import runs as services
from indicators.engine.periods import (
    PeriodError,
    period_get_or_create,
    previous_key,
    reference_date_for,
    running_keys,
)
from indicators.models import ComputeRun, Met, Period
from tests.factories import (
    CityStatisticFactory,
    HouseholdFactory,
    IncomeFactory,
    PersonFactory,
    cells,
    compute,
    stored,
)

pytestmark = pytest.mark.django_db
VILLAGE = "431302001001"
TODAY = datetime.date(2026, 11, 15)


def test_reference_date_is_the_last_day_or_today_while_running():
    assert reference_date_for(period_get_or_create(key="2025"), today=TODAY) == datetime.date(2025, 12, 31)
    assert reference_date_for(period_get_or_create(key="2026"), today=TODAY) == TODAY
    assert reference_date_for(period_get_or_create(key="2026-02"), today=TODAY) == datetime.date(2026, 2, 28)
    assert reference_date_for(
        period_get_or_create(key="2025"), as_of=datetime.date(2025, 6, 30), today=TODAY
    ) == datetime.date(2025, 6, 30)


@pytest.mark.parametrize(
    ("key", "as_of"),
    [("2026-12", None), ("2027", None), ("2025", datetime.date(2026, 1, 1)), ("2026", datetime.date(2026, 11, 16))],
)
def test_future_periods_and_reference_dates_outside_the_period_are_refused(key, as_of):
    with pytest.raises(PeriodError):
        reference_date_for(period_get_or_create(key=key), as_of=as_of, today=TODAY)


def test_previous_period_of_the_same_length():
    assert previous_key("2026") == "2025"
    assert previous_key("2026-01") == "2025-12"
    assert previous_key("2026-11") == "2026-10"


def test_command_refuses_a_future_period_with_exit_1():
    with pytest.raises(CommandError) as refused:
        call_command("compute_indicators", "--period", "2099")
    assert refused.value.returncode == 1
    assert "2099" in str(refused.value)
    assert not ComputeRun.objects.exists()


def test_command_refuses_a_closed_period_and_keeps_its_values():
    household = HouseholdFactory()
    PersonFactory(household=household, family_doctor=True)
    call_command("compute_indicators", "--period", "2025")
    services.period_close(period=Period.objects.get(key="2025"))
    PersonFactory(household=household, family_doctor=False)

    with pytest.raises(CommandError) as refused:
        call_command("compute_indicators", "--period", "2025")
    assert refused.value.returncode == 1
    assert "关闭" in str(refused.value)
    assert cells(stored()[("village", VILLAGE, "M6-2")]) == (1, 1, "100", Met.TRUE)


def test_command_accepts_as_of_inside_the_period():
    PersonFactory(household=HouseholdFactory(), labour=Labour.ORDINARY, employment_checked_on=datetime.date(2025, 3, 1))
    call_command("compute_indicators", "--period", "2025", "--as-of", "2025-05-30")
    value = stored()[("village", VILLAGE, "M3-1")]
    assert value.reference_date == datetime.date(2025, 5, 30)
    assert cells(value) == (1, 1, "100", Met.TRUE)  # 90 days back from 30 May reach 1 March


def test_change_feed_marks_only_the_running_month_and_year_dirty():
    compute("2025-10", today=TODAY)
    changefeed_add()

    consumed = services.changefeed_consume(today=TODAY)

    assert consumed == 1
    dirty = set(Period.objects.filter(dirty_since__isnull=False).values_list("key", flat=True))
    assert dirty == {"2026-11", "2026"}
    assert not ChangeFeed.objects.filter(consumed_at__isnull=True).exists()


def test_sweep_computes_the_dirty_periods_and_clears_them():
    PersonFactory(household=HouseholdFactory(), family_doctor=True)
    changefeed_add()

    runs = services.dirty_periods_compute(today=TODAY)

    assert sorted(run.period.key for run in runs) == ["2026", "2026-11"]
    assert all(run.status == ComputeRun.Status.DONE for run in runs)
    assert not Period.objects.filter(dirty_since__isnull=False).exists()
    assert stored("2026-11")[("village", VILLAGE, "M6-2")].reference_date == TODAY


def test_close_ended_periods_computes_a_last_time_then_closes():
    PersonFactory(household=HouseholdFactory(), family_doctor=True)
    compute("2026-10", today=datetime.date(2026, 10, 20))

    closed = services.ended_periods_close(today=datetime.date(2026, 11, 1))

    assert [period.key for period in closed] == ["2026-10"]
    period = Period.objects.get(key="2026-10")
    assert period.closed_at is not None
    assert stored("2026-10")[("village", VILLAGE, "M6-2")].reference_date == datetime.date(2026, 10, 31)


def test_a_closed_year_recomputes_only_its_year_data_indicators_until_published():
    household = HouseholdFactory()
    PersonFactory(household=household, family_doctor=True)
    IncomeFactory(household=household, year=2024, per_capita_income=1_000_000)
    IncomeFactory(household=household, year=2025, per_capita_income=1_100_000)
    CityStatisticFactory(year=2025, city_income_growth="6.1")
    compute("2025", today=TODAY)
    services.period_close(period=Period.objects.get(key="2025"))
    PersonFactory(household=household, family_doctor=False)  # a record change: 2025 stays frozen
    household.incomes.filter(year=2025).update(per_capita_income=1_200_000)
    changefeed_add(family=ChangeFeed.Family.INCOMES, data_year=2025)

    services.dirty_periods_compute(today=TODAY)

    values = stored("2025")
    assert cells(values[("village", VILLAGE, "M3-5")]) == (None, None, "13.9", Met.TRUE)
    assert cells(values[("village", VILLAGE, "M6-2")]) == (1, 1, "100", Met.TRUE)

    services.period_publish(year=2025)
    household.incomes.filter(year=2025).update(per_capita_income=1_000_000)
    changefeed_add(family=ChangeFeed.Family.INCOMES, data_year=2025)
    services.dirty_periods_compute(today=TODAY)
    assert cells(stored("2025")[("village", VILLAGE, "M3-5")]) == (None, None, "13.9", Met.TRUE)


def test_no_decrease_compares_with_the_previous_period_of_the_same_length():
    household = HouseholdFactory()
    posts = [
        PersonFactory(household=household, labour=Labour.ORDINARY, employment=Employment.PUBLIC_WELFARE)
        for _ in range(3)
    ]
    compute("2026-09", today=TODAY)
    posts[0].employment = Employment.UNEMPLOYED
    posts[0].save()
    compute("2026-10", today=TODAY)

    assert cells(stored("2026-09")[("village", VILLAGE, "M3-4")]) == (3, None, None, Met.NA)
    value = stored("2026-10")[("village", VILLAGE, "M3-4")]
    assert cells(value) == (2, None, "2", Met.FALSE)
    assert value.target == 3
    assert cells(stored("2026-10")[("city", "431300", "M3-4")]) == (2, None, "2", Met.FALSE)


def test_data_change_hook_sweeps_once_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(history, "CHANGE_LISTENERS", [queueing.indicators_changes_committed])
    PersonFactory(household=HouseholdFactory(), family_doctor=True)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(50):  # a bulk edit: 50 feed rows, one transaction
            changefeed_add()
    assert not ChangeFeed.objects.filter(consumed_at__isnull=True).exists()
    runs = ComputeRun.objects.filter(status=ComputeRun.Status.DONE)
    assert sorted(runs.values_list("period__key", flat=True)) == sorted(running_keys())  # once each


def test_no_sweep_while_recompute_is_paused(django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(history, "CHANGE_LISTENERS", [queueing.indicators_changes_committed])
    with queueing.recompute_paused(), django_capture_on_commit_callbacks(execute=True):
        changefeed_add()
    assert ChangeFeed.objects.filter(consumed_at__isnull=True).count() == 1
    assert not ComputeRun.objects.exists()


def test_a_second_run_of_the_same_period_is_refused_while_one_is_running():
    running = services.compute_run_create(period_key="2025", today=TODAY)
    ComputeRun.objects.filter(pk=running.pk).update(
        status=ComputeRun.Status.RUNNING, started_at=datetime.datetime.now(datetime.UTC)
    )
    second = services.compute_run_execute(run_id=services.compute_run_create(period_key="2025", today=TODAY).pk)
    assert second.status == ComputeRun.Status.FAILED
    assert "正在计算" in second.error
    assert Period.objects.get(key="2025").dirty_since is not None
