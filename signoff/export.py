"""Reads for the API and the city's workbook of the monthly sign-off (issue 21): every village of an
area for a month, as ``signoff.selectors.overview`` gives it (the page's own read, so the API, the
workbook and the overview never disagree), with the steps taken on each month. A fixed number of
queries whatever the number of villages: the overview's five, one for the steps."""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from areas.choices import AreaLevel
from areas.models import Area
from core.reports import Sheet
from deadlines.workdays import DUE_SOON, OK, OVERDUE
from signoff import selectors
from signoff.models import Action, Level, SignoffStep, State

MODIFIED = gettext_lazy("审定后有修改")
DUE_LABELS = {OK: gettext_lazy("正常"), DUE_SOON: gettext_lazy("临期"), OVERDUE: gettext_lazy("逾期")}


def state_choices() -> dict[str, str]:
    """The ``state`` filter's Chinese values: the stored states, and 审定后有修改."""
    return {**{str(label): value for value, label in State.choices}, str(MODIFIED): "modified"}


def shown_state(row: selectors.Row) -> str:
    """What the overview's badge says: 审定后有修改 over 已审定 when records changed since."""
    return str(MODIFIED) if row.changes else row.state_label


def filter_rows(rows: Iterable[selectors.Row], state: str | None) -> list[selectors.Row]:
    """Rows in one state (a stored state, or "modified"); all rows for None."""
    if state is None:
        return list(rows)
    if state == "modified":
        return [row for row in rows if row.changes]
    return [row for row in rows if row.state == state]


def month_rows(actor: User, area: Area, month: str, today: datetime.date) -> list[selectors.Row]:
    """Every village of ``area`` the actor may see, in township (and county) order."""
    return selectors.overview(actor, area, month, today).total.rows


def steps_of(rows: Iterable[selectors.Row]) -> dict[int, list[SignoffStep]]:
    """The steps of the rows' village-months, oldest first, keyed by the month's pk (one query)."""
    # ``or [0]``: one query even for a page of villages without a row yet (an empty ``__in`` would
    # skip it), so the count is the same on every page.
    ids = [row.month.pk for row in rows if row.month is not None] or [0]
    grouped: dict[int, list[SignoffStep]] = defaultdict(list)
    for step in SignoffStep.objects.filter(village_month_id__in=ids).select_related("user").order_by("at", "id"):
        grouped[step.village_month_id].append(step)
    return grouped


def last_step(steps: Sequence[SignoffStep], level: str) -> SignoffStep | None:
    """The latest step of one level (the village's submission, the township's or the county's review)."""
    return next((step for step in reversed(steps) if step.level == level), None)


def _when(moment: datetime.datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def _who(step: SignoffStep | None) -> str:
    if step is None:
        return ""
    name = str(step.user) if step.user else _("系统")
    return name if step.action != Action.RETURN else _("%(name)s（退回）") % {"name": name}


HEADERS = [
    gettext_lazy("县市区"),
    gettext_lazy("乡镇（街道）"),
    gettext_lazy("村（社区）代码"),
    gettext_lazy("村（社区）"),
    gettext_lazy("月份"),
    gettext_lazy("状态"),
    gettext_lazy("审定后有修改（条）"),
    gettext_lazy("提交人"),
    gettext_lazy("提交时间"),
    gettext_lazy("乡镇初审人"),
    gettext_lazy("初审时间"),
    gettext_lazy("县级审定人"),
    gettext_lazy("审定时间"),
    gettext_lazy("待办环节"),
    gettext_lazy("办理时限"),
    gettext_lazy("时限状态"),
    gettext_lazy("逾期（工作日）"),
]
SUMMARY_HEADERS = [
    gettext_lazy("区划"),
    gettext_lazy("村（社区）数"),
    gettext_lazy("已审定"),
    gettext_lazy("审定后有修改"),
    gettext_lazy("待审核"),
    gettext_lazy("已退回"),
    gettext_lazy("未提交"),
]


def _village_line(row: selectors.Row, month: str, steps: Sequence[SignoffStep]) -> list[object]:
    village = row.village
    township = village.parent
    county = township.parent if township else None
    submit, township_step, county_step = (last_step(steps, level) for level in Level.values)
    vm = row.month
    due = row.due
    return [
        county.name if county else "",
        township.name if township else "",
        village.code,
        village.name,
        month,
        shown_state(row),
        row.changes,
        _who(submit),
        _when(vm.submitted_at if vm else None),
        _who(township_step),
        _when(township_step.at if township_step else None),
        _who(county_step),
        _when(county_step.at if county_step else None),
        due.step if due else "",
        f"{due.date:%Y-%m-%d}" if due else "",
        str(DUE_LABELS[due.state]) if due else "",
        due.late if due else "",
    ]


def workbook_sheets(actor: User, area: Area, month: str, today: datetime.date) -> list[Sheet]:
    """月度审核情况: one line per village, and a summary per township (per county for the city)."""
    data = selectors.overview(actor, area, month, today)
    rows = data.total.rows
    steps = steps_of(rows)
    lines = [_village_line(row, month, steps.get(row.month.pk, []) if row.month else []) for row in rows]
    summary = [
        [
            group.area.name,
            len(group.rows),
            group.approved,
            group.modified,
            group.waiting,
            sum(row.state == State.RETURNED for row in group.rows),
            sum(row.state == State.PENDING for row in group.rows),
        ]
        for group in [*data.groups, data.total]
    ]
    summary[-1][0] = _("合计")
    title = _("花名册月度审核情况 · %(area)s · %(month)s") % {"area": area.name, "month": month}
    progress = _("导出日期 %(day)s · 已审定 %(done)d/%(total)d") % {
        "day": today.isoformat(),
        "done": data.total.approved,
        "total": len(rows),
    }
    group_label = _("各县市区") if area.level == AreaLevel.CITY else _("各乡镇（街道）")
    return [
        Sheet(_("月度审核情况"), title, progress, [str(h) for h in HEADERS], lines, {3: 20, 8: 17, 10: 17, 12: 17}),
        Sheet(_("汇总"), f"{title} · {group_label}", progress, [str(h) for h in SUMMARY_HEADERS], summary, {0: 20}),
    ]


def filename(area: Area, month: str) -> tuple[str, str]:
    return f"月度审核情况-{area.name}-{month}.xlsx", f"signoff-{area.code}-{month}.xlsx"
