"""Journeys in a real Chromium (issue 7, acceptance 2): a county official opens the county dashboard,
clicks an unmet indicator, sees its records and exports them; a city bureau sees the heatmap and the
ranking. Screenshots of real demo data go to docs/screenshots/."""

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from pytest_django.live_server_helper import LiveServer

from tests.browser.login import log_in

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    from indicators.catalogue import catalogue_load
    from workspace.demo import DEMO_PASSWORD

    catalogue_load()  # the data migration's rows do not survive a transactional test's flush
    call_command("seed_demo", households=300, seed=7, stdout=io.StringIO(), stderr=io.StringIO())
    return DEMO_PASSWORD


def _login(page, live_server, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server.url, username, password, "/dashboard/")


def test_county_official_drills_down_and_exports(
    page: "Page", live_server: LiveServer, demo: str, tmp_path: Path
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, live_server, "demo_county", demo)
    assert re.search(r"/dashboard/county/\d{6}/", page.url)
    assert page.locator("h1").inner_text().endswith("后续扶持指标看板")
    page.wait_for_selector("#heatmap svg")
    page.wait_for_selector("#trend svg")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "county-dashboard.png"), full_page=False)
    page.locator("#heatmap").screenshot(path=str(SCREENSHOTS / "county-heatmap.png"))

    unmet = page.locator("tr.unmet td.value a").first
    code = unmet.get_attribute("data-indicator-link")
    assert code, "an unmet value links to its list"
    unmet.click()
    page.wait_for_load_state("networkidle")
    assert f"/lists/{code}/" in page.url
    assert code in page.locator("h1").inner_text()
    rows = page.locator("[data-list-table] tbody tr")
    assert rows.count() > 0
    page.screenshot(path=str(SCREENSHOTS / "list.png"), full_page=False)

    with page.expect_download() as info:
        page.click("[data-export-xlsx]")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "list.xlsx"  # openpyxl goes by the file name's extension
    download.save_as(saved)
    sheet = load_workbook(saved).active
    assert sheet.cell(row=1, column=1).value.startswith(code)
    data_rows = [row for row in sheet.iter_rows(min_row=5) if row[0].value]
    total = re.search(r"共 (\d+) 条", page.content())
    assert total, "the list says how many rows it has"
    assert len(data_rows) == int(total.group(1))
    # masked for a county official: no full 18-digit ID number anywhere
    assert not any(re.fullmatch(r"\d{17}[\dX]", str(cell.value or "")) for row in data_rows for cell in row)
    assert errors == []


def test_city_bureau_sees_heatmap_and_ranking(page: "Page", live_server: LiveServer, demo: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, live_server, "demo_bureau", demo)
    assert "/dashboard/department/" in page.url  # a bureau lands on its own department
    page.goto(f"{live_server.url}/dashboard/city/")
    page.wait_for_selector("#heatmap svg")
    assert page.locator("#heatmap svg rect, #heatmap svg path").count() > 10
    ranking = page.locator("[data-ranking] tbody tr")
    assert ranking.count() == 6
    assert "排名依据" in page.content()
    page.screenshot(path=str(SCREENSHOTS / "city-dashboard.png"), full_page=False)
    page.locator("#heatmap").screenshot(path=str(SCREENSHOTS / "city-heatmap.png"))
    assert errors == []
