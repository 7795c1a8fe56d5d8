"""The monitoring-identification procedure in a real Chromium (issue 21, acceptance 2): an early warning
becomes a case; the home visit is recorded; the village's 评议 starts the 公示 and its PDF is produced,
and ``pdftotext`` of it holds no ID number, phone or birth date of anyone; the 乡镇初审; the 县级审定 is
refused before the 公示's 5 working days have passed and accepted after them (fixed clock around 春节:
the procedure reads ``monitoring.clock.today``, patched here, which the live server's thread shares);
the household's monitoring category is set. The case page fits 375 px."""

import datetime
import os
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from accounts import personal_data
from accounts.models import Role
from households.choices import Relation
from households.models import Household
from monitoring import clock
from monitoring.models import Case, CaseState
from tests.browser.login import log_in
from tests.factories import (
    AreaFactory,
    HouseholdFactory,
    IncomeFactory,
    MonitoringLineFactory,
    PersonFactory,
    UserFactory,
)

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True)]

PASSWORD = "Monitoring-Test-2026"
PHONE = "13912345678"
OFFICE = "0738-8321234"


@pytest.fixture
def monitoring_world(db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    AreaFactory.city()
    county = AreaFactory.county()
    township = AreaFactory.township(parent=county)
    village = AreaFactory.village(parent=township)
    household = HouseholdFactory.create(
        code="H00001",
        village=village,
        head_name="张三",
        phone_encrypted=personal_data.encrypt(PHONE),
        phone_masked="139****5678",
    )
    head = PersonFactory.create(
        household=household, relation=Relation.HEAD, name="张三", born=datetime.date(1971, 8, 15)
    )
    child = PersonFactory.create(
        household=household, relation=Relation.CHILD, name="张小", born=datetime.date(2003, 1, 20)
    )
    year = timezone.localdate().year - 1  # the incomes' data year, as the warnings read it
    for data_year in (year - 1, year):
        MonitoringLineFactory(year=data_year, line=730_000)
    IncomeFactory(household=household, year=year, size=2, per_capita_income=500_000)  # below the line
    UserFactory(username="cun", password=PASSWORD, role=Role.VILLAGE_STAFF, area=village)
    UserFactory(username="zhen", password=PASSWORD, role=Role.TOWNSHIP_STAFF, area=township)
    UserFactory(username="xian", password=PASSWORD, role=Role.COUNTY_OFFICIAL, area=county)
    secrets = [PHONE]
    for person in (head, child):
        secrets.append(personal_data.decrypt(person.id_number_encrypted))
        born = person.birth_date
        secrets += [f"{born:%Y-%m-%d}", f"{born:%Y%m%d}", f"{born.year}年{born.month}月{born.day}日"]
    return {"village": village, "household": household, "secrets": secrets}


def _login(page: "Page", live_server: LiveServer, username: str) -> None:
    log_in(page, live_server.url, username, PASSWORD)


def _state(page: "Page") -> str:
    return page.locator("[data-case-state]").inner_text()


def test_warning_to_case_visit_publicity_and_county_decision(
    page: "Page", live_server: LiveServer, monitoring_world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    day = {"today": datetime.date(2026, 2, 12)}  # Thursday before 春节 2026
    monkeypatch.setattr(clock, "today", lambda: day["today"])
    village, household = monitoring_world["village"], monitoring_world["household"]

    # The early warning becomes a case (部门预警), from the village's 预警清单.
    _login(page, live_server, "cun")
    page.goto(f"{live_server.url}/warnings/{village.code}/")
    row = page.locator('tr[data-household="H00001"]')
    row.locator("summary", has_text="发起识别").click()
    row.locator("select[name=category]").select_option("边缘易致贫户")
    row.locator("input[name=note]").fill("人均收入低于监测线")
    row.locator("button", has_text="发起识别（部门预警）").click()
    page.locator("tr.cleared >> text=查看识别").click()
    page.wait_for_load_state("networkidle")
    assert _state(page) == "待入户核实"
    case = Case.objects.get()
    assert case.source == "部门预警"

    # The home visit is recorded.
    page.fill("#note", "入户核实：户主因病失去劳动能力，家庭收入骤降")
    page.click("text=记录入户核实")
    assert _state(page) == "待村级评议"
    assert "户主因病失去劳动能力" in page.locator("table[data-steps]").inner_text()

    # The village's 评议 starts the 公示 on Friday 02-13: 5 working days end on 02-27 (调休 02-14 counts).
    day["today"] = datetime.date(2026, 2, 13)
    page.reload()
    page.fill("#place", "村委会一楼便民服务室")
    page.fill("#phone", OFFICE)
    page.fill("#note", "村民代表会议评议同意")
    page.click("text=记录评议并开始公示")
    assert _state(page) == "公示中"
    assert "2026-02-13 ~ 2026-02-27" in page.locator("[data-publicity]").inner_text()

    # The 公示 page and its PDF: name, code, category, period, where to object; nothing personal.
    page.click("[data-publicity] >> text=本村公示")
    text = page.locator("main").inner_text()
    assert "张三" in text
    assert "边缘易致贫户" in text
    with page.expect_download() as download:
        page.click("[data-publicity-pdf]")
    assert download.value.suggested_filename.startswith("监测对象识别公示-")
    pdf = tmp_path / "publicity.pdf"
    download.value.save_as(pdf)
    if shutil.which("pdftotext"):
        printed = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True)
        flat = printed.stdout.replace(" ", "")
        assert "张三" in flat
        assert "H00001" in flat
        assert "2026年2月13日至2026年2月27日" in flat
        assert OFFICE in flat
        for secret in monitoring_world["secrets"]:
            assert secret not in flat, secret
    elif os.environ.get("CI"):
        pytest.fail("pdftotext (poppler-utils) is missing on CI")
    else:
        pytest.skip("pdftotext (poppler-utils) missing: the 公示 PDF was produced but not read")

    case_url = f"{live_server.url}/monitoring/case/{case.pk}/"
    page.goto(case_url)
    page.click("text=公示结束，提交乡镇初审")
    assert _state(page) == "待乡镇初审"

    # 乡镇初审.
    _login(page, live_server, "zhen")
    page.goto(case_url)
    page.click("text=乡镇初审通过")
    assert _state(page) == "待县级审定"

    # 县级审定: refused on the 公示's last day, accepted the day after.
    _login(page, live_server, "xian")
    day["today"] = datetime.date(2026, 2, 27)
    page.goto(case_url)
    assert page.locator("[data-publicity-running]").is_visible()
    page.select_option("#outcome", "纳入监测")
    page.select_option("#category", "边缘易致贫户")
    page.click("button:has-text('县级审定')")
    refused = page.locator("ul.messages").inner_text()
    assert "2026-02-27" in refused
    assert "2026-02-28" in refused
    assert _state(page) == "待县级审定"
    assert Household.objects.get(pk=household.pk).monitoring == "无"

    day["today"] = datetime.date(2026, 2, 28)
    page.goto(case_url)
    page.select_option("#outcome", "纳入监测")
    page.select_option("#category", "边缘易致贫户")
    page.fill("#note", "审定纳入")
    page.click("button:has-text('县级审定')")
    assert _state(page) == "已纳入监测"
    assert Case.objects.get().state == CaseState.INCLUDED
    assert Household.objects.get(pk=household.pk).monitoring == "边缘易致贫户"
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/households/{household.code}/")
    assert "边缘易致贫户" in page.locator("main").inner_text()
