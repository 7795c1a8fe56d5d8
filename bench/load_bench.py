"""Load benchmark with locust on loopback (issue 10, Load; not a test).

50 simulated users for a bounded time against a running portal: township staff editing a person's
employment through the web form (30), township staff importing a small incomes file through the API
(5), county officials on dashboards (15). Prints requests, failures, p50 and p95 per page, then
checks for lost writes: every acknowledged edit and import must be in the database (each edited
person and imported household belongs to one simulated user, so its last acknowledged value is
the value the database must hold).

Usage (a database filled by ``seed_demo``; the server started with the API throttles raised, since
the 50 users share the demo accounts)::

    export DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://… SECRET_KEY=… FIELD_ENCRYPTION_KEY=… …
    API_THROTTLE_USER=100000/minute API_THROTTLE_AUTH=1000/minute API_THROTTLE_IMPORTS=100000/hour \\
        DJANGO_SETTINGS_MODULE=relocation.settings.local DEBUG=false bin/serve &
    python bench/load_bench.py --url http://127.0.0.1:8000 [--users 50] [--seconds 60]

The same file is the locustfile (``LOAD_BENCH_PLAN`` set): the driver runs
``locust --headless`` in a subprocess, so gevent never patches the driver.
"""

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = os.environ.get("LOAD_BENCH_PASSWORD", "Loudi-demo-2026")
EMPLOYMENTS = ["外出务工", "本地企业", "帮扶车间", "灵活就业"]

if os.environ.get("LOAD_BENCH_PLAN"):  # --- the locustfile ------------------------------------------
    import itertools

    from locust import HttpUser, between, events, task

    PLAN = json.loads(Path(os.environ["LOAD_BENCH_PLAN"]).read_text(encoding="utf-8"))
    ACKS: list[dict[str, Any]] = []
    _editor_slots = itertools.count()
    _importer_slots = itertools.count()

    @events.quitting.add_listener
    def _write_acks(environment: object, **kwargs: object) -> None:
        Path(os.environ["LOAD_BENCH_ACKS"]).write_text(json.dumps(ACKS), encoding="utf-8")

    class WebUser(HttpUser):
        abstract = True
        wait_time = between(1, 3)
        username = "demo_township"

        def on_start(self) -> None:
            page = self.client.get("/login/", name="login")
            match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            if match is None:
                raise RuntimeError("the login page carries no CSRF token")
            token = match.group(1)
            self.client.post(
                "/login/",
                data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
                headers={"Referer": f"{self.host}/login/"},
                name="login",
            )

    class TownshipEditor(WebUser):
        weight = 30

        def on_start(self) -> None:
            super().on_start()
            slot = next(_editor_slots)
            self.persons = PLAN["persons"][slot::30] or PLAN["persons"]

        @task(3)
        def edit_employment(self) -> None:
            person = random.choice(self.persons)
            employment = random.choice(EMPLOYMENTS)
            with self.client.post(
                f"/households/persons/{person}/employment/",
                data={"employment": employment, "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
                headers={"Referer": f"{self.host}/households/"},
                allow_redirects=False,
                name="person employment (form)",
                catch_response=True,
            ) as response:
                if response.status_code in (200, 302):
                    ACKS.append({"kind": "employment", "person": person, "value": employment, "at": time.time()})
                    response.success()
                else:
                    response.failure(f"status {response.status_code}")

        @task(1)
        def household_list(self) -> None:
            self.client.get("/households/", name="household list")

    class TownshipImporter(HttpUser):
        weight = 5
        wait_time = between(2, 5)

        def on_start(self) -> None:
            response = self.client.post(
                "/api/v1/auth/token/", json={"username": "demo_township", "password": PASSWORD}, name="api token"
            )
            self.client.headers["Authorization"] = f"Token {response.json()['token']}"
            slot = next(_importer_slots)
            self.households = PLAN["households"][slot::5][:20] or PLAN["households"][:20]

        def _poll(self, job_id: int, done: tuple[str, ...]) -> dict:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                job = self.client.get(f"/api/v1/imports/{job_id}/", name="api import: poll").json()
                if job["status"] in done:
                    return job
                time.sleep(0.5)
            return job

        @task
        def import_incomes(self) -> None:
            rows = random.sample(self.households, k=min(3, len(self.households)))
            values = {code: random.randint(9000, 30000) for code in rows}
            lines = ["户编号,年度,家庭人口数,人均可支配收入"] + [f"{c},{PLAN['year']},3,{v}" for c, v in values.items()]
            body = ("\n".join(lines) + "\n").encode("utf-8")
            response = self.client.post(
                "/api/v1/imports/", data={"kind": "incomes"}, files={"file": ("incomes.csv", body)}, name="api import"
            )
            if response.status_code != 201:
                return
            job = self._poll(response.json()["id"], ("previewed", "invalid", "failed"))
            if job["status"] != "previewed":
                return
            self.client.post(f"/api/v1/imports/{job['id']}/confirm/", name="api import: confirm")
            job = self._poll(job["id"], ("done", "failed", "invalid"))
            if job["status"] == "done":
                ACKS.extend(
                    {"kind": "income", "household": c, "value": v, "at": time.time()} for c, v in values.items()
                )

    class CountyOfficial(WebUser):
        weight = 15
        username = "demo_county"

        @task(3)
        def dashboard(self) -> None:
            self.client.get("/dashboard/", name="county dashboard")

        @task(1)
        def values_api(self) -> None:
            self.client.get(f"/api/v1/indicator-values/?period={PLAN['year']}&level=township", name="api values")


def plan(path: Path) -> dict:
    """Persons and households of demo_township's township, read through the ORM."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings.local")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.utils import timezone

    from accounts.models import User
    from households.models import Household, Person

    user = User.objects.get(username="demo_township")
    if user.area is None:
        raise RuntimeError("demo_township has no area: run seed_demo first")
    township = user.area.code
    persons = list(
        Person.objects.filter(township_code=township, status="正常").order_by("pk").values_list("pk", flat=True)
    )
    households = list(Household.objects.filter(township_code=township, status="正常").values_list("code", flat=True))
    data = {"persons": persons[:600], "households": sorted(households)[:200], "year": timezone.localdate().year}
    path.write_text(json.dumps(data), encoding="utf-8")
    return data


def lost_writes(acks: list[dict[str, Any]], year: int) -> tuple[int, int, int]:
    """(acknowledged, found in the database, lost): the last acknowledged value per record must be stored."""
    from households.models import Income, Person

    # JSON written by the locust users: a person's pk or a household's code; employment text or yuan.
    last: dict[tuple[str, Any], Any] = {}
    for ack in sorted(acks, key=lambda a: a["at"]):
        key = (ack["kind"], ack.get("person") or ack.get("household"))
        last[key] = ack["value"]
    found = 0
    for (kind, record), value in last.items():
        if kind == "employment":
            found += Person.objects.filter(pk=record, employment=value).exists()
        else:
            found += Income.objects.filter(household__code=record, year=year, per_capita_income=value * 100).exists()
    return len(last), found, len(last) - found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="load-bench-"))
    data = plan(work / "plan.json")
    env = {**os.environ, "LOAD_BENCH_PLAN": str(work / "plan.json"), "LOAD_BENCH_ACKS": str(work / "acks.json")}
    started = time.time()
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", __file__, "--headless", "-u", str(args.users), "-r", "10",
         "-t", f"{args.seconds}s", "--host", args.url, "--csv", str(work / "stats"), "--only-summary",
         "--stop-timeout", "30", "--loglevel", "WARNING"],
        env=env, cwd=ROOT, timeout=args.seconds + 180, check=False,
    )  # fmt: skip
    print(f"\n{args.users} users, {args.seconds} s, against {args.url} ({time.time() - started:.0f} s wall)")
    print(f"{'page':40} {'requests':>9} {'failures':>9} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>7}")
    with (work / "stats_stats.csv").open(encoding="utf-8") as stats:
        for row in csv.DictReader(stats):
            page = f"{row['Type']} {row['Name']}".strip()[:40]
            print(f"{page:40} {row['Request Count']:>9} {row['Failure Count']:>9} {row['50%']:>8} {row['95%']:>8} "
                  f"{float(row['Requests/s']):7.1f}")  # fmt: skip
    acks = json.loads((work / "acks.json").read_text(encoding="utf-8"))
    acknowledged, found, lost = lost_writes(acks, data["year"])
    edits = sum(ack["kind"] == "employment" for ack in acks)
    imports = sum(ack["kind"] == "income" for ack in acks)
    print(f"writes acknowledged: {edits} employment edits, {imports} imported income rows")
    print(
        f"records checked (last acknowledged value each): {acknowledged}, found in the database: {found}, lost: {lost}"
    )


if __name__ == "__main__":
    main()
