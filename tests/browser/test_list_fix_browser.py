"""Fix from the 清零清单 in a real Chromium (issue 20, acceptance 1d): township staff tick every row of
an M3-1 list of 20 people (全选), confirm "将为 20 人确认今日就业信息，确定吗？", and the one POST empties
the list; the recompute that follows the commit stores M3-1 = 100 %. One row fixed inline turns into
已处理. At 375 px the list is cards and nothing scrolls sideways."""

import datetime
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from households.choices import Labour, Relation
from households.models import ChangeFeed, HistoryEntry, Person
from tests.browser.login import log_in
from tests.factories import AreaFactory, HouseholdFactory, PersonFactory, UserFactory

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True)]

PASSWORD = "ListFix-Test-2026"
TODAY = timezone.localdate()
KEY = str(TODAY.year)
STALE = TODAY - datetime.timedelta(days=200)


@pytest.fixture
def stale_world(db):  # type: ignore[no-untyped-def]
    """Four households of five working-age people, each 就业信息 checked 200 days ago: M3-1 = 0 %."""
    from indicators.catalogue import catalogue_load
    from indicators.services import compute_period

    catalogue_load()  # a transactional test's flush empties the catalogue of the data migration
    AreaFactory.city()
    township = AreaFactory.township()
    village = AreaFactory.village()
    for number in range(4):
        household = HouseholdFactory(code=f"H0000{number + 1}", village=village, head_name=f"户主{number}")
        for member in range(5):
            PersonFactory(
                household=household,
                relation=Relation.HEAD if member == 0 else Relation.CHILD,
                name=f"劳力{number}{member}",
                labour=Labour.ORDINARY,
                employment_checked_on=STALE,
                born=datetime.date(1980 + member, 3, 1 + number),
            )
    UserFactory.create(username="zhen", password=PASSWORD, role=Role.TOWNSHIP_STAFF, area=township)
    run = compute_period(period_key=KEY)
    assert run.status == "done", run.error
    return {"township": township}


def _login(page, live_server, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server.url, username, password)


def _stored_m31(township_code: str) -> Any:
    from indicators.models import IndicatorValue

    return IndicatorValue.objects.get(
        period__key=KEY, indicator__code="M3-1", level="township", unit_code=township_code
    )


def test_bulk_confirm_employment_today_empties_the_m3_1_list_and_reaches_100(
    page: "Page", live_server: LiveServer, stale_world: dict[str, Any]
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    township = stale_world["township"]
    assert _stored_m31(township.code).numerator == 0
    _login(page, live_server, "zhen", PASSWORD)
    page.goto(f"{live_server.url}/lists/M3-1/{township.code}/?period={KEY}")
    page.wait_for_load_state("networkidle")
    assert "共 20 条" in page.content()
    assert f"就业信息 {STALE.isoformat()} 核实，已超过 90 天" in page.content()

    page.check("[data-fix-all]")
    assert page.locator("[data-fix-count]").inner_text() == "20"
    asked: list[str] = []

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    feed = ChangeFeed.objects.count()
    page.click("[data-fix-bulk-submit]")
    page.wait_for_load_state("networkidle")
    assert asked == ["将为 20 人确认今日就业信息，确定吗？"]
    assert "已为 20 人确认今日就业信息。" in page.content()
    assert "清单为空" in page.content()
    assert Person.objects.filter(employment_checked_on=TODAY).count() == 20
    assert (
        HistoryEntry.objects.filter(entity="person", after={"employment_checked_on": TODAY.isoformat()}).count() == 20
    )

    # Without a broker the recompute ran in-process on commit: the stored value is 100 %.
    value = _stored_m31(township.code)
    assert (value.numerator, value.denominator) == (20, 20)
    assert ChangeFeed.objects.filter(consumed_at__isnull=True).count() == 0
    assert ChangeFeed.objects.count() == feed + 1
    page.reload()
    page.wait_for_load_state("networkidle")
    assert "100" in page.locator("[data-list-value]").inner_text()
    assert errors == []


def test_one_row_fixed_inline_turns_into_done_and_the_list_fits_a_phone(
    page: "Page", live_server: LiveServer, stale_world: dict[str, Any]
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    township = stale_world["township"]
    page.set_viewport_size({"width": 375, "height": 812})
    _login(page, live_server, "zhen", PASSWORD)
    page.goto(f"{live_server.url}/lists/M3-1/{township.code}/?period={KEY}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    row = page.locator("[data-list-table] tbody tr", has_text="劳力00")
    row.locator("[data-fix-row]").click()
    page.wait_for_selector("tr[data-fixed]")
    assert "已处理" in page.locator("tr[data-fixed]").inner_text()
    assert "劳力00" in page.locator("tr[data-fixed]").inner_text()
    assert Person.objects.get(name="劳力00").employment_checked_on == TODAY
    assert Person.objects.filter(employment_checked_on=STALE).count() == 19
    assert page.locator("[data-fix-pick]").count() == 19
    assert errors == []
