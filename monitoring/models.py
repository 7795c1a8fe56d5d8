"""The monitoring-identification procedure (监测对象识别, issue 21): a ``Case`` per household, opened
from 部门预警, 干部排查 or 农户申报, moving through 入户核实 → 村级评议 (with a ``Publicity``, the 公示)
→ 乡镇初审 → 县级审定, which ends it as 已纳入监测 or 已核实排除. Every step taken (or sent back)
is a ``CaseStep``; objections raised during the 公示 are ``Objection`` rows. The county's decision is
also written as a ``households.MonitoringDecision`` (``decision``), which the indicators read."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from areas.models import Area
from core.plain_indexes import plain_indexes
from households.choices import Monitoring
from households.models import AREA_CODES, AreaCodes, Household, MonitoringDecision


class Source(models.TextChoices):
    WARNING = "部门预警", _("部门预警")
    CADRE = "干部排查", _("干部排查")
    DECLARED = "农户申报", _("农户申报")


class CaseState(models.TextChoices):
    HOME_VISIT = "待入户核实", _("待入户核实")
    VILLAGE_REVIEW = "待村级评议", _("待村级评议")
    PUBLICITY = "公示中", _("公示中")
    TOWNSHIP = "待乡镇初审", _("待乡镇初审")
    COUNTY = "待县级审定", _("待县级审定")
    INCLUDED = "已纳入监测", _("已纳入监测")
    EXCLUDED = "已核实排除", _("已核实排除")


OPEN_STATES = (
    CaseState.HOME_VISIT,
    CaseState.VILLAGE_REVIEW,
    CaseState.PUBLICITY,
    CaseState.TOWNSHIP,
    CaseState.COUNTY,
)
CLOSED_STATES = (CaseState.INCLUDED, CaseState.EXCLUDED)


class StepName(models.TextChoices):
    OPEN = "发起识别", _("发起识别")
    HOME_VISIT = "入户核实", _("入户核实")
    VILLAGE_REVIEW = "村级评议", _("村级评议")
    PUBLICITY = "公示结束", _("公示结束")
    TOWNSHIP = "乡镇初审", _("乡镇初审")
    COUNTY = "县级审定", _("县级审定")


class StepAction(models.TextChoices):
    DONE = "done", _("办理")
    RETURN = "return", _("退回")


class Publicity(AreaCodes):
    """A 公示 of a village: its period (``end_on`` = ``start_on`` + the 'publicity' deadline in working
    days) and where to object, typed by staff. Public by design: it carries no personal data."""

    village = models.ForeignKey(Area, verbose_name=_("村（社区）"), on_delete=models.PROTECT, related_name="+")
    start_on = models.DateField(_("公示开始日期"))
    end_on = models.DateField(_("公示结束日期"))
    place = models.CharField(_("异议受理地点"), max_length=100)
    phone = models.CharField(_("村委会联系电话"), max_length=30)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["-start_on", "-pk"]
        indexes = plain_indexes("publicity", *AREA_CODES)

    def __str__(self) -> str:
        return f"{self.village_code} {self.start_on:%Y-%m-%d}"


class Case(AreaCodes):
    household = models.ForeignKey(Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("风险来源"), max_length=4, choices=Source.choices)
    category = models.CharField(_("拟纳入类别"), max_length=10, choices=Monitoring.choices, blank=True)
    state = models.CharField(_("状态"), max_length=6, choices=CaseState.choices, default=CaseState.HOME_VISIT)
    returned = models.BooleanField(_("已退回"), default=False)
    opened_on = models.DateField(_("发起日期"))
    visit_due_on = models.DateField(_("入户核实期限"))
    due_on = models.DateField(_("识别办结期限"))
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    publicity = models.ForeignKey(
        Publicity, verbose_name=_("公示"), null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    decision = models.OneToOneField(
        MonitoringDecision,
        verbose_name=_("监测认定"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("监测对象识别")
        verbose_name_plural = _("监测对象识别")
        ordering = ["-opened_on", "-pk"]
        indexes = [
            *plain_indexes("case", *AREA_CODES),
            models.Index(fields=["county_code", "township_code", "village_code", "state"], name="case_area"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class CaseStep(models.Model):
    """One step taken on a case (or a return, with its reason): who, when, what; the home visit's note
    lives here."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(_("环节"), max_length=4, choices=StepName.choices)
    action = models.CharField(_("操作"), max_length=6, choices=StepAction.choices, default=StepAction.DONE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"))
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("识别步骤")
        verbose_name_plural = _("识别步骤")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.step} {self.action}"


class Objection(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="objections")
    received_on = models.DateField(_("收到日期"))
    text = models.TextField(_("异议内容"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.received_on:%Y-%m-%d}"
