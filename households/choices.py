"""The choice lists of data.md. Stored values are the Chinese values themselves (they are the
template cell values and the API values); labels go through gettext for the English UI."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SiteKind(models.TextChoices):
    URBAN = "城镇集中安置", _("城镇集中安置")
    RURAL = "农村集中安置", _("农村集中安置")


class RecordStatus(models.TextChoices):
    ACTIVE = "正常", _("正常")
    CANCELLED = "已注销", _("已注销")


class HouseholdCategory(models.TextChoices):
    REGISTERED_POOR = "建档立卡户", _("建档立卡户")
    ALONGSIDE = "同步搬迁户", _("同步搬迁户")


class Monitoring(models.TextChoices):
    NONE = "无", _("无")
    UNSTABLE = "脱贫不稳定户", _("脱贫不稳定户")
    MARGINAL = "边缘易致贫户", _("边缘易致贫户")
    SUDDEN_HARDSHIP = "突发严重困难户", _("突发严重困难户")


MONITORED = (Monitoring.UNSTABLE, Monitoring.MARGINAL, Monitoring.SUDDEN_HARDSHIP)


class HousingHazard(models.TextChoices):
    NONE = "无", _("无")
    UNFIXED = "有未整改", _("有未整改")
    FIXED = "已整改", _("已整改")


class SafetyNet(models.TextChoices):
    NONE = "无", _("无")
    DIBAO = "低保", _("低保")
    TEKUN = "特困", _("特困")


class Relation(models.TextChoices):
    HEAD = "户主", _("户主")
    SPOUSE = "配偶", _("配偶")
    CHILD = "子女", _("子女")
    PARENT = "父母", _("父母")
    GRANDCHILD = "孙子女", _("孙子女")
    SIBLING = "兄弟姐妹", _("兄弟姐妹")
    OTHER = "其他", _("其他")


class Labour(models.TextChoices):
    ORDINARY = "普通劳动力", _("普通劳动力")
    SKILLED = "技能劳动力", _("技能劳动力")
    WEAK = "弱劳动力或半劳动力", _("弱劳动力或半劳动力")
    LOST = "丧失劳动力", _("丧失劳动力")
    NONE = "无劳动力", _("无劳动力")


LABOUR_FORCE = (Labour.ORDINARY, Labour.SKILLED, Labour.WEAK)


class Employment(models.TextChoices):
    UNEMPLOYED = "未就业", _("未就业")
    MIGRANT = "外出务工", _("外出务工")
    LOCAL_FIRM = "本地企业", _("本地企业")
    WORKSHOP = "帮扶车间", _("帮扶车间")
    PUBLIC_WELFARE = "公益性岗位", _("公益性岗位")
    SELF_EMPLOYED = "自主创业", _("自主创业")
    FLEXIBLE = "灵活就业", _("灵活就业")
    WORK_RELIEF = "以工代赈", _("以工代赈")


class Schooling(models.TextChoices):
    NOT_IN_SCHOOL = "非在校", _("非在校")
    PRESCHOOL_NOT_ENROLLED = "学龄前未入园", _("学龄前未入园")
    KINDERGARTEN = "在园", _("在园")
    PRIMARY = "小学", _("小学")
    JUNIOR = "初中", _("初中")
    JUNIOR_GRADUATE = "初中毕业", _("初中毕业")
    SENIOR_OR_ABOVE = "高中及以上", _("高中及以上")
    HOME_TEACHING = "送教上门", _("送教上门")
    SUSPENDED = "休学", _("休学")
    DROPPED_OUT = "辍学", _("辍学")


class Sex(models.TextChoices):
    MALE = "男", _("男")
    FEMALE = "女", _("女")


class GrievanceTopic(models.TextChoices):
    HOUSING = "住房", _("住房")
    EMPLOYMENT = "就业", _("就业")
    INDUSTRY = "产业", _("产业")
    EDUCATION = "教育", _("教育")
    MEDICAL = "医疗", _("医疗")
    SAFETY_NET = "兜底", _("兜底")
    FACILITIES = "配套设施", _("配套设施")
    OTHER = "其他", _("其他")


class GrievanceStatus(models.TextChoices):
    IN_PROGRESS = "办理中", _("办理中")
    RESOLVED = "已办结", _("已办结")


class ActionKind(models.TextChoices):
    EMPLOYMENT = "就业帮扶", _("就业帮扶")
    INDUSTRY = "产业帮扶", _("产业帮扶")
    EDUCATION = "教育资助", _("教育资助")
    MEDICAL = "医疗保障", _("医疗保障")
    SAFETY_NET = "兜底保障", _("兜底保障")
    HOUSING = "住房安全", _("住房安全")
    WATER = "饮水安全", _("饮水安全")
    MONITORING = "监测帮扶", _("监测帮扶")
    FACILITIES = "配套设施", _("配套设施")
    GOVERNANCE = "社区治理", _("社区治理")
    OTHER = "其他", _("其他")


class ActionStatus(models.TextChoices):
    TODO = "待办", _("待办")
    DOING = "进行中", _("进行中")
    DONE = "已完成", _("已完成")


class MonitoringDecisionKind(models.TextChoices):
    INCLUDE = "纳入监测", _("纳入监测")
    EXCLUDE = "核实排除", _("核实排除")


class Channel(models.TextChoices):
    FORM = "form", _("表单")
    API = "api", _("接口")
    IMPORT = "import", _("导入")
    ADMIN = "admin", _("管理后台")
    SYSTEM = "system", _("系统")


class HouseholdCancelReason(models.TextChoices):
    """Why a household was cancelled (issue 20): its members are cancelled with it."""

    MOVED_AWAY = "迁出", _("迁出")
    DISSOLVED = "自然消亡", _("自然消亡")


class PersonCancelReason(models.TextChoices):
    DIED = "死亡", _("死亡")
    MOVED_AWAY = "迁出", _("迁出")
    OTHER = "其他", _("其他")


class TransferRequestStatus(models.TextChoices):
    PENDING = "待审批", _("待审批")
    APPROVED = "已批准", _("已批准")
    REJECTED = "已驳回", _("已驳回")
