"""The area tree: 市 → 县 → 乡镇 → 村. Each area carries its own path (``county_code``, ``township_code``)
so that a subtree is one indexed equality filter (``areas.selectors.within``)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from areas.choices import AreaLevel
from areas.validators import PARENT_LEVEL, validate_area_code, validate_area_code_prefix, validate_area_parent


class Area(models.Model):
    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("级别"), max_length=4, choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    has_industrial_park = models.BooleanField(_("后扶产业园"), default=False)
    # The area's own path; blank above its level (a county has no township_code).
    county_code = models.CharField(max_length=6, blank=True, db_index=True)
    township_code = models.CharField(max_length=9, blank=True, db_index=True)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    class Meta:
        verbose_name = _("区划")
        verbose_name_plural = _("区划")
        ordering = ["code"]
        db_table = "households_area"  # moved from households with its table (state-only migration)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        """Digits of the level's length, a parent one level up, and the parent's code as prefix."""
        if self.level not in PARENT_LEVEL and self.level != AreaLevel.CITY:
            return  # the level field's own choices check reports it
        parent = self.parent if self.parent_id else None
        try:
            self.code = validate_area_code(self.code, self.level)
            validate_area_parent(self.level, parent.level if parent else None)
            validate_area_code_prefix(self.code, parent.code if parent else None, parent.level if parent else None)
        except ValidationError as exc:
            raise ValidationError({"code" if exc.code != "area_parent" else "parent": exc.messages}) from exc
