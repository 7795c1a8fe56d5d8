"""Pages of the monthly sign-off (issue 21): the overview of a township, county or the city for a
month, one village's month with its steps and actions, and bulk approval after a confirmation that
names the villages. Areas come through ``accounts.access`` (404 for missing and foreign alike); reads
through ``signoff.selectors``, writes through ``signoff.services``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import access_area, can_write, require_write, scope
from accounts.models import Role
from accounts.types import AuthedHttpRequest
from areas.choices import AreaLevel
from areas.models import Area
from core.reports import xlsx_response
from signoff import export, selectors, services
from signoff.models import Action, Level, State

OVERVIEW_URL: dict[str, str] = {AreaLevel.COUNTY: "signoff_county", AreaLevel.TOWNSHIP: "signoff_township"}


def _month(request: AuthedHttpRequest) -> str:
    today = timezone.localdate()
    return selectors.parse_month(request.GET.get("month") or request.POST.get("month"), today) or selectors.month_of(
        today
    )


def _area_url(area: Area, month: str) -> str:
    if area.level == AreaLevel.VILLAGE:
        return f"{reverse('signoff_village', args=[area.code])}?month={month}"
    if area.level in OVERVIEW_URL:
        return f"{reverse(OVERVIEW_URL[area.level], args=[area.code])}?month={month}"
    return f"{reverse('signoff_city')}?month={month}"


@login_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    """月度审核 of the user's own area."""
    area = request.user.area
    if area is None and request.user.role in (Role.CITY_BUREAU, Role.CITY_ADMIN):
        return redirect(f"{reverse('signoff_city')}?month={_month(request)}")
    if area is None:
        raise Http404
    return redirect(_area_url(area, _month(request)))


def _overview(request: AuthedHttpRequest, area: Area) -> HttpResponse:
    month = _month(request)
    data = selectors.overview(request.user, area, month, timezone.localdate())
    level = services.review_level(request.user)
    can_bulk = level is not None and can_write(
        request.user, "signoff_township" if level == Level.TOWNSHIP else "signoff_county"
    )
    waiting_state = State.SUBMITTED if level == Level.TOWNSHIP else State.TOWNSHIP_APPROVED
    return render(
        request,
        "signoff/overview.html",
        {
            "overview": data,
            "area": area,
            "month": month,
            "months": selectors.recent_months(timezone.localdate()),
            "can_bulk": can_bulk and area.level != AreaLevel.CITY,
            "waiting_state": waiting_state,
            "reapprove": level == Level.COUNTY,
            "show_villages": area.level != AreaLevel.CITY,
        },
    )


@login_required
def county(request: AuthedHttpRequest, code: str) -> HttpResponse:
    area = access_area(request.user, code)
    if area.level != AreaLevel.COUNTY:
        raise Http404
    return _overview(request, area)


@login_required
def township(request: AuthedHttpRequest, code: str) -> HttpResponse:
    area = access_area(request.user, code)
    if area.level != AreaLevel.TOWNSHIP:
        raise Http404
    return _overview(request, area)


@login_required
def city(request: AuthedHttpRequest) -> HttpResponse:
    """The city's progress per county (city roles; others are outside the city-wide view)."""
    if request.user.role not in (Role.CITY_BUREAU, Role.CITY_ADMIN) and not request.user.is_superuser:
        raise Http404
    area = scope(Area.objects.filter(level=AreaLevel.CITY), request.user).first()
    if area is None:
        raise Http404
    return _overview(request, area)


def _village(request: AuthedHttpRequest, code: str) -> Area:
    area = access_area(request.user, code)
    if area.level != AreaLevel.VILLAGE:
        raise Http404
    return area


@login_required
def village(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """One village's month: state, deadline, steps, snapshot, records changed since approval, and the
    actions this user may take."""
    area = _village(request, code)
    month = _month(request)
    data = selectors.village_page(request.user, area, month, timezone.localdate())
    user, state = request.user, data["state"]
    may_submit = (
        can_write(user, "signoff_submit")
        and state in (State.PENDING, State.RETURNED)
        and (user.role != Role.TOWNSHIP_STAFF or not selectors.has_village_staff(area))
    )
    may_review = can_write(user, "signoff_township") and state == State.SUBMITTED
    may_approve = can_write(user, "signoff_county") and (
        state == State.TOWNSHIP_APPROVED or (state == State.APPROVED and bool(data["changed"]))
    )
    return render(
        request,
        "signoff/village.html",
        {
            **data,
            "area": area,
            "month": month,
            "months": selectors.recent_months(timezone.localdate()),
            "may_submit": may_submit,
            "may_review": may_review,
            "may_approve": may_approve,
            "back_url": _area_url(area.parent, month) if area.parent and user.role != Role.VILLAGE_STAFF else "",
            "due_badge": selectors.due_badge(data["due"]),
        },
    )


def _act(request: AuthedHttpRequest, code: str, kind: str) -> HttpResponse:
    area = _village(request, code)
    require_write(request.user, kind)
    month = _month(request)
    decision, note = request.POST.get("decision", ""), request.POST.get("note", "")
    try:
        if kind == "signoff_submit":
            services.submit(request.user, area, month, note)
            messages.success(request, _("已提交 %(month)s 的花名册。") % {"month": month})
        elif kind == "signoff_township":
            services.township_review(request.user, area, month, decision, note)
            messages.success(request, _("已完成乡镇初审。") if decision == Action.APPROVE else _("已退回。"))
        else:
            services.county_review(request.user, area, month, decision, note)
            messages.success(request, _("已完成县级审定。") if decision == Action.APPROVE else _("已退回。"))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(_area_url(area, month))


@require_POST
@login_required
def submit(request: AuthedHttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "signoff_submit")


@require_POST
@login_required
def township_review(request: AuthedHttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "signoff_township")


@require_POST
@login_required
def county_review(request: AuthedHttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "signoff_county")


@require_POST
@login_required
def bulk(request: AuthedHttpRequest) -> HttpResponse:
    """Bulk approval: the first POST shows a confirmation naming the villages that will be approved
    (and those skipped); the second, with ``confirm``, approves them. An unknown or foreign village
    code refuses the whole request alike."""
    level = services.review_level(request.user)
    require_write(request.user, "signoff_township" if level == Level.TOWNSHIP else "signoff_county")
    month = _month(request)
    codes = sorted({code.strip() for code in request.POST.getlist("villages") if code.strip()})
    found = list(
        scope(Area.objects.filter(level=AreaLevel.VILLAGE, code__in=codes), request.user)
        .select_related("parent")
        .order_by("code")
    )
    home_url = f"{reverse('signoff_home')}?month={month}"
    missing = sorted(set(codes) - {area.code for area in found})
    if missing or not codes:
        # Answered on the page, alike for a foreign and an unknown code (nothing is approved).
        error = _("请选择村（社区）。") if not codes else _("村（社区）代码不存在。")
        context = {"month": month, "ready": [], "skipped": [], "error": error, "home_url": home_url}
        return render(request, "signoff/bulk_confirm.html", context)
    if request.POST.get("confirm"):
        try:
            done = services.bulk_approve(request.user, found, month, request.POST.get("note", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(home_url)
        messages.success(
            request,
            _("已批量审核通过 %(count)d 个村（社区）：%(names)s")
            % {"count": len(done), "names": "、".join(area.name for area in done) or "—"},
        )
        return redirect(home_url)
    ready, skipped = services.bulk_ready(request.user, found, month)
    return render(
        request,
        "signoff/bulk_confirm.html",
        {"month": month, "ready": ready, "skipped": skipped, "level": level, "home_url": home_url},
    )


@login_required
def export_view(request: AuthedHttpRequest) -> HttpResponse:
    """月度审核情况 as .xlsx: every village of ``?area=`` (default: the user's own area, the city's for
    the city roles) for ``?month=``, with its state, steps and deadline, and a summary per township
    (per county for the city). An area outside the user's answers 404 like the overview."""
    code = request.GET.get("area", "")
    area: Area | None = access_area(request.user, code) if code else request.user.area
    if area is None:
        area = scope(Area.objects.filter(level=AreaLevel.CITY), request.user).first()
    if area is None:
        raise Http404
    month = _month(request)
    sheets = export.workbook_sheets(request.user, area, month, timezone.localdate())
    return xlsx_response(sheets, *export.filename(area, month))
