"""Shared fixtures, and the rule of interfaces.md (Tests): a test that needs a real PostgreSQL,
Redis, Celery worker or Chromium is skipped loudly without it, and fails instead when ``CI`` is set."""

import os
import shutil
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.utils import translation

IN_CI = bool(os.environ.get("CI"))
_missing: dict[str, str] = {}


def _port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def _why_missing(marker: str) -> str | None:
    if marker == "needs_postgres":
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            return "PostgreSQL (set DATABASE_URL=postgres://…)"
    elif marker in ("needs_redis", "needs_worker"):
        url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or ""
        if not url or not _port_open(url, 6379):
            return "Redis (set TEST_REDIS_URL=redis://127.0.0.1:6379/15)"
    elif marker == "needs_chromium":
        if not shutil.which("chromium"):
            return "Chromium (apt-get install chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "playwright (pip install playwright==1.64.1)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in ("needs_postgres", "needs_redis", "needs_worker", "needs_chromium"):
            if item.get_closest_marker(marker) is None:
                continue
            why = _why_missing(marker)
            if why is None:
                continue
            _missing[why] = marker
            if IN_CI:
                item.user_properties.append(("ci_missing", why))
            else:
                item.add_marker(pytest.mark.skip(reason=f"missing {why}"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name, why in item.user_properties:
        if name == "ci_missing":
            pytest.fail(f"CI is set but {why} is missing", pytrace=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    db = settings.DATABASES["default"]
    terminalreporter.write_line(f"database used by the tests: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('NAME')})")
    if _missing:
        terminalreporter.write_sep("!", "SKIPPED: real parts missing", red=True, bold=True)
        for why, marker in sorted(_missing.items()):
            terminalreporter.write_line(f"  {marker}: missing {why}", red=True, bold=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    """A transactional test ends with a flush that also empties the catalogue rows of the data
    migration; put them back once every fixture is torn down so later tests find the catalogue."""
    yield
    marker = item.get_closest_marker("django_db")
    if marker is None or not (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return
    if nextitem is None:  # the last test: the test database is already gone
        return
    from pytest_django.plugin import blocking_manager_key

    from indicators.catalogue import catalogue_load

    with item.config.stash[blocking_manager_key].unblock():
        catalogue_load()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request in English (``Accept-Language: en`` through LocaleMiddleware) leaves English active
    in the thread; put the portal's language back so a later test reads its messages in Chinese."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_local_cache():
    """The per-process cache keeps rendered dashboard parts by run id and finish time; ids repeat
    between tests (rolled back), so no test may see another's parts."""
    from django.core.cache import caches

    caches["local"].clear()
    yield
    caches["local"].clear()
