"""The 消息中心 in a real Chromium (issue 21): the header's unread count arrives after the page, both
where the page loads htmx (the 待办) and where it does not (the 消息中心 itself, through portal.js);
opening a notice marks it read and the count drops; the list fits 375 px without sideways scrolling."""

from typing import TYPE_CHECKING

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import Role
from notices.models import Notice
from tests.browser.login import log_in
from tests.factories import AreaFactory, UserFactory

if TYPE_CHECKING:  # playwright is only there where Chromium is (the tests skip without it)
    from playwright.sync_api import Page

pytestmark = [pytest.mark.needs_chromium, pytest.mark.django_db(transaction=True)]

PASSWORD = "Notices-Test-2026"


def _unread(page: "Page") -> str | None:
    """The number in the header's badge, once the fragment has arrived."""
    page.wait_for_selector("a[data-notice-count] [data-unread]")
    return page.locator("a[data-notice-count] [data-unread]").get_attribute("data-unread")


def test_header_count_loads_after_the_page_and_drops_when_read(page: "Page", live_server: LiveServer) -> None:
    village = AreaFactory.village()
    user = UserFactory.create(username="cun", password=PASSWORD, role=Role.VILLAGE_STAFF, area=village)
    for index in range(3):
        Notice.objects.create(user=user, title=f"到期提醒 {index}", body="帮扶台账：新增逾期 1 项", link="/")
    log_in(page, live_server.url, "cun", PASSWORD)
    assert _unread(page) == "3"  # the 待办 loads htmx

    page.goto(f"{live_server.url}/notices/")
    page.wait_for_load_state("networkidle")
    assert _unread(page) == "3"  # no htmx on this page: portal.js fetches it
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1366, "height": 900})

    page.locator("tr[data-notice] button[name=open]").first.click()
    page.wait_for_load_state("networkidle")
    assert page.url.rstrip("/") == live_server.url  # the notice's link: the 待办
    assert _unread(page) == "2"
    page.goto(f"{live_server.url}/notices/")
    page.click("text=全部标为已读")
    page.wait_for_load_state("networkidle")
    assert page.locator("a[data-notice-count] [data-unread]").count() == 0
    assert Notice.objects.filter(user=user, read_at__isnull=True).count() == 0
