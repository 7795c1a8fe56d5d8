"""Pages of the annual assessment (measure 10): years, the ranking with drill-down to a unit's
indicator points, the per-year configuration, compute/publish as a job with progress, downloads.

access.md: a PUBLISHED assessment is read by every role (it is circulated city-wide); an unpublished
one only by the city roles — for anyone else it answers 404, like a year never assessed. Computing,
publishing and configuring are the city administrator's ``assessment`` write (403 otherwise).
"""

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import can_write, require_write
from accounts.types import AuthedHttpRequest
from core.htmx import is_htmx
from core.http import attachment
from indicators.assessment import report_files
from indicators.assessment import scoring as assessment
from indicators.assessment.tasks import assessment_run_task
from indicators.models import AssessmentReport, AssessmentRun, Indicator, Kind


def _readable_data(request: AuthedHttpRequest, year: int) -> dict[str, Any]:
    data = assessment.assessment_result_for_year(year)
    if data is None or not assessment.assessment_readable(request.user, published=data["published"]):
        raise Http404
    return data


def _may_manage(request: AuthedHttpRequest) -> bool:
    return can_write(request.user, "assessment")


@login_required
def assessment_years(request: AuthedHttpRequest) -> HttpResponse:
    years = [
        year
        for year in assessment.assessment_years()
        if assessment.assessment_readable(request.user, published=year["published"])
    ]
    return render(request, "indicators/assessment_years.html", {"years": years, "may_manage": _may_manage(request)})


@login_required
def assessment_detail(request: AuthedHttpRequest, year: int) -> HttpResponse:
    may_manage = _may_manage(request)
    data = assessment.assessment_result_for_year(year)
    if data is None and not may_manage:
        raise Http404
    if data is not None and not assessment.assessment_readable(request.user, published=data["published"]):
        raise Http404
    if data is not None and is_htmx(request):
        # The downloads' poll while a published year's files are being built (the page itself, so that
        # its access rules hold): the fragment stops polling once they are built.
        return render(
            request, "indicators/_assessment_downloads.html", {"year": year, "data": data, "may_manage": may_manage}
        )
    latest = assessment.assessment_latest_run(year) if may_manage else None
    published = bool(data and data["published"])
    # From the apps above (signoff: each county's December sign-off); warnings never block publishing.
    notes = assessment.publish_notes(actor=request.user, year=year)
    return render(
        request,
        "indicators/assessment_detail.html",
        {
            "year": year,
            "data": data,
            "may_manage": may_manage,
            "latest": latest,
            "published": published,
            "footnote": assessment.FOOTNOTE,
            "notes": [note.html for note in notes if note.html],
            "publish_warnings": [] if published else [warning for note in notes for warning in note.warnings],
        },
    )


@login_required
def assessment_unit_detail(request: AuthedHttpRequest, year: int, unit_code: str) -> HttpResponse:
    data = _readable_data(request, year)
    unit = assessment.assessment_unit(data, unit_code)
    if unit is None:
        raise Http404
    return render(request, "indicators/assessment_unit.html", {"year": year, "data": data, "unit": unit})


@login_required
@require_POST
def assessment_compute(request: AuthedHttpRequest, year: int) -> HttpResponse:
    require_write(request.user, "assessment")
    try:
        with transaction.atomic():
            run = assessment.assessment_run_create(year=year, actor=request.user)
    except assessment.AssessmentError as exc:
        messages.error(request, str(exc))
        return redirect("assessment_detail", year=year)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assessment_run_task.apply(args=(run.pk,))  # no broker: in-process
    else:
        assessment_run_task.delay(run.pk)
    return redirect("assessment_run", year=year, run_id=run.pk)


@login_required
def assessment_run(request: AuthedHttpRequest, year: int, run_id: int) -> HttpResponse:
    require_write(request.user, "assessment")
    run = get_object_or_404(AssessmentRun, pk=run_id, year=year)
    finished = run.status in (AssessmentRun.Status.DONE, AssessmentRun.Status.FAILED)
    return render(request, "indicators/assessment_run.html", {"year": year, "run": run, "finished": finished})


@login_required
@require_POST
def assessment_publish(request: AuthedHttpRequest, year: int) -> HttpResponse:
    require_write(request.user, "assessment")
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("请勾选确认后再发布：发布后本年度考核结果、配置和所用指标值将永久冻结。"))
        return redirect("assessment_detail", year=year)
    try:
        assessment.assessment_publish(year=year, actor=request.user)
    except assessment.AssessmentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(year)s 年度考核结果已发布，全市各角色均可查阅。") % {"year": year})
    return redirect("assessment_detail", year=year)


def _config_rows(config: assessment.ScoringConfig, post: Any = None) -> list[dict[str, Any]]:
    placed = {item.code: item for item in config.items}
    rows = []
    for code, name, lead in (
        Indicator.objects.exclude(kind=Kind.INFO).order_by("order").values_list("code", "name", "lead")
    ):
        item = placed.get(code)
        rows.append(
            {
                "code": code,
                "name": name,
                "lead": lead,
                "dimension": post.get(f"dimension_{code}", "")
                if post is not None
                else (item.dimension if item else ""),
                "points": post.get(f"points_{code}", "")
                if post is not None
                else (assessment.plain_points_text(item.points) if item else ""),
            }
        )
    return rows


def _parse_number(text: str) -> Fraction | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return Fraction(number) if number.is_finite() else None


@login_required
@require_http_methods(["GET", "POST"])
def assessment_config(request: AuthedHttpRequest, year: int) -> HttpResponse:
    require_write(request.user, "assessment")
    published = assessment.assessment_is_published(year)
    config = assessment.config_for_year(year)
    errors: dict[str, list[str]] = {}
    rows = _config_rows(config)
    rate_floor_text = assessment.plain_points_text(config.rate_floor)
    if request.method == "POST":
        rows = _config_rows(config, request.POST)
        rate_floor_text = request.POST.get("rate_floor", "")
        rate_floor = _parse_number(rate_floor_text)
        if rate_floor is None:
            errors.setdefault("rate_floor", []).append(_("请输入数字。"))
        items = []
        for row in rows:
            points = _parse_number(row["points"])
            if points is None:
                errors.setdefault(f"points_{row['code']}", []).append(_("请输入数字。"))
                continue
            items.append(assessment.ConfigItem(row["code"], row["dimension"], points))
        if not errors and published:
            errors["__all__"] = [_("%(year)s 年度考核已发布，配置不能再修改。") % {"year": year}]
        if not errors:
            try:
                assessment.assessment_config_update(
                    year=year, actor=request.user, rate_floor=rate_floor or Fraction(0), items=items
                )
            except ValidationError as exc:
                errors = exc.message_dict
            except assessment.AssessmentError as exc:
                errors = {"__all__": [str(exc)]}
            else:
                messages.success(request, _("配置已保存。请重新计算考核结果。"))
                return redirect("assessment_config", year=year)
    for row in rows:
        row["errors"] = errors.get(f"points_{row['code']}", []) + errors.get(f"dimension_{row['code']}", [])
    totals: dict[str, Fraction] = {name: Fraction(0) for name in assessment.DIMENSION_NAMES}
    for row in rows:
        points = _parse_number(row["points"])
        if points is not None and row["dimension"] in totals:
            totals[row["dimension"]] += points
    return render(
        request,
        "indicators/assessment_config.html",
        {
            "year": year,
            "rows": rows,
            "dimension_names": assessment.DIMENSION_NAMES,
            "dimension_totals": [(name, assessment.plain_points_text(total)) for name, total in totals.items()],
            "grand_total": assessment.plain_points_text(sum(totals.values(), Fraction(0))),
            "rate_floor": rate_floor_text,
            "rate_floor_errors": errors.get("rate_floor", []),
            "form_errors": errors.get("__all__", []),
            "published": published,
        },
        status=400 if errors else 200,
    )


def _stored_report(run: AssessmentRun, fmt: str) -> AssessmentReport | None:
    """The published run's stored file. Without a broker a build that never ran (a publish rolled
    back with its test transaction, a year published before files were stored) runs here, once;
    with one, a missing build is queued and the caller sends the user to the page's progress."""
    stored = report_files.assessment_report_stored(run_id=run.pk, fmt=fmt)
    if stored is not None or run.report_status == AssessmentRun.ReportStatus.FAILED:
        return stored
    if settings.CELERY_TASK_ALWAYS_EAGER:
        report_files.assessment_report_build(run_id=run.pk)
        return report_files.assessment_report_stored(run_id=run.pk, fmt=fmt)
    if run.report_status == AssessmentRun.ReportStatus.NONE:
        assessment.assessment_report_request(run)
    return None


@login_required
def assessment_download(request: AuthedHttpRequest, year: int, fmt: str) -> HttpResponse:
    """The 年度考核通报 under its Chinese name. A published year: the file built once after publishing,
    served as stored (the same bytes on every download, ``ETag`` its SHA-256). A draft: rendered now
    from the stored results."""
    if fmt not in report_files.FORMATS:
        raise Http404
    run = report_files.assessment_report_state(year)
    if run is None:
        data = _readable_data(request, year)
        content = report_files.report_render(data, fmt)
        etag = None
    else:
        if not assessment.assessment_readable(request.user, published=True):
            raise Http404
        stored = _stored_report(run, fmt)
        if stored is None:
            messages.info(request, _("通报文件正在生成，完成后即可下载。"))
            return redirect("assessment_detail", year=year)
        content, etag = bytes(stored.content), stored.sha256
    response = HttpResponse(content, content_type=report_files.CONTENT_TYPES[fmt])
    if etag:
        response["ETag"] = f'"{etag}"'
    name, fallback = report_files.report_filenames(year, fmt, published=run is not None)
    attachment(response, name, fallback=fallback)
    return response
