"""A transfer between two townships in a real Chromium (issue 20, acceptance 1c): township staff file
a transfer request from the household file, the county official approves it from the list of pending
requests, and the stored indicator values of BOTH villages change after the recompute that follows
the commit. The county's pages fit a 375 px phone without sideways scrolling."""

import datetime
import time
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from households.choices import Employment, Labour, Relation
from households.models import HistoryEntry, Household, TransferRequest
from tests.browser.login import log_in
from tests.factories import AreaFactory, HouseholdFactory, PersonFactory, UserFactory, cells, stored

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True)]

PASSWORD = "Events-Test-2026"
TODAY = timezone.localdate()
KEY = str(TODAY.year)
FROM_VILLAGE, TO_VILLAGE = "431302001001", "431302002001"


def _worker(household: Household, name: str, employment: str, born: datetime.date) -> None:
    PersonFactory(
        household=household,
        relation=Relation.HEAD,
        name=name,
        labour=Labour.ORDINARY,
        wants_work=True,
        employment=employment,
        employment_checked_on=TODAY,
        born=born,
    )


@pytest.fixture
def two_townships(db):  # type: ignore[no-untyped-def]
    """乐坪街道's A社区 has two willing workers, one employed (M3-2 50 %); 花山街道's B村 one, not
    employed (0 %). Moving the employed worker's household turns them into 0 % and 50 %."""
    from indicators.catalogue import catalogue_load
    from indicators.services import compute_period

    catalogue_load()  # a transactional test's flush empties the catalogue of the data migration
    city = AreaFactory.city()
    county = AreaFactory.county(parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    other = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    village = AreaFactory.village(code=FROM_VILLAGE, name="A社区", parent=township)
    target = AreaFactory.village(code=TO_VILLAGE, name="B村", parent=other)
    moving = HouseholdFactory(code="H00001", village=village, head_name="张三")
    _worker(moving, "张三", Employment.LOCAL_FIRM, datetime.date(1985, 3, 9))
    _worker(
        HouseholdFactory(code="H00002", village=village, head_name="李四"),
        "李四",
        Employment.UNEMPLOYED,
        datetime.date(1990, 5, 6),
    )
    _worker(
        HouseholdFactory(code="H00003", village=target, head_name="王五"),
        "王五",
        Employment.UNEMPLOYED,
        datetime.date(1988, 7, 1),
    )
    UserFactory.create(username="zhen", password=PASSWORD, role=Role.TOWNSHIP_STAFF, area=township)
    UserFactory.create(username="xian", password=PASSWORD, role=Role.COUNTY_OFFICIAL, area=county)
    run = compute_period(period_key=KEY)
    assert run.status == "done", run.error
    return {"household": moving}


def _login(page, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server.url, username, PASSWORD)


def _m32(village: str) -> tuple[object, object, object, object]:
    return cells(stored(KEY)[("village", village, "M3-2")])


def _fits_the_phone(page) -> None:  # type: ignore[no-untyped-def]
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways at 375 px: {widths}"


def test_township_requests_county_approves_and_both_villages_change(
    page: "Page", live_server: LiveServer, two_townships: dict[str, Any]
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    before = {FROM_VILLAGE: _m32(FROM_VILLAGE), TO_VILLAGE: _m32(TO_VILLAGE)}
    assert before[FROM_VILLAGE][:2] == (1, 2)
    assert before[TO_VILLAGE][:2] == (0, 1)

    # The township files the request from the household file (办理事项).
    _login(page, live_server, "zhen")
    page.goto(f"{live_server.url}/households/H00001/")
    page.click("#events >> text=申请跨乡镇迁移")
    page.wait_for_load_state("networkidle")
    page.select_option("#id_village", TO_VILLAGE)
    page.fill("#id_reason", "投靠子女，已在花山街道购房")
    page.click("form.record-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/households/H00001/")
    assert "申请迁入 B村：待审批" in page.locator("#events").inner_text()

    # The county official approves it from the list, on a phone.
    page.set_viewport_size({"width": 375, "height": 812})
    _login(page, live_server, "xian")
    page.goto(f"{live_server.url}/transfers/")
    _fits_the_phone(page)
    row = page.locator("tbody tr", has_text="H00001")
    assert "待审批" in row.inner_text()
    row.locator("td.card-action a").click()
    page.wait_for_load_state("networkidle")
    _fits_the_phone(page)
    assert "投靠子女" in page.content()
    page.click("button[value=approve]")
    page.wait_for_load_state("networkidle")
    assert "已批准 H00001 迁入 B村" in page.content()
    assert "没有符合条件的迁移申请" in page.content()  # the pending list is empty now

    household = Household.objects.get(code="H00001")
    assert (household.village_code, household.township_code) == (TO_VILLAGE, "431302002")
    assert TransferRequest.objects.get().status == "已批准"
    assert HistoryEntry.objects.filter(entity="household", object_id=household.pk, action="transfer").count() == 1

    # Without a broker the recompute runs in-process on commit; allow it a moment all the same.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _m32(FROM_VILLAGE)[:2] == before[FROM_VILLAGE][:2]:
        time.sleep(0.2)
    assert _m32(FROM_VILLAGE)[:2] == (0, 1)
    assert _m32(TO_VILLAGE)[:2] == (1, 2)

    # The requesting township no longer reaches the household but still sees its request's outcome.
    _login(page, live_server, "zhen")
    page.goto(f"{live_server.url}/transfers/?status=all")
    _fits_the_phone(page)
    assert "已批准" in page.locator("tbody tr", has_text="H00001").inner_text()
    assert errors == []


def test_every_event_page_fits_a_phone(page: "Page", live_server: LiveServer, two_townships: dict[str, Any]) -> None:
    household = two_townships["household"]
    head = household.members.get()
    page.set_viewport_size({"width": 375, "height": 812})
    _login(page, live_server, "zhen")
    for path in (
        "",
        "transfer/",
        "transfer-request/",
        "cancel/",
        "head/",
        f"persons/{head.pk}/cancel/",
        f"persons/{head.pk}/correct-id/",
    ):
        page.goto(f"{live_server.url}/households/H00001/{path}")
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").count() == 1, path
        _fits_the_phone(page)
