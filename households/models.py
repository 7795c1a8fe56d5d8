"""The registry: areas, sites, households, persons, incomes, petitions, follow-up actions.

Area codes are denormalised onto every record (``county_code``, ``township_code``,
``village_code``) so that scoping and aggregation are one indexed equality filter
(``accounts.access.scope``). Money is stored as whole fen so sums are exact on every database.
Only services write these tables (``households.services``); no logic lives in ``save()`` (that of
``Household`` only keeps the member counts, which triggers maintain, out of its writes).
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from areas.models import Area
from core.plain_indexes import plain_indexes
from households.choices import (
    LABOUR_FORCE,
    ActionKind,
    ActionStatus,
    Channel,
    Employment,
    GrievanceStatus,
    GrievanceTopic,
    HouseholdCancelReason,
    HouseholdCategory,
    HousingHazard,
    Labour,
    Monitoring,
    MonitoringDecisionKind,
    PersonCancelReason,
    RecordStatus,
    Relation,
    SafetyNet,
    Schooling,
    Sex,
    SiteKind,
    TransferRequestStatus,
)
from households.validators import (
    INDICATOR_CODE_VALIDATORS,
    RECORD_CODE_VALIDATORS,
    validate_due_date,
    validate_household_size,
    validate_past_date,
)

AREA_CODES = ("county_code", "township_code", "village_code")


class AreaCodes(models.Model):
    """Denormalised area path of a record; kept in step by the services.

    Indexed by ``core.plain_indexes.plain_indexes(prefix, *AREA_CODES)`` in each model's Meta, not
    ``db_index``, which on PostgreSQL adds a LIKE copy of each index that nothing uses (issue 22).
    """

    county_code = models.CharField(_("县市区代码"), max_length=6)
    township_code = models.CharField(_("乡镇代码"), max_length=9)
    village_code = models.CharField(_("村社区代码"), max_length=12)

    class Meta:
        abstract = True


class Site(AreaCodes):
    code = models.CharField(_("安置点编码"), max_length=40, unique=True, validators=RECORD_CODE_VALIDATORS)
    name = models.CharField(_("安置点名称"), max_length=100)
    village = models.ForeignKey(Area, verbose_name=_("所在村社区"), on_delete=models.PROTECT, related_name="sites")
    kind = models.CharField(_("安置方式"), max_length=8, choices=SiteKind.choices)
    party_org = models.BooleanField(_("基层党组织"), default=False)
    self_gov_org = models.BooleanField(_("群众自治组织"), default=False)
    one_stop_centre = models.BooleanField(_("一站式服务中心"), default=False)
    first_secretary = models.BooleanField(_("第一书记"), default=False)
    work_team = models.BooleanField(_("驻村工作队"), default=False)
    governance_centre = models.BooleanField(_("综治中心"), default=False)
    public_assistance = models.BooleanField(_("公共援助"), default=False)
    convenience_store = models.BooleanField(_("便利店"), default=False)
    social_orgs = models.BooleanField(_("社会组织"), default=False)
    industry_plan = models.BooleanField(_("后扶产业方案"), default=False)
    industry_base = models.BooleanField(_("后扶产业基地"), default=False)
    property_management = models.BooleanField(_("物业管理"), default=False)
    complete_community = models.BooleanField(_("完整居住社区"), default=False)
    smart_community = models.BooleanField(_("智慧社区"), default=False)
    kindergarten = models.BooleanField(_("幼儿园"), default=False)
    medical_facility = models.BooleanField(_("医疗卫生服务设施"), default=False)
    cultural_venue = models.BooleanField(_("文化活动场所"), default=False)
    public_transport = models.BooleanField(_("公交通达"), default=False)
    ceremony_hall_needed = models.BooleanField(_("红白喜事场所需求"), default=False)
    ceremony_hall = models.BooleanField(_("红白喜事场所"), default=False)
    tool_storage_needed = models.BooleanField(_("农具存放需求"), default=False)
    tool_storage = models.BooleanField(_("农具存放场所"), default=False)

    class Meta:
        verbose_name = _("安置点")
        verbose_name_plural = _("安置点")
        ordering = ["code"]
        indexes = [*plain_indexes("site", *AREA_CODES)]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Household(AreaCodes):
    code = models.CharField(_("户编号"), max_length=40, unique=True, validators=RECORD_CODE_VALIDATORS)
    head_name = models.CharField(_("户主姓名"), max_length=50)
    # The 户主 ID as typed on the household row, kept until a persons file brings the 户主.
    head_id_hash = models.CharField(max_length=64, blank=True)
    head_id_encrypted = models.TextField(blank=True)
    village = models.ForeignKey(Area, verbose_name=_("现居村社区"), on_delete=models.PROTECT, related_name="households")
    site = models.ForeignKey(
        Site, verbose_name=_("安置点"), null=True, blank=True, on_delete=models.PROTECT, related_name="households"
    )
    origin = models.ForeignKey(
        Area, verbose_name=_("迁出地"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    relocation_year = models.PositiveSmallIntegerField(_("搬迁年份"), null=True, blank=True)
    category = models.CharField(_("户类型"), max_length=8, choices=HouseholdCategory.choices)
    status = models.CharField(_("状态"), max_length=4, choices=RecordStatus.choices, default=RecordStatus.ACTIVE)
    cancelled_on = models.DateField(_("注销日期"), null=True, blank=True, validators=[validate_past_date])
    cancel_reason = models.CharField(
        _("注销原因"), max_length=4, choices=HouseholdCancelReason.choices, blank=True, default=""
    )
    monitoring = models.CharField(_("监测对象类别"), max_length=10, choices=Monitoring.choices, default=Monitoring.NONE)
    monitoring_assisted = models.BooleanField(_("帮扶措施已落实"), default=False)
    housing_hazard = models.CharField(
        _("住房安全隐患"), max_length=6, choices=HousingHazard.choices, default=HousingHazard.NONE
    )
    tap_water = models.BooleanField(_("自来水"), default=False)
    seasonal_water_shortage = models.BooleanField(_("季节性缺水"), default=False)
    industry_project = models.CharField(_("后扶产业项目"), max_length=200, blank=True)
    dividend = models.BigIntegerField(_("产业分红金额（分）"), default=0)
    safety_net_eligible = models.BooleanField(_("符合兜底条件"), default=False)
    safety_net = models.CharField(_("兜底保障类型"), max_length=4, choices=SafetyNet.choices, default=SafetyNet.NONE)
    helper = models.CharField(_("结对帮扶人"), max_length=50, blank=True)
    contact = models.CharField(_("结对联系人"), max_length=50, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    # Active members with LABOUR_FORCE_MEMBER, and with EMPLOYED too: kept by triggers on persons
    # (migration 0003), never written from here (``save``). The engine's M3-3 counts households by them.
    labour_force_members = models.PositiveSmallIntegerField(default=0, editable=False)
    employed_labour_force_members = models.PositiveSmallIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # The keyed fingerprint of the import row that last wrote this record (``households.importing``):
    # a re-import skips a row whose fingerprint is still here. A trigger (migration 0011) clears it on
    # any other write, so a record edited since is compared in full again. Not user data: no history.
    import_digest = models.CharField(max_length=32, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("搬迁户")
        verbose_name_plural = _("搬迁户")
        ordering = ["code"]
        indexes = [
            *plain_indexes("household", *AREA_CODES, "head_id_hash", "import_digest"),
            models.Index(fields=["village", "status"]),
            models.Index(fields=["site", "status"]),
        ]
        constraints = [models.CheckConstraint(condition=Q(dividend__gte=0), name="household_dividend_non_negative")]

    def __str__(self) -> str:
        return f"{self.code} {self.head_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An update leaves the member counts to the triggers: this instance's may be stale (members
        written since it was read), and writing them back would undo the triggers' work."""
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in MEMBER_COUNT_FIELDS
            ]
        super().save(*args, **kwargs)


MEMBER_COUNT_FIELDS = ("labour_force_members", "employed_labour_force_members")


# A household's labour-force members and employed ones (``Household.labour_force_members``, M3-3):
# the conditions of the partial indexes that the member-count triggers recount with.
LABOUR_FORCE_MEMBER = Q(status=RecordStatus.ACTIVE, labour__in=LABOUR_FORCE)
EMPLOYED = ~Q(employment=Employment.UNEMPLOYED)


class Person(AreaCodes):
    id_number_hash = models.CharField(max_length=64)
    # No masked copy beside birth_date: together they rebuilt the ID (issue 17). Pages mask the
    # decrypted number (accounts.access.display_id_number).
    id_number_encrypted = models.TextField()
    name = models.CharField(_("姓名"), max_length=50)
    household = models.ForeignKey(Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="members")
    relation = models.CharField(_("与户主关系"), max_length=4, choices=Relation.choices)
    status = models.CharField(_("状态"), max_length=4, choices=RecordStatus.choices, default=RecordStatus.ACTIVE)
    cancelled_on = models.DateField(_("注销日期"), null=True, blank=True, validators=[validate_past_date])
    cancel_reason = models.CharField(
        _("注销原因"), max_length=4, choices=PersonCancelReason.choices, blank=True, default=""
    )
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    labour = models.CharField(_("劳动能力"), max_length=10, choices=Labour.choices)
    wants_work = models.BooleanField(_("就业意愿"), default=False)
    employment = models.CharField(
        _("就业状态"), max_length=6, choices=Employment.choices, default=Employment.UNEMPLOYED
    )
    employment_checked_on = models.DateField(
        _("就业信息更新日期"), null=True, blank=True, validators=[validate_past_date]
    )
    work_place = models.CharField(_("务工地点"), max_length=100, blank=True)
    transport_subsidy = models.BooleanField(_("交通补助已发放"), default=False)
    wants_training = models.BooleanField(_("培训意愿"), default=False)
    trained_on = models.DateField(_("最近培训日期"), null=True, blank=True, validators=[validate_past_date])
    schooling = models.CharField(
        _("在校情况"), max_length=6, choices=Schooling.choices, default=Schooling.NOT_IN_SCHOOL
    )
    hardship_student = models.BooleanField(_("困难学生"), default=False)
    student_aid = models.BooleanField(_("已获资助"), default=False)
    medical_insurance = models.BooleanField(_("基本医疗保险"), default=False)
    family_doctor = models.BooleanField(_("家庭医生签约"), default=False)
    updated_at = models.DateTimeField(auto_now=True)
    # As ``Household.import_digest``: the fingerprint of the import row that last wrote this person.
    import_digest = models.CharField(max_length=32, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household_id", "id"]
        # The member-count triggers (migration 0003) recount a household's members through these
        # small indexes on every write of its persons.
        indexes = [
            *plain_indexes("person", *AREA_CODES, "id_number_hash", "import_digest"),
            models.Index(fields=["household"], condition=LABOUR_FORCE_MEMBER, name="person_labour_force"),
            models.Index(
                fields=["household"], condition=LABOUR_FORCE_MEMBER & EMPLOYED, name="person_employed_labour_force"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=Q(status=RecordStatus.ACTIVE),
                name="person_unique_active_id_number",
                violation_error_message=_("该身份证号已在系统中登记，请联系县级管理员"),
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(status=RecordStatus.ACTIVE, relation=Relation.HEAD),
                name="household_one_active_head",
                violation_error_message=_("每户只能有一名状态为“正常”的户主。"),
            ),
        ]

    def __str__(self) -> str:
        # No ID fragment: this text is stored (the admin's log) and shown to masked roles.
        return self.name


class Income(models.Model):
    household = models.ForeignKey(Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="incomes")
    year = models.PositiveSmallIntegerField(_("年度"))
    size = models.PositiveSmallIntegerField(_("家庭人口数"), validators=[validate_household_size])
    per_capita_income = models.BigIntegerField(_("人均可支配收入（分）"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("收入")
        verbose_name_plural = _("收入")
        ordering = ["household_id", "year"]
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="income_unique_household_year"),
            models.CheckConstraint(condition=Q(size__gte=1), name="income_size_positive"),
            models.CheckConstraint(condition=Q(per_capita_income__gte=0), name="income_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.year}"


class Grievance(AreaCodes):
    code = models.CharField(_("事项编号"), max_length=40, unique=True, validators=RECORD_CODE_VALIDATORS)
    site = models.ForeignKey(Site, verbose_name=_("安置点"), null=True, blank=True, on_delete=models.PROTECT)
    household = models.ForeignKey(Household, verbose_name=_("户"), null=True, blank=True, on_delete=models.PROTECT)
    village = models.ForeignKey(Area, verbose_name=_("所在村社区"), on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField(_("受理日期"), validators=[validate_past_date])
    topic = models.CharField(_("事项类别"), max_length=6, choices=GrievanceTopic.choices, default=GrievanceTopic.OTHER)
    content = models.TextField(_("反映内容"), blank=True)
    handling = models.TextField(_("办理情况"), blank=True)
    status = models.CharField(_("办理状态"), max_length=4, choices=GrievanceStatus.choices)
    resolved_on = models.DateField(_("办结日期"), null=True, blank=True, validators=[validate_past_date])
    resolved_in_village = models.BooleanField(_("村社区内解决"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("信访舆情")
        verbose_name_plural = _("信访舆情")
        ordering = ["code"]
        indexes = [*plain_indexes("grievance", *AREA_CODES)]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True) | Q(resolved_on__gte=models.F("received_on")),
                name="grievance_resolved_after_received",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class FollowUpAction(AreaCodes):
    code = models.CharField(_("台账编号"), max_length=40, unique=True, validators=RECORD_CODE_VALIDATORS)
    household = models.ForeignKey(
        Household, verbose_name=_("户"), null=True, blank=True, on_delete=models.PROTECT, related_name="actions"
    )
    site = models.ForeignKey(
        Site, verbose_name=_("安置点"), null=True, blank=True, on_delete=models.PROTECT, related_name="actions"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("成员"), null=True, blank=True, on_delete=models.PROTECT, related_name="actions"
    )
    kind = models.CharField(_("帮扶类别"), max_length=6, choices=ActionKind.choices, default=ActionKind.OTHER)
    indicator = models.CharField(_("指标代码"), max_length=8, blank=True, validators=INDICATOR_CODE_VALIDATORS)
    description = models.TextField(_("措施内容"))
    owner = models.CharField(_("责任人"), max_length=50)
    due_on = models.DateField(_("期限"), null=True, blank=True, validators=[validate_due_date])
    status = models.CharField(_("办理状态"), max_length=4, choices=ActionStatus.choices, default=ActionStatus.TODO)
    done_on = models.DateField(_("完成日期"), null=True, blank=True, validators=[validate_past_date])
    visit_note = models.TextField(_("走访记录"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("帮扶台账")
        verbose_name_plural = _("帮扶台账")
        ordering = ["code"]
        indexes = [*plain_indexes("followup", *AREA_CODES), models.Index(fields=["township_code", "status", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(household__isnull=False) | Q(site__isnull=False), name="action_has_household_or_site"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class MonitoringDecision(AreaCodes):
    """Clearing an early warning (data.md, 监测认定)."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="monitoring_decisions")
    decided_on = models.DateField(_("认定日期"))
    decision = models.CharField(_("认定结果"), max_length=4, choices=MonitoringDecisionKind.choices)
    category = models.CharField(_("监测对象类别"), max_length=10, choices=Monitoring.choices, blank=True)
    note = models.TextField(_("说明"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("监测认定")
        verbose_name_plural = _("监测认定")
        ordering = ["-created_at"]
        indexes = [*plain_indexes("decision", *AREA_CODES)]

    def __str__(self) -> str:
        return f"{self.household_id} {self.decision}"


class TransferRequest(AreaCodes):
    """A township's request to move one of its households to a village of another township of the
    county, decided by the county official (issue 20). The area codes are the household's when the
    request was filed, so the requesting township keeps seeing it after the household has moved."""

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="transfer_requests"
    )
    target_village = models.ForeignKey(
        Area, verbose_name=_("迁入村（社区）"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("申请理由"))
    status = models.CharField(
        _("审批状态"), max_length=4, choices=TransferRequestStatus.choices, default=TransferRequestStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("迁移申请")
        verbose_name_plural = _("迁移申请")
        ordering = ["-requested_at", "-id"]
        indexes = [*plain_indexes("transfer", *AREA_CODES), models.Index(fields=["county_code", "status"])]
        constraints = [
            # One open request per household: a second one would race the first's approval.
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(status=TransferRequestStatus.PENDING),
                name="transfer_request_one_pending",
                violation_error_message=_("该户已有待审批的迁移申请。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} → {self.target_village_id}"


class ImportJob(models.Model):
    """One upload of a template file: dry run, then confirm (long work as a job row)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("已上传")
        VALIDATING = "validating", _("校验中")
        PREVIEWED = "previewed", _("待确认")
        INVALID = "invalid", _("有错误")
        IMPORTING = "importing", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        ABANDONED = "abandoned", _("已放弃")

    kind = models.CharField(_("数据类型"), max_length=20)
    file_name = models.CharField(_("文件名"), max_length=255)
    stored_file = models.CharField(max_length=500, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.UPLOADED)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    total_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.IMPORT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="import_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"


class HistoryEntry(models.Model):
    """Who changed what, when, through which channel; before/after hold masked personal data only."""

    class Action(models.TextChoices):
        CREATE = "create", _("新增")
        UPDATE = "update", _("修改")
        CANCEL = "cancel", _("注销")
        TRANSFER = "transfer", _("迁移")
        CORRECT_ID = "correct_id", _("更正身份证号")

    entity = models.CharField(_("对象类型"), max_length=30)
    object_id = models.BigIntegerField(_("对象ID"))
    object_code = models.CharField(_("编号"), max_length=60, blank=True)
    action = models.CharField(_("操作"), max_length=12, choices=Action.choices)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    # No database constraint on these two (the ORM's PROTECT still guards a delete): PostgreSQL would
    # check both keys once for every history row, and an import writes one row per record it creates
    # or changes: 1.6 s of a 13 s import of 72,000 persons (issue 22). Users are deactivated, never
    # deleted, and import jobs are kept.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    import_job = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    county_code = models.CharField(max_length=6, blank=True)
    township_code = models.CharField(max_length=9, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("变更记录")
        verbose_name_plural = _("变更记录")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["entity", "object_id"]),
            *plain_indexes("history", "county_code", "township_code"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.object_code} {self.action}"


class ChangeFeed(models.Model):
    """Transactional outbox: a write that can move an indicator adds a row in the same transaction;
    the indicator engine consumes the rows (households never imports indicators)."""

    class Family(models.TextChoices):
        RECORDS = "records", _("档案")
        INCOMES = "incomes", _("收入")
        FINANCE = "finance", _("资金")
        CITYSTATS = "citystats", _("全市统计")

    family = models.CharField(max_length=10, choices=Family.choices, default=Family.RECORDS)
    # For incomes/finance/citystats: the data year, which may belong to a closed year (indicators.md).
    data_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # The villages and sites (ids) whose records the write touched, before and after it: the engine
    # recomputes only those (issue 22). Null when the writer cannot say (admin, finance): everything.
    villages = models.JSONField(null=True, blank=True)
    sites = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    consumed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("变更通知")
        verbose_name_plural = _("变更通知")

    def __str__(self) -> str:
        return f"{self.family} {self.created_at}"
