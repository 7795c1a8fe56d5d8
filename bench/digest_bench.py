"""The nightly digest of the 消息中心 on a large database (issue 21, acceptance 6; not a test).

Usage (a database filled by ``seed_demo``)::

    DATABASE_URL=… python bench/digest_bench.py [--users-per-village 1] [--keep]

Adds what the demo lacks for a realistic night, once: one village staff per village, one township
staff per township and one county official per county (``--users-per-village`` more village staff
to grow the user count), a sign-off month per village (a third submitted, a third reviewed by the
township, spread over the last four weeks so that some turn 临期 or 逾期 tonight), follow-up due dates
spread over the same weeks, and a monitoring-identification case per 100 households. Then runs
``notices.services.write_digest`` for today with the last digest yesterday, and prints the time, the
number of SQL queries and the notices written; the notices are rolled back unless ``--keep``.
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings.local")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from areas.choices import AreaLevel  # noqa: E402
from areas.models import Area  # noqa: E402
from households.models import FollowUpAction, Household  # noqa: E402
from monitoring.models import OPEN_STATES, Source  # noqa: E402
from monitoring.models import Case as MonitoringCase  # noqa: E402
from notices import services  # noqa: E402
from notices.models import Kind, Notice  # noqa: E402
from signoff.models import State, VillageMonth  # noqa: E402

ROLE_OF: dict[str, str] = {
    AreaLevel.VILLAGE: Role.VILLAGE_STAFF,
    AreaLevel.TOWNSHIP: Role.TOWNSHIP_STAFF,
    AreaLevel.COUNTY: Role.COUNTY_OFFICIAL,
}


def prepare(today: datetime.date, per_village: int) -> None:
    if User.objects.filter(username__startswith="bench_").exists():
        return
    areas = list(Area.objects.exclude(level=AreaLevel.CITY).order_by("code"))
    users = []
    for area in areas:
        for index in range(per_village if area.level == AreaLevel.VILLAGE else 1):
            users.append(
                User(
                    username=f"bench_{area.code}_{index}",
                    role=ROLE_OF[area.level],
                    area=area,
                    password=UNUSABLE_PASSWORD_PREFIX,  # nobody logs in as a bench user
                )
            )
    User.objects.bulk_create(users, batch_size=2000)
    villages = [area for area in areas if area.level == AreaLevel.VILLAGE]
    month = f"{today.year:04d}-{today.month:02d}"
    months = []
    for index, village in enumerate(villages):
        state = (State.SUBMITTED, State.TOWNSHIP_APPROVED, State.APPROVED)[index % 3]
        started = timezone.make_aware(
            datetime.datetime.combine(today - datetime.timedelta(days=index % 28), datetime.time(10))
        )
        months.append(
            VillageMonth(
                village=village,
                month=month,
                state=state,
                county_code=village.county_code,
                township_code=village.township_code,
                village_code=village.code,
                submitted_at=started,
                township_at=started if state != State.SUBMITTED else None,
                approved_at=started if state == State.APPROVED else None,
            )
        )
    VillageMonth.objects.bulk_create(months, batch_size=2000, ignore_conflicts=True)
    actions = list(FollowUpAction.objects.only("pk"))
    for index, action in enumerate(actions):
        action.due_on = today + datetime.timedelta(days=index % 28 - 14)
    FollowUpAction.objects.bulk_update(actions, ["due_on"], batch_size=2000)


def prepare_cases(today: datetime.date) -> None:
    """One monitoring-identification case per 100 households, in every open state, due dates spread
    over four weeks."""
    if MonitoringCase.objects.exists():
        return
    states = list(OPEN_STATES)
    cases = []
    rows = Household.objects.order_by("pk").values_list("pk", "county_code", "township_code", "village_code")
    for index, (pk, county, township, village) in enumerate(rows.iterator(chunk_size=5000)):
        if index % 100:
            continue
        due = today + datetime.timedelta(days=(index // 100) % 28 - 14)
        cases.append(
            MonitoringCase(
                household_id=pk,
                source=Source.CADRE,
                state=states[(index // 100) % len(states)],
                opened_on=due - datetime.timedelta(days=21),
                visit_due_on=due,
                due_on=due,
                county_code=county,
                township_code=township,
                village_code=village,
            )
        )
    MonitoringCase.objects.bulk_create(cases, batch_size=2000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users-per-village", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    today = timezone.localdate()
    prepare(today, args.users_per_village)
    prepare_cases(today)
    counts = {
        "households": Household.objects.count(),
        "users": User.objects.filter(is_active=True).count(),
        "actions": FollowUpAction.objects.count(),
        "months": VillageMonth.objects.count(),
        "cases": MonitoringCase.objects.count(),
    }
    print(connection.vendor, counts)
    # The first run pays the process's start-up (URL resolver, translations): rolled back, then timed.
    for run in ("cold", "warm"):
        with transaction.atomic():
            Notice.objects.filter(kind=Kind.DIGEST).delete()  # the last digest: yesterday
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                result = services.write_digest(today)
                elapsed = time.perf_counter() - started
            in_sql = sum(float(query["time"]) for query in queries.captured_queries)
            print(
                f"{run}: {elapsed * 1000:.0f} ms ({in_sql * 1000:.0f} ms in SQL), {len(queries)} queries,",
                f"{result.notices} notices",
            )
            if run == "warm":
                for query in queries.captured_queries:
                    print(f"  {float(query['time']) * 1000:8.1f} ms  {query['sql'][:140]}")
            if run == "cold" or not args.keep:
                transaction.set_rollback(True)


if __name__ == "__main__":
    main()
