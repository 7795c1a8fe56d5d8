"""The indicator engine with a real Redis broker and a real Celery worker (issue 4, acceptance 3).

The worker runs in this process (``celery.contrib.testing.worker.start_worker``, solo pool, in a
thread) on TEST_REDIS_URL, against the test database: the tests commit for real
(``transaction=True``) so that the worker's own connection sees the rows. Nothing is eager here: the
edit commits, the on-commit listener queues the sweep through Redis, the worker consumes the change
feed and recomputes the dirty periods.
"""

import datetime
import os
import time

import pytest
from celery import _state
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.utils import timezone

from households import services as household_services
from households.choices import Employment, Labour
from indicators import services as queueing
from indicators import tasks
from indicators.engine import runs as services
from indicators.models import ComputeRun, IndicatorValue, UnitBasis
from relocation.celery import app
from tests.factories import HouseholdFactory, PersonFactory, cells, compute, stored

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_worker, pytest.mark.django_db(transaction=True)]
VILLAGE = "431302001001"
TIMEOUT = 60


@pytest.fixture
def worker(settings, monkeypatch):
    """A real worker on TEST_REDIS_URL consuming every named queue; the broker is emptied first."""
    url = os.environ.get("TEST_REDIS_URL") or os.environ["REDIS_URL"]
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(queueing, "DEBOUNCE_SECONDS", 1)  # the countdown of the queued sweep
    cache.delete(tasks.SWEEP_QUEUED_KEY)
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "broker_transport_options")}
    app.close()  # drop a producer pool bound to another broker
    app.set_current()  # shared_task proxies resolve through the current app of this thread
    app.loader.import_default_modules()  # CELERY_IMPORTS and the autodiscovered tasks.py modules
    # A shared task imported after the app was finalized is added only to the apps celery still
    # tracks (a WeakSet that earlier tests may have left empty): apply every shared task again.
    if "indicators.tasks.sweep_dirty_periods" not in app.tasks:
        for register in list(_state._on_app_finalizers):
            register(app)
    assert "indicators.tasks.sweep_dirty_periods" in app.tasks
    # Bind the module-level task names to this app's tasks: an earlier test in the run (the browser
    # tests) can leave another app current, and a proxy would then queue on that app's default broker.
    import indicators.tasks

    for name in ("sweep_dirty_periods", "compute_run_task"):
        monkeypatch.setattr(indicators.tasks, name, app.tasks[f"indicators.tasks.{name}"])
    app.conf.update(broker_url=url, task_always_eager=False, broker_transport_options={"visibility_timeout": 600})
    with app.connection_for_write() as connection:
        for queue in app.amqp.queues:
            connection.default_channel.queue_purge(queue)
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING") as running:
            yield running
    finally:
        app.close()
        app.conf.update(saved)


def running_year() -> str:
    return f"{timezone.localdate().year:04d}"


def wait_for(condition, *, timeout: float = TIMEOUT, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def employment_data():
    """Two ordinary labourers who want work, one employed: M3-2 (就业率) is 1/2 in the village."""
    household = HouseholdFactory()
    today = timezone.localdate()
    PersonFactory(household=household, labour=Labour.ORDINARY, wants_work=True)
    PersonFactory(
        household=household,
        labour=Labour.ORDINARY,
        wants_work=True,
        employment=Employment.LOCAL_FIRM,
        employment_checked_on=today - datetime.timedelta(days=1),
    )
    return household


def test_an_edit_through_the_service_recomputes_the_dirty_period_on_the_worker(worker):
    household = employment_data()
    year = running_year()
    first = compute(year)
    before = cells(stored(year)[("village", VILLAGE, "M3-2")])
    unemployed = household.members.get(employment=Employment.UNEMPLOYED)

    household_services.person_set_employment(actor=None, person=unemployed, employment=Employment.MIGRANT)

    def recomputed():  # type: ignore[no-untyped-def]
        runs = ComputeRun.objects.filter(period__key=year, pk__gt=first.pk, status=ComputeRun.Status.DONE)
        return runs.first()

    run = wait_for(recomputed, what=f"a finished recompute of {year} after the edit")
    after = cells(stored(year)[("village", VILLAGE, "M3-2")])
    assert first.status == ComputeRun.Status.DONE
    assert before[:2] == (1, 2)
    assert after[:2] == (2, 2)
    # Only the units the edit touched were recomputed (issue 22), and only their changed rows rewritten.
    assert run.scope == ComputeRun.Scope.CHANGES
    assert stored(year)[("village", VILLAGE, "M3-2")].run_id == run.pk
    assert set(IndicatorValue.objects.filter(period__key=year).values_list("run_id", flat=True)) == {first.pk, run.pk}
    assert run.started_by is None
    assert run.progress == 100


def test_a_recompute_interrupted_mid_way_on_the_worker_leaves_the_previous_values(worker, monkeypatch):
    household = employment_data()
    year = running_year()
    first = compute(year)
    before = {key: (value.pk, cells(value)) for key, value in stored(year).items()}
    real_insert = services.values_insert

    def insert_half_then_fail(values, **kwargs):  # type: ignore[no-untyped-def]
        values = list(values)  # a list or a stream of rows
        real_insert(values[: len(values) // 2], **kwargs)  # the period's old rows are already deleted here
        raise RuntimeError("worker interrupted mid-insert")

    monkeypatch.setattr(services, "values_insert", insert_half_then_fail)  # the worker thread shares the module
    UnitBasis.objects.all().delete()  # so the sweep cannot re-sum the changed units: a full run follows
    unemployed = household.members.get(employment=Employment.UNEMPLOYED)

    household_services.person_set_employment(actor=None, person=unemployed, employment=Employment.MIGRANT)

    def failed():  # type: ignore[no-untyped-def]
        return ComputeRun.objects.filter(period__key=year, pk__gt=first.pk, status=ComputeRun.Status.FAILED).first()

    run = wait_for(failed, what=f"the interrupted recompute of {year}")
    after = {key: (value.pk, cells(value)) for key, value in stored(year).items()}
    assert "interrupted mid-insert" in run.error
    assert after == before  # all old: not one new row, not one old row missing
    assert set(IndicatorValue.objects.filter(period__key=year).values_list("run_id", flat=True)) == {first.pk}
