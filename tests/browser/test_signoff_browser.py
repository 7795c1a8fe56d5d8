"""The monthly roster sign-off in a real Chromium (issue 21, acceptance 1): a village submits December,
the township approves, the county approves (in bulk, after a confirmation naming the village); a clerk
then edits one person of that village, and the county sees 审定后有修改 (1) with that person listed;
the county approves again. Both pages fit 375 px without sideways scrolling."""

from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from households.choices import Relation
from signoff.models import State, VillageMonth
from tests.browser.login import log_in
from tests.factories import AreaFactory, HouseholdFactory, PersonFactory, UserFactory

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True)]

PASSWORD = "Signoff-Test-2026"
TODAY = timezone.localdate()
DECEMBER = f"{TODAY.year if TODAY.month == 12 else TODAY.year - 1}-12"


@pytest.fixture
def signoff_world(db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    AreaFactory.city()
    county = AreaFactory.county()
    township = AreaFactory.township(parent=county)
    village = AreaFactory.village(parent=township)
    AreaFactory.village(code="431302001002", name="B村", parent=township)
    household = HouseholdFactory(code="H00001", village=village, head_name="张三")
    PersonFactory(household=household, relation=Relation.HEAD, name="张三")
    child = PersonFactory(household=household, relation=Relation.CHILD, name="张小")
    UserFactory(username="cun", password=PASSWORD, role=Role.VILLAGE_STAFF, area=village)
    UserFactory(username="zhen", password=PASSWORD, role=Role.TOWNSHIP_STAFF, area=township)
    UserFactory(username="xian", password=PASSWORD, role=Role.COUNTY_OFFICIAL, area=county)
    return {"village": village, "household": household, "child": child}


def _login(page: "Page", live_server: LiveServer, username: str) -> None:
    log_in(page, live_server.url, username, PASSWORD)


def _fits_375(page: "Page") -> None:
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1366, "height": 900})


def test_submit_review_approve_edit_and_approve_again(
    page: "Page", live_server: LiveServer, signoff_world: dict[str, Any]
) -> None:
    village, child = signoff_world["village"], signoff_world["child"]
    village_url = f"{live_server.url}/signoff/village/{village.code}/?month={DECEMBER}"

    # The village submits December.
    _login(page, live_server, "cun")
    page.click("nav.mainnav >> text=月度审核")
    page.goto(village_url)
    page.fill("#submit-note", "已逐户核对")
    page.click("text=提交本月花名册")
    assert "已提交" in page.locator(".signoff-state").inner_text()
    assert "已逐户核对" in page.locator("table.cards").last.inner_text()

    # The township approves (初审) from its overview.
    _login(page, live_server, "zhen")
    page.click("nav.mainnav >> text=月度审核")
    page.goto(f"{live_server.url}/signoff/township/{village.township_code}/?month={DECEMBER}")
    row = page.locator(f'tr[data-village="{village.code}"]')
    assert "已提交" in row.inner_text()
    assert "初审" in row.inner_text()  # the 初审 deadline is shown
    row.locator("text=查看").click()
    page.click("text=乡镇初审通过")
    assert "乡镇已初审" in page.locator(".signoff-state").inner_text()

    # The county approves in bulk, after a confirmation naming the village.
    _login(page, live_server, "xian")
    page.goto(f"{live_server.url}/signoff/county/{village.county_code}/?month={DECEMBER}")
    assert "已审定 0/2" in page.locator("[data-progress]").inner_text()
    page.check(f'tr[data-village="{village.code}"] input[name=villages]')
    page.click("text=批量审核通过所选村（社区）…")
    assert "将审核通过以下 1 个村（社区）" in page.content()
    assert village.name in page.locator("ul.bulk-names").inner_text()
    page.click("text=确认审核通过")
    assert "已审定 1/2" in page.locator("[data-progress]").inner_text()
    assert VillageMonth.objects.get(village=village, month=DECEMBER).state == State.APPROVED

    # A clerk of the township edits one person of that village.
    _login(page, live_server, "zhen")
    page.goto(f"{live_server.url}/households/H00001/persons/{child.pk}/edit/")
    page.fill("#id_name", "张小明")
    page.click("form button[type=submit] >> nth=-1")
    page.wait_for_load_state("networkidle")
    child.refresh_from_db()
    assert child.name == "张小明"

    # The county sees 审定后有修改 (1) with that person listed, and approves again.
    _login(page, live_server, "xian")
    page.goto(f"{live_server.url}/signoff/county/{village.county_code}/?month={DECEMBER}")
    assert "审定后有修改 (1)" in page.locator(f'tr[data-village="{village.code}"]').inner_text()
    _fits_375(page)
    page.goto(village_url)
    assert "审定后有修改 (1)" in page.locator(".signoff-state").inner_text()
    changed = page.locator("table[data-changed]").inner_text()
    assert "张小明" in changed
    assert "H00001" in changed
    _fits_375(page)
    page.fill("#review-note", "已复核修改")
    page.click("text=县级审定通过")
    state = page.locator(".signoff-state").inner_text()
    assert "已审定" in state
    assert "审定后有修改" not in state
    page.goto(f"{live_server.url}/signoff/county/{village.county_code}/?month={DECEMBER}")
    assert "已审定 1/2" in page.locator("[data-progress]").inner_text()
