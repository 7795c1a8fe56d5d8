"""Journeys of the township workspace in a real Chromium (issue 6, acceptance 1):

(a) township staff log in, find a household by searching, set an unemployed willing worker to 本地企业
    with the one-click control, and the township's M3-2 value on the home and the dashboard changes
    after the recompute; while a recompute is pending the home says so and reloads itself when the
    values land;
(b) assign a follow-up from a 清零清单 and close it from the household file.

Screenshots of realistic demo data (home, household file, a 清零清单, a form with errors) go to
docs/screenshots/ for the README."""

import datetime
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from households.choices import ActionStatus, Employment, Labour, Relation
from households.models import FollowUpAction, Person
from tests.browser.login import log_in
from tests.factories import AreaFactory, HouseholdFactory, PersonFactory, SiteFactory, UserFactory

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "Workspace-Test-2026"
TODAY = timezone.localdate()
KEY = str(TODAY.year)


@pytest.fixture
def township_world(db):  # type: ignore[no-untyped-def]
    """Three willing workers in the township, one employed: M3-2 = 33.3 %, 还差 2 人. One person's change
    moves it to 66.6 %. The running year is computed before the journey starts."""
    from indicators.catalogue import catalogue_load
    from indicators.services import compute_period

    catalogue_load()  # a transactional test's flush empties the catalogue of the data migration
    AreaFactory.city()
    township = AreaFactory.township()
    village = AreaFactory.village()
    site = SiteFactory(village=village, code="S0001", name="幸福小区")
    household = HouseholdFactory(code="H00001", site=site, head_name="张三", tap_water=True)
    worker = PersonFactory(
        household=household,
        relation=Relation.HEAD,
        name="张三",
        labour=Labour.ORDINARY,
        wants_work=True,
        employment=Employment.UNEMPLOYED,
        employment_checked_on=TODAY,
        born=datetime.date(1985, 3, 9),
    )
    other = HouseholdFactory(code="H00002", village=village, head_name="李四", tap_water=True)
    for name, employment in (("李四", Employment.UNEMPLOYED), ("王五", Employment.MIGRANT)):
        PersonFactory(
            household=other,
            relation=Relation.HEAD if name == "李四" else Relation.CHILD,
            name=name,
            labour=Labour.ORDINARY,
            wants_work=True,
            employment=employment,
            employment_checked_on=TODAY,
            born=datetime.date(1990, 5, 6),
        )
    UserFactory.create(username="zhen", password=PASSWORD, role=Role.TOWNSHIP_STAFF, area=township)
    run = compute_period(period_key=KEY)
    assert run.status == "done", run.error
    return {"township": township, "household": household, "worker": worker}


def _login(page, live_server, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server.url, username, password)


def _m32_home(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator('[data-unmet-table] tr[data-code="M3-2"]').inner_text()


def test_staff_find_household_update_employment_and_m3_2_changes(
    page: "Page", live_server: LiveServer, township_world: dict[str, Any]
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    township = township_world["township"]
    _login(page, live_server, "zhen", PASSWORD)
    assert page.url == f"{live_server.url}/"
    before = _m32_home(page)
    assert "33.3%" in before
    assert "还差 2 人" in before

    # Find the household by searching for it.
    page.click("nav.subnav >> text=搬迁户")
    page.fill("#search-q", "张三")
    page.click(".search-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "共 1 户" in page.content()
    row = page.locator("tbody tr", has_text="H00001")
    row.locator("summary").click()

    # One click: 本地企业, checked today; htmx swaps the control in place.
    worker = township_world["worker"]
    control = page.locator(f"#employment-{worker.pk}")
    control.locator("select").select_option(Employment.LOCAL_FIRM)
    control.locator("button[type=submit]").click()
    page.wait_for_selector(f"#employment-{worker.pk}.just-updated")
    assert "已更新为“本地企业”" in page.locator(f"#employment-{worker.pk}").inner_text()

    # Without a broker the recompute ran in-process on commit: the home shows the new value.
    page.click("nav.subnav >> text=待办")
    page.wait_for_load_state("networkidle")
    after = _m32_home(page)
    assert "66.6%" in after
    assert "还差 1 人" in after
    assert "正在重新计算…" not in page.content()

    page.goto(f"{live_server.url}/dashboard/township/{township.code}/")
    page.wait_for_load_state("networkidle")
    value = page.locator('table.scorecard-table tr[data-code="M3-2"] td.value').inner_text()
    assert value.startswith("66.6%")
    worker.refresh_from_db()
    assert worker.employment == Employment.LOCAL_FIRM
    assert worker.employment_checked_on == TODAY
    assert errors == []


def test_home_polls_while_recalculating_and_shows_the_new_values(page, live_server, township_world):  # type: ignore[no-untyped-def]
    from indicators.models import Period
    from indicators.services import compute_period

    _login(page, live_server, "zhen", PASSWORD)
    # A change committed while the sweep is pending (as with a broker's debounce): the stored value is stale.
    Person.objects.filter(pk=township_world["worker"].pk).update(employment=Employment.LOCAL_FIRM)
    Period.objects.filter(key=KEY).update(dirty_since=timezone.now())
    page.reload()
    page.wait_for_selector("[data-freshness-poll]")
    assert "正在重新计算…" in page.locator("[data-stamp]").inner_text()
    assert "muted stale" in page.locator('tr[data-code="M3-2"] td.value').get_attribute("class")

    run = compute_period(period_key=KEY)  # the recompute lands; the next poll reloads the page
    assert run.status == "done"
    page.wait_for_function("() => !document.querySelector('[data-freshness-poll]')", timeout=10_000)
    page.wait_for_load_state("networkidle")
    assert "计算时间" in page.locator("[data-stamp]").inner_text()
    assert "66.6%" in _m32_home(page)


def test_assign_follow_up_from_a_list_and_close_it(
    page: "Page", live_server: LiveServer, township_world: dict[str, Any]
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    township = township_world["township"]
    _login(page, live_server, "zhen", PASSWORD)
    page.click('[data-list-link="M3-2"]')
    page.wait_for_load_state("networkidle")
    assert f"/lists/M3-2/{township.code}/" in page.url
    row = page.locator("[data-list-table] tbody tr", has_text="张三")
    row.locator("details.assign summary").click()
    row.locator("input[name=owner]").fill("周干部")
    row.locator("select[name=kind]").select_option("就业帮扶")
    # A target that is gone by the time the form is sent: 400, the error in the cell, the typing kept.
    target = row.locator("input[name=target]")
    real_target = target.input_value()
    target.evaluate("input => { input.value = 'household:NO-SUCH-HOUSEHOLD' }")
    row.locator("form.assign-form button[type=submit]").click()
    page.wait_for_selector("text=找不到所选记录")
    assert not FollowUpAction.objects.exists()
    assert row.locator("input[name=owner]").input_value() == "周干部"
    row.locator("input[name=target]").evaluate(f"input => {{ input.value = '{real_target}' }}")
    row.locator("select[name=kind]").select_option("就业帮扶")
    row.locator("form.assign-form button[type=submit]").click()
    page.wait_for_selector("text=已新增帮扶台账")
    action = FollowUpAction.objects.get(household=township_world["household"])
    assert (action.owner, action.indicator, action.status) == ("周干部", "M3-2", ActionStatus.TODO)
    assert action.person_id == township_world["worker"].pk
    assert action.code in row.inner_text()

    # Close it from the household file.
    row.locator("td a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/households/H00001/")
    actions = page.locator("#actions")
    assert action.code in actions.inner_text()
    actions.locator("form", has=page.locator(f"button:has-text('{action.code}')")).locator("button").click()
    page.wait_for_load_state("networkidle")
    assert f"帮扶台账 {action.code} 已办结" in page.content()
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    assert action.done_on == TODAY
    assert "已完成" in page.locator("#actions").inner_text()

    # The home no longer counts it as open.
    page.goto(f"{live_server.url}/")
    assert "未办结 0 件" in page.content()
    assert errors == []


# --- screenshots of realistic demo data ---------------------------------------------------------------


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    from indicators.catalogue import catalogue_load
    from indicators.services import compute_period
    from workspace.demo import DEMO_PASSWORD

    catalogue_load()
    call_command("seed_demo", households=300, seed=1, no_compute=True, stdout=io.StringIO(), stderr=io.StringIO())
    for key in (str(TODAY.year - 1), KEY):
        assert compute_period(period_key=key).status == "done"
    return DEMO_PASSWORD


def test_screenshots_of_the_workspace(page: "Page", live_server: LiveServer, demo: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _login(page, live_server, "demo_township", demo)
    assert page.url == f"{live_server.url}/"
    page.wait_for_selector("[data-unmet-table]")
    assert "还差" in page.locator("[data-unmet-table]").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "home.png"), full_page=False)

    # A 清零清单 of the township: the first unmet household- or person-based indicator on the home.
    links = page.locator("[data-list-link]")
    codes = [links.nth(index).get_attribute("data-list-link") for index in range(links.count())]
    code = next(code for code in codes if code in ("M3-2", "M3-1", "M6-2", "M2-2", "M7-3")) if codes else None
    assert code is not None, codes
    page.click(f'[data-list-link="{code}"]')
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-list-table] tbody tr").count() > 0
    page.screenshot(path=str(SCREENSHOTS / "list-township.png"), full_page=False)

    # The household file of the first row.
    page.locator("[data-list-table] tbody tr td a").first.click()
    page.wait_for_load_state("networkidle")
    assert re.search(r"/households/[^/]+/$", page.url)
    page.screenshot(path=str(SCREENSHOTS / "household-file.png"), full_page=False)

    # A form with errors: a new member with a mistyped ID number and no name.
    page.click("text=添加成员")
    page.wait_for_load_state("networkidle")
    page.fill("input[name=id_number]", "431302199001011235")
    page.fill("input[name=name]", "")
    page.click("form.record-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".field-error").count() > 0
    # The typed data is kept; changing the ID number runs the live validator beside the field.
    page.fill("input[name=id_number]", "431302199001011234")
    page.keyboard.press("Tab")
    page.wait_for_selector(".check-bad")
    page.screenshot(path=str(SCREENSHOTS / "form-errors.png"), full_page=False)
    assert errors == []


# issue 20 (phone width, first step): the household list's filters fold behind 筛选 on a phone
def test_on_a_phone_the_household_list_folds_its_filters_and_shows_rows_on_the_first_screen(
    page: "Page", live_server: LiveServer, township_world: dict[str, Any]
) -> None:
    page.set_viewport_size({"width": 375, "height": 812})
    _login(page, live_server, "zhen", PASSWORD)
    page.goto(f"{live_server.url}/households/")
    page.wait_for_load_state("networkidle")
    fold = page.locator("details.filter-fold")
    assert fold.evaluate("element => element.open") is False
    assert page.locator("#filter-village").is_visible() is False
    first_row_top = page.evaluate(
        "() => document.querySelector('table tbody tr').getBoundingClientRect().top + window.scrollY"
    )
    assert first_row_top < 812
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.locator("details.filter-fold > summary").click()
    assert page.locator("#filter-village").is_visible()
    # A wide screen shows the filters open, without the 筛选 button.
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/households/?village={township_world['household'].village.code}")
    page.wait_for_load_state("networkidle")
    assert page.locator("#filter-village").is_visible()
    assert page.locator("details.filter-fold > summary").is_visible() is False
