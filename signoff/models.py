"""Monthly roster sign-off per village (issue 21): 村 提交 → 乡镇初审 → 县级审定.

A village's month is one ``VillageMonth``; every step taken on it is a ``SignoffStep`` (who, when,
what, a note). A submission (and a county approval) stores a ``Snapshot`` of what was attested.
"审定后有修改" is not stored: it is read from the registry's history after ``approved_at``, so a
write anywhere (form, import, API) counts without the registry knowing about sign-off."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from areas.models import Area
from core.plain_indexes import plain_indexes
from households.models import AREA_CODES, AreaCodes


class State(models.TextChoices):
    PENDING = "pending", _("未提交")
    SUBMITTED = "submitted", _("已提交")
    TOWNSHIP_APPROVED = "township", _("乡镇已初审")
    APPROVED = "approved", _("已审定")
    RETURNED = "returned", _("已退回")


class Action(models.TextChoices):
    SUBMIT = "submit", _("提交")
    APPROVE = "approve", _("审核通过")
    RETURN = "return", _("退回")


class Level(models.TextChoices):
    VILLAGE = "village", _("村（社区）")
    TOWNSHIP = "township", _("乡镇初审")
    COUNTY = "county", _("县级审定")


class Snapshot(models.Model):
    """What a village's roster was when it was attested: counts, the stored indicator values of the
    month, and a SHA-256 over its records' identifying fields and ``updated_at`` (pk order)."""

    taken_at = models.DateTimeField(_("时间"), auto_now_add=True)
    households_active = models.PositiveIntegerField(_("在册户数"))
    households_cancelled = models.PositiveIntegerField(_("已注销户数"))
    persons_active = models.PositiveIntegerField(_("在册人数"))
    persons_cancelled = models.PositiveIntegerField(_("已注销人数"))
    indicator_values = models.JSONField(_("指标值"), default=dict, blank=True)
    records_sha256 = models.CharField(_("档案校验值（SHA-256）"), max_length=64)

    class Meta:
        verbose_name = _("提交快照")
        verbose_name_plural = _("提交快照")

    def __str__(self) -> str:
        return self.records_sha256[:12]


class VillageMonth(AreaCodes):
    """The sign-off of one village for one month ("YYYY-MM"); area codes for ``accounts.access.scope``."""

    village = models.ForeignKey(Area, verbose_name=_("村（社区）"), on_delete=models.PROTECT, related_name="+")
    month = models.CharField(_("月份"), max_length=7)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    township_at = models.DateTimeField(_("初审时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("审定时间"), null=True, blank=True)
    snapshot = models.ForeignKey(
        Snapshot, verbose_name=_("最近快照"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("村月度审核")
        verbose_name_plural = _("村月度审核")
        constraints = [models.UniqueConstraint(fields=["village", "month"], name="signoff_village_month")]
        indexes = [
            *plain_indexes("villagemonth", *AREA_CODES),
            models.Index(fields=["month", "county_code", "township_code"], name="signoff_month_area"),
        ]

    def __str__(self) -> str:
        return f"{self.village_code} {self.month}"


class SignoffStep(models.Model):
    village_month = models.ForeignKey(VillageMonth, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("操作"), max_length=8, choices=Action.choices)
    level = models.CharField(_("层级"), max_length=8, choices=Level.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    snapshot = models.ForeignKey(Snapshot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("审核步骤")
        verbose_name_plural = _("审核步骤")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.village_month} {self.action}"
