"""The import pages: upload → dry-run preview (live progress) → confirm or abandon; the error workbook;
the empty templates.

Thin views over ``households.import_jobs``: a job of another user answers 404 like a missing one; a
kind the role may not import answers 403 (and is never offered). The work runs in Celery tasks
queued on commit, so the page polls a small progress fragment while a job is queued or running.
"""

import io
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.types import AuthedHttpRequest
from core.htmx import is_htmx
from core.http import attachment
from households import import_jobs
from households.forms import set_choices
from households.importing import get_kind
from households.importing.base import Kind
from households.importing.monthly import (
    MONTHLY,
    monthly_allows,
    monthly_changes,
    monthly_file_name,
    monthly_workbook,
)
from households.importing.templates import template_write
from households.models import ImportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST_SIZE = 50
# Every row error is listed on the page; beyond this many the page points to the error workbook
# (a national file can hold tens of thousands, which no browser table should carry).
ERRORS_SHOWN = 10_000


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("数据类型"))
    file = forms.FileField(
        label=gettext_lazy("文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
        error_messages={"required": gettext_lazy("请选择要上传的文件。"), "empty": gettext_lazy("文件是空的。")},
    )

    def __init__(self, *args: Any, kinds: list[Kind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "kind", [(kind.name, kind.label) for kind in kinds])

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(import_jobs.UPLOAD_SUFFIXES):
            raise ValidationError(_("请上传 .xlsx、.xls 或 .csv 文件。"))
        if upload.size > import_jobs.MAX_UPLOAD_BYTES:
            raise ValidationError(_("文件过大（上限 50 MB）。"))
        return upload


def _label(name: str) -> str:
    if name == MONTHLY:
        return _("月度更新")
    kind = get_kind(name)
    return kind.label if kind is not None else name


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: AuthedHttpRequest) -> HttpResponse:
    """The user's own jobs and the upload form (only the kinds the role may import)."""
    kinds = import_jobs.import_kinds_for(request.user)
    form = ImportUploadForm(kinds=kinds)
    if request.method == "POST":
        requested = get_kind(request.POST.get("kind", ""))
        if not kinds or (requested is not None and not requested.allows(request.user)):
            raise PermissionDenied(_("您的角色无权导入此类数据。"))
        form = ImportUploadForm(request.POST, request.FILES, kinds=kinds)
        if form.is_valid():
            try:
                job = import_jobs.import_job_create(
                    actor=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
                )
            except ValidationError as error:
                form.add_error("file", error.message_dict.get("file", error.messages))
            else:
                return redirect("import_detail", pk=job.pk)
    jobs = list(import_jobs.import_job_list(actor=request.user)[:LIST_SIZE])
    for job in jobs:
        job.kind_label = _label(job.kind)  # type: ignore[attr-defined]  # shown by the template
    context = {"form": form, "upload_kinds": kinds, "jobs": jobs, "monthly": monthly_allows(request.user)}
    return render(request, "households/import_list.html", context)


def _job_context(actor: User, job: ImportJob) -> dict[str, Any]:
    errors = import_jobs.import_job_errors(actor=actor, job=job)
    changes = monthly_changes(actor=actor, job=job) if job.kind == MONTHLY else []
    return {
        "job": job,
        "kind_label": _label(job.kind),
        "running": import_jobs.import_job_running(job),
        "can_confirm": import_jobs.import_job_can_confirm(job),
        "can_abandon": job.status in import_jobs.ABANDONABLE,
        "errors": errors[:ERRORS_SHOWN],
        "errors_hidden": max(0, len(errors) - ERRORS_SHOWN),
        "error_count": len(errors),
        "warnings": [warning for warning in job.warnings or [] if not warning.get("change")],
        "changes": changes[:ERRORS_SHOWN],
        "changes_hidden": max(0, len(changes) - ERRORS_SHOWN),
        "monthly": job.kind == MONTHLY,
    }


@login_required
@require_GET
@never_cache
def import_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    job = import_jobs.import_job_access(actor=request.user, pk=pk)
    return render(request, "households/import_detail.html", _job_context(request.user, job))


@login_required
@require_GET
@never_cache
def import_progress(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The progress fragment polled every second; once the job has left the queue or the run, htmx
    is told to reload the page, which then shows the preview or the result."""
    job = import_jobs.import_job_access(actor=request.user, pk=pk)
    response = render(request, "households/_import_progress.html", _job_context(request.user, job))
    if not import_jobs.import_job_running(job) and is_htmx(request):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def import_confirm(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    job = import_jobs.import_job_access(actor=request.user, pk=pk)
    try:
        import_jobs.import_job_confirm(actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    return redirect("import_detail", pk=job.pk)


@login_required
@require_POST
def import_abandon(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    job = import_jobs.import_job_access(actor=request.user, pk=pk)
    try:
        import_jobs.import_job_abandon(actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, _("已放弃导入，上传的文件已删除，未写入任何数据。"))
    return redirect("import_detail", pk=job.pk)


def _xlsx(content: bytes, file_name: str, fallback: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    attachment(response, file_name, fallback=fallback)
    return response


@login_required
@require_GET
@never_cache
def import_errors(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The job's errors as .xlsx (with the uploaded rows and a 错误 column while the upload is kept)."""
    job = import_jobs.import_job_access(actor=request.user, pk=pk)
    buffer = io.BytesIO()
    import_jobs.import_job_errors_workbook(actor=request.user, job=job, target=buffer)
    name = _("导入错误-%(kind)s-%(id)s.xlsx") % {"kind": _label(job.kind), "id": job.pk}
    return _xlsx(buffer.getvalue(), name, f"import-errors-{job.kind}-{job.pk}.xlsx")


@login_required
@require_GET
def import_template(request: AuthedHttpRequest, kind: str) -> HttpResponse:
    """The empty template of one kind: 404 for an unknown kind, 403 for one the role may not import."""
    definition = import_jobs.import_kind_for(request.user, kind)
    buffer = io.BytesIO()
    template_write(definition, buffer)
    return _xlsx(buffer.getvalue(), _("%(label)s导入模板.xlsx") % {"label": definition.label}, f"template-{kind}.xlsx")


# --- the monthly prefilled update (一表同享, issue 20) ---------------------------------------------------


class MonthlyUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("本月更新表（.xlsx）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
        error_messages={"required": gettext_lazy("请选择要上传的文件。"), "empty": gettext_lazy("文件是空的。")},
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError(_("月度更新只接受从本页下载的本月更新表（.xlsx），请在其中修改后上传。"))
        if upload.size > import_jobs.MAX_UPLOAD_BYTES:
            raise ValidationError(_("文件过大（上限 50 MB）。"))
        return upload


def _monthly_user(request: AuthedHttpRequest) -> None:
    if not monthly_allows(request.user):
        raise PermissionDenied(_("您的角色无权使用月度更新。"))


@login_required
@require_http_methods(["GET", "POST"])
def import_monthly(request: AuthedHttpRequest) -> HttpResponse:
    """Download the prefilled workbook of the user's area; upload it back (a job like any import)."""
    _monthly_user(request)
    form = MonthlyUploadForm()
    if request.method == "POST":
        form = MonthlyUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = import_jobs.import_job_create(actor=request.user, kind=MONTHLY, upload=form.cleaned_data["file"])
            except ValidationError as error:
                form.add_error("file", error.message_dict.get("file", error.messages))
            else:
                return redirect("import_detail", pk=job.pk)
    return render(request, "households/monthly.html", {"form": form, "file_name": monthly_file_name(request.user)})


@login_required
@require_GET
@never_cache
def import_monthly_workbook(request: AuthedHttpRequest) -> HttpResponse:
    """「XX镇_住户人员月度更新表_2026年12月.xlsx」: the area's active households and persons, prefilled."""
    _monthly_user(request)
    buffer = io.BytesIO()
    monthly_workbook(request.user, buffer)
    today = timezone.localdate()
    return _xlsx(buffer.getvalue(), monthly_file_name(request.user, today), f"monthly-{today:%Y-%m}.xlsx")
