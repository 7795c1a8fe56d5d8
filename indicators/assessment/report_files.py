"""The published 年度考核通报 files: built once by a background job after publishing, stored with a
SHA-256 checksum (``AssessmentReport``) and served as stored, so every download of a published year
is the same bytes. A draft (unpublished) year is rendered on demand instead, never stored.

The job is ``tasks.assessment_report_task``; ``scoring.assessment_publish`` queues it through
``scoring.PUBLISH_LISTENERS`` (this module reads the results through ``scoring``, so the queue cannot
sit below it).
"""

import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from indicators.assessment import scoring
from indicators.assessment.report import assessment_pdf, assessment_xlsx
from indicators.models import AssessmentReport, AssessmentRun

logger = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = tuple(AssessmentReport.Format.values)
CONTENT_TYPES: dict[str, str] = {
    AssessmentReport.Format.PDF: "application/pdf",
    AssessmentReport.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
RENDERERS: dict[str, Callable[[Mapping[str, Any]], bytes]] = {
    AssessmentReport.Format.PDF: assessment_pdf,
    AssessmentReport.Format.XLSX: assessment_xlsx,
}


def report_filenames(year: int, fmt: str, *, published: bool) -> tuple[str, str]:
    """(Chinese name, ASCII fallback) of a download: a draft says so in both, so that a saved draft
    is never taken for the published 通报."""
    draft = "" if published else "（草稿）"
    return (
        f"娄底市{year}年度易地扶贫搬迁后续扶持工作考核通报{draft}.{fmt}",
        f"assessment-{year}{'' if published else '-draft'}.{fmt}",
    )


def report_render(data: Mapping[str, Any], fmt: str) -> bytes:
    """The file rendered now from the stored results (a draft, or the published build itself)."""
    return RENDERERS[fmt](data)


def _set(run_id: int, **fields: Any) -> None:
    AssessmentRun.objects.filter(pk=run_id).update(**fields)


def assessment_report_build(*, run_id: int) -> AssessmentRun:
    """Render the published run's PDF and xlsx once and store them with their checksums. Idempotent:
    a run whose files are built is returned as it is; a failure is recorded on the run (shown on the
    page; publishing again queues a new build), never raised."""
    run = AssessmentRun.objects.get(pk=run_id)
    if run.report_status == AssessmentRun.ReportStatus.DONE or run.published_at is None:
        return run
    try:
        _set(run.pk, report_status=AssessmentRun.ReportStatus.BUILDING, report_progress=5)
        data = scoring.assessment_result_for_year(run.year)
        if data is None or data["run_id"] != run.pk:
            raise scoring.AssessmentError(f"run {run.pk} is not the published run of {run.year}")
        rendered: dict[str, bytes] = {}
        for step, fmt in enumerate(FORMATS, start=1):
            rendered[fmt] = report_render(data, fmt)
            _set(run.pk, report_progress=5 + 90 * step // len(FORMATS))
        now = timezone.now()
        with transaction.atomic():
            AssessmentReport.objects.filter(run=run).delete()
            AssessmentReport.objects.bulk_create(
                AssessmentReport(
                    run=run,
                    fmt=fmt,
                    content=content,
                    size=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    built_at=now,
                )
                for fmt, content in rendered.items()
            )
            _set(run.pk, report_status=AssessmentRun.ReportStatus.DONE, report_progress=100, report_error="")
    except Exception as exc:  # the run row carries every failure
        logger.exception("assessment report of run %s failed", run.pk)
        _set(run.pk, report_status=AssessmentRun.ReportStatus.FAILED, report_error=str(exc) or type(exc).__name__)
    run.refresh_from_db()
    return run


def assessment_report_stored(*, run_id: int, fmt: str) -> AssessmentReport | None:
    """The stored file of a published run (one query), or None while it is not built."""
    return AssessmentReport.objects.filter(run_id=run_id, fmt=fmt).first()


def assessment_report_state(year: int) -> AssessmentRun | None:
    """The published run of ``year`` with its report status and progress (the page's poll), or None."""
    return (
        AssessmentRun.objects.filter(year=year, published_at__isnull=False)
        .only("year", "published_at", "report_status", "report_progress", "report_error")
        .first()
    )
