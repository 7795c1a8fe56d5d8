"""Writes of the indicator engine: compute runs, dirty periods, closing and publishing.

A run is a ``ComputeRun`` row (status, progress, error). Its values replace the period's stored
values in ONE transaction: readers see all old or all new values, and a failure leaves the old ones.
Two runs of the same period never overlap: a run claims the period under ``select_for_update`` of
the Period row (on SQLite transactions are serialised anyway) and refuses while another is running.
"""

import datetime
import functools
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from households.models import ChangeFeed
from indicators.catalogue import YEAR_DATA_CODES
from indicators.engine import compute as engine
from indicators.engine import incremental, partitions
from indicators.engine.periods import (
    PeriodError,
    check_computable,
    period_get_or_create,
    reference_date_for,
    running_keys,
)
from indicators.engine.store import basis_replace, values_insert  # by name: fault tests replace ``runs.values_insert``
from indicators.models import ComputeRun, IndicatorValue, Period

logger = logging.getLogger(__name__)

# A run still "running" after this long is taken for a crashed worker and no longer blocks.
# A run still "running" after this is taken for dead (a killed worker): its period may be computed again.
STALE_RUN = datetime.timedelta(minutes=15)
# Called with the period's id once a successful run has committed, and the county codes it changed
# (None: all of them). ``indicators.apps``: the dashboards warm their cached parts. The pages sit far
# above the engine, so they subscribe here.
RUN_FINISHED_LISTENERS: list[Callable[[int, set[str] | None], None]] = []


class RunRefused(Exception):
    """Another run of the same period is in progress."""


# --- runs ----------------------------------------------------------------------------------------


@transaction.atomic  # a refused period (future, closed, malformed) leaves no Period row behind
def compute_run_create(
    *,
    period_key: str,
    as_of: datetime.date | None = None,
    actor: User | None = None,
    scope: str = ComputeRun.Scope.FULL,
    today: datetime.date | None = None,
) -> ComputeRun:
    """Queue a run of ``period_key``. Raises ``PeriodError`` for a malformed, future or closed period
    (a closed but unpublished year accepts the year-data scope)."""
    period = period_get_or_create(key=period_key)
    if scope == ComputeRun.Scope.YEAR_DATA:
        if not period.is_year or period.published_at is not None:
            raise PeriodError(_("期间 %(key)s 的年度考核已发布，指标值已冻结。") % {"key": period.key})
        stored = IndicatorValue.objects.filter(period=period).values_list("reference_date", flat=True).first()
        reference = stored or reference_date_for(period, today=today)
    else:
        check_computable(period)
        reference = reference_date_for(period, as_of=as_of, today=today)
    return ComputeRun.objects.create(
        period=period,
        scope=scope,
        reference_date=reference,
        as_of_given=as_of is not None,
        started_by=actor if getattr(actor, "pk", None) else None,
    )


def _set_progress(run: ComputeRun, progress: int) -> None:
    run.progress = progress
    ComputeRun.objects.filter(pk=run.pk).update(progress=progress)


def _claim(run: ComputeRun) -> None:
    """Mark the run running, or raise ``RunRefused`` / ``PeriodError``."""
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=run.period_id)
        busy = (
            ComputeRun.objects.filter(
                period=period, status=ComputeRun.Status.RUNNING, started_at__gte=timezone.now() - STALE_RUN
            )
            .exclude(pk=run.pk)
            .exists()
        )
        if busy:
            raise RunRefused(_("期间 %(key)s 正在计算中，请稍后再试。") % {"key": period.key})
        _check_writable(period, run)
        # The dirty flag is cleared with the values in ``compute_run_execute``, so a worker killed mid-run
        # leaves the period dirty and the next sweep computes it again.
        run.status = ComputeRun.Status.RUNNING
        run.started_at = timezone.now()
        run.progress = 5
        run.save(update_fields=["status", "started_at", "progress"])


def _check_writable(period: Period, run: ComputeRun) -> None:
    if run.scope == ComputeRun.Scope.YEAR_DATA:
        if period.published_at is not None:
            raise PeriodError(_("期间 %(key)s 的年度考核已发布，指标值已冻结。") % {"key": period.key})
    else:
        check_computable(period)


def compute_run_execute(*, run_id: int) -> ComputeRun:
    """Compute a queued run and replace the period's values atomically; never raises for a failed
    computation (the run row records it). Idempotent for a finished run."""
    run = ComputeRun.objects.select_related("period").get(pk=run_id)
    if run.status in (ComputeRun.Status.DONE, ComputeRun.Status.FAILED):
        return run
    with engine.collector_paused():
        return _execute(run)


def _execute(run: ComputeRun) -> ComputeRun:
    try:
        _claim(run)
        codes = YEAR_DATA_CODES if run.scope == ComputeRun.Scope.YEAR_DATA else None
        # Rows are judged while they are written (a stream): old values stay visible until the commit.
        basis: list[tuple[Any, ...]] = []
        values = engine.iter_values(
            run.period,
            run.reference_date,
            codes=codes,
            progress=lambda percent: _set_progress(run, percent),
            run_id=run.pk,
            basis=basis,
        )
        with transaction.atomic():
            period = Period.objects.select_for_update().get(pk=run.period_id)
            _check_writable(period, run)
            if codes is None and partitions.is_partitioned():
                # A new table for the period, swapped in before the commit (indicators.partitions).
                table = partitions.new_partition(period.pk, run.pk)
                values_insert(values, table=table, run_defaults=True)
                partitions.attach_partition(period.pk, table)
            else:
                old = IndicatorValue.objects.filter(period=period)
                if codes is not None:
                    old = old.filter(indicator__code__in=codes)
                old.delete()
                values_insert(values)
            if codes is None:  # what a later recomputation of changed units starts from (``incremental``)
                basis_replace(period.pk, run.reference_date, basis)
            flag = "dirty_since" if run.scope == ComputeRun.Scope.FULL else "year_data_dirty_since"
            Period.objects.filter(pk=period.pk, **{f"{flag}__lte": run.started_at}).update(**{flag: None})
            run.status = ComputeRun.Status.DONE
            run.progress = 100
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "progress", "finished_at"])
            period_id = run.period_id
            transaction.on_commit(lambda: _run_finished(period_id))
    except Exception as exc:  # the run row carries every failure; the old values stay
        logger.exception("compute run %s of %s failed", run.pk, run.period.key)
        run.status = ComputeRun.Status.FAILED
        run.error = str(exc) or exc.__class__.__name__
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        if isinstance(exc, RunRefused):
            _mark_dirty(run.period, year_data=run.scope == ComputeRun.Scope.YEAR_DATA)
    return run


def _run_finished(period_id: int, counties: set[str] | None = None) -> None:
    for listener in RUN_FINISHED_LISTENERS:
        try:
            listener(period_id, counties)
        except Exception:  # a listener's failure (broker down) never fails the run that committed
            logger.exception("a run-finished listener failed for period %s", period_id)


# --- periods: dirty, closing, publishing ---------------------------------------------------------


def _mark_dirty(period: Period, *, year_data: bool = False, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    name = "year_data_dirty_since" if year_data else "dirty_since"
    marked = Period.objects.filter(pk=period.pk, **{f"{name}__isnull": True}).update(**{name: now})
    if not marked and ComputeRun.objects.filter(period=period, status=ComputeRun.Status.RUNNING).exists():
        # A run under way read the records before this change: keep the period dirty after it ends.
        Period.objects.filter(pk=period.pk).update(**{name: now})


def _affected_years(family: str, data_year: int | None) -> set[int]:
    """Years whose year-data indicators read rows of ``data_year``: g(Y) uses Y and Y−1."""
    if data_year is None:
        return set()
    if family in (ChangeFeed.Family.INCOMES, ChangeFeed.Family.FINANCE):
        return {data_year, data_year + 1}
    if family == ChangeFeed.Family.CITYSTATS:
        return {data_year}
    return set()


def changefeed_consume(*, today: datetime.date | None = None) -> int:
    """Consume the unconsumed change-feed rows the coarse way: mark the running month and year dirty
    (a full run follows), and past years whose year-data indicators they feed (until published).
    Returns the number of rows consumed. The sweep uses ``changes_compute`` instead."""
    today = today or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        rows = _feed_take(now)
        if not rows:
            return 0
        for key in running_keys(today=today):
            period = period_get_or_create(key=key)
            if period.closed_at is None:
                _mark_dirty(period, now=now)
        _mark_past_years(rows, today=today, now=now)
    return len(rows)


def changes_compute(*, today: datetime.date | None = None) -> list[ComputeRun]:
    """Consume the change feed and recompute, in one transaction, only the units it names in the
    running month and year (``incremental``): a clerk's edit reaches the stored values in well under
    a second instead of a full recompute (issue 22). Falls back to marking the periods dirty (a full
    run follows) when a change names no units (admin, finance, imports), when a full run is pending
    or under way, or when the stored values cannot be moved (``NeedsFullRun``). Past years are
    marked for their year-data run as before."""
    today = today or timezone.localdate()
    now = timezone.now()
    done: list[tuple[ComputeRun, set[str]]] = []
    with transaction.atomic():
        rows = _feed_take(now)
        if not rows:
            return []
        _mark_past_years(rows, today=today, now=now)
        periods = [period_get_or_create(key=key) for key in running_keys(today=today)]
        periods = [period for period in periods if period.closed_at is None]
        targeted = all(villages is not None and family in CHANGE_FAMILIES for _id, family, _y, villages, _s in rows)
        if not targeted:
            for period in periods:
                _mark_dirty(period, now=now)
            return []
        villages = {village for row in rows for village in row[3] or ()}
        sites = {site for row in rows for site in row[4] or ()}
        places = incremental.closure(villages, sites)
        if not places.villages and not places.gone_sites:
            return []
        counties = incremental.touched_counties(places)
        read: dict[Any, Any] = {}  # the records' counts, shared by the month and the year
        for period in periods:
            run = _changes_run(period, places, read, today=today, now=now)
            if run is not None:
                done.append((run, counties))
    for run, counties in done:  # at once when committed above, else with the caller's commit
        transaction.on_commit(functools.partial(_run_finished, run.period_id, counties=counties))
    return [run for run, _counties in done]


# The change families whose rows name their units; the others (finance, city statistics) feed
# county and city values only and go through a full (or year-data) run.
CHANGE_FAMILIES = (ChangeFeed.Family.RECORDS, ChangeFeed.Family.INCOMES)


def _feed_take(now: datetime.datetime) -> list[tuple[Any, ...]]:
    """The unconsumed change-feed rows, marked consumed (in the caller's transaction)."""
    feed = ChangeFeed.objects.filter(consumed_at__isnull=True).order_by("id")
    if transaction.get_connection().features.has_select_for_update_skip_locked:
        feed = feed.select_for_update(skip_locked=True)
    rows = list(feed.values_list("id", "family", "data_year", "villages", "sites"))
    if rows:
        ChangeFeed.objects.filter(id__in=[row[0] for row in rows]).update(consumed_at=now)
    return rows


def _changes_run(
    period: Period, places: incremental.Places, read: dict[Any, Any], *, today: datetime.date, now: datetime.datetime
) -> ComputeRun | None:
    """One period's recomputation of ``places``, or the period marked dirty when it cannot be done."""
    locked = Period.objects.select_for_update().get(pk=period.pk)
    busy = ComputeRun.objects.filter(
        period=locked, status=ComputeRun.Status.RUNNING, started_at__gte=now - STALE_RUN
    ).exists()
    if locked.dirty_since is not None or busy:
        _mark_dirty(locked, now=now)
        return None
    try:
        with transaction.atomic():  # a savepoint: a failure leaves neither the run row nor a value
            run = ComputeRun.objects.create(
                period=locked,
                scope=ComputeRun.Scope.CHANGES,
                reference_date=reference_date_for(locked, today=today),
                status=ComputeRun.Status.RUNNING,
                started_at=now,
                progress=5,
            )
            incremental.recompute_changes(run, places, read)
            run.status, run.progress, run.finished_at = ComputeRun.Status.DONE, 100, timezone.now()
            run.save(update_fields=["status", "progress", "finished_at"])
    except incremental.NeedsFullRun as exc:
        logger.info("full recompute of %s instead of changes: %s", locked.key, exc)
        _mark_dirty(locked, now=now)
        return None
    except Exception:  # the full run that follows recomputes everything the changes missed
        logger.exception("recomputing the changes of %s failed; marking it for a full run", locked.key)
        _mark_dirty(locked, now=now)
        return None
    return run


def _mark_past_years(rows: list[tuple[Any, ...]], *, today: datetime.date, now: datetime.datetime) -> None:
    """Past years whose year-data indicators read the changed rows (until published)."""
    years: set[int] = set()
    for _id, family, data_year, *_places in rows:
        years |= _affected_years(family, data_year)
    for year in sorted(year for year in years if year < today.year):
        past = Period.objects.filter(key=f"{year:04d}", published_at__isnull=True).first()
        if past is not None and IndicatorValue.objects.filter(period=past).exists():
            _mark_dirty(past, year_data=True, now=now)


def dirty_periods_compute(*, today: datetime.date | None = None) -> list[ComputeRun]:
    """Recompute what the change feed names (``changes_compute``), then compute every period left
    dirty (full) and dirty past year (year data)."""
    runs: list[ComputeRun | None] = list(changes_compute(today=today))
    for period in Period.objects.filter(dirty_since__isnull=False, closed_at__isnull=True).order_by("start", "-end"):
        runs.append(_run_now(period, ComputeRun.Scope.FULL, today=today))
    for period in Period.objects.filter(year_data_dirty_since__isnull=False, published_at__isnull=True):
        runs.append(_run_now(period, ComputeRun.Scope.YEAR_DATA, today=today))
    return [run for run in runs if run is not None]


def _run_now(period: Period, scope: str, *, today: datetime.date | None) -> ComputeRun | None:
    try:
        run = compute_run_create(period_key=period.key, scope=scope, today=today)
    except PeriodError as exc:
        logger.warning("not computing %s: %s", period.key, exc)
        Period.objects.filter(pk=period.pk).update(dirty_since=None, year_data_dirty_since=None)
        return None
    return compute_run_execute(run_id=run.pk)


def ended_periods_close(*, today: datetime.date | None = None) -> list[Period]:
    """Compute each open period that has ended a last time (reference date = its last day) and close
    it. A period whose last run fails stays open and is tried again next time."""
    today = today or timezone.localdate()
    closed = []
    ended = Period.objects.filter(closed_at__isnull=True, end__lt=today)
    for period in sorted(ended, key=lambda p: (p.end, not p.is_year)):
        run = compute_run_create(period_key=period.key, as_of=period.end, today=today)
        run = compute_run_execute(run_id=run.pk)
        if run.status != ComputeRun.Status.DONE:
            continue
        Period.objects.filter(pk=period.pk, closed_at__isnull=True).update(closed_at=timezone.now(), dirty_since=None)
        closed.append(period)
    return closed


def running_periods_compute(*, today: datetime.date | None = None) -> list[ComputeRun]:
    """The nightly full recompute of the running month and year."""
    runs = []
    for key in running_keys(today=today):
        period = period_get_or_create(key=key)
        if period.closed_at is None:
            run = _run_now(period, ComputeRun.Scope.FULL, today=today)
            if run is not None:
                runs.append(run)
    return runs


@transaction.atomic
def period_close(*, period: Period, actor: User | None = None) -> Period:
    """Close a period by hand (city administrator): its stored values never change again."""
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.closed_at is None:
        period.closed_at = timezone.now()
        period.dirty_since = None
        period.save(update_fields=["closed_at", "dirty_since"])
    return period


@transaction.atomic
def period_publish(*, year: int, actor: User | None = None) -> Period:
    """Publishing a year's assessment freezes everything of that year, year-data indicators included."""
    period = Period.objects.select_for_update().get(pk=period_get_or_create(key=f"{year:04d}").pk)
    now = timezone.now()
    period.published_at = period.published_at or now
    period.closed_at = period.closed_at or now
    period.dirty_since = None
    period.year_data_dirty_since = None
    period.save(update_fields=["published_at", "closed_at", "dirty_since", "year_data_dirty_since"])
    return period


# --- the data-change hook ------------------------------------------------------------------------
