"""Every API list is fetched in an exact, flat number of queries: the count is asserted, rows of every
kind are added, and the count is asserted again (style rule 7)."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from households import services
from households.choices import Labour, Relation
from households.models import ImportJob
from indicators.models import CountyFinance, IndicatorValue
from tests.factories import compute
from tests.relocation.test_api import areas, make_id, records, users  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

API = "/api/v1/"

# Queries per list request with the session-less test client: count + page (+ one per prefetch).
EXPECTED = {
    "areas/": 2,
    "sites/": 2,
    "households/": 3,  # count, page, the labour members the selector prefetches
    "persons/": 2,
    "incomes/": 2,
    "grievances/": 2,
    "actions/": 2,
    "finance/": 2,
    "indicators/": 2,
    "indicator-values/": 2,
    "imports/": 2,
    "failing/": 3,  # the value, count, page
}


def _more_rows(index: int, users) -> None:  # noqa: F811
    """One more record of every kind (and a person with a full ID number), all visible to the user."""
    code = f"H1{index:02d}"
    site = services.site_save(
        actor=None, code=f"S1{index:02d}", village_code="431302001002", data={"name": "加", "kind": "农村集中安置"}
    )
    household = services.household_register(
        actor=None,
        code=code,
        village_code="431302001002",
        data={"head_name": "加", "category": "建档立卡户", "site": site},
    )
    for offset, relation in enumerate((Relation.HEAD, Relation.CHILD)):
        services.person_create(
            actor=None,
            household=household,
            id_number=make_id(f"4313021985{index:02d}01{offset}1{index % 10}"),
            data={"name": "加", "relation": relation, "labour": Labour.NONE},
        )
    services.income_set(actor=None, household=household, year=2025, size=2, per_capita_income_fen=900_000)
    services.grievance_save(
        actor=None,
        code=f"XF1{index:02d}",
        village_code="431302001002",
        data={"household": household, "received_on": datetime.date(2025, 5, 1), "status": "办理中"},
    )
    person = household.members.first()
    services.action_create(
        actor=None, data={"description": "x", "owner": "y", "person": person}, household=household, site=None
    )
    CountyFinance.objects.get_or_create(
        county_id=users["county"].area_id,
        year=2020 + index,
        defaults={"asset_proceeds": 1, "proceeds_to_households": 1, "linkage_funds": 1, "linkage_to_relocation": 1},
    )
    ImportJob.objects.create(kind="households", file_name="x.csv", created_by=users["staff"])
    ImportJob.objects.create(kind="households", file_name="x.csv", created_by=users["county"])


def _count(client: APIClient, url: str, **params) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    assert response.json()["results"], url
    return len(queries)


@pytest.mark.parametrize("who", ["staff", "county"])
def test_every_api_list_has_a_flat_query_count(users, records, who):  # noqa: F811
    compute("2025", as_of=datetime.date(2025, 12, 31))
    ImportJob.objects.create(kind="persons", file_name="p.csv", created_by=users[who])
    client = APIClient()
    client.force_authenticate(users[who])
    county_only = {"finance/"}

    def measure() -> dict[str, int]:
        counts = {}
        for path in EXPECTED:
            if path in county_only and who != "county":
                continue
            if path == "failing/":
                value = IndicatorValue.objects.get(
                    period__key="2025", level="township", unit_code="431302001", indicator__code="M6-3"
                )
                counts[path] = _count(client, f"{API}indicator-values/{value.pk}/failing/")
            elif path == "indicator-values/":
                counts[path] = _count(client, f"{API}{path}", period="2025")
            else:
                counts[path] = _count(client, f"{API}{path}")
        return counts

    before = measure()
    for index in range(1, 4):
        _more_rows(index, users)
    compute("2025", as_of=datetime.date(2025, 12, 31))
    after = measure()

    expected = {path: count for path, count in EXPECTED.items() if path in before}
    assert before == expected
    assert after == expected
