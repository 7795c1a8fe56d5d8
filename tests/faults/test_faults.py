"""Fault tests on a real stack (issue 10, acceptance 1 and 4): PostgreSQL, Redis, gunicorn, a Celery
worker and beat on loopback (``conftest.Stack``). The tests run in file order on one stack.

1. Log in over HTTP, import a file through the API, wait for the recompute, read values via the API.
   Two worker processes on different queues do it (issue 22): the import on ``imports``, the
   recompute on ``compute``.
2. ``kill -9`` the worker in the middle of a recompute: stored values stay all old, never mixed, and
   the same run completes after the worker restarts.
3. Stop Redis: data entry over HTTP still succeeds, /healthz names the broker and shows the pending
   change (stale values), and the recompute catches up when Redis is back (/healthz 200 again).
4. Restart PostgreSQL: the app answers again at once, without a restart of its own.
"""

import csv
import io
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from .conftest import ROOT, Stack, wait_for

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_worker]
PASSWORD = "Loudi-demo-2026"


class Browser:
    """A logged-in user over HTTP. The production settings mark cookies Secure and sit behind a TLS
    proxy, so requests say ``X-Forwarded-Proto: https`` and carry the cookies by hand."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.cookies: dict[str, str] = {}
        self.headers = {"X-Forwarded-Proto": "https", "Origin": f"https://{stack.url.split('//', 1)[1]}"}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
        headers = {**self.headers, "Referer": f"https://{self.stack.url.split('//', 1)[1]}{path}"}
        response = requests.request(method, self.stack.url + path, headers=headers, cookies=self.cookies,
                                    allow_redirects=False, timeout=30, **kwargs)  # fmt: skip
        self.cookies.update((name, value) for name, value in response.cookies.get_dict().items() if value is not None)
        return response

    def csrf(self, path: str) -> str:
        page = self.request("GET", path)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert found, page.text[:400]
        return found.group(1)

    def login(self, username: str) -> None:
        token = self.csrf("/login/")
        response = self.request("POST", "/login/", data={"username": username, "password": PASSWORD,
                                                        "csrfmiddlewaretoken": token})  # fmt: skip
        assert response.status_code == 302, response.text[:500]
        assert self.request("GET", "/").status_code == 200

    def set_employment(self, person_id: int, employment: str) -> requests.Response:
        token = self.cookies["csrftoken"]
        return self.request("POST", f"/households/persons/{person_id}/employment/",
                            data={"employment": employment, "csrfmiddlewaretoken": token})  # fmt: skip


class Api:
    def __init__(self, stack: Stack, username: str) -> None:
        self.stack = stack
        response = requests.post(f"{stack.url}/api/v1/auth/token/", json={"username": username, "password": PASSWORD},
                                 headers={"X-Forwarded-Proto": "https"}, timeout=30)  # fmt: skip
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Token {response.json()['token']}", "X-Forwarded-Proto": "https"}

    def get(self, path: str, **params) -> requests.Response:  # type: ignore[no-untyped-def]
        return requests.get(f"{self.stack.url}/api/v1/{path}", params=params, headers=self.headers, timeout=30)

    def post(self, path: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
        return requests.post(f"{self.stack.url}/api/v1/{path}", headers=self.headers, timeout=60, **kwargs)

    def values(self, period: str, level: str = "township") -> list[dict]:
        rows, page = [], 1
        while True:
            body = self.get("indicator-values/", period=period, level=level, page=page).json()
            rows += body["results"]
            if not body["next"]:
                return rows
            page += 1


def running_keys(stack: Stack) -> tuple[str, str]:
    (today,) = stack.sql("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")[0]
    return f"{today:%Y-%m}", f"{today:%Y}"


def stored_runs(stack: Stack, period: str) -> dict[int, int]:
    """{run id: rows} of a period's stored values, read by a separate connection (a reader)."""
    rows = stack.sql(
        "SELECT v.run_id, count(*) FROM indicators_indicatorvalue v JOIN indicators_period p ON p.id = v.period_id "
        "WHERE p.key = %s GROUP BY v.run_id",
        period,
    )
    return dict(rows)


def latest_run(stack: Stack, period: str) -> tuple[int, str]:
    return stack.sql(
        "SELECT r.id, r.status FROM indicators_computerun r JOIN indicators_period p ON p.id = r.period_id "
        "WHERE p.key = %s ORDER BY r.id DESC LIMIT 1",
        period,
    )[0]


def caught_up(stack: Stack, period: str, after_run: int):  # type: ignore[no-untyped-def]
    """A run of ``period`` newer than ``after_run`` is done, nothing is pending, and /healthz is 200."""
    run_id, status = latest_run(stack, period)
    health = stack.healthz()
    pending = health.json()["checks"]["recompute"]
    done = run_id > after_run and status == "done" and not pending["pending_changes"]
    return done and not pending["dirty_periods"] and health.status_code == 200 and run_id


@pytest.fixture(scope="module")
def township(stack):
    browser = Browser(stack)
    browser.login("demo_township")
    return browser, Api(stack, "demo_township")


@pytest.fixture(autouse=True)
def show_logs_on_failure(stack, request):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(stack.logs())


def a_person(api: Api) -> tuple[int, str]:
    household = api.get("households/").json()["results"][0]["code"]
    person = api.get("persons/", household=household).json()["results"][0]
    return person["id"], person["employment"]


def other_employment(current: str) -> str:
    return "本地企业" if current != "本地企业" else "外出务工"


def test_login_import_recompute_and_read_values_over_http(stack, township):
    browser, api = township
    month, year = running_keys(stack)
    before_run = latest_run(stack, month)[0]
    households = [row["code"] for row in api.get("households/").json()["results"][:3]]
    body = io.StringIO()
    writer = csv.writer(body)
    writer.writerow(["户编号", "年度", "家庭人口数", "人均可支配收入"])
    writer.writerows([code, year, 3, 15000 + index] for index, code in enumerate(households))

    upload = api.post("imports/", data={"kind": "incomes"}, files={"file": ("incomes.csv", body.getvalue().encode())})
    assert upload.status_code == 201, upload.text
    job = upload.json()
    job = wait_for(lambda: (j := api.get(f"imports/{job['id']}/").json())["status"] not in ("uploaded", "validating")
                   and j, timeout=60, what="the dry run")  # fmt: skip
    assert job["status"] == "previewed", job
    confirmed = api.post(f"imports/{job['id']}/confirm/")
    assert confirmed.status_code in (200, 202), confirmed.text
    job = wait_for(lambda: (j := api.get(f"imports/{job['id']}/").json())["status"] in ("done", "failed", "invalid")
                   and j, timeout=60, what="the import")  # fmt: skip
    assert job["status"] == "done", job

    run_id = wait_for(lambda: caught_up(stack, month, before_run), timeout=60, what="the recompute after the import")
    values = api.values(month)
    assert values, "no township values over the API"
    assert {value["computed_at"] for value in values}
    assert len({value["computed_at"] for value in values}) == 1
    assert set(stored_runs(stack, month)) == {run_id}
    assert browser.request("GET", "/").status_code == 200
    worker_logs = {
        name: (stack.work / f"{name}.log").read_text(errors="replace") for name in ("worker", "worker-imports")
    }
    assert stack.processes["worker-imports"].poll() is None, worker_logs["worker-imports"]
    assert stack.processes["worker"].poll() is None, worker_logs["worker"]


def test_kill_9_of_the_worker_mid_recompute_leaves_old_values_and_the_run_completes_after_restart(stack, township):
    _browser, api = township
    month, _year = running_keys(stack)
    old = stored_runs(stack, month)
    assert len(old) == 1
    old_computed = {value["computed_at"] for value in api.values(month)}
    stack.slow_flag.touch()
    command = subprocess.Popen([sys.executable, "manage.py", "compute_indicators", "--period", month], cwd=ROOT,
                               env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for(stack.inside.exists, timeout=60, what="the worker inside the value insert")
        killed_run, status = latest_run(stack, month)
        assert status == "running"
        during = stored_runs(stack, month)
        during_api = {value["computed_at"] for value in api.values(month)}
        stack.kill("worker", signal.SIGKILL)
        after_kill = stored_runs(stack, month)
        after_kill_api = {value["computed_at"] for value in api.values(month)}
        stack.slow_flag.unlink()
        stack.worker_start()
        output, _ = command.communicate(timeout=90)  # the command waits for the run to finish
    finally:
        stack.slow_flag.unlink(missing_ok=True)
        if command.poll() is None:
            command.kill()
            command.wait(timeout=10)

    assert during == old
    assert during_api == old_computed
    assert after_kill == old
    assert after_kill_api == old_computed
    assert command.returncode == 0, output.decode(errors="replace")
    assert latest_run(stack, month) == (killed_run, "done")  # the same run, redelivered, completed
    assert stored_runs(stack, month) == {killed_run: sum(old.values())}  # all new, same shape
    assert len({value["computed_at"] for value in api.values(month)} - old_computed) == 1


def test_redis_down_data_entry_succeeds_values_flagged_stale_and_catch_up(stack, township):
    browser, api = township
    month, _year = running_keys(stack)
    before_run = latest_run(stack, month)[0]
    person_id, employment = a_person(api)
    new_employment = other_employment(employment)

    stack.kill("redis", signal.SIGKILL)
    try:
        started = time.monotonic()
        response = browser.set_employment(person_id, new_employment)
        entry_seconds = time.monotonic() - started
        stored = api.get(f"persons/{person_id}/").json()["employment"]
        down = wait_for(
            lambda: (h := stack.healthz()).status_code == 503 and h.json(),
            timeout=20,
            what="/healthz 503",
            probe=lambda: stack.healthz().text,
        )
    finally:
        stack.redis_start()

    assert response.status_code in (200, 302), response.text[:500]
    assert entry_seconds < 15
    assert stored == new_employment
    assert "broker" in down["failing"]
    pending = down["checks"]["recompute"]
    assert pending["pending_changes"] >= 1 or month in pending["dirty_periods"]  # flagged stale
    assert pending["oldest_pending_seconds"] is not None
    wait_for(
        lambda: caught_up(stack, month, before_run),
        timeout=90,
        what="the recompute after Redis is back",
        probe=lambda: (latest_run(stack, month), stack.healthz().text),
    )
    assert stack.healthz().status_code == 200


def test_postgresql_restart_the_app_answers_again_without_its_own_restart(stack, township):
    browser, api = township
    month, _year = running_keys(stack)
    assert api.get("indicator-values/", period=month, level="city").status_code == 200
    web_pid = stack.processes["web"].pid
    before_run = latest_run(stack, month)[0]

    stack.pg_restart()

    answers = [api.get("indicator-values/", period=month, level="city").status_code for _ in range(8)]
    pages = [browser.request("GET", "/").status_code for _ in range(4)]
    person_id, employment = a_person(api)
    edit = browser.set_employment(person_id, other_employment(employment))
    assert answers == [200] * 8  # every gunicorn worker reconnects on its first request (health checks)
    assert pages == [200] * 4
    assert edit.status_code in (200, 302)
    assert stack.processes["web"].pid == web_pid
    assert stack.processes["web"].poll() is None
    wait_for(lambda: caught_up(stack, month, before_run), timeout=60, what="the worker's recompute after the restart")
