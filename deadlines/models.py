"""China's working-day calendar overrides and the deadline table (issue 21).

Public holidays and 调休 days come from the ``chinese_calendar`` package, which follows the State
Council's yearly notices; these tables hold what it does not know yet (next year's notice before a
release of the package) and local changes, both edited by the city administrator in the admin."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """One date whose working status differs from the package's answer (or that the package lacks)."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"), help_text=_("勾选：上班（如调休上班日）；不勾选：放假。"))
    note = models.CharField(_("依据或说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("工作日调整")
        verbose_name_plural = _("工作日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}"


class Step(models.TextChoices):
    """The steps with a working-day limit. A follow-up action has its own due date instead."""

    HOME_VISIT = "home_visit", _("入户核实")
    IDENTIFICATION = "identification", _("监测对象识别（全程）")
    PUBLICITY = "publicity", _("村级公示")
    TOWNSHIP_REVIEW = "township_review", _("乡镇初审（提交后）")
    COUNTY_REVIEW = "county_review", _("县级审定（初审后）")


DEFAULT_WORKING_DAYS: dict[str, int] = {
    Step.HOME_VISIT: 2,
    Step.IDENTIFICATION: 15,
    Step.PUBLICITY: 5,
    Step.TOWNSHIP_REVIEW: 5,
    Step.COUNTY_REVIEW: 5,
}


class Deadline(models.Model):
    """How many working days a step may take; the defaults come from issue 21 (national 15 days for
    the whole identification, Anhui's 2 for the home visit, a 公示 of at least 5)."""

    step = models.CharField(_("环节"), max_length=20, choices=Step.choices, unique=True)
    working_days = models.PositiveSmallIntegerField(_("时限（工作日）"))
    note = models.CharField(_("依据或说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")
        ordering = ["step"]

    def __str__(self) -> str:
        return str(self.get_step_display())
