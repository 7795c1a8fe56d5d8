"""Users: each tied to one area and one role (access.md)."""

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
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
# Roles whose systems exchange data with the portal through API tokens: 接口文档 in their main
# navigation. Village and township clerks work in the pages (often on a phone) and find it in the footer.
API_ROLES = frozenset({Role.COUNTY_OFFICIAL, Role.CITY_BUREAU, Role.CITY_ADMIN})


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.VILLAGE_STAFF)
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("所属区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.CharField(_("部门"), max_length=10, choices=Department.choices, blank=True)
    # Django's ``AbstractBaseUser`` keeps the raw password here between ``set_password`` and the
    # save (a class attribute ``None``); the stubs leave it out. An annotation only: no new attribute.
    _password: str | None

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        permissions = [("view_personal_data", _("可查看完整个人信息"))]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def api_in_navigation(self) -> bool:
        """接口文档 in the main navigation (else only in the footer): see ``API_ROLES``."""
        return self.is_superuser or self.role in API_ROLES

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new password revokes the user's API tokens (issue 17, finding 5), whatever path set it:
        the user form, the Django admin, ``changepassword``. ``set_password`` leaves the raw password
        in ``_password`` until the save; a hash upgrade at login does not (Django clears it first)."""
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            ApiToken.objects.filter(user=self).revoke()


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


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def revoke(self) -> int:
        """Revoke the live tokens among these (one UPDATE); the number revoked. A token revoked
        before keeps its first revocation time."""
        return self.filter(revoked__isnull=True).update(revoked=timezone.now())


class ApiToken(models.Model):
    """An API token of one user (``Authorization: Token <key>``). Only the SHA-256 of the key is kept:
    the key is shown once, when it is created. It stops working when it expires, when it is revoked by
    its owner or an administrator, and when the owner's password changes."""

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    key_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    prefix = models.CharField(_("令牌前缀"), max_length=8)
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires = models.DateTimeField(_("到期时间"))
    last_used = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def status(self) -> str:
        if self.revoked is not None:
            return str(_("已撤销"))
        if self.expires <= timezone.now():
            return str(_("已过期"))
        return str(_("有效"))
