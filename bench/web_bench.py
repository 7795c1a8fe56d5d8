"""Web benchmark of the county dashboard against a minimal Django view (issue 7; not a test).

Usage (a database already filled by ``seed_demo --households 19200``)::

    DATABASE_URL=postgres://… python bench/web_bench.py [--seconds 20] [--users 20] [--workers N] [--conn-max-age 60]

Starts gunicorn on 127.0.0.1 (a free port, settings ``bench.web_settings`` so ``/bench/ping/`` exists), logs in as the
demo county official, then runs ``--users`` concurrent clients for ``--seconds`` against
``/bench/ping/`` and then against the county dashboard (or, with ``--rounds R``, alternately in R
slices of each, so that a change of other load on the machine weighs on both views alike), and
prints requests/s, p50 and p95 of both, the workers' CPU per request, and the ratio. Stops gunicorn
at the end.
"""

import argparse
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/login/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def request(
    port: int, path: str, *, method: str = "GET", body: str | None = None, cookies: dict[str, str]
) -> tuple[int, bytes, str | None]:
    """(status, body, Location) of one request; the answer's cookies go into ``cookies``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": "127.0.0.1", "Accept-Language": "zh-CN"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Referer"] = f"http://127.0.0.1:{port}/login/"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            cookies[name] = rest.split(";", 1)[0]
    connection.close()
    return response.status, data, response.getheader("Location")


def login(port: int, username: str, password: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    _status, page, _location = request(port, "/login/", cookies=cookies)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if match is None:
        raise SystemExit("the login page carries no CSRF token")
    token = match.group(1).decode()
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    status, _data, _location = request(port, "/login/", method="POST", body=body, cookies=cookies)
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"login as {username} failed ({status})")
    return cookies


class Slice(TypedDict):
    """One timed slice of load on one path."""

    latencies: list[float]
    errors: int
    wall: float
    cpu: float  # seconds of CPU the gunicorn workers spent in the slice (0 where /proc has no answer)


def workers_cpu(server: int) -> float:
    """User and system CPU seconds of the gunicorn workers so far (Linux /proc; 0 elsewhere): the
    requests/s of a machine shared with other load move with that load, the CPU per request less."""
    total = 0.0
    for children in Path(f"/proc/{server}/task").glob("*/children"):
        for child in children.read_text().split():
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def load(port: int, path: str, cookies: dict[str, str], users: int, seconds: float, server: int = 0) -> Slice:
    cpu_before = workers_cpu(server) if server else 0.0
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def user() -> None:
        nonlocal errors
        own = dict(cookies)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            status, _data, _location = request(port, path, cookies=own)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += status != 200

    threads = [threading.Thread(target=user) for _ in range(users)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    cpu = workers_cpu(server) - cpu_before if server else 0.0
    return {"latencies": latencies, "errors": errors, "wall": wall, "cpu": cpu}


def summary(slices: list[Slice]) -> dict[str, float]:
    """Requests/s over the slices' summed wall time, percentiles over all their requests."""
    latencies = sorted(latency for part in slices for latency in part["latencies"])
    return {
        "requests": len(latencies),
        "errors": sum(part["errors"] for part in slices),
        "rps": len(latencies) / sum(part["wall"] for part in slices),
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "cpu": sum(part["cpu"] for part in slices) / max(len(latencies), 1) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument("--username", default="demo_county")
    parser.add_argument("--password", default="Loudi-demo-2026")
    parser.add_argument("--settings", default="relocation.settings.local")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="seconds a worker keeps its database connection (CONN_MAX_AGE; default 60 as production "
        "runs, 0 opens one per request)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate the two views in this many slices of --seconds/ROUNDS each, so that other load "
        "on the machine weighs on both alike (default 1: each view once, back to back)",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to a database filled by seed_demo --households 19200")

    port = free_port()
    env = {
        **os.environ,
        # The bench URLconf (bench/urls.py) adds /bench/ping/ on top of the chosen settings.
        "BENCH_BASE_SETTINGS": args.settings,
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "bench.web_settings",
        "CONN_MAX_AGE": str(args.conn_max_age),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Many logins from one address must not trip the lockout (django-axes).
        "AXES_ENABLED": "0",
    }
    command = [sys.executable, "-m", "gunicorn", "relocation.wsgi:application", "-b", f"127.0.0.1:{port}"]
    command += ["-w", str(args.workers), "--log-level", "warning", "--timeout", "120"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_until_up(port)
        cookies = login(port, args.username, args.password)
        _status, _data, location = request(port, "/dashboard/", cookies=cookies)
        dashboard = urllib.parse.urlparse(location or "").path  # no Location: not redirected, refused below
        if not dashboard.startswith("/dashboard/county/"):
            raise SystemExit(f"{args.username} did not land on a county dashboard ({location})")
        for path in ("/bench/ping/", dashboard):  # warm up each worker
            load(port, path, cookies, args.users, 2)
        slice_seconds = args.seconds / max(args.rounds, 1)
        ping_slices: list[Slice] = []
        county_slices: list[Slice] = []
        for _round in range(max(args.rounds, 1)):
            ping_slices.append(load(port, "/bench/ping/", cookies, args.users, slice_seconds, server.pid))
            county_slices.append(load(port, dashboard, cookies, args.users, slice_seconds, server.pid))
        ping, county = summary(ping_slices), summary(county_slices)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    database = os.environ["DATABASE_URL"].split(":", 1)[0]
    rounds = f" in {args.rounds} alternating slices" if args.rounds > 1 else ""
    print(
        f"database {database} (CONN_MAX_AGE={args.conn_max_age}), gunicorn {args.workers} sync workers,"
        f" {args.users} users, {args.seconds:g} s each{rounds}"
    )
    print(f"{'view':<32}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'CPU ms':>8}")
    for name, result in ((dashboard, county), ("/bench/ping/ (minimal view)", ping)):
        print(
            f"{name:<32}{result['requests']:>10.0f}{result['errors']:>8.0f}{result['rps']:>10.1f}"
            f"{result['p50']:>10.1f}{result['p95']:>10.1f}{result['cpu']:>8.2f}"
        )
    print("(CPU ms: the gunicorn workers' CPU per request, not counting PostgreSQL's or this client's)")
    print(f"throughput ratio dashboard / minimal view: {county['rps'] / ping['rps']:.2f} (goal ≥ 0.50)")


if __name__ == "__main__":
    main()
