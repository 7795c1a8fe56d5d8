"""One way to log in from a browser test. Clicking submit and then waiting for "networkidle" can
return while the login page is still idle, before the POST's redirect has started; the next
``goto`` then runs without the session cookie and lands on the login page (a CI failure of the
sign-off journey). Waiting until the URL has left ``/login/`` closes that race.

A second race: the previous page's own requests (htmx's unread count on load) can still be in flight
when the cookies are cleared, and their answer sets the previous user's session cookie again. The
login page then shows that user's header, whose 退出 button was the first ``button[type=submit]``:
the test logged out instead of in (another CI failure). So the previous page is let go quiet first,
and the click is the login form's own button."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page


def log_in(page: "Page", base_url: str, username: str, password: str, next_path: str = "") -> None:
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    query = f"?next={next_path}" if next_path else ""
    page.goto(f"{base_url}/login/{query}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("form:has(#id_username) button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    page.wait_for_load_state("networkidle")
