"""The web import in a real Chromium (issue 3, acceptance 3): township staff upload a households file
with one bad row, see that row's error and that nothing was imported; then upload a good file,
confirm it, watch the progress bar (htmx polling) and see the result. Screenshots go to
docs/screenshots/."""

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role, User
from households import import_runs, services, tasks
from households.models import Household, ImportJob
from tests.browser.login import log_in
from tests.factories import AreaFactory, UserFactory

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "Loudi-browser-2026"
HEADERS = "户编号,户主姓名,现居村社区代码,户类型,安置点编码,联系电话"
BAD = f"{HEADERS}\nH02,王二,431302001001,同步搬迁户,,\nH03,李三,431302002001,同步搬迁户,,\n"
GOOD = (
    f"{HEADERS}\nH01,张一,431302001001,建档立卡户,,\nH02,王二,431302001001,同步搬迁户,,13812345678\n"
    "H03,李三,431302001001,同步搬迁户,,\nH04,赵四,431302001001,建档立卡户,,\n"
)


@pytest.fixture
def township_staff(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    other = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    AreaFactory.village(code="431302001001", name="A社区", parent=township)
    AreaFactory.village(code="431302002001", name="B村", parent=other)
    user = UserFactory.create(
        username="zhen", password=PASSWORD, role=Role.TOWNSHIP_STAFF, area=township, first_name="乐坪街道", last_name=""
    )
    services.household_register(
        actor=user, code="H01", village_code="431302001001", data={"head_name": "张一", "category": "建档立卡户"}
    )
    return user


def _upload(page, text: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#id_kind", "households")
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}])
    page.click("form[data-import-form] button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_township_staff_import_with_a_bad_row_then_a_good_file(
    page: "Page", live_server: LiveServer, township_staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # A CSP violation (inline script, style or handler) is reported on the console.
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    log_in(page, live_server.url, "zhen", PASSWORD, "/imports/")
    assert page.url.endswith("/imports/")
    assert page.locator("h1").inner_text() == "数据导入"

    # A file with one row outside the township: the row's error, nothing imported.
    _upload(page, BAD, "搬迁户-有错误.csv")
    assert "/imports/" in page.url
    assert page.url.rstrip("/").split("/")[-1].isdigit()
    result = page.locator("[data-import-result] h2")
    assert result.inner_text() == "发现 1 处错误，未写入任何数据"
    error_row = page.locator('[data-import-errors] tr[data-row="3"]')
    assert error_row.locator("td").nth(0).inner_text() == "3"
    assert error_row.locator("td").nth(1).inner_text() == "现居村社区代码"
    assert "不在您的管辖范围" in error_row.locator("td").nth(3).inner_text()  # issue 20: says it is outside
    assert page.locator("[data-confirm-import]").count() == 0
    assert page.locator("[data-errors-download]").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "import-errors.png"), full_page=True)
    assert set(Household.objects.values_list("code", flat=True)) == {"H01"}
    page.click("[data-abandon-import]")
    page.wait_for_load_state("networkidle")
    assert "已放弃" in page.locator("[data-import-result] h2").inner_text()

    # A good file: the preview shows the counts and the confirm button.
    page.goto(f"{live_server.url}/imports/")
    _upload(page, GOOD, "搬迁户.csv")
    assert page.locator("[data-import-result] h2").inner_text() == "校验通过（试运行，尚未写入）"
    assert page.locator('[data-count="created"]').inner_text() == "3"
    assert page.locator('[data-count="unchanged"]').inner_text() == "1"
    assert page.locator("#import-progress-bar").get_attribute("value") == "100"
    page.screenshot(path=str(SCREENSHOTS / "import-preview.png"), full_page=True)
    assert set(Household.objects.values_list("code", flat=True)) == {"H01"}

    # Confirm; the import is held back so the page shows the running job and polls its progress,
    # then the "worker" (this thread) runs it and the page moves on to the result by itself.
    monkeypatch.setattr(tasks.import_job_run_task, "delay_on_commit", lambda *args, **kwargs: None)
    page.click("[data-confirm-import]")
    page.wait_for_selector('#import-progress[data-status="importing"][hx-trigger="every 1s"]')
    job = ImportJob.objects.get(status=ImportJob.Status.IMPORTING)
    import_runs.import_job_run(job_id=job.pk)
    page.wait_for_selector('[data-job-status="done"]', timeout=15_000)
    assert page.locator("[data-import-result] h2").inner_text() == "导入完成"
    assert page.locator('[data-count="created"]').inner_text() == "3"
    assert page.locator("#import-progress-bar").get_attribute("value") == "100"
    assert page.locator("#import-progress").get_attribute("hx-trigger") is None
    page.screenshot(path=str(SCREENSHOTS / "import-done.png"), full_page=True)
    assert set(Household.objects.values_list("code", flat=True)) == {"H01", "H02", "H03", "H04"}
    job.refresh_from_db()
    assert job.stored_file == ""
    assert not list((Path(import_runs.import_upload_dir())).iterdir())
    assert problems == []
