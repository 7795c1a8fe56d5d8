"""One way to log in from a browser test. Clicking submit and then waiting for "networkidle" can
return while the login page is still idle, before the POST's redirect has started; the next
``goto`` then runs without the session cookie and lands on the login page (a CI failure of the
sign-off journey). Waiting until the URL has left ``/login/`` closes that race."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page


def log_in(page: "Page", base_url: str, username: str, password: str, next_path: str = "") -> None:
    page.context.clear_cookies()
    query = f"?next={next_path}" if next_path else ""
    page.goto(f"{base_url}/login/{query}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.wait_for_load_state("networkidle")
