"""The annual assessment of measure 10 (assessment.md): scoring, configuration, runs and publishing.

Three layers, in this order:

- pure scoring on exact fractions (``indicator_points``, ``unit_score``, ``bonus_points``,
  ``grade_for``, ``ranks_for``) — no database, so the rules are tested on hand-built values;
- services: the per-year configuration (``assessment_config_*``), a run as a job row
  (``assessment_run_create`` / ``assessment_run_execute``), ``assessment_compute`` for the command and
  ``assessment_publish``;
- selectors: ``assessment_result_for_year`` returns the stored results as plain data, the one
  source of the pages, both report files, the ``assess`` output and the API.

Scores are computed from the stored indicator values of period Y (``value_exact``), never from
records or floats. A result row keeps copies of everything it used, so a published year reads the
same forever.
"""

import datetime
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, overload

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import require_write
from accounts.models import Department, Role, User
from areas.choices import AreaLevel
from areas.models import Area
from indicators.catalogue import DIMENSIONS
from indicators.engine.judging import round_half_up
from indicators.engine.periods import period_get_or_create
from indicators.engine.runs import compute_run_create, compute_run_execute, period_publish
from indicators.models import (
    AssessmentConfig,
    AssessmentConfigItem,
    AssessmentResult,
    AssessmentRun,
    Commendation,
    ComputeRun,
    Indicator,
    IndicatorValue,
    Kind,
    Level,
    Met,
    Period,
)
from indicators.selectors.export import format_number
from indicators.services import compute_period

logger = logging.getLogger(__name__)

DIMENSION_NAMES: tuple[str, ...] = tuple(name for name, _points in DIMENSIONS)
DEFAULT_RATE_FLOOR = Fraction(20)
# gap_pp: full points at T, nothing at T − 2 pp, linear between (assessment.md).
GAP_WIDTH = Fraction(2)
BONUS_CAP = Fraction(5)
COUNTY_BONUS = {"国家级": 3, "省级": 2, "市级": 1}
# For a city department a city-level commendation is not from a higher level.
DEPARTMENT_BONUS = {"国家级": 3, "省级": 2, "市级": 0}
GRADES: tuple[tuple[int, str], ...] = ((90, "优秀"), (80, "良好"), (60, "合格"))
FAILING_GRADE = "不合格"
# A lead unit of the catalogue that is not scored as a department: the counties are scored already.
NOT_A_DEPARTMENT = "县市区政府"
ISSUER = "娄底市易地扶贫搬迁后续扶持工作领导小组办公室"
ISSUER_SHORT = "市易扶办"
FOOTNOTE = (
    "维度得分按各维度自身分值分别折算（不适用指标不计入），各维度得分之和不必等于基础得分；"
    "总分 = 基础得分 + 表彰加分（最多 5 分）；名次按总分精确值排列，总分相同者名次并列。"
)
# The indicator whose denominator counts a unit's active households (indicators.md, M2-2).
ACTIVE_HOUSEHOLDS_CODE = "M2-2"


class AssessmentError(Exception):
    """The request cannot be carried out (published year, no values, a run in progress)."""


# --- exact scoring (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigItem:
    code: str
    dimension: str
    points: Fraction


@dataclass(frozen=True)
class ScoringConfig:
    rate_floor: Fraction
    items: tuple[ConfigItem, ...]

    def dimension_points(self) -> dict[str, Fraction]:
        totals = {name: Fraction(0) for name in DIMENSION_NAMES}
        for item in self.items:
            totals[item.dimension] += item.points
        return totals

    def to_json(self) -> dict[str, Any]:
        return {
            "rate_floor": exact_text(self.rate_floor),
            "items": [[item.code, item.dimension, exact_text(item.points)] for item in self.items],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ScoringConfig":
        return cls(
            rate_floor=Fraction(data["rate_floor"]),
            items=tuple(ConfigItem(code, dimension, Fraction(points)) for code, dimension, points in data["items"]),
        )


@dataclass(frozen=True)
class UnitValue:
    """A stored indicator value as scoring sees it: value and target in percent, pp or a count."""

    kind: str
    value: Fraction | None
    target: Fraction | None
    met: str

    @property
    def applicable(self) -> bool:
        return self.met != Met.NA and self.kind != Kind.INFO


def indicator_points(
    value: UnitValue, weight: Fraction, *, rate_floor: Fraction = DEFAULT_RATE_FLOOR
) -> Fraction | None:
    """Points earned of ``weight``; None when the indicator is not applicable (left out entirely)."""
    if not value.applicable:
        return None
    if value.kind in (Kind.ZERO, Kind.NO_DECREASE):
        return weight if value.met == Met.TRUE else Fraction(0)
    if value.value is None:
        return None
    target = value.target or Fraction(0)
    if value.kind == Kind.RATE:
        width = rate_floor
    elif value.kind == Kind.GAP_PP:
        width = GAP_WIDTH
    else:
        return None
    if value.value >= target:
        return weight
    return weight * max(Fraction(0), (value.value - (target - width)) / width)


def bonus_points(levels: Iterable[str], *, unit_kind: str) -> Fraction:
    """Σ of the higher-level commendations, capped at 5."""
    table = DEPARTMENT_BONUS if unit_kind == AssessmentResult.UnitKind.DEPARTMENT else COUNTY_BONUS
    return min(BONUS_CAP, Fraction(sum(table.get(level, 0) for level in levels)))


def grade_for(total: Fraction) -> str:
    for floor, grade in GRADES:
        if total >= floor:
            return grade
    return FAILING_GRADE


def ranks_for(totals: Mapping[str, Fraction | None]) -> dict[str, int | None]:
    """Competition ranking on exact totals: equal totals share a rank, the next one skips (1, 2, 2, 4)."""
    scored = [total for total in totals.values() if total is not None]
    return {
        key: None if total is None else 1 + sum(1 for other in scored if other > total) for key, total in totals.items()
    }


@dataclass
class DimensionScore:
    name: str
    points: Fraction
    score: Fraction | None


@dataclass
class UnitScore:
    scored: bool
    earned: Fraction
    applicable: Fraction
    base: Fraction | None
    bonus: Fraction
    total: Fraction | None
    grade: str
    dimensions: list[DimensionScore]
    points: dict[str, Fraction | None] = field(default_factory=dict)
    rank: int | None = None


def unit_score(
    *,
    values: Mapping[str, UnitValue],
    config: ScoringConfig,
    unit_kind: str = AssessmentResult.UnitKind.COUNTY,
    has_households: bool = True,
    commendation_levels: Iterable[str] = (),
    codes: Iterable[str] | None = None,
) -> UnitScore:
    """One unit's score. ``codes`` limits the indicators (a department's own); a missing value is
    not applicable. A unit without active households or without any applicable indicator gets no
    score; its bonus is still computed (for information)."""
    wanted = None if codes is None else set(codes)
    dimension_points = config.dimension_points()
    earned_by: dict[str, Fraction] = {name: Fraction(0) for name in DIMENSION_NAMES}
    possible_by: dict[str, Fraction] = {name: Fraction(0) for name in DIMENSION_NAMES}
    points: dict[str, Fraction | None] = {}
    for item in config.items:
        if wanted is not None and item.code not in wanted:
            continue
        value = values.get(item.code)
        earned = None if value is None else indicator_points(value, item.points, rate_floor=config.rate_floor)
        points[item.code] = earned
        if earned is not None:
            earned_by[item.dimension] += earned
            possible_by[item.dimension] += item.points
    earned_total = sum(earned_by.values(), Fraction(0))
    possible_total = sum(possible_by.values(), Fraction(0))
    bonus = bonus_points(commendation_levels, unit_kind=unit_kind)
    scored = has_households and possible_total > 0
    dimensions = [
        DimensionScore(
            name,
            dimension_points[name],
            dimension_points[name] * earned_by[name] / possible_by[name] if scored and possible_by[name] else None,
        )
        for name in DIMENSION_NAMES
    ]
    if not scored:
        return UnitScore(False, earned_total, possible_total, None, bonus, None, "", dimensions, points)
    base = 100 * earned_total / possible_total
    total = base + bonus
    return UnitScore(True, earned_total, possible_total, base, bonus, total, grade_for(total), dimensions, points)


# --- formatting ------------------------------------------------------------------------------------


def exact_text(value: Fraction | None) -> str:
    """``47713/913``; an integer plainly (``90``); empty for None."""
    if value is None:
        return ""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


@overload
def points_decimal(value: Fraction) -> Decimal: ...
@overload
def points_decimal(value: None) -> None: ...
@overload
def points_decimal(value: Fraction | None) -> Decimal | None: ...
def points_decimal(value: Fraction | None) -> Decimal | None:
    """Half-up to 2 decimals (assessment.md: display rounding)."""
    return None if value is None else round_half_up(value, 2)


def points_text(value: Fraction | None) -> str:
    decimal = points_decimal(value)
    return "" if decimal is None else format(decimal, "f")


def plain_points_text(value: Fraction) -> str:
    """Whole points plainly (``5``), others with 2 decimals."""
    return exact_text(value) if value.denominator == 1 else points_text(value)


def value_display(kind: str, value: Fraction | None) -> str:
    """A value as indicators.md shows it: rates and pp rounded down to 1 decimal (an unmet 99.96 %
    never shows as 100.0), counts whole; ``—`` when not applicable."""
    if value is None:
        return "—"
    if kind in (Kind.RATE, Kind.GAP_PP):
        tenths = math.floor(value * 10)
        sign = "-" if tenths < 0 else ""
        whole, tenth = divmod(abs(tenths), 10)
        return f"{sign}{whole}.{tenth}"
    return exact_text(value)


def _fraction(text: str) -> Fraction | None:
    return Fraction(text) if text else None


# --- configuration (services) ------------------------------------------------------------------------


def config_default() -> ScoringConfig:
    """assessment.md's default weights, as loaded into the catalogue."""
    items = tuple(
        ConfigItem(code, dimension, Fraction(weight))
        for code, dimension, weight in Indicator.objects.exclude(kind=Kind.INFO)
        .order_by("order")
        .values_list("code", "dimension", "weight")
    )
    return ScoringConfig(DEFAULT_RATE_FLOOR, items)


def config_for_year(year: int) -> ScoringConfig:
    """The year's saved configuration, or the default when none is saved yet (nothing is written)."""
    config = AssessmentConfig.objects.filter(year=year).first()
    if config is None:
        return config_default()
    items = tuple(
        ConfigItem(code, dimension, Fraction(points))
        for code, dimension, points in config.items.order_by("indicator__order").values_list(
            "indicator__code", "dimension", "points"
        )
    )
    return ScoringConfig(Fraction(config.rate_floor), items)


def config_validate(config: ScoringConfig) -> None:
    """Raise ``ValidationError`` (Chinese messages, keyed by field) unless the points add up to 100,
    every judged indicator is placed exactly once in one of the eight dimensions, and no ``info``
    indicator carries points."""
    errors: dict[str, list[str]] = {}
    kinds = dict(Indicator.objects.values_list("code", "kind"))
    judged = {code for code, kind in kinds.items() if kind != Kind.INFO}
    if not 0 < config.rate_floor <= 100:
        errors.setdefault("rate_floor", []).append(_("起评差距须大于 0 且不超过 100 个百分点。"))
    seen: set[str] = set()
    for item in config.items:
        key = f"points_{item.code}"
        if item.code not in kinds:
            errors.setdefault("__all__", []).append(_("未知指标 %(code)s。") % {"code": item.code})
            continue
        if kinds[item.code] == Kind.INFO:
            errors.setdefault(key, []).append(_("%(code)s 为监测类指标，不计分。") % {"code": item.code})
        if item.code in seen:
            errors.setdefault(key, []).append(
                _("%(code)s 重复出现，每个指标只能放在一个维度中。") % {"code": item.code}
            )
        seen.add(item.code)
        if item.dimension not in DIMENSION_NAMES:
            errors.setdefault(f"dimension_{item.code}", []).append(
                _("%(code)s 须放在八个考核维度之一中。") % {"code": item.code}
            )
        if item.points < 0:
            errors.setdefault(key, []).append(_("分值不能为负数。"))
        elif item.points * 100 != int(item.points * 100):
            errors.setdefault(key, []).append(_("分值最多保留两位小数。"))
    for code in sorted(judged - seen, key=lambda c: [int(part) for part in c[1:].split("-")]):
        errors.setdefault(f"points_{code}", []).append(_("%(code)s 未放入任何考核维度。") % {"code": code})
    total = sum((item.points for item in config.items), Fraction(0))
    if total != 100:
        errors.setdefault("__all__", []).append(
            _("各指标分值合计须为 100 分，当前合计 %(total)s 分。") % {"total": plain_points_text(total)}
        )
    if errors:
        raise ValidationError(errors)


def _published_error(year: int) -> AssessmentError:
    return AssessmentError(_("%(year)s 年度考核已发布，结果与配置均已冻结。") % {"year": year})


def _config_write(year: int, config: ScoringConfig, actor: User | None) -> AssessmentConfig:
    row, _created = AssessmentConfig.objects.select_for_update().get_or_create(year=year)
    if row.published_at is not None:
        raise _published_error(year)
    row.rate_floor = Decimal(config.rate_floor.numerator) / Decimal(config.rate_floor.denominator)
    row.updated_by = actor if getattr(actor, "pk", None) else None
    row.full_clean()
    row.save()
    indicators = dict(Indicator.objects.values_list("code", "id"))
    row.items.all().delete()
    AssessmentConfigItem.objects.bulk_create(
        AssessmentConfigItem(
            config=row,
            indicator_id=indicators[item.code],
            dimension=item.dimension,
            points=Decimal(item.points.numerator) / Decimal(item.points.denominator),
        )
        for item in config.items
    )
    return row


@transaction.atomic
def assessment_config_seed(*, year: int) -> AssessmentConfig:
    """The year's configuration row, created from the defaults when the year is first assessed."""
    row = AssessmentConfig.objects.filter(year=year).first()
    if row is not None:
        return row
    return _config_write(year, config_default(), None)


@transaction.atomic
def assessment_config_update(
    *, year: int, actor: User | None, rate_floor: Fraction, items: Iterable[ConfigItem]
) -> AssessmentConfig:
    """Change a year's points, dimensions and rate floor (city administrator, before publishing)."""
    require_write(actor, "assessment")
    if _published_run(year) is not None:
        raise _published_error(year)
    config = ScoringConfig(Fraction(rate_floor), tuple(items))
    config_validate(config)
    return _config_write(year, config, actor)


# --- inputs from stored values ------------------------------------------------------------------------


@dataclass
class StoredValue:
    code: str
    value: UnitValue
    numerator: int | None
    denominator: int | None
    value_text: str
    target_text: str


def _stored_values(period: Period, level: str) -> dict[str, dict[str, StoredValue]]:
    """{unit_code: {indicator code: value}} of one level of the period."""
    rows = IndicatorValue.objects.filter(period=period, level=level).values_list(
        "unit_code", "indicator__code", "indicator__kind", "numerator", "denominator", "value", "value_exact",
        "target", "met",
    )  # fmt: skip
    by_unit: dict[str, dict[str, StoredValue]] = {}
    for unit_code, code, kind, numerator, denominator, value, exact, target, met in rows:
        unit_value = UnitValue(kind, _fraction(exact), None if target is None else Fraction(target), met)
        by_unit.setdefault(unit_code, {})[code] = StoredValue(
            code, unit_value, numerator, denominator, format_number(value), format_number(target)
        )
    return by_unit


def _has_households(values: Mapping[str, StoredValue]) -> bool:
    stored = values.get(ACTIVE_HOUSEHOLDS_CODE)
    return bool(stored and stored.denominator)


# --- runs (services) ----------------------------------------------------------------------------------


def _published_run(year: int) -> AssessmentRun | None:
    return AssessmentRun.objects.filter(year=year, published_at__isnull=False).first()


def assessment_run_create(*, year: int, actor: User | None = None) -> AssessmentRun:
    """Queue a computation of ``year``. Raises ``AssessmentError`` once the year is published or
    while another run of it is in progress."""
    if actor is not None:
        require_write(actor, "assessment")
    if _published_run(year) is not None:
        raise _published_error(year)
    busy = AssessmentRun.objects.filter(
        year=year,
        status__in=[AssessmentRun.Status.QUEUED, AssessmentRun.Status.RUNNING],
        created_at__gte=timezone.now() - datetime.timedelta(hours=2),
    )
    if busy.exists():
        raise AssessmentError(_("%(year)s 年度考核正在计算中，请稍后再试。") % {"year": year})
    assessment_config_seed(year=year)
    return AssessmentRun.objects.create(year=year, started_by=actor if getattr(actor, "pk", None) else None)


def _set_progress(run: AssessmentRun, progress: int) -> None:
    run.progress = progress
    AssessmentRun.objects.filter(pk=run.pk).update(progress=progress)


def _values_ensure(year: int, actor: User | None = None) -> Period:
    """Period Y with stored values: computed first when it has none (or is open and stale), and its
    year-data indicators brought up to date while it is unpublished. Runs in this process."""
    period = period_get_or_create(key=f"{year:04d}")
    has_values = IndicatorValue.objects.filter(period=period).exists()
    if period.published_at is None:
        scope = None
        if not has_values or (period.closed_at is None and period.dirty_since is not None):
            scope = ComputeRun.Scope.FULL
        elif period.closed_at is not None and period.year_data_dirty_since is not None:
            scope = ComputeRun.Scope.YEAR_DATA
        if scope is not None:
            try:
                compute = compute_run_execute(
                    run_id=compute_run_create(period_key=period.key, actor=actor, scope=scope).pk
                )
            except Exception as exc:  # PeriodError: a future or closed period
                raise AssessmentError(str(exc)) from exc
            if compute.status != ComputeRun.Status.DONE:
                raise AssessmentError(
                    _("期间 %(key)s 的指标计算失败：%(error)s") % {"key": period.key, "error": compute.error}
                )
    period.refresh_from_db()
    if not IndicatorValue.objects.filter(period=period).exists():
        raise AssessmentError(_("期间 %(key)s 没有指标值，无法考核。") % {"key": period.key})
    return period


def assessment_run_execute(*, run_id: int) -> AssessmentRun:
    """Compute a queued run: period values first when needed, then the scores, which replace the
    year's previous unpublished results in one transaction. Never raises for a failed computation
    (the run row records it); idempotent for a finished run."""
    run = AssessmentRun.objects.get(pk=run_id)
    if run.status in (AssessmentRun.Status.DONE, AssessmentRun.Status.FAILED):
        return run
    try:
        AssessmentRun.objects.filter(pk=run.pk).update(status=AssessmentRun.Status.RUNNING, progress=5)
        run.status = AssessmentRun.Status.RUNNING
        period = _values_ensure(run.year, run.started_by)
        _set_progress(run, 70)
        with transaction.atomic():
            if _published_run(run.year) is not None:
                raise _published_error(run.year)
            _score_into(run, period, config_for_year(run.year))
            # Older unpublished results of the year are superseded (their run rows stay as history).
            AssessmentResult.objects.filter(run__year=run.year).exclude(run=run).delete()
            run.status = AssessmentRun.Status.DONE
            run.progress = 100
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "progress", "finished_at", "reference_date", "config"])
    except Exception as exc:  # the run row carries every failure
        logger.exception("assessment run %s of %s failed", run.pk, run.year)
        run.status = AssessmentRun.Status.FAILED
        run.error = str(exc) or exc.__class__.__name__
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
    return run


def assessment_compute(*, year: int, actor: User | None = None) -> AssessmentRun:
    """``assess --year Y``: compute in this process (period Y through ``compute_period`` first when it
    has no stored values). Raises ``AssessmentError`` when the run fails."""
    period = period_get_or_create(key=f"{year:04d}")
    if period.published_at is None and not IndicatorValue.objects.filter(period=period).exists():
        compute = compute_period(period_key=period.key, actor=actor)
        if compute.status != ComputeRun.Status.DONE:
            raise AssessmentError(
                _("期间 %(key)s 的指标计算失败：%(error)s") % {"key": period.key, "error": compute.error}
            )
    run = assessment_run_execute(run_id=assessment_run_create(year=year, actor=actor).pk)
    if run.status != AssessmentRun.Status.DONE:
        raise AssessmentError(run.error)
    return run


# Called with the run id once a publishing commits (``indicators.apps``: the report-file task). The
# queue sits above this module (its task reads the results through it), so it subscribes here.
PUBLISH_LISTENERS: list[Callable[[int], None]] = []


@dataclass
class PublishNote:
    """What an app above indicators adds to a year's assessment page: markup (escaped already) and
    the warnings shown before publishing. A warning never blocks publishing."""

    html: str = ""
    warnings: list[str] = field(default_factory=list)


# Called with (actor, year) by the assessment page; the apps above register from their ``ready()``
# (signoff: each county's December sign-off), so this module never imports them.
PUBLISH_NOTES: list[Callable[[User, int], PublishNote]] = []


def publish_notes(*, actor: User, year: int) -> list[PublishNote]:
    return [provider(actor, year) for provider in PUBLISH_NOTES]


def assessment_report_request(run: AssessmentRun) -> None:
    """Have the published run's 通报 files built (after the current transaction commits): its report
    turns ``queued`` and the listeners queue the job. A run whose files are queued, being built or
    built is left alone, so asking twice queues one build."""
    claimed = AssessmentRun.objects.filter(
        pk=run.pk,
        published_at__isnull=False,
        report_status__in=[AssessmentRun.ReportStatus.NONE, AssessmentRun.ReportStatus.FAILED],
    ).update(report_status=AssessmentRun.ReportStatus.QUEUED, report_progress=0, report_error="")
    if not claimed:
        return
    run.report_status, run.report_progress, run.report_error = AssessmentRun.ReportStatus.QUEUED, 0, ""
    run_id = run.pk

    def notify() -> None:
        for listener in PUBLISH_LISTENERS:
            listener(run_id)

    transaction.on_commit(notify)


def assessment_publish(*, year: int, actor: User | None = None) -> AssessmentRun:
    """Publish the year: close period Y (``period_publish``), score it once more from the now frozen
    values, freeze the run, its copies and the configuration, and queue the build of its 通报 files.
    Publishing twice changes nothing (it only queues the files again if their build failed)."""
    if actor is not None:
        require_write(actor, "assessment")
    published = _published_run(year)
    if published is not None:
        assessment_report_request(published)
        return published
    assessment_config_seed(year=year)
    _values_ensure(year, actor)
    with transaction.atomic():
        period = period_publish(year=year, actor=actor)
        config_row = AssessmentConfig.objects.select_for_update().get(year=year)
        meanwhile = _published_run(year)
        if meanwhile is not None:  # published meanwhile
            return meanwhile
        run = AssessmentRun.objects.create(
            year=year, started_by=actor if getattr(actor, "pk", None) else None, status=AssessmentRun.Status.RUNNING
        )
        _score_into(run, period, config_for_year(year))
        AssessmentResult.objects.filter(run__year=year).exclude(run=run).delete()
        now = timezone.now()
        run.status = AssessmentRun.Status.DONE
        run.progress = 100
        run.finished_at = now
        run.published_at = now
        run.save()
        config_row.published_at = now
        config_row.save(update_fields=["published_at"])
        assessment_report_request(run)
    return run


@dataclass
class _ScoringInputs:
    """What scoring every unit of a run reads, loaded once (a fixed number of queries per run)."""

    config: ScoringConfig
    indicators: dict[str, tuple[str, str, str]]  # code: (name, kind, lead)
    catalogue_order: list[str]
    placement: dict[str, ConfigItem]
    county_values: dict[str, dict[str, StoredValue]]
    city: dict[str, StoredValue]  # the city's values: the departments are scored on them
    commendations: dict[str, list[Commendation]]

    @classmethod
    def load(cls, run: AssessmentRun, period: Period, config: ScoringConfig) -> "_ScoringInputs":
        indicators = {
            code: (name, kind, lead)
            for code, name, kind, lead in Indicator.objects.values_list("code", "name", "kind", "lead")
        }
        catalogue_order = list(Indicator.objects.order_by("order").values_list("code", flat=True))
        placement = {item.code: item for item in config.items}
        county_values = _stored_values(period, Level.COUNTY)
        city_values = _stored_values(period, Level.CITY)
        city_code = next(iter(city_values), "")
        commendations: dict[str, list[Commendation]] = {}
        for commendation in Commendation.objects.filter(year=run.year).order_by("level", "title"):
            commendations.setdefault(commendation.unit, []).append(commendation)
        return cls(
            config, indicators, catalogue_order, placement, county_values, city_values.get(city_code, {}), commendations
        )


def _score_into(run: AssessmentRun, period: Period, config: ScoringConfig) -> None:
    """Score every county-level unit and every lead department into result rows of ``run``."""
    inputs = _ScoringInputs.load(run, period, config)
    AssessmentResult.objects.bulk_create(_ranked_results(run, _unit_entries(inputs)))
    references = IndicatorValue.objects.filter(period=period).values_list("reference_date", flat=True)
    run.reference_date = references.first()
    run.config = config.to_json()


def _unit_entries(inputs: _ScoringInputs) -> list[dict[str, Any]]:
    """Every county on all indicators, then every lead department on the judged indicators it leads
    (at city level): the units before ranking."""
    judged_codes = [code for code in inputs.catalogue_order if inputs.indicators[code][1] != Kind.INFO]
    entries = []
    for code, name in Area.objects.filter(level=AreaLevel.COUNTY).order_by("code").values_list("code", "name"):
        values = inputs.county_values.get(code, {})
        entries.append(
            _unit_entry(inputs, AssessmentResult.UnitKind.COUNTY, code, name, values, inputs.catalogue_order)
        )
    for department in Department.values:
        led = [code for code in judged_codes if inputs.indicators[code][2] == department]
        entries.append(
            _unit_entry(inputs, AssessmentResult.UnitKind.DEPARTMENT, department, department, inputs.city, led)
        )
    return entries


def _unit_entry(
    inputs: _ScoringInputs,
    unit_kind: str,
    unit_code: str,
    name: str,
    values: Mapping[str, StoredValue],
    codes: list[str],
) -> dict[str, Any]:
    """One unit's score, with its indicator rows and commendations as the result row stores them."""
    own = inputs.commendations.get(unit_code, [])
    score = unit_score(
        values={code: stored.value for code, stored in values.items()},
        config=inputs.config,
        unit_kind=unit_kind,
        has_households=_has_households(values),
        commendation_levels=[c.level for c in own],
        codes=codes,
    )
    table = DEPARTMENT_BONUS if unit_kind == AssessmentResult.UnitKind.DEPARTMENT else COUNTY_BONUS
    return {
        "score": score,
        "unit_kind": unit_kind,
        "unit_code": unit_code,
        "unit_name": name,
        "indicators": _indicator_rows(inputs, values, codes, score),
        "commendations": [
            {"year": c.year, "level": c.level, "title": c.title, "points": table.get(c.level, 0)} for c in own
        ],
    }


def _indicator_rows(
    inputs: _ScoringInputs, values: Mapping[str, StoredValue], codes: list[str], score: UnitScore
) -> list[dict[str, Any]]:
    """A row per indicator of ``codes``, in catalogue order: the stored value beside the points it
    earned, frozen into the result so that a published report never reads values again."""
    rows = []
    for code in inputs.catalogue_order:
        if code not in codes:
            continue
        name, kind, lead = inputs.indicators[code]
        stored = values.get(code)
        item = inputs.placement.get(code)
        earned = score.points.get(code) if item is not None else None
        value = stored.value.value if stored else None
        rows.append(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "lead": lead,
                "dimension": item.dimension if item else "",
                "weight": plain_points_text(item.points) if item else "",
                "value": stored.value_text if stored else "",
                "value_exact": exact_text(value),
                "value_display": value_display(kind, value),
                "target": stored.target_text if stored else "",
                "met": stored.value.met if stored else Met.NA,
                "applicable": earned is not None,
                "points_exact": exact_text(earned),
                "points": points_text(earned),
            }
        )
    return rows


def _ranked_results(run: AssessmentRun, entries: list[dict[str, Any]]) -> list[AssessmentResult]:
    """The result rows, unit kind by unit kind, ranked within the kind and placed in rank order."""
    results = []
    for unit_kind in AssessmentResult.UnitKind.values:
        group = [entry for entry in entries if entry["unit_kind"] == unit_kind]
        ranks = ranks_for({entry["unit_code"]: entry["score"].total for entry in group})
        for position, entry in enumerate(_in_rank_order(group, ranks), start=1):
            results.append(_result_row(run, unit_kind, entry, position, ranks[entry["unit_code"]]))
    return results


def _in_rank_order(group: list[dict[str, Any]], ranks: dict[str, int | None]) -> list[dict[str, Any]]:
    """Ranked units first; counties by code within a tie, departments by name (their code); unranked last."""

    def order(entry: dict[str, Any]) -> tuple[bool, int, str]:
        rank = ranks[entry["unit_code"]]
        return (rank is None, rank or 0, entry["unit_code"])

    return sorted(group, key=order)


def _result_row(
    run: AssessmentRun, unit_kind: str, entry: dict[str, Any], position: int, rank: int | None
) -> AssessmentResult:
    """One unit's result row: every figure both exact (a fraction's text) and as shown."""
    score: UnitScore = entry["score"]
    return AssessmentResult(
        run=run,
        unit_kind=unit_kind,
        unit_code=entry["unit_code"],
        unit_name=entry["unit_name"],
        position=position,
        scored=score.scored,
        base_exact=exact_text(score.base),
        base=points_decimal(score.base),
        bonus_exact=exact_text(score.bonus),
        bonus=points_decimal(score.bonus),
        total_exact=exact_text(score.total),
        total=points_decimal(score.total),
        grade=score.grade,
        rank=rank,
        earned_exact=exact_text(score.earned),
        applicable_exact=exact_text(score.applicable),
        dimensions=[
            {
                "name": dimension.name,
                "points": plain_points_text(dimension.points),
                "exact": exact_text(dimension.score),
                "display": points_text(dimension.score),
            }
            for dimension in score.dimensions
        ],
        commendations=entry["commendations"],
        indicators=entry["indicators"],
    )


# --- reads (selectors) --------------------------------------------------------------------------------


def assessment_current_run(year: int) -> AssessmentRun | None:
    """The published run of the year, else its latest finished run."""
    published = _published_run(year)
    if published is not None:
        return published
    return (
        AssessmentRun.objects.filter(year=year, status=AssessmentRun.Status.DONE)
        .order_by("-finished_at", "-id")
        .first()
    )


def assessment_latest_run(year: int) -> AssessmentRun | None:
    return AssessmentRun.objects.filter(year=year).order_by("-created_at", "-id").first()


def assessment_is_published(year: int) -> bool:
    return _published_run(year) is not None


def assessment_years() -> list[dict[str, Any]]:
    """Every year with a configuration or a run: {"year", "published", "published_at", "computed"}."""
    years = set(AssessmentConfig.objects.values_list("year", flat=True)) | set(
        AssessmentRun.objects.values_list("year", flat=True)
    )
    published = dict(AssessmentRun.objects.filter(published_at__isnull=False).values_list("year", "published_at"))
    computed = set(AssessmentRun.objects.filter(status=AssessmentRun.Status.DONE).values_list("year", flat=True))
    return [
        {
            "year": year,
            "published": year in published,
            "published_at": published.get(year),
            "computed": year in computed,
        }
        for year in sorted(years, reverse=True)
    ]


def assessment_readable(actor: User | None, *, published: bool) -> bool:
    """access.md: a published assessment is read by every role; an unpublished one by the city roles."""
    if actor is None or getattr(actor, "is_superuser", False):
        return True
    if not getattr(actor, "is_authenticated", False):
        return False
    return published or actor.role in (Role.CITY_BUREAU, Role.CITY_ADMIN)


def _result_data(result: AssessmentResult) -> dict[str, Any]:
    return {
        "unit_kind": result.unit_kind,
        "unit_code": result.unit_code,
        "unit_name": result.unit_name,
        "label": f"{result.unit_code} {result.unit_name}"
        if result.unit_kind == AssessmentResult.UnitKind.COUNTY
        else result.unit_name,
        "scored": result.scored,
        "rank": result.rank,
        "base": None if result.base is None else format(result.base, "f"),
        "base_exact": result.base_exact,
        "bonus": plain_points_text(Fraction(result.bonus_exact or "0")),
        "bonus_exact": result.bonus_exact,
        "total": None if result.total is None else format(result.total, "f"),
        "total_exact": result.total_exact,
        "grade": result.grade,
        "earned_exact": result.earned_exact,
        "applicable_exact": result.applicable_exact,
        "dimensions": result.dimensions,
        "commendations": result.commendations,
        "indicators": result.indicators,
        "unmet": [row for row in result.indicators if row["met"] == Met.FALSE],
    }


def assessment_result_for_year(year: int) -> dict[str, Any] | None:
    """The year's stored assessment as plain data (None when never computed): {"year", "published",
    "published_at", "computed_at", "reference_date", "rate_floor", "dimensions": [{"name", "points"}],
    "counties": [...], "departments": [...], "issuer", "footnote", "report"}; each unit carries rank, base,
    dimensions, bonus, total (2-decimal strings), their exact fractions, grade, commendations and the
    indicator rows used. Access is the caller's job (``assessment_readable``)."""
    run = assessment_current_run(year)
    if run is None:
        return None
    results = [_result_data(result) for result in run.results.order_by("unit_kind", "position")]
    config = ScoringConfig.from_json(run.config)
    dimension_points = config.dimension_points()
    return {
        "year": year,
        "run_id": run.pk,
        "published": run.published_at is not None,
        "published_at": run.published_at,
        "computed_at": run.finished_at,
        "reference_date": run.reference_date,
        "rate_floor": points_text(config.rate_floor),
        "dimensions": [{"name": name, "points": plain_points_text(dimension_points[name])} for name in DIMENSION_NAMES],
        "counties": [row for row in results if row["unit_kind"] == AssessmentResult.UnitKind.COUNTY],
        "departments": [row for row in results if row["unit_kind"] == AssessmentResult.UnitKind.DEPARTMENT],
        "issuer": ISSUER,
        "issuer_short": ISSUER_SHORT,
        "footnote": FOOTNOTE,
        # The published files' build (report_files): "" for a draft, rendered on demand.
        "report": {"status": run.report_status, "progress": run.report_progress, "error": run.report_error},
    }


def assessment_summary(*, year: int) -> dict[str, Any] | None:
    """The counties' stored totals and ranks of ``year``'s assessment, else of the latest earlier year
    that has one (the city dashboard's summary), or None. The run is chosen as in
    ``assessment_current_run`` — the published one, else the latest finished one — and nothing is
    scored here. Two queries whatever the number of counties; access is the caller's job
    (``assessment_readable``). {"year", "published", "published_at", "computed_at", "counties":
    [{"unit_code", "unit_name", "rank", "total", "grade"}]} in ranking order."""
    run = (
        AssessmentRun.objects.filter(
            Q(published_at__isnull=False) | Q(status=AssessmentRun.Status.DONE), year__lte=year
        )
        .order_by("-year", F("published_at").desc(nulls_last=True), "-finished_at", "-id")
        .only("year", "published_at", "finished_at")
        .first()
    )
    if run is None:
        return None
    counties = (
        run.results.filter(unit_kind=AssessmentResult.UnitKind.COUNTY)
        .order_by("position")
        .values("unit_code", "unit_name", "rank", "total", "grade")
    )
    return {
        "year": run.year,
        "published": run.published_at is not None,
        "published_at": run.published_at,
        "computed_at": run.finished_at,
        "counties": [{**row, "total": None if row["total"] is None else format(row["total"], "f")} for row in counties],
    }


def assessment_unit(data: Mapping[str, Any], unit_code: str) -> dict[str, Any] | None:
    for row in [*data["counties"], *data["departments"]]:
        if row["unit_code"] == unit_code:
            return row
    return None
