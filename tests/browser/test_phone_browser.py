"""Pages that work on a phone (issue 20, acceptance 2): at 375 × 812, as township staff and as village
staff, every page of their navigation — the header, the main navigation and the workspace's own tabs,
plus the pages the work leads to (a household file, a 清零清单, the 数据质量 list, the household form)
— fits the width: the document never scrolls sideways. The home leads with the three most urgent
items on its first screen. Screenshots of the home, the household list and a household file at that
width go to docs/screenshots/ (phone-*.png)."""

from typing import TYPE_CHECKING

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from areas.selectors import within
from households.choices import Monitoring, RecordStatus
from households.models import Household, Income
from tests.browser.test_workspace_browser import (
    SCREENSHOTS,
    _login,
    demo,  # noqa: F401  (the demo world fixture, used below)
)
from workspace.demo import DEMO_PASSWORD

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("demo")]

PHONE_WIDTH, PHONE_HEIGHT = 375, 812
# Links that lead off the portal's pages: the API reference (a 2.4 MB third-party page), the admin.
SKIPPED = ("/api/", "/admin/")


def _overflow(page: "Page") -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def _navigation(page: "Page") -> dict[str, str]:
    """Name → path of every link in the header, the main navigation and the sub-navigation."""
    links = page.eval_on_selector_all(
        ".topbar nav a, nav.mainnav a, nav.subnav a",
        "links => links.map(link => [link.textContent.trim(), link.getAttribute('href')])",
    )
    return {name: href for name, href in links if href and href.startswith("/") and not href.startswith(SKIPPED)}


def _pages_of(page: "Page", base: str) -> dict[str, str]:
    """The navigation's pages and those one step into the work, as the clerk reaches them."""
    page.goto(f"{base}/")
    page.wait_for_load_state("networkidle")
    pages = _navigation(page)
    list_link = page.locator("[data-list-link]")
    if list_link.count():
        pages["清零清单"] = list_link.first.get_attribute("href") or ""
    pages["数据质量"] = page.locator("[data-home-quality] a").get_attribute("href") or ""
    pages["最紧急"] = page.locator("[data-home-urgent] a").first.get_attribute("href") or ""
    page.goto(f"{base}/households/")
    page.wait_for_load_state("networkidle")
    pages.update(_navigation(page))  # the workspace tabs (e.g. a page added under 搬迁户)
    first_file = page.locator("table.household-table tbody tr td.card-title a").first
    pages["搬迁户档案"] = first_file.get_attribute("href") or ""
    create = page.locator(".page-head .actions a.button").first
    if create.count():
        pages["登记搬迁户"] = create.get_attribute("href") or ""
    # The household file's own pages (edit, add a member, the household events), as linked from it.
    file_path = pages["搬迁户档案"]
    page.goto(f"{base}{file_path}")
    page.wait_for_load_state("networkidle")
    for name, href in page.eval_on_selector_all(
        f'main a[href^="{file_path}"]:not([download])',
        "links => links.map(link => [link.textContent.trim(), link.getAttribute('href')])",
    ):
        if "#" not in href and href != file_path:
            pages.setdefault(f"档案·{name}", href)
    page.goto(f"{base}/imports/")
    page.wait_for_load_state("networkidle")
    monthly = page.locator("[data-monthly-link]")
    if monthly.count():
        pages["月度更新"] = monthly.first.get_attribute("href") or ""
    page.goto(f"{base}/dashboard/")
    page.wait_for_load_state("networkidle")
    pages["指标看板（落地页）"] = page.url.removeprefix(base)
    return {name: path for name, path in pages.items() if path}


def _two_early_warnings(username: str) -> None:
    """The demo has no household below the monitoring line: two of the user's area get one, so the
    预警清单 shows cards with their decision forms."""
    area = User.objects.get(username=username).area
    households = Household.objects.filter(within(area), status=RecordStatus.ACTIVE, monitoring=Monitoring.NONE)
    households = households.order_by("code")[:2]
    Income.objects.filter(household__in=list(households)).update(per_capita_income=100_000)


@pytest.mark.parametrize("username", ["demo_township", "demo_village"])
def test_no_page_of_the_navigation_scrolls_sideways_on_a_phone(
    page: "Page", live_server: LiveServer, username: str
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _two_early_warnings(username)
    page.set_viewport_size({"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
    _login(page, live_server, username, DEMO_PASSWORD)
    pages = _pages_of(page, live_server.url)
    for expected in ("待办", "搬迁户", "数据导入", "预警清单", "指标看板", "搬迁户档案", "清零清单", "数据质量"):
        assert expected in pages, (username, sorted(pages))
    for name, path in pages.items():
        response = page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert response is not None, f"{username} {name} {path}"
        assert response.ok, f"{username} {name} {path}: HTTP {response.status}"
        scroll_width, client_width = _overflow(page)
        assert scroll_width <= client_width, f"{username}: {name} ({path}) is {scroll_width} px wide at 375"
    # The 预警清单's cards with every fold open (assign and decide forms) still fit.
    page.goto(f"{live_server.url}{pages['预警清单']}")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-warnings-table] tbody tr").count() == 2
    for summary in page.locator("[data-warnings-table] tbody tr summary").all():
        summary.click()
    scroll_width, client_width = _overflow(page)
    assert scroll_width <= client_width, f"{username}: 预警清单 with its forms open is {scroll_width} px wide"
    # 退出 stays on one line.
    page.goto(f"{live_server.url}/")
    logout = page.locator(".topbar form.inline button[type=submit]").first
    lines = (
        "button => { const text = document.createRange(); text.selectNodeContents(button);"
        " return text.getClientRects().length; }"
    )
    assert logout.evaluate(lines) == 1, "退出 wraps"
    assert errors == []


def test_phone_home_leads_with_the_three_most_urgent_items_and_screenshots(
    page: "Page", live_server: LiveServer
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
    _login(page, live_server, "demo_township", DEMO_PASSWORD)
    urgent = page.locator("[data-home-urgent] li")
    assert urgent.count() == 3
    last_item_bottom = urgent.nth(2).evaluate("item => item.getBoundingClientRect().bottom + window.scrollY")
    assert last_item_bottom < PHONE_HEIGHT, "the three urgent items are on the first screen"
    page.screenshot(path=str(SCREENSHOTS / "phone-home.png"), full_page=False)

    page.goto(f"{live_server.url}/households/")
    page.wait_for_load_state("networkidle")
    first_card = page.locator("table.household-table tbody tr").first
    assert first_card.evaluate("row => getComputedStyle(row).display") == "flex"  # a card, not a table row
    assert first_card.locator("td.card-title").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "phone-household-list.png"), full_page=False)

    first_card.locator("td.card-title a").click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / "phone-household-file.png"), full_page=False)
    scroll_width, client_width = _overflow(page)
    assert scroll_width <= client_width
