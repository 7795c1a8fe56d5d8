"""The city's workbook of the deadline table (issue 21): each step's working days (the administrator's
value and the default), and the administrator's working-day overrides. Two queries."""

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.reports import Sheet
from deadlines import selectors
from deadlines.models import DEFAULT_WORKING_DAYS

HEADERS = [
    gettext_lazy("环节"),
    gettext_lazy("时限（工作日）"),
    gettext_lazy("默认时限（工作日）"),
    gettext_lazy("依据或说明"),
]
DAY_HEADERS = [gettext_lazy("日期"), gettext_lazy("星期"), gettext_lazy("调整为"), gettext_lazy("依据或说明")]
WEEKDAYS = [
    gettext_lazy("星期一"),
    gettext_lazy("星期二"),
    gettext_lazy("星期三"),
    gettext_lazy("星期四"),
    gettext_lazy("星期五"),
    gettext_lazy("星期六"),
    gettext_lazy("星期日"),
]


def workbook_sheets(today: datetime.date) -> list[Sheet]:
    rows: list[list[object]] = [
        [deadline.get_step_display(), deadline.working_days, DEFAULT_WORKING_DAYS.get(deadline.step, ""), deadline.note]
        for deadline in selectors.deadlines()
    ]
    rows.append([_("帮扶台账跟进事项"), "", "", _("按各事项的到期日")])
    days = [
        [
            f"{day.date:%Y-%m-%d}",
            str(WEEKDAYS[day.date.weekday()]),
            _("上班") if day.is_workday else _("放假"),
            day.note,
        ]
        for day in selectors.calendar_days()
    ]
    subtitle = _("导出日期 %(day)s · 工作日按国务院办公厅节假日安排通知计算（chinese-calendar），以下调整优先") % {
        "day": today.isoformat()
    }
    return [
        Sheet(_("办理时限"), _("办理时限（工作日）"), subtitle, [str(h) for h in HEADERS], rows, {0: 24, 3: 40}),
        Sheet(_("工作日调整"), _("工作日调整（管理员维护）"), subtitle, [str(h) for h in DAY_HEADERS], days, {3: 40}),
    ]


def filename(today: datetime.date) -> tuple[str, str]:
    return f"办理时限-{today:%Y%m%d}.xlsx", f"deadlines-{today:%Y%m%d}.xlsx"
