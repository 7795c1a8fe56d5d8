"""Reads on a real streaming replica (issue 22): the stack's web processes read safe requests from a
``pg_basebackup -R`` copy of the primary, keep a client that just wrote on the primary, and fall back
to the primary while the replica lags too far or is stopped. Runs after ``test_faults`` on its stack.

Pausing the replica's replay (``pg_wal_replay_pause``) makes the two servers disagree on purpose, so
a page shows which one answered it.
"""

import time

import pytest

from .conftest import Stack, wait_for
from .test_faults import Api, Browser

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_worker]
MARKED = "副本延迟测试"
MAX_LAG = 6.0  # REPLICA_MAX_LAG_SECONDS of the stack's web processes (conftest)


def head_name(browser: Browser, path: str) -> str:
    """The household file as a client without a recent write sees it (its mark has expired)."""
    browser.cookies.pop("wrote", None)
    page = browser.request("GET", path)
    assert page.status_code == 200, page.text[:300]
    return page.text


def on_replica(stack: Stack, code: str) -> str:
    return stack.replica_sql("SELECT head_name FROM households_household WHERE code = %s", code)[0][0]


def replica_lag(stack: Stack) -> float:
    ((lag,),) = stack.replica_sql("SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())")
    return float(lag)


@pytest.fixture
def household(stack):  # type: ignore[no-untyped-def]
    browser = Browser(stack)
    browser.login("demo_township")
    api = Api(stack, "demo_township")
    listed = api.get("households/")
    assert listed.status_code == 200, listed.text[:300]
    code = listed.json()["results"][0]["code"]
    ((name,),) = stack.sql("SELECT head_name FROM households_household WHERE code = %s", code)
    wait_for(lambda: on_replica(stack, code) == name, timeout=30, what="the replica to catch up")
    yield browser, api, code, name
    stack.sql("UPDATE households_household SET head_name = %s WHERE code = %s", name, code)


def test_pages_read_the_replica_a_writer_reads_its_write_and_lag_falls_back_to_the_primary(stack, household):
    browser, api, code, name = household
    path = f"/households/{code}/"
    stack.replica_sql("SELECT pg_wal_replay_pause()")
    try:
        stack.sql("UPDATE households_household SET head_name = %s WHERE code = %s", MARKED, code)
        paused_at = time.monotonic()

        page = head_name(browser, path)
        assert MARKED not in page, "a GET is answered from the replica, paused before the update"
        assert name in page

        # A token created now is not on the replica: who is asking is read on the primary.
        fresh = Api(stack, "demo_township").get("households/")
        assert fresh.status_code == 200, fresh.text[:300]
        assert fresh.json()["results"]

        person = api.get("persons/", household=code).json()["results"][0]
        written = browser.set_employment(person["id"], "本地企业" if person["employment"] != "本地企业" else "外出务工")
        assert written.status_code in (200, 302), written.text[:300]
        assert "wrote" in browser.cookies, "a write marks its client for READ_YOUR_WRITES_SECONDS"
        page = browser.request("GET", path).text
        assert MARKED in page, "right after its own write, the client reads the primary"

        if time.monotonic() - paused_at < MAX_LAG - 1:
            assert MARKED not in head_name(browser, path), "without the mark it is back on the replica"
        seen = wait_for(lambda: MARKED in head_name(browser, path), timeout=MAX_LAG + 20,
                        what="reads to fall back to the primary once the replica lags too far")  # fmt: skip
        assert seen
        assert replica_lag(stack) > MAX_LAG - 0.5
    finally:
        stack.replica_sql("SELECT pg_wal_replay_resume()")
    wait_for(lambda: on_replica(stack, code) == MARKED, timeout=30, what="the replica to replay the update")


def test_a_stopped_replica_costs_no_request_and_is_used_again_when_it_is_back(stack, household):
    browser, _api, code, _name = household
    path = f"/households/{code}/"
    stack.replica_stop()
    try:
        time.sleep(0.5)  # REPLICA_CHECK_SECONDS: a process that checked just before may answer one more read from it
        stack.sql("UPDATE households_household SET head_name = %s WHERE code = %s", MARKED, code)
        answers = [head_name(browser, path) for _ in range(6)]
        assert all(MARKED in answer for answer in answers), "the primary answers while the replica is down"
    finally:
        stack.replica_start()
    wait_for(lambda: on_replica(stack, code) == MARKED, timeout=60, what="the restarted replica to catch up")
    stack.replica_sql("SELECT pg_wal_replay_pause()")
    try:
        stack.sql("UPDATE households_household SET head_name = %s WHERE code = %s", "副本恢复测试", code)
        time.sleep(0.5)
        page = head_name(browser, path)
        assert "副本恢复测试" not in page, "once back and current, the replica answers again"
        assert MARKED in page
    finally:
        stack.replica_sql("SELECT pg_wal_replay_resume()")
