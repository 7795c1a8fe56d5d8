"""Issue 20, acceptance 1 (one pass of validation) in a real Chromium: the household form with five
wrong fields, the ID number among them, shows all five errors after one submit and the live ID check
keeps its message; an import row with five errors lists all five in the downloaded error workbook."""

import io
from typing import TYPE_CHECKING

import openpyxl
import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role, User
from households.models import Household, ImportJob
from tests.browser.login import log_in
from tests.factories import AreaFactory, UserFactory, make_id

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import FilePayload, Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True)]

PASSWORD = "Loudi-browser-2026"
GOOD_ID = make_id("43130219900202002")
BAD_CHECK_ID = GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")
FIVE_COLUMNS = ["户主姓名", "户主身份证号", "现居村社区代码", "户类型", "联系电话"]


@pytest.fixture
def township_staff(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    other = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    AreaFactory.village(code="431302001001", name="A社区", parent=township)
    AreaFactory.village(code="431302002001", name="B村", parent=other)
    return UserFactory.create(username="zhen", password=PASSWORD, role=Role.TOWNSHIP_STAFF, area=township)


def _login(page: "Page", live_server: LiveServer, path: str) -> None:
    log_in(page, live_server.url, "zhen", PASSWORD, path)
    assert page.url.endswith(path)


def test_household_form_with_five_wrong_fields_shows_all_five_after_one_submit(
    page: "Page", live_server: LiveServer, township_staff: User
) -> None:
    _login(page, live_server, "/households/new/")
    page.fill("#id_code", "H 9!")  # 户编号 format
    page.fill("#id_head_name", "周九")
    page.select_option("#id_category", "同步搬迁户")
    page.fill("#id_relocation_year", "2999")  # after this year
    page.fill("#id_phone", "12345")  # not a phone number
    page.fill("#id_members-0-id_number", BAD_CHECK_ID)  # wrong check digit
    page.fill("#id_members-0-name", "周九")
    page.select_option("#id_members-0-labour", "普通劳动力")  # … and no 就业信息更新日期
    page.fill("#id_members-0-employment_checked_on", "")
    page.locator("#id_members-0-name").focus()  # leaving the ID field runs the live check
    check = page.locator("#id_members-0-id_number_check")
    check.locator(".check-bad").wait_for()
    assert "校验位不正确" in check.inner_text()

    page.click("form.record-form button[type=submit]")
    page.wait_for_load_state("networkidle")

    errors = page.locator("p.field-error")
    assert errors.count() == 5, errors.all_inner_texts()
    ids = sorted(errors.nth(index).get_attribute("id") or "" for index in range(5))
    assert ids == sorted(
        [
            "id_code_error",
            "id_phone_error",
            "id_relocation_year_error",
            "id_members-0-id_number_error",
            "id_members-0-employment_checked_on_error",
        ]
    )
    # The live ID check still shows its message, in its own spot, after the submit.
    assert check.is_visible()
    assert "校验位不正确" in check.inner_text()
    # Everything typed is still there.
    assert page.input_value("#id_members-0-id_number") == BAD_CHECK_ID
    assert page.input_value("#id_phone") == "12345"
    assert page.input_value("#id_members-0-labour") == "普通劳动力"
    assert not Household.objects.filter(code="H 9!").exists()


def test_an_import_row_with_five_errors_lists_all_five_in_the_error_workbook(
    page: "Page", live_server: LiveServer, township_staff: User
) -> None:
    headers = "户编号,户主姓名,户主身份证号,现居村社区代码,户类型,联系电话"
    text = f"{headers}\nH09,,{BAD_CHECK_ID},431302002001,不知道,12345\n"
    _login(page, live_server, "/imports/")
    page.select_option("#id_kind", "households")
    upload: FilePayload = {"name": "搬迁户.csv", "mimeType": "text/csv", "buffer": text.encode("utf-8")}
    page.set_input_files("#id_file", files=upload)
    page.click("form[data-import-form] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-import-result] h2").inner_text() == "发现 5 处错误，未写入任何数据"
    assert "不在您的管辖范围" in page.locator('[data-import-errors] tr[data-column="现居村社区代码"]').inner_text()

    with page.expect_download() as download_info:
        page.click("[data-errors-download]")
    path = download_info.value.path()
    assert path is not None
    with open(path, "rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()))
    listed = [[cell.value for cell in row] for row in book["错误清单"].iter_rows(min_row=2)]
    assert sorted(row[1] for row in listed) == sorted(FIVE_COLUMNS)
    reasons = {row[1]: row[3] for row in listed}
    assert "不在您的管辖范围（您管辖：乐坪街道）" in reasons["现居村社区代码"]
    assert "校验位" in reasons["户主身份证号"]
    assert ImportJob.objects.get().status == ImportJob.Status.INVALID
    assert not Household.objects.exists()
