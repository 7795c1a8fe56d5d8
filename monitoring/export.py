"""The city's workbook of the monitoring-identification cases (issue 21), and the deadline figures the
API shows with each case. Rows come from ``monitoring.selectors.cases`` (the case list's own read,
scoped by ``accounts.access.scope``); the area names in one more query, the calendar in one: a fixed
number of queries however many cases. Only the case's own fields and the household's code and head
are read: never an ID number, phone or birth date."""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from areas.choices import AreaLevel
from areas.models import Area
from areas.selectors import within
from core.reports import Sheet
from deadlines.workdays import DUE_SOON, OK, OVERDUE, WorkCalendar
from monitoring import selectors, services
from monitoring.models import Case, StepName

DUE_LABELS = {OK: gettext_lazy("正常"), DUE_SOON: gettext_lazy("临期"), OVERDUE: gettext_lazy("逾期")}
SHOW_LABELS = {"open": gettext_lazy("办理中"), "closed": gettext_lazy("已办结"), "all": gettext_lazy("全部")}


@dataclass(frozen=True)
class Deadline:
    """The deadline an open case runs against, in working days from ``today``."""

    step: str
    date: datetime.date
    state: str  # 正常 / 临期 / 逾期
    working_days_left: int
    working_days_late: int


def deadline_of(case: Case, calendar: WorkCalendar, today: datetime.date) -> Deadline | None:
    due = selectors.due_of(case, calendar, today)
    if due is None:
        return None
    left = max(calendar.working_days_between(today, due.date), 0)
    return Deadline(due.step, due.date, str(DUE_LABELS[due.state]), left, due.late)


def current_step(case: Case) -> str:
    """The step the open case waits for (入户核实 … 县级审定); empty once closed."""
    step = services.STEPS.get(case.state)
    return str(StepName(step[0]).label) if step else ""


def area_names(area: Area) -> dict[str, str]:
    """Code → name of every area inside ``area`` (one query)."""
    areas = Area.objects.all() if area.level == AreaLevel.CITY else Area.objects.filter(within(area, areas=True))
    return dict(areas.values_list("code", "name"))


HEADERS = [
    gettext_lazy("县市区"),
    gettext_lazy("乡镇（街道）"),
    gettext_lazy("村（社区）"),
    gettext_lazy("户编号"),
    gettext_lazy("户主"),
    gettext_lazy("风险来源"),
    gettext_lazy("拟纳入类别"),
    gettext_lazy("状态"),
    gettext_lazy("待办环节"),
    gettext_lazy("已退回"),
    gettext_lazy("发起日期"),
    gettext_lazy("入户核实期限"),
    gettext_lazy("识别办结期限"),
    gettext_lazy("时限状态"),
    gettext_lazy("剩余（工作日）"),
    gettext_lazy("逾期（工作日）"),
    gettext_lazy("公示开始"),
    gettext_lazy("公示结束"),
    gettext_lazy("办结日期"),
]


def _day(day: datetime.date | None) -> str:
    return f"{day:%Y-%m-%d}" if day else ""


def case_line(case: Case, names: dict[str, str], calendar: WorkCalendar, today: datetime.date) -> list[object]:
    deadline = deadline_of(case, calendar, today)
    publicity = case.publicity
    return [
        names.get(case.county_code, case.county_code),
        names.get(case.township_code, case.township_code),
        names.get(case.village_code, case.village_code),
        case.household.code,
        case.household.head_name,
        case.get_source_display(),
        case.category,
        case.get_state_display(),
        current_step(case),
        _("是") if case.returned else "",
        _day(case.opened_on),
        _day(case.visit_due_on),
        _day(case.due_on),
        deadline.state if deadline else "",
        deadline.working_days_left if deadline else "",
        deadline.working_days_late if deadline else "",
        _day(publicity.start_on if publicity else None),
        _day(publicity.end_on if publicity else None),
        _day(case.closed_on),
    ]


def workbook_sheets(actor: User, area: Area, which: str, calendar: WorkCalendar, today: datetime.date) -> list[Sheet]:
    """监测对象识别案件 of ``area``: one line per case, oldest deadline problems easy to sort."""
    cases = list(selectors.cases(actor, area, which))
    names = area_names(area)
    lines = [case_line(case, names, calendar, today) for case in cases]
    late = sum(1 for line in lines if line[13] == str(DUE_LABELS[OVERDUE]))
    title = _("监测对象识别案件 · %(area)s · %(which)s") % {"area": area.name, "which": SHOW_LABELS[which]}
    subtitle = _("导出日期 %(day)s · %(count)d 件，其中逾期 %(late)d 件") % {
        "day": today.isoformat(),
        "count": len(lines),
        "late": late,
    }
    return [
        Sheet(_("监测对象识别案件"), title, subtitle, [str(h) for h in HEADERS], lines, {0: 12, 1: 16, 2: 16, 3: 18})
    ]


def filename(area: Area, today: datetime.date) -> tuple[str, str]:
    return f"监测对象识别案件-{area.name}-{today:%Y%m%d}.xlsx", f"cases-{area.code}-{today:%Y%m%d}.xlsx"
