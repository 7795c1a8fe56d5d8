"""The published 通报 files: built once after publishing, stored with their SHA-256, served as stored
under a Chinese file name; a draft rendered on demand; the page's progress while they are built."""

import hashlib
import io
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.test import override_settings

from accounts.models import Role
from areas.models import Area
from core.http import ascii_fallback, attachment
from indicators.assessment import report_files
from indicators.assessment import scoring as assessment
from indicators.assessment.tasks import assessment_report_task
from indicators.models import AssessmentReport, AssessmentRun
from tests.factories import UserFactory

from .test_assessment import example_import

pytestmark = pytest.mark.django_db
NAME = "娄底市2025年度易地扶贫搬迁后续扶持工作考核通报"


@pytest.fixture
def assessed(db):
    example_import()
    call_command("assess", "--year", "2025", stdout=io.StringIO())
    city = Area.objects.get(code="431300")
    village = Area.objects.get(code="431302001001")
    return {
        "admin": UserFactory.create(username="admin", role=Role.CITY_ADMIN, area=city),
        "village": UserFactory.create(username="village", role=Role.VILLAGE_STAFF, area=village),
    }


def _published_run() -> AssessmentRun:
    return AssessmentRun.objects.get(year=2025, published_at__isnull=False)


def test_publishing_stores_both_files_once_and_every_download_is_those_bytes(
    client, assessed, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(assessed["admin"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post("/assessment/2025/publish/", {"confirm": "yes"})
    assert len(callbacks) == 1  # the build is queued once the publishing has committed
    run = _published_run()
    assert run.report_status == AssessmentRun.ReportStatus.DONE
    assert run.report_progress == 100
    stored = {report.fmt: report for report in AssessmentReport.objects.filter(run=run)}
    assert set(stored) == {"pdf", "xlsx"}
    for report in stored.values():
        assert report.size == len(report.content)
        assert report.sha256 == hashlib.sha256(bytes(report.content)).hexdigest()
    assert bytes(stored["pdf"].content)[:5] == b"%PDF-"
    assert bytes(stored["xlsx"].content)[:2] == b"PK"

    # Served as stored: nothing is rendered again.
    def no_render(*args, **kwargs):
        raise AssertionError("a published report is never rendered at download")

    monkeypatch.setattr(report_files, "report_render", no_render)
    client.force_login(assessed["village"])
    for fmt in ("pdf", "xlsx"):
        first = client.get(f"/assessment/2025/report.{fmt}")
        second = client.get(f"/assessment/2025/report.{fmt}")
        assert first.status_code == second.status_code == 200
        assert first.content == second.content
        assert hashlib.sha256(first.content).hexdigest() == stored[fmt].sha256
        assert first["ETag"] == f'"{stored[fmt].sha256}"'
        disposition = first["Content-Disposition"]
        assert disposition == (
            f"attachment; filename=\"assessment-2025.{fmt}\"; filename*=utf-8''{quote(f'{NAME}.{fmt}')}"
        )

    # Publishing again changes nothing: no new run, no new build.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert assessment.assessment_publish(year=2025).pk == run.pk
    assert callbacks == []
    assert AssessmentReport.objects.filter(run=run).count() == 2


def test_a_draft_is_rendered_on_demand_and_named_a_draft(client, assessed):
    client.force_login(assessed["admin"])
    response = client.get("/assessment/2025/report.pdf")
    assert response.status_code == 200
    assert response.content[:5] == b"%PDF-"
    assert not AssessmentReport.objects.exists()
    assert not response.has_header("ETag")
    disposition = response["Content-Disposition"]
    assert 'filename="assessment-2025-draft.pdf"' in disposition
    assert quote(f"{NAME}（草稿）.pdf") in disposition
    page = client.get("/assessment/2025/").content.decode()
    assert 'href="/assessment/2025/report.pdf"' in page
    assert 'hx-trigger="every' not in page  # no polling (the header loads its unread count once)


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_the_page_shows_progress_until_the_files_are_built(client, assessed, monkeypatch):
    queued = []
    monkeypatch.setattr(assessment, "PUBLISH_LISTENERS", [queued.append])
    assessment.assessment_publish(year=2025)  # inside the test's transaction: nothing is queued yet
    run = _published_run()
    assert run.report_status == AssessmentRun.ReportStatus.QUEUED
    client.force_login(assessed["village"])
    page = client.get("/assessment/2025/").content.decode()
    assert "通报文件生成中" in page
    assert 'hx-trigger="every 2s"' in page
    assert 'href="/assessment/2025/report.pdf"' not in page  # the link waits
    # The download sends the user back to the page's progress meanwhile.
    response = client.get("/assessment/2025/report.pdf")
    assert response.status_code == 302
    assert response["Location"] == "/assessment/2025/"

    assert assessment_report_task.apply(args=(run.pk,)).get() == AssessmentRun.ReportStatus.DONE
    fragment = client.get("/assessment/2025/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="assessment-downloads"')
    assert 'hx-trigger="every' not in fragment  # built: polling stops
    assert 'href="/assessment/2025/report.pdf"' in fragment
    assert client.get("/assessment/2025/report.pdf").status_code == 200


def test_a_failed_build_is_shown_and_publishing_again_retries_it(client, assessed, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("字体缺失")

    monkeypatch.setattr(report_files, "report_render", broken)
    assessment.assessment_publish(year=2025)
    run = _published_run()
    assert report_files.assessment_report_build(run_id=run.pk).report_status == AssessmentRun.ReportStatus.FAILED
    client.force_login(assessed["admin"])
    page = client.get("/assessment/2025/").content.decode()
    assert "通报文件生成失败：字体缺失" in page
    assert "重新生成通报文件" in page
    monkeypatch.undo()
    assessment.assessment_publish(year=2025)
    run.refresh_from_db()
    assert run.report_status == AssessmentRun.ReportStatus.QUEUED
    assert report_files.assessment_report_build(run_id=run.pk).report_status == AssessmentRun.ReportStatus.DONE


def test_attachment_sends_an_ascii_fallback_and_the_utf8_name():
    class Response(dict):
        pass

    response = attachment(Response(), "清零清单-M3-1-431302-2025-娄星区.xlsx")  # type: ignore[arg-type]
    assert response["Content-Disposition"] == (
        "attachment; filename=\"M3-1-431302-2025.xlsx\"; filename*=utf-8''"
        + quote("清零清单-M3-1-431302-2025-娄星区.xlsx")
    )
    assert ascii_fallback("安置点导入模板.xlsx") == "download.xlsx"
    assert ascii_fallback('a"b\\c;d.csv') == "a-b-c-d.csv"
    assert ascii_fallback("预警清单") == "download"


def test_import_template_downloads_under_a_chinese_name(client, assessed):
    client.force_login(assessed["admin"])
    response = client.get("/imports/templates/commendations.xlsx")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"template-commendations.xlsx\"; filename*=utf-8''")
    assert quote("导入模板.xlsx") in disposition
