"""Playwright against Debian's Chromium (ecosystem.md §7.4): the pip wheel ships only the driver;
``playwright install`` is never run. Playwright's sync API runs an event loop in this thread, so
Django's async-safety check is switched off for these tests only (not for the whole process: the
deployment check of another test refuses the variable)."""

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package", autouse=True)
def allow_async_unsafe():  # type: ignore[no-untyped-def]
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


CONTEXT_ARGS = {
    "locale": "zh-CN",
    "viewport": {"width": 1366, "height": 900},
    "accept_downloads": True,
    "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"},
}


@pytest.fixture(scope="package")
def chromium_browser(allow_async_unsafe):  # type: ignore[no-untyped-def]
    """One Chromium for this package. Playwright's sync API keeps an event loop running in the main
    thread while it is open, which makes every later ORM call raise SynchronousOnlyOperation; so it
    is opened here for the package and closed after it, not for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser):  # type: ignore[no-untyped-def]
    context = chromium_browser.new_context(**CONTEXT_ARGS)
    yield context.new_page()
    context.close()


# pytest-playwright's own fixtures, for anyone who uses them here, launch the same system Chromium.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # type: ignore[no-untyped-def]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):  # type: ignore[no-untyped-def]
    return {**browser_context_args, **CONTEXT_ARGS}
