"""The 预警清单 (防返贫预警, indicators.md "Beyond the catalogue") of a township, village or county, the
data-quality list behind the home's score, and the freshness fragment the pages poll (issue 6).

The area comes through ``accounts.access`` (404 for missing and foreign alike); rows through the
engine's selectors (``early_warnings``, ``data_quality_warnings``), one row per household;
personal data through ``accounts.access.display_id_number`` (the one masking function); writes
through ``monitoring.services.open_case`` (发起识别, issue 21) and the one assign-follow-up flow
(``workspace.services.assign_follow_up``), which also serves the rows of the dashboards' 清零清单.
Village and township staff may open cases and assign; county officials and city users read.
"""

import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.access import access_area, can_write, display_id_number, require_write, scope
from accounts.models import Role, User
from accounts.types import AuthedHttpRequest
from areas.choices import AreaLevel
from areas.models import Area
from areas.selectors import within
from core.htmx import is_htmx
from core.http import attachment
from core.spreadsheet import SafeWorkbook, xlsx_write
from households.choices import (
    MONITORED,
    ActionKind,
)
from households.models import FollowUpAction, Household, Person
from households.validators import age_on
from indicators.dashboards import panels as boards
from indicators.models import Period
from indicators.selectors import values as selectors
from monitoring import services as monitoring_services
from monitoring.models import Source
from notices import due as notices_due
from workspace import selectors as workspace
from workspace import services
from workspace.forms import AssignForm

PAGE_SIZE = 50
WARNING_LEVELS = (AreaLevel.COUNTY, AreaLevel.TOWNSHIP, AreaLevel.VILLAGE)

# Reason filters: a key, the words the selector's reason contains, the label.
REASONS: tuple[tuple[str, str, Any], ...] = (
    ("income_line", "低于监测收入线", gettext_lazy("人均收入低于监测收入线")),
    ("income_drop", "下降 30%", gettext_lazy("人均收入较上年下降 30% 以上")),
    ("employment", "变为未就业", gettext_lazy("由就业变为未就业")),
)

WORKSPACE_ROLES = (Role.VILLAGE_STAFF, Role.TOWNSHIP_STAFF)
WORKSPACE_LEVELS = (AreaLevel.TOWNSHIP, AreaLevel.VILLAGE)


@login_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    """The to-do home of village and township staff, for their own area: each unmet judged indicator
    with its gap and its 清零清单, open and overdue follow-up actions, the open early warnings and the
    data-quality warnings with the area's score — each a link to its list. Indicator numbers are stored
    values; while the running period is being recomputed the page says so and polls until the new
    values land. A city bureau sees the indicators it leads first (a filter shows all) and the
    follow-up actions on them first. Other roles see their open actions and a link to their dashboard.
    A fixed number of queries, however many records there are."""
    actor = request.user
    today = timezone.localdate()
    area = actor.area
    context: dict[str, Any] = {"today": today, "area": area}
    if actor.role == Role.CITY_BUREAU and actor.department:
        # A city bureau: the indicators it leads first (``?indicators=all`` every one), and the
        # follow-up actions on them before the others.
        show_all = request.GET.get("indicators") == "all"
        department = workspace.department_todo(department=actor.department, show_all=show_all)
        own = [row.code for row in department.rows if row.own]
        context.update(
            {
                "department": department,
                "show_all": show_all,
                "todo": workspace.action_todo(actor=actor, today=today, first_indicators=own),
                "dashboard_url": reverse("dashboard_department", args=[actor.department]),
            }
        )
        return render(request, "households/home.html", context)
    context["todo"] = workspace.action_todo(actor=actor, today=today)
    if actor.role in WORKSPACE_ROLES and area is not None and area.level in WORKSPACE_LEVELS:
        indicators = workspace.indicator_todo(area=area)
        reference = (indicators.fresh.reference_date if indicators.fresh else None) or today
        warnings_count = workspace.warning_count(area=area)
        warnings_url = reverse("warnings_list", args=[area.code])
        context.update(
            {
                "workspace": True,
                "indicators": indicators,
                # The page leads with these three (issue 20: a clerk on a phone sees them first).
                "urgent": workspace.urgent_items(
                    todo=context["todo"],
                    warnings_count=warnings_count,
                    warnings_url=warnings_url,
                    indicators=indicators,
                    today=today,
                ),
                "warnings_count": warnings_count,
                "warnings_url": warnings_url,
                "quality": workspace.quality_summary(area=area, reference_date=reference),
                # A village's own board is the township page anchored on the village.
                "dashboard_url": reverse("dashboard_township", args=[area.code]),
            }
        )
    else:
        context["dashboard_url"] = reverse("dashboard_home")
        # Overdue work of the level below (issue 21): the townships' on a county's home, the
        # counties' on the city's, with working days late (two queries, whatever the rows).
        todo = context["todo"]
        context["escalated"] = notices_due.escalated(actor, area, today, todo["rows"], todo["calendar"])
    return render(request, "households/home.html", context)


def _reason_kind(reason: str) -> set[str]:
    return {key for key, words, _label in REASONS if words in reason}


@dataclass
class WarningRow:
    """One household of the 预警清单 with every reason it is there (income and members' employment)."""

    household: Household
    reasons: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    cells: list[Any] = field(default_factory=list)
    pairs: list[tuple[str, Any]] = field(default_factory=list)  # (header, cell), for labelled mobile rows
    link: str = ""
    target: str = ""
    household_id: int | None = None
    site_id: int | None = None
    actions: list[FollowUpAction] = field(default_factory=list)


def _warning_area(actor: User | None, code: str) -> Area:
    area = access_area(actor, code)
    if area.level not in WARNING_LEVELS:
        raise Http404
    return area


def _grouped(warnings: Iterable[dict[str, Any]]) -> list[WarningRow]:
    rows: dict[int, WarningRow] = {}
    for warning in warnings:
        household = warning["household"]
        row = rows.setdefault(household.pk, WarningRow(household=household, household_id=household.pk))
        person = warning["person"]
        row.reasons.append(f"{person.name}：{warning['reason']}" if person is not None else warning["reason"])
        row.kinds |= _reason_kind(warning["reason"])
    return sorted(rows.values(), key=lambda row: row.household.code)


def _villages(actor: User | None, area: Area) -> list[tuple[str, str, int]]:
    """(code, name, pk) of the villages inside ``area`` the actor may see (one query)."""
    villages = scope(Area.objects.filter(level=AreaLevel.VILLAGE), actor).filter(within(area, areas=True))
    return list(villages.order_by("code").values_list("code", "name", "pk"))


WARNING_HEADERS = (
    gettext_lazy("户编号"),
    gettext_lazy("户主"),
    gettext_lazy("户主身份证号"),
    gettext_lazy("村（社区）"),
    gettext_lazy("预警原因"),
)


def _fill_cells(actor: User | None, rows: list[WarningRow], village_names: dict[int, str]) -> None:
    """Printable cells of each row, personal data masked for ``actor``."""
    for row in rows:
        household = row.household
        row.cells = [
            household.code,
            household.head_name,
            display_id_number(actor, household, "head_id_encrypted"),
            village_names.get(household.village_id, ""),
            "；".join(row.reasons),
        ]
        row.pairs = list(zip([str(header) for header in WARNING_HEADERS], row.cells, strict=True))
        row.link = reverse("household_detail", args=[household.code])
        row.target = f"household:{household.code}"


def _filtered(
    request: AuthedHttpRequest, actor: User | None, area: Area
) -> tuple[list[WarningRow], dict[str, str], list[Any]]:
    villages = _villages(actor, area)
    rows = _grouped(selectors.early_warnings(area=area))
    filters = {"reason": request.GET.get("reason", ""), "village": request.GET.get("village", "")}
    if filters["reason"]:
        rows = [row for row in rows if filters["reason"] in row.kinds]
    if filters["village"]:
        rows = [row for row in rows if row.household.village_code == filters["village"]]
    _fill_cells(actor, rows, {pk: name for _code, name, pk in villages})
    return rows, filters, villages


@login_required
def warnings_list(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """The 预警清单 of an area: filter by reason and village, export, clear, assign follow-up."""
    actor = request.user
    area = _warning_area(actor, code)
    rows, filters, villages = _filtered(request, actor, area)
    if request.GET.get("format") == "xlsx":
        return _warnings_xlsx(area, rows)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page_rows: list[WarningRow] = list(page.object_list)
    may_assign = can_write(actor, "actions")
    if may_assign:
        boards.list_page_extras(actor=actor, rows=page_rows)
    query = "&".join(f"{key}={value}" for key, value in filters.items() if value)
    context = {
        "area": area,
        "page": page,
        "rows": page_rows,
        "headers": [str(header) for header in WARNING_HEADERS],
        "filters": filters,
        "reasons": [(key, label) for key, _words, label in REASONS],
        "villages": villages if area.level != AreaLevel.VILLAGE else [],
        "may_decide": can_write(actor, "monitoring"),
        "may_assign": may_assign,
        "categories": [(value, value) for value in MONITORED],
        "kinds": ActionKind.choices,
        "default_kind": ActionKind.MONITORING,
        "default_due": timezone.localdate() + datetime.timedelta(days=30),
        "decide_url": reverse("warnings_decide", args=[area.code]),
        "assign_url": reverse("warnings_assign", args=[area.code]),
        "xlsx_url": reverse("warnings_list", args=[area.code]) + "?" + (f"{query}&" if query else "") + "format=xlsx",
        "back": request.get_full_path(),
    }
    return render(request, "indicators/warnings_list.html", context)


def _warnings_xlsx(area: Area, rows: list[WarningRow]) -> HttpResponse:
    """The filtered list as .xlsx, masked like the page; every cell is written as a string so that a
    value starting with = + - @ stays text and never becomes a formula."""
    buffer = io.BytesIO()
    workbook = SafeWorkbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(_("预警清单"))
    bold = workbook.add_format({"bold": True})
    xlsx_write(sheet, 0, 0, f"{_('防返贫预警清单')} · {area.name}（{area.code}）", bold)
    today = timezone.localdate()
    sheet.write_string(1, 0, f"{_('导出日期')} {today.isoformat()} · {len(rows)} {_('户')}")
    for column, header in enumerate(WARNING_HEADERS):
        sheet.write_string(3, column, str(header), bold)
    for row_index, row in enumerate(rows, start=4):
        for column, cell in enumerate(row.cells):
            xlsx_write(sheet, row_index, column, str(cell))
    sheet.set_column(0, 3, 20)
    sheet.set_column(4, 4, 60)
    workbook.close()
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    attachment(
        response, f"预警清单-{area.name}-{today:%Y%m%d}.xlsx", fallback=f"warnings-{area.code}-{today:%Y%m%d}.xlsx"
    )
    return response


class DecideForm(forms.Form):
    """发起识别 from a warning row (issue 21): the case starts from 部门预警 with a proposed category."""

    household = forms.CharField(widget=forms.HiddenInput)
    category = forms.ChoiceField(
        label=gettext_lazy("拟纳入类别"), choices=[("", "—"), *((value, value) for value in MONITORED)]
    )
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=500)


def _area_household(actor: User | None, area: Area, code: str) -> Household:
    """A household inside both the actor's scope and the list's area, or 404."""
    household = scope(Household.objects.all(), actor).filter(within(area), code=code.strip()).first() if code else None
    if household is None:
        raise Http404
    return household


@login_required
@require_POST
def warnings_decide(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """发起识别: open a monitoring-identification case (部门预警) for one household of the list
    (``monitoring.services.open_case``, issue 21; the one-click decision it replaces is now the
    county's 县级审定 at the end of the case). htmx gets a one-line row with a link to the case in
    place of the household's row; an error goes into the row's error box."""
    actor = request.user
    area = _warning_area(actor, code)
    require_write(actor, "monitoring")  # 403 before any household is looked up: nothing to guess from
    form = DecideForm(request.POST)
    household = _area_household(actor, area, request.POST.get("household", ""))
    error = done = ""
    case = None
    if form.is_valid():
        try:
            case = monitoring_services.open_case(
                actor=actor,
                household=household,
                source=Source.WARNING,
                category=form.cleaned_data["category"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = "；".join(
            f"{form.fields[name].label}：{' '.join(map(str, errs))}" for name, errs in form.errors.items()
        )
    if case is not None:
        done = _("已对 %(code)s 发起监测对象识别（拟纳入%(category)s），下一步：入户核实。") % {
            "code": household.code,
            "category": case.category,
        }
    if is_htmx(request):
        if error:
            response = HttpResponse(f'<span role="alert">{escape(error)}</span>')
            response["HX-Retarget"] = f"#decide-error-{household.pk}"
            response["HX-Reswap"] = "innerHTML"
            return response
        link = reverse("monitoring_case", args=[case.pk]) if case is not None else ""
        return render(request, "indicators/warnings_cleared_row.html", {"message": done, "columns": 7, "link": link})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(reverse("warnings_list", args=[area.code]))


# --- assign follow-up (派发帮扶) -----------------------------------------------------------------


def _assign_cell(
    request: AuthedHttpRequest,
    *,
    actions: list[FollowUpAction],
    created: FollowUpAction | None,
    error: str,
    default_kind: str,
    owner: str = "",
    default_due: datetime.date | None = None,
    period: Period | None = None,
    status: int = 200,
) -> HttpResponse:
    """A row's action cell again, for htmx: the open actions, what was created or what went wrong,
    and the form (with what was typed, after an error on a 清零清单)."""
    context = {
        "actions": actions,
        "error": error,
        "created": created,
        "target": request.POST.get("target", ""),
        "may_assign": True,
        "kinds": ActionKind.choices,
        "default_kind": default_kind,
        "owner": owner,
        "default_due": default_due or timezone.localdate() + datetime.timedelta(days=30),
        "assign_url": request.path,
        "period": period,
    }
    return render(request, "indicators/list_action_cell.html", context, status=status)


def _assigned_message(request: AuthedHttpRequest, error: str, action: FollowUpAction | None) -> None:
    if error or action is None:  # no action without an error
        messages.error(request, error)
    else:
        messages.success(request, _("已新增帮扶台账 %(code)s。") % {"code": action.code})


@login_required
@require_POST
def warnings_assign(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """Assign follow-up from a 预警清单 row: a 监测帮扶 action on the household (``assign_follow_up``)."""
    actor = request.user
    area = _warning_area(actor, code)
    require_write(actor, "actions")
    form = AssignForm(request.POST)
    error = ""
    action = None
    household = None
    if form.is_valid():
        kind, key = boards.parse_target(form.cleaned_data["target"])
        if kind != "household":
            raise Http404
        household = _area_household(actor, area, key)
        try:
            action = services.assign_follow_up(
                actor=actor,
                household=household,
                kind=form.cleaned_data["kind"],
                owner=form.cleaned_data["owner"],
                due_on=form.cleaned_data["due_on"],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = form.error_text()
    if is_htmx(request):
        actions = (
            [] if household is None else workspace.open_actions_at(actor=actor, household_id=household.pk, site_id=None)
        )
        default_kind = request.POST.get("kind") or ActionKind.MONITORING
        return _assign_cell(request, actions=actions, created=action, error=error, default_kind=default_kind)
    _assigned_message(request, error, action)
    return redirect(reverse("warnings_list", args=[area.code]))


def _typed_date(text: str | None) -> datetime.date | None:
    try:
        return parse_date(text or "")
    except ValueError:  # 2026-02-30
        return None


@login_required
@require_POST
def list_assign(request: AuthedHttpRequest, code: str, unit: str) -> HttpResponse:
    """Assign follow-up from a 清零清单 row: an action (owner, due date, kind, the indicator code) on
    the household or person — or the site, for a site-based list — through ``assign_follow_up``."""
    actor = request.user
    period_key = request.GET.get("period") or request.POST.get("period")
    value = boards.list_value(actor=actor, code=code, unit=unit, period_key=period_key).value
    form = AssignForm(request.POST)
    error = ""
    action = None
    status = 200
    found = boards.list_target(actor, form.cleaned_data["target"]) if form.is_valid() else None
    if form.is_valid() and found is None:
        error = _("找不到所选记录：它可能已注销或已迁出。请刷新清零清单后重新选择。")
        status = 400
    elif found is not None:
        household, site, person = found
        try:
            action = services.assign_follow_up(
                actor=actor,
                indicator=value.indicator,
                household=household,
                site=site,
                person=person,
                kind=form.cleaned_data["kind"],
                owner=form.cleaned_data["owner"],
                due_on=form.cleaned_data["due_on"],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = form.error_text()
    if is_htmx(request):
        actions = (
            []
            if action is None
            else workspace.open_actions_at(actor=actor, household_id=action.household_id, site_id=action.site_id)
        )
        # After an error the form keeps what was typed; a refused target answers 400 (the layout's
        # htmx-config swaps 400 answers into the cell).
        return _assign_cell(
            request,
            actions=actions,
            created=action,
            error=error,
            default_kind=request.POST.get("kind") or boards.default_action_kind(code),
            owner=request.POST.get("owner", "") if error else "",
            default_due=(error and _typed_date(request.POST.get("due_on"))) or None,
            period=value.period,
            status=status,
        )
    if status == 400:
        return render(request, "indicators/list_action_cell.html", {"error": error}, status=400)
    _assigned_message(request, error, action)
    return redirect(reverse("indicator_list", args=[code, unit]) + f"?period={value.period.key}")


# --- data quality ------------------------------------------------------------------------------


def _reference_date() -> Any:
    """The reference date the dashboards use for data quality: the running period's last run's."""
    period = boards.period_choose(boards.periods_all(), None)
    fresh = boards.freshness(period) if period is not None else None
    return (fresh.reference_date if fresh else None) or timezone.localdate()


@login_required
def warnings_quality(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """Data-quality warnings of an area (indicators.md, Beyond the catalogue: data quality), one row per
    (person, warning), filterable by warning and village, masked for ``actor``."""
    actor = request.user
    area = _warning_area(actor, code)
    reference = _reference_date()
    villages = _villages(actor, area)
    names = {pk: name for _code, name, pk in villages}
    found = selectors.data_quality_warnings(reference_date=reference, area=area)
    filters = {"warning": request.GET.get("warning", ""), "village": request.GET.get("village", "")}
    if filters["warning"]:
        found = [item for item in found if item["warning"] == filters["warning"]]
    if filters["village"]:
        found = [item for item in found if item["household"].village_code == filters["village"]]
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for item in page.object_list:
        person: Person = item["person"]
        household: Household = item["household"]
        rows.append(
            {
                "name": person.name,
                "id_number": display_id_number(actor, person),
                "age": age_on(person.birth_date, reference),
                "household": household,
                "village": names.get(household.village_id, ""),
                "message": item["message"],
            }
        )
    context = {
        "area": area,
        "page": page,
        "rows": rows,
        "filters": filters,
        "warning_choices": list(selectors.WARNINGS.items()),
        "villages": villages if area.level != AreaLevel.VILLAGE else [],
        "reference_date": reference,
    }
    return render(request, "indicators/warnings_quality.html", context)


# --- freshness ---------------------------------------------------------------------------------


@login_required
def freshness_status(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """The small fragment a page polls every 2 s while its period is being recomputed. Once the
    values are fresh the answer asks htmx to reload the page (``HX-Refresh``), which then shows the
    new values; nothing here reveals more than "busy or not"."""
    period = Period.objects.filter(key=key).first()
    if period is None:
        raise Http404
    fresh = boards.freshness(period)
    response = render(request, "indicators/freshness_status.html", {"fresh": fresh})
    if not fresh.recalculating:
        response["HX-Refresh"] = "true"
    return response
