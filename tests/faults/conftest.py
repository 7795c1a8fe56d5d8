"""A whole production stack on loopback for the fault tests, started once per module and always stopped.

PostgreSQL (a cluster of its own in a temporary directory, run as a non-root user like ``.ci/run``,
so that a test may restart it) with a streaming replica of it (``pg_basebackup -R``) that the web
reads from, Redis, gunicorn with the production settings, two Celery workers on different named
queues (``worker_entry``: compute, reports and default; the imports) and exactly one beat;
``seed_demo --households 100`` as data. Every wait is bounded; every process is stopped in ``finally``.
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    """Whether a server accepts a connection on ``port`` (raises while it does not)."""
    with socket.create_connection((HOST, port), timeout=1):
        return True


def pg_bin() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    return Path("/usr/lib/postgresql/15/bin")


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.3, probe=None):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = condition()
        except Exception as exc:  # the server may be on its way up or down
            last, result = exc, None
        if result:
            return result
        time.sleep(interval)
    state = probe() if probe else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last error: {last!r}) {state}")


class Stack:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.pg_port, self.redis_port, self.web_port = free_port(), free_port(), free_port()
        self.replica_port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.pg_user = None if os.geteuid() != 0 else self._pg_user()
        self.slow_flag = work / "slow.flag"
        self.inside = work / "inside.marker"
        self.database_url = f"postgres://postgres@{HOST}:{self.pg_port}/relocation"
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO", "CELERY", "REDIS"))},
            "DJANGO_SETTINGS_MODULE": "relocation.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEY": "dGVzdC1maWVsZC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU=",
            "BLIND_INDEX_KEY": "dGVzdC1ibGluZC1pbmRleC1rZXktMzItYnl0ZXMtbG9uZw==",
            "DATABASE_URL": self.database_url,
            "REPLICA_DATABASE_URL": f"postgres://postgres@{HOST}:{self.replica_port}/relocation",
            # Short bounds, so that the replica tests see read-your-writes expire and lag count.
            "READ_YOUR_WRITES_SECONDS": "2",
            "REPLICA_MAX_LAG_SECONDS": "6",
            "REPLICA_CHECK_SECONDS": "0.2",
            "CELERY_BROKER_URL": f"redis://{HOST}:{self.redis_port}/0",
            "CONN_MAX_AGE": "60",
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "false",
            "VAR_DIR": str(work / "var"),
            "SWEEP_INTERVAL_SECONDS": "2",
            "HEALTH_HEARTBEAT_SECONDS": "2",
            "API_THROTTLE_AUTH": "1000/minute",
            "API_THROTTLE_IMPORTS": "1000/hour",
            "LOG_LEVEL": "WARNING",
            "FAULT_SLOW_FLAG": str(self.slow_flag),
            "FAULT_INSIDE": str(self.inside),
            "PYTHONPATH": str(ROOT),
        }
        self.env.pop("DEBUG", None)
        self.url = f"http://{HOST}:{self.web_port}"

    # --- PostgreSQL ---------------------------------------------------------------------------------
    @staticmethod
    def _pg_user() -> str:
        for name in ("postgres", "ci-postgres"):
            with contextlib.suppress(KeyError):
                import pwd

                pwd.getpwnam(name)
                return name
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "ci-postgres"], check=True
        )
        return "ci-postgres"

    def as_pg(self, *command: str, timeout: float = 60) -> None:
        if self.pg_user:
            line = " ".join(f"'{part}'" for part in command)
            command = ("su", self.pg_user, "-s", "/bin/sh", "-c", line)
        subprocess.run(command, check=True, timeout=timeout, capture_output=True)

    def pg_start(self) -> None:
        options = f"-p {self.pg_port} -c listen_addresses={HOST} -k {self.work} -c fsync=off -c full_page_writes=off"
        self.as_pg(str(pg_bin() / "pg_ctl"), "-D", str(self.work / "pg"), "-w", "-l", str(self.work / "pg.log"),
                   "-o", options, "start")  # fmt: skip

    def replica_create(self) -> None:
        """A physical copy of the primary that follows it by streaming (``-R`` writes the standby
        settings); initdb's trust lines already admit replication from 127.0.0.1."""
        self.as_pg(str(pg_bin() / "pg_basebackup"), "-h", HOST, "-p", str(self.pg_port), "-U", "postgres",
                   "-D", str(self.work / "replica"), "-R", "-X", "stream", "--checkpoint=fast",
                   timeout=180)  # fmt: skip

    def replica_start(self) -> None:
        options = f"-p {self.replica_port} -c listen_addresses={HOST} -k {self.work} -c hot_standby=on"
        self.as_pg(str(pg_bin() / "pg_ctl"), "-D", str(self.work / "replica"), "-w", "-l",
                   str(self.work / "replica.log"), "-o", options, "start")  # fmt: skip

    def replica_stop(self) -> None:
        if (self.work / "replica" / "postmaster.pid").exists():
            self.as_pg(str(pg_bin() / "pg_ctl"), "-D", str(self.work / "replica"), "-m", "immediate", "-w", "stop")

    def replica_sql(self, query: str, *params: object) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"host={HOST} port={self.replica_port} user=postgres dbname=relocation") as connection:
            return connection.execute(query, params).fetchall()

    def pg_restart(self) -> None:
        self.as_pg(str(pg_bin() / "pg_ctl"), "-D", str(self.work / "pg"), "-m", "fast", "-w", "stop")
        self.pg_start()

    def pg_stop(self) -> None:
        if (self.work / "pg" / "postmaster.pid").exists():
            self.as_pg(str(pg_bin() / "pg_ctl"), "-D", str(self.work / "pg"), "-m", "immediate", "-w", "stop")

    def sql(self, query: str, *params: object) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"host={HOST} port={self.pg_port} user=postgres dbname=relocation") as connection:
            cursor = connection.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    # --- processes ----------------------------------------------------------------------------------
    def spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.work / f"{name}.log").open("ab")
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        self.processes[name] = process
        return process

    def manage(self, *args: str, timeout: float = 180, env: dict[str, str] | None = None) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**self.env, **(env or {})},
                       check=True, timeout=timeout, capture_output=True)  # fmt: skip

    def redis_start(self) -> None:
        self.spawn("redis", ["redis-server", "--bind", HOST, "--port", str(self.redis_port), "--save", "",
                             "--appendonly", "no", "--dir", str(self.work)])  # fmt: skip
        wait_for(lambda: listening(self.redis_port), timeout=15, what="redis")

    def worker_start(self) -> subprocess.Popen:
        """The worker that computes (and writes reports); imports go to ``imports_worker_start``'s."""
        self.inside.unlink(missing_ok=True)
        return self.spawn("worker", [sys.executable, "-m", "tests.faults.worker_entry", "-Q",
                                     "default,compute,reports", "-n", "compute@%h", "--pool=solo",
                                     "--loglevel=WARNING", "--without-mingle", "--without-gossip"])  # fmt: skip

    def imports_worker_start(self) -> subprocess.Popen:
        return self.spawn("worker-imports", [sys.executable, "-m", "tests.faults.worker_entry", "-Q", "imports",
                                             "-n", "imports@%h", "--pool=solo", "--loglevel=WARNING",
                                             "--without-mingle", "--without-gossip"])  # fmt: skip

    def web_start(self) -> None:
        self.spawn("web", [sys.executable, "-m", "gunicorn", "relocation.wsgi", "--bind", f"{HOST}:{self.web_port}",
                           "--workers", "2", "--timeout", "60"])  # fmt: skip

    def beat_start(self) -> None:
        self.spawn("beat", [sys.executable, "-m", "celery", "-A", "relocation", "beat", "--loglevel=WARNING",
                            f"--schedule={self.work / 'celerybeat-schedule'}"])  # fmt: skip

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

    def healthz(self) -> requests.Response:
        return requests.get(f"{self.url}/healthz", timeout=10)

    def logs(self) -> str:
        parts = []
        for log in sorted(self.work.glob("*.log")):
            parts.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:])
        return "\n".join(parts)


@pytest.fixture(scope="package")
def stack():
    work = Path(tempfile.mkdtemp(prefix="faults-"))
    work.chmod(0o755)
    stack = Stack(work)
    try:
        if stack.pg_user:
            shutil.chown(work, stack.pg_user)
        stack.as_pg(str(pg_bin() / "initdb"), "-D", str(work / "pg"), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                    "--locale=C.UTF-8")  # fmt: skip
        stack.pg_start()
        stack.as_pg(str(pg_bin() / "psql"), "-h", HOST, "-p", str(stack.pg_port), "-U", "postgres", "-qc",
                    "CREATE DATABASE relocation")  # fmt: skip
        stack.manage("migrate", "--noinput")
        stack.manage("createcachetable")
        stack.manage("collectstatic", "--noinput", "-v0", timeout=600)  # a loaded 2-core CI machine
        # In-process (no broker) so that the first values exist before the workers start.
        stack.manage("seed_demo", "--households=100", "--seed=7", env={"CELERY_BROKER_URL": ""})
        stack.replica_create()
        stack.replica_start()
        stack.redis_start()
        stack.web_start()
        stack.worker_start()
        stack.imports_worker_start()
        stack.beat_start()
        wait_for(lambda: stack.healthz().status_code == 200, timeout=60, what="/healthz 200 on the new stack")
        yield stack
    except BaseException:
        print(stack.logs())
        raise
    finally:
        for name in list(stack.processes):
            stack.kill(name, signal.SIGTERM)
        with contextlib.suppress(Exception):
            stack.replica_stop()
        with contextlib.suppress(Exception):
            stack.pg_stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Keep the call's report on the item so that a fixture can print the servers' logs on failure."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report
