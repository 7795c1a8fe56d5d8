"""Users: each tied to one area and one role (access.md)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VILLAGE_STAFF = "village_staff", _("村(社区)工作人员")
    TOWNSHIP_STAFF = "township_staff", _("乡镇工作人员")
    COUNTY_OFFICIAL = "county_official", _("县级干部")
    CITY_BUREAU = "city_bureau", _("市直部门")
    CITY_ADMIN = "city_admin", _("市易扶办管理员")


class Department(models.TextChoices):
    """The lead units of indicators.md (plus 市发改委, named by measure 10)."""

    ORGANIZATION = "市委组织部", _("市委组织部")
    RURAL_REVITALIZATION = "市乡村振兴局", _("市乡村振兴局")
    AGRICULTURE = "市农业农村局", _("市农业农村局")
    HUMAN_RESOURCES = "市人社局", _("市人社局")
    HOUSING = "市住建局", _("市住建局")
    EDUCATION = "市教育局", _("市教育局")
    HEALTH = "市卫健委", _("市卫健委")
    MEDICAL_INSURANCE = "市医保局", _("市医保局")
    CIVIL_AFFAIRS = "市民政局", _("市民政局")
    WATER = "市水利局", _("市水利局")
    FINANCE = "市财政局", _("市财政局")
    DEVELOPMENT_REFORM = "市发改委", _("市发改委")
    RELOCATION_OFFICE = "市易扶办", _("市易扶办")


# The area level each role is tied to.
ROLE_LEVEL = {
    Role.VILLAGE_STAFF: "村",
    Role.TOWNSHIP_STAFF: "乡镇",
    Role.COUNTY_OFFICIAL: "县",
    Role.CITY_BUREAU: "市",
    Role.CITY_ADMIN: "市",
}
MASKED_ROLES = frozenset({Role.COUNTY_OFFICIAL, Role.CITY_BUREAU, Role.CITY_ADMIN})


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.VILLAGE_STAFF)
    area = models.ForeignKey(
        "households.Area", verbose_name=_("所属区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.CharField(_("部门"), max_length=10, choices=Department.choices, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        permissions = [("view_personal_data", _("可查看完整个人信息"))]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class PersonalDataAccess(models.Model):
    """Each unmasking of one record's personal data: who, whose, when, from where (access.md)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    entity = models.CharField(_("对象类型"), max_length=30)
    object_id = models.BigIntegerField(_("对象ID"))
    object_label = models.CharField(_("对象"), max_length=100, blank=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.entity} {self.object_id}"
