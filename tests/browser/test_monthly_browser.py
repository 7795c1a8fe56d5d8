"""The monthly prefilled update in a real Chromium (issue 20, acceptance 1e): township staff download
the prefilled workbook, change 3 cells, upload it, see exactly those 3 changes (old → new), confirm,
and 3 history entries are written. The page and the preview fit a 375 px phone."""

import io
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role, User
from households import services
from households.models import HistoryEntry, Household, ImportJob, Person
from tests.browser.login import log_in
from tests.factories import AreaFactory, UserFactory, make_id

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import FilePayload, Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "Loudi-browser-2026"
CHANGES = [
    ("搬迁户", "H02", "自来水", "是"),
    ("家庭成员", "H01", "家庭医生签约", "是"),
    ("家庭成员", "H03", "基本医疗保险", "是"),
]


@pytest.fixture
def township_staff(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    AreaFactory.village(code="431302001001", name="A社区", parent=township)
    user = UserFactory.create(
        username="zhen", password=PASSWORD, role=Role.TOWNSHIP_STAFF, area=township, first_name="乐坪街道", last_name=""
    )
    for number in range(1, 5):
        household = services.household_register(
            actor=user,
            code=f"H{number:02d}",
            village_code="431302001001",
            data={"head_name": f"户主{number}", "category": "建档立卡户"},
        )
        services.person_create(
            actor=user,
            household=household,
            id_number=make_id(f"43130219800101{number:03d}"),
            data={"name": f"户主{number}", "relation": "户主", "labour": "无劳动力"},
        )
    return user


def _edit(content: bytes) -> bytes:
    """Change one cell per (sheet, 户编号, column) with openpyxl, as a clerk would in Excel."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    for title, code, header, value in CHANGES:
        sheet = workbook[title]
        headers = [cell.value for cell in sheet[1]]
        column = headers.index("户编号")
        row = next(row for row in sheet.iter_rows(min_row=2) if row[column].value == code)
        row[headers.index(header)].value = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fits(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_prefilled_workbook_with_three_changed_cells(
    page: "Page", live_server: LiveServer, township_staff: User
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    log_in(page, live_server.url, "zhen", PASSWORD, "/imports/")
    page.click("[data-monthly-link]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "月度更新（一表同享）"

    with page.expect_download() as download_info:
        page.click("[data-monthly-download]")
    download = download_info.value
    assert download.suggested_filename.startswith("乐坪街道_住户人员月度更新表_")
    content = Path(download.path()).read_bytes()

    payload: FilePayload = {
        "name": download.suggested_filename,
        "mimeType": "application/octet-stream",
        "buffer": _edit(content),
    }
    page.set_input_files("#id_file", files=[payload])
    page.click("form[data-import-form] button[type=submit]")
    page.wait_for_selector('[data-job-status="previewed"]', timeout=15_000)
    changes = page.locator("[data-monthly-changes] tr[data-change]")
    assert changes.count() == 3
    shown = {
        (changes.nth(i).get_attribute("data-column"), changes.nth(i).locator("td").nth(5).inner_text())
        for i in range(3)
    }
    assert shown == {("自来水", "是"), ("家庭医生签约", "是"), ("基本医疗保险", "是")}
    assert page.locator('[data-count="updated"]').inner_text() == "3"
    assert page.locator('[data-count="unchanged"]').inner_text() == "5"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "monthly-preview.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})
    assert _fits(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    assert HistoryEntry.objects.filter(import_job__isnull=False).count() == 0

    page.click("[data-confirm-import]")
    page.wait_for_selector('[data-job-status="done"]', timeout=15_000)
    job = ImportJob.objects.get(kind="monthly", status=ImportJob.Status.DONE)
    assert HistoryEntry.objects.filter(import_job=job).count() == 3
    assert Household.objects.get(code="H02").tap_water is True
    assert Person.objects.get(household__code="H01").family_doctor is True
    assert Person.objects.get(household__code="H03").medical_insurance is True

    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/imports/monthly/")
    assert _fits(page)
    assert problems == []
