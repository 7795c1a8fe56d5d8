"""Pages of the monitoring-identification procedure (issue 21): the case list of an area, one case
with its steps and the action this user may take, opening a case from the household file, and a
village's 公示 (page and PDF). Areas and cases come through ``accounts.access`` (404 for missing and
foreign alike); reads through ``monitoring.selectors``, writes through ``monitoring.services``.

The step URLs are one per level (village and township staff; 乡镇初审; 县级审定) so that each answers
403 to a role without that level's write kind; a case not at that level's step answers with a
message."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import access_area, access_object, can_write, require_write, scope
from accounts.types import AuthedHttpRequest
from areas.choices import AreaLevel
from areas.models import Area
from core.http import attachment
from core.reports import xlsx_response
from deadlines.workdays import work_calendar
from households.choices import MONITORED, MonitoringDecisionKind
from households.models import Household
from monitoring import clock, export, selectors, services
from monitoring.models import Case, CaseState, Publicity, Source
from monitoring.publicity import publicity_filename, publicity_pdf

PAGE_SIZE = 50


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    """监测对象识别 of the user's own area (the city's for the city roles)."""
    area = request.user.area
    if area is None:
        area = scope(Area.objects.filter(level=AreaLevel.CITY), request.user).first()
    if area is None:
        raise Http404
    return redirect(reverse("monitoring_cases", args=[area.code]))


@login_required
def case_list(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """The cases of an area (open by default), 50 a page, with state, deadline and 公示 period."""
    area = access_area(request.user, code)
    which = request.GET.get("show", "open")
    which = which if which in selectors.FILTERS else "open"
    page = Paginator(selectors.cases(request.user, area, which), PAGE_SIZE).get_page(request.GET.get("page"))
    today, calendar = clock.today(), work_calendar()
    rows = [(case, selectors.due_of(case, calendar, today)) for case in page.object_list]
    return render(
        request,
        "monitoring/case_list.html",
        {
            "area": area,
            "page": page,
            "rows": rows,
            "which": which,
            "filters": [("open", _("办理中")), ("closed", _("已办结")), ("all", _("全部"))],
            "query": f"show={which}&",
        },
    )


def _case(request: AuthedHttpRequest, pk: int) -> Case:
    return access_object(Case.objects.select_related("household", "publicity"), request.user, pk=pk)


@login_required
def case_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One case: its state and deadline, the 公示, steps, objections, and the form of the step this
    user may take now (or none)."""
    case = _case(request, pk)
    user, today = request.user, clock.today()
    step, kind = services.STEPS.get(case.state, ("", ""))
    may_act = bool(kind) and can_write(user, kind)
    last = None
    if may_act and case.state == CaseState.VILLAGE_REVIEW:
        last = Publicity.objects.filter(village_code=case.village_code).order_by("-start_on", "-pk").first()
    action_url = {
        "monitoring": "monitoring_case_step",
        "monitoring_township": "monitoring_case_township",
        "monitoring_county": "monitoring_case_county",
    }.get(kind, "")
    return render(
        request,
        "monitoring/case_detail.html",
        {
            "case": case,
            "household": case.household,
            "due": selectors.due_of(case, work_calendar(), today),
            "steps": selectors.steps(case),
            "objections": selectors.objections(case),
            "step": step,
            "may_act": may_act,
            "may_return": may_act and case.state in services.BACK,
            "may_object": can_write(user, "monitoring") and case.publicity_id is not None and case.is_open,
            "action_url": reverse(action_url, args=[case.pk]) if may_act else "",
            "publicity_over": services.publicity_over(case, today),
            "last_publicity": last,
            "today": today,
            "categories": MONITORED,
            "outcomes": MonitoringDecisionKind.choices,
            "state": CaseState,
        },
    )


def _take(request: AuthedHttpRequest, pk: int, kind: str) -> HttpResponse:
    """Take (or send back) the case's current step if it belongs to ``kind``'s level."""
    case = _case(request, pk)  # 404 outside the area before 403 for the role
    require_write(request.user, kind)
    post = request.POST
    try:
        services.take_step(
            actor=request.user,
            case=case,
            kind=kind,
            action=post.get("action", ""),
            note=post.get("note", ""),
            place=post.get("place", ""),
            phone=post.get("phone", ""),
            start_on=parse_date(post.get("start_on", "") or "") or None,
            outcome=post.get("outcome", ""),
            category=post.get("category", ""),
        )
        messages.success(request, _("已退回。") if post.get("action") == "return" else _("已办理。"))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect(reverse("monitoring_case", args=[case.pk]))


@login_required
@require_POST
def case_step(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """入户核实, 村级评议 (starts the 公示) and 公示结束: village and township staff."""
    return _take(request, pk, "monitoring")


@login_required
@require_POST
def case_township(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _take(request, pk, "monitoring_township")


@login_required
@require_POST
def case_county(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _take(request, pk, "monitoring_county")


@login_required
@require_POST
def case_objection(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Record an objection against the case (village and township staff)."""
    case = _case(request, pk)  # 404 outside the area before 403 for the role
    require_write(request.user, "monitoring")
    try:
        services.record_objection(
            actor=request.user,
            case=case,
            received_on=parse_date(request.POST.get("received_on", "") or ""),
            text=request.POST.get("text", ""),
        )
        messages.success(request, _("已登记异议。"))
    except (ValidationError, ValueError) as exc:
        messages.error(request, _errors(exc) if isinstance(exc, ValidationError) else _("日期格式不正确。"))
    return redirect(reverse("monitoring_case", args=[case.pk]))


@login_required
@require_POST
def case_open(request: AuthedHttpRequest) -> HttpResponse:
    """Open a case from the household file (干部排查 or 农户申报 entered by staff); the household is
    named in the body, and one outside the area answers like an unknown one (404)."""
    require_write(request.user, "monitoring")
    code = request.POST.get("household", "").strip()
    household = scope(Household.objects.all(), request.user).filter(code=code).first() if code else None
    if household is None:
        raise Http404
    source = request.POST.get("source", "")
    try:
        if source == Source.WARNING:
            raise ValidationError(_("部门预警请从预警清单发起识别。"))
        case = services.open_case(
            actor=request.user,
            household=household,
            source=source,
            category=request.POST.get("category", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect(reverse("household_detail", args=[household.code]))
    messages.success(request, _("已发起监测对象识别。"))
    return redirect(reverse("monitoring_case", args=[case.pk]))


def _village(request: AuthedHttpRequest, code: str) -> Area:
    area = access_area(request.user, code)
    if area.level != AreaLevel.VILLAGE:
        raise Http404
    return area


def _publicity_context(request: AuthedHttpRequest, village: Area) -> dict[str, object]:
    today: datetime.date = clock.today()
    return {"village": village, "rows": selectors.publicity_rows(request.user, village, today), "today": today}


@login_required
def publicity(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """The village's 公示 as a page, with a link to its PDF."""
    village = _village(request, code)
    context = _publicity_context(request, village)
    context["back"] = reverse("monitoring_cases", args=[village.code])
    return render(request, "monitoring/publicity.html", context)


@login_required
def publicity_file(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """The village's 公示 as a PDF to print and post, with a Chinese file name."""
    village = _village(request, code)
    context = _publicity_context(request, village)
    response = HttpResponse(publicity_pdf(context), content_type="application/pdf")
    name, fallback = publicity_filename(village.name, f"{context['today']:%Y%m%d}")
    attachment(response, name, fallback=fallback)
    return response


@login_required
def case_export(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """The area's cases (``?show=`` open, closed or all; open by default) as .xlsx, with state, step,
    deadline and working days late: no ID number, phone or birth date."""
    area = access_area(request.user, code)
    which = request.GET.get("show", "open")
    which = which if which in selectors.FILTERS else "open"
    today = clock.today()
    sheets = export.workbook_sheets(request.user, area, which, work_calendar(), today)
    return xlsx_response(sheets, *export.filename(area, today))
