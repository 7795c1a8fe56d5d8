"""What is measured: the catalogue, periods, computed values, and the county-level and city-level
inputs (finance, city statistics, commendations, the monitoring income line)."""

from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.ddl_references import Statement
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    RATE = "rate", _("比率")
    ZERO = "zero", _("清零")
    NO_DECREASE = "no_decrease", _("只增不减")
    GAP_PP = "gap_pp", _("增幅差")
    INFO = "info", _("监测")


class Met(models.TextChoices):
    TRUE = "true", _("达标")
    FALSE = "false", _("未达标")
    NA = "na", _("不适用")


class Level(models.TextChoices):
    CITY = "city", _("市")
    COUNTY = "county", _("县市区")
    TOWNSHIP = "township", _("乡镇")
    VILLAGE = "village", _("村社区")
    SITE = "site", _("安置点")


class Measure(models.Model):
    number = models.PositiveSmallIntegerField(_("措施序号"), unique=True)
    name = models.CharField(_("措施"), max_length=100)

    class Meta:
        verbose_name = _("措施")
        verbose_name_plural = _("措施")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


class Indicator(models.Model):
    code = models.CharField(_("指标代码"), max_length=8, unique=True)
    name = models.CharField(_("指标名称"), max_length=100)
    measure = models.ForeignKey(Measure, verbose_name=_("措施"), on_delete=models.PROTECT, related_name="indicators")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    target = models.DecimalField(_("目标"), max_digits=8, decimal_places=2, null=True, blank=True)
    lead = models.CharField(_("责任单位"), max_length=20)
    unit_noun = models.CharField(_("记录单位"), max_length=4, default="人")
    order = models.PositiveSmallIntegerField(_("顺序"), unique=True)
    # Assessment dimension and default weight (assessment.md); per-year configuration builds on these.
    dimension = models.CharField(_("考核维度"), max_length=10, blank=True)
    weight = models.DecimalField(_("默认分值"), max_digits=5, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["order"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Period(models.Model):
    """A year (``2026``) or a month (``2026-11``)."""

    key = models.CharField(_("期间"), max_length=7, unique=True)
    start = models.DateField()
    end = models.DateField()
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    # Set when the year's assessment is published: freezes even the year-data indicators (M3-5, M9-x).
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    # Set by the change feed consumer; cleared when a run of this period starts.
    dirty_since = models.DateTimeField(null=True, blank=True)
    # A closed (or past) year whose incomes, finance or city statistics changed: M3-5, M9-1, M9-2 only.
    year_data_dirty_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("期间")
        verbose_name_plural = _("期间")
        ordering = ["-start", "key"]

    def __str__(self) -> str:
        return self.key

    @property
    def is_year(self) -> bool:
        return len(self.key) == 4


class ComputeRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("计算中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    class Scope(models.TextChoices):
        FULL = "full", _("全部指标")
        YEAR_DATA = "year_data", _("年度数据指标（M3-5、M9-1、M9-2）")
        # Only the units the change feed names and their ancestors (issue 22: a clerk's edit in seconds).
        CHANGES = "changes", _("变更涉及的单位")

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="runs")
    scope = models.CharField(_("范围"), max_length=10, choices=Scope.choices, default=Scope.FULL)
    reference_date = models.DateField(_("参考日期"))
    as_of_given = models.BooleanField(default=False)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("计算任务")
        verbose_name_plural = _("计算任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.period_id} {self.status}"


def _reference(to: Any, on_delete: Any, **options: Any) -> models.ForeignKey:
    """A foreign key of ``IndicatorValue``: followed by the ORM, neither checked nor indexed by the
    database (see the model)."""
    return models.ForeignKey(to, on_delete=on_delete, db_constraint=False, db_index=False, **options)


class BrinOnPostgreSQL(BrinIndex):
    """A BRIN index on PostgreSQL, a B-tree elsewhere (SQLite has no BRIN).

    For the values table, written whole by each run in (level, unit code) order: a county's or a
    township's rows then lie together on disk, so a block-range summary finds them, and it is built
    in one pass over the new partition instead of a sort (national scale: 0.4–0.6 s against 2.4 s for
    the two B-trees it replaces)."""

    def create_sql(
        self, model: type[models.Model], schema_editor: BaseDatabaseSchemaEditor, using: str = "", **kwargs: Any
    ) -> Statement:
        if schema_editor.connection.vendor != "postgresql":
            return models.Index.create_sql(self, model, schema_editor, using=using, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)


class IndicatorValue(models.Model):
    """One (indicator, area or site, period) value. ``numerator``/``denominator`` are counts, or fen
    for M9-1; ``value_exact`` is the exact fraction (``p/q``) that ``met`` and scoring use.

    Derived data written only by the engine, a whole period at a time (millions of rows at national
    scale): so no foreign-key constraints in the database (the ORM still cascades) and only the
    indexes that readers use — every index and deferred constraint check is paid per written row.
    """

    period = _reference(Period, models.PROTECT, related_name="values")
    indicator = _reference(Indicator, models.PROTECT, related_name="values")
    level = models.CharField(_("层级"), max_length=8, choices=Level.choices)
    area = _reference("areas.Area", models.CASCADE, null=True, blank=True, related_name="+")
    site = _reference("households.Site", models.CASCADE, null=True, blank=True, related_name="+")
    unit_code = models.CharField(_("区划或安置点编码"), max_length=40)
    county_code = models.CharField(max_length=6, blank=True)
    township_code = models.CharField(max_length=9, blank=True)
    numerator = models.BigIntegerField(_("分子"), null=True, blank=True)
    denominator = models.BigIntegerField(_("分母"), null=True, blank=True)
    value = models.DecimalField(_("值"), max_digits=24, decimal_places=10, null=True, blank=True)
    value_exact = models.CharField(max_length=80, blank=True)
    target = models.DecimalField(_("目标"), max_digits=24, decimal_places=10, null=True, blank=True)
    met = models.CharField(_("达标"), max_length=5, choices=Met.choices)
    reference_date = models.DateField(_("参考日期"))
    computed_at = models.DateTimeField(_("计算时间"))
    run = _reference(ComputeRun, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("指标值")
        verbose_name_plural = _("指标值")
        constraints = [
            # Also the index of every read by level and unit: of one period (dashboards, exports,
            # assessment; the period picks the partition) and across periods (a unit's trend). The
            # period comes last so that one index serves both: each index costs ~1 s per full
            # national recompute.
            models.UniqueConstraint(fields=["level", "unit_code", "indicator", "period"], name="value_unique_unit"),
        ]
        indexes = [
            # A county's and a township's units (dashboards, the API's county filter).
            BrinOnPostgreSQL(fields=["period", "county_code", "township_code"], name="value_area", pages_per_range=8),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.unit_code} {self.period_id}"

    @classmethod
    def village_scope(cls, village_code: str) -> Q:
        """What village staff see (``accounts.access.scope``): values are kept per township, so a
        village sees its own value and its sites' values."""
        return Q(level="village", unit_code=village_code) | Q(level="site", site__village_code=village_code)


class UnitBasis(models.Model):
    """The counts of an area unit that its stored values do not hold, written with them by every run:
    an ancestor's values are then recomputed from its own stored counts, moved by what its changed
    children moved (issue 22), instead of from all their records. The rates' numerators and
    denominators and the counts are in ``IndicatorValue``; what is left is whether the unit has
    households and labour force (the 清零 and 只增不减 judgements) and the income sums of M3-5's
    growth. Derived data, like the values."""

    period = _reference(Period, models.CASCADE, related_name="+")
    level = models.CharField(max_length=8, choices=Level.choices)
    unit_code = models.CharField(max_length=40)
    reference_date = models.DateField()
    households = models.BigIntegerField(default=0)
    labour_force = models.BigIntegerField(default=0)
    income_cur_total = models.BigIntegerField(default=0)
    income_cur_size = models.BigIntegerField(default=0)
    income_cur_rows = models.BigIntegerField(default=0)
    income_prev_total = models.BigIntegerField(default=0)
    income_prev_size = models.BigIntegerField(default=0)
    income_prev_rows = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("指标计算基数")
        verbose_name_plural = _("指标计算基数")
        constraints = [
            models.UniqueConstraint(fields=["period", "level", "unit_code"], name="basis_unique_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.unit_code} {self.period_id}"


class CountyFinance(models.Model):
    county = models.ForeignKey("areas.Area", verbose_name=_("县市区"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    asset_proceeds = models.BigIntegerField(_("盘活资产收益（分）"))
    proceeds_to_households = models.BigIntegerField(_("收益用于搬迁户后扶（分）"))
    linkage_funds = models.BigIntegerField(_("衔接资金总额（分）"))
    linkage_to_relocation = models.BigIntegerField(_("衔接资金用于搬迁后扶（分）"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("后扶资金")
        verbose_name_plural = _("后扶资金")
        ordering = ["county__code", "year"]
        constraints = [
            models.UniqueConstraint(fields=["county", "year"], name="finance_unique_county_year"),
            models.CheckConstraint(
                condition=Q(proceeds_to_households__gte=0) & Q(proceeds_to_households__lte=models.F("asset_proceeds")),
                name="finance_proceeds_within_total",
            ),
            models.CheckConstraint(
                condition=Q(linkage_to_relocation__gte=0) & Q(linkage_to_relocation__lte=models.F("linkage_funds")),
                name="finance_linkage_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county_id} {self.year}"


class CityStatistic(models.Model):
    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    city_income_growth = models.DecimalField(_("全市居民人均可支配收入增长率（%）"), max_digits=8, decimal_places=4)

    class Meta:
        verbose_name = _("全市统计")
        verbose_name_plural = _("全市统计")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CommendationLevel(models.TextChoices):
    NATIONAL = "国家级", _("国家级")
    PROVINCIAL = "省级", _("省级")
    CITY = "市级", _("市级")


class Commendation(models.Model):
    unit = models.CharField(_("被表彰单位"), max_length=20, help_text=_("县市区代码或市直部门名称"))
    year = models.PositiveSmallIntegerField(_("年度"))
    level = models.CharField(_("表彰级别"), max_length=4, choices=CommendationLevel.choices)
    title = models.CharField(_("表彰名称"), max_length=200)

    class Meta:
        verbose_name = _("表彰加分")
        verbose_name_plural = _("表彰加分")
        ordering = ["year", "unit"]
        constraints = [models.UniqueConstraint(fields=["unit", "year", "title"], name="commendation_unique")]

    def __str__(self) -> str:
        return f"{self.unit} {self.year} {self.title}"


class MonitoringLine(models.Model):
    """防止返贫监测范围: yuan per person per year, set yearly by the city administrator (stored in fen)."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    line = models.BigIntegerField(_("监测收入线（分）"))

    class Meta:
        verbose_name = _("监测收入线")
        verbose_name_plural = _("监测收入线")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


# --- the annual assessment (measure 10, assessment.md) ------------------------------------------


class AssessmentConfig(models.Model):
    """One year's assessment configuration: the ``rate`` floor and, in ``items``, each judged
    indicator's points and dimension. Seeded from the catalogue defaults when a year is first
    assessed; frozen (``published_at``) when the year's assessment is published."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    # A rate below its target t earns w × (v − (t − floor)) / floor; assessment.md: floor = 20 points.
    rate_floor = models.DecimalField(_("比率类指标起评差距（百分点）"), max_digits=5, decimal_places=2, default=20)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        verbose_name = _("年度考核配置")
        verbose_name_plural = _("年度考核配置")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_floor__gt=0) & Q(rate_floor__lte=100), name="assessment_floor_range"
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)


class AssessmentConfigItem(models.Model):
    config = models.ForeignKey(AssessmentConfig, on_delete=models.CASCADE, related_name="items")
    indicator = models.ForeignKey(Indicator, verbose_name=_("指标"), on_delete=models.PROTECT, related_name="+")
    dimension = models.CharField(_("考核维度"), max_length=10)
    points = models.DecimalField(_("分值"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("考核指标分值")
        verbose_name_plural = _("考核指标分值")
        ordering = ["indicator__order"]
        constraints = [
            models.UniqueConstraint(fields=["config", "indicator"], name="assessment_item_unique"),
            models.CheckConstraint(condition=Q(points__gte=0), name="assessment_item_points_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.config_id} {self.indicator_id} {self.points}"


class AssessmentRun(models.Model):
    """A computation of one year's assessment (a job row with progress). The latest finished run of
    a year holds its results; publishing marks the run and freezes it with its copies."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("计算中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    class ReportStatus(models.TextChoices):
        NONE = "", _("无")  # an unpublished run: its report is rendered on demand
        QUEUED = "queued", _("排队中")
        BUILDING = "building", _("生成中")
        DONE = "done", _("已生成")
        FAILED = "failed", _("生成失败")

    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    error = models.TextField(blank=True)
    reference_date = models.DateField(_("参考日期"), null=True, blank=True)
    # A copy of the configuration used: {"rate_floor": "20", "items": [[code, dimension, points], ...]}.
    config = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    # The published 通报 files, built once by a background job after publishing (AssessmentReport).
    report_status = models.CharField(
        _("通报文件"), max_length=8, choices=ReportStatus.choices, default=ReportStatus.NONE, blank=True
    )
    report_progress = models.PositiveSmallIntegerField(default=0)
    report_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("年度考核计算")
        verbose_name_plural = _("年度考核计算")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["year"], condition=Q(published_at__isnull=False), name="assessment_one_published_run"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.status}"


class AssessmentResult(models.Model):
    """One unit's score in one run; every number is stored as an exact fraction (``p/q``) and as the
    2-decimal display, and the indicator values used are copied into ``indicators`` so that a
    published result never changes when records or stored values do."""

    class UnitKind(models.TextChoices):
        COUNTY = "county", _("县市区")
        DEPARTMENT = "department", _("市直部门")

    run = models.ForeignKey(AssessmentRun, on_delete=models.CASCADE, related_name="results")
    unit_kind = models.CharField(_("类别"), max_length=10, choices=UnitKind.choices)
    unit_code = models.CharField(_("单位代码"), max_length=20)
    unit_name = models.CharField(_("单位"), max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    scored = models.BooleanField(default=False)
    base_exact = models.TextField(blank=True)  # an exact fraction: sums of many p/q outgrow any fixed width
    base = models.DecimalField(_("基础得分"), max_digits=7, decimal_places=2, null=True, blank=True)
    bonus_exact = models.TextField(blank=True)
    bonus = models.DecimalField(_("加分"), max_digits=7, decimal_places=2, default=0)
    total_exact = models.TextField(blank=True)
    total = models.DecimalField(_("总分"), max_digits=7, decimal_places=2, null=True, blank=True)
    grade = models.CharField(_("等次"), max_length=4, blank=True)
    rank = models.PositiveSmallIntegerField(_("名次"), null=True, blank=True)
    earned_exact = models.TextField(blank=True)
    applicable_exact = models.TextField(blank=True)
    # [{"name", "points", "exact", "display"}] in dimension order; exact/display empty when all n/a.
    dimensions = models.JSONField(default=list)
    # [{"year", "level", "title", "points"}]: the unit's commendations of the year.
    commendations = models.JSONField(default=list)
    # [{"code", "name", "kind", "dimension", "weight", "lead", "value", "value_exact", "value_display",
    #   "target", "met", "applicable", "points_exact", "points"}] in catalogue order.
    indicators = models.JSONField(default=list)

    class Meta:
        verbose_name = _("年度考核结果")
        verbose_name_plural = _("年度考核结果")
        ordering = ["run", "unit_kind", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "unit_kind", "unit_code"], name="assessment_result_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.unit_code} {self.total}"


class AssessmentReport(models.Model):
    """One file of a published 年度考核通报 (pdf or xlsx), rendered once after publishing and served
    as stored: every download of a published year is the same bytes, checked by ``sha256``.

    The bytes live in the database, beside the frozen results they were built from: one backup holds
    both, the web server and the worker need no shared volume, and a file can never go missing
    while its run says it was built. A report is a few hundred KB and holds no personal data."""

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "Excel"

    run = models.ForeignKey(AssessmentRun, on_delete=models.CASCADE, related_name="reports")
    fmt = models.CharField(_("格式"), max_length=4, choices=Format.choices)
    content = models.BinaryField()
    size = models.PositiveIntegerField(_("字节数"))
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    built_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("年度考核通报文件")
        verbose_name_plural = _("年度考核通报文件")
        ordering = ["run", "fmt"]
        constraints = [
            models.UniqueConstraint(fields=["run", "fmt"], name="assessment_report_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.fmt} {self.sha256[:12]}"
