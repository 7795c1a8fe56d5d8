"""Transfer requests in the Django admin (issue 20 follow-up): listed for the city administrator with
filters by status and county and a search by household code, read-only, no ID number anywhere; the one
action approves pending requests through ``services.transfer_request_decide`` (history, change feed)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import personal_data
from accounts.models import Role
from households import services
from households.models import HistoryEntry, Household, Person, TransferRequest
from tests.factories import UserFactory
from tests.households.test_event_pages import HEAD_ID, _household, areas, users  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
LIST = "/admin/households/transferrequest/"


@pytest.fixture
def admin_client(client, areas):  # noqa: F811
    city = areas["county"].parent
    user = UserFactory.create(username="a", role=Role.CITY_ADMIN, area=city, is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def _bare(actor, code: str) -> Household:  # type: ignore[no-untyped-def]
    return services.household_register(
        actor=actor, code=code, village_code="431302001001", data={"head_name": f"户{code}", "category": "建档立卡户"}
    )


@pytest.fixture
def requests(users):  # noqa: F811
    """Two pending requests of 乐坪街道 and one already rejected."""
    households = [_household(users["township"]), _bare(users["township"], "H002"), _bare(users["township"], "H003")]
    made = [
        services.transfer_request_file(
            actor=users["township"], household=household, village_code="431302002001", reason="投靠子女 13812345678"
        )
        for household in households
    ]
    services.transfer_request_decide(actor=users["county"], request=made[2], approve=False, note="材料不全")
    return made


def test_the_admin_lists_filters_and_searches_requests_without_id_numbers(admin_client, requests):
    page = admin_client.get(LIST)
    assert page.status_code == 200
    body = page.content.decode()
    assert all(code in body for code in ("H001 张一", "H002", "H003"))
    assert "待审批" in body
    assert "已驳回" in body
    assert HEAD_ID not in body
    assert personal_data.mask_id_number(HEAD_ID) not in body  # not even masked: the list names the household
    pending = admin_client.get(LIST, {"status__exact": "待审批"}).content.decode()
    assert "H001" in pending
    assert "H003" not in pending
    assert "H001" in admin_client.get(LIST, {"county_code": "431302"}).content.decode()
    assert "H001" not in admin_client.get(LIST, {"county_code": "431321"}).content.decode()
    found = admin_client.get(LIST, {"q": "H002"}).content.decode()
    assert "H002" in found
    assert "H001 张一" not in found


def test_the_change_page_is_read_only_and_shows_the_reason_masked(admin_client, requests):
    url = f"{LIST}{requests[0].pk}/change/"
    body = admin_client.get(url).content.decode()
    assert "投靠子女 138****5678" in body
    assert "13812345678" not in body
    assert HEAD_ID not in body
    assert admin_client.post(url, {"status": "已批准"}).status_code == 403
    assert TransferRequest.objects.get(pk=requests[0].pk).status == "待审批"
    assert admin_client.get(f"{LIST}add/").status_code == 403
    assert admin_client.post(f"{LIST}{requests[0].pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_approve_action_goes_through_the_service(admin_client, requests):
    chosen = [request.pk for request in requests]
    response = admin_client.post(LIST, {"action": "approve", "_selected_action": chosen, "index": 0})
    assert response.status_code == 302
    statuses = dict(TransferRequest.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in chosen] == ["已批准", "已批准", "已驳回"]  # a decided one stays
    household = Household.objects.get(code="H001")
    assert household.village.code == "431302002001"
    assert set(Person.objects.filter(household=household).values_list("village_code", flat=True)) == {"431302002001"}
    entry = HistoryEntry.objects.get(entity="household", object_id=household.pk, action="transfer")
    assert entry.user.username == "a"
    decided = TransferRequest.objects.get(pk=requests[0].pk)
    assert decided.decided_by.username == "a"


def test_the_list_reads_in_flat_queries(admin_client, requests, users):  # noqa: F811
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(LIST).status_code == 200
        return len(queries)

    first = count()
    for code in ("H004", "H005", "H006"):
        household = _bare(users["township"], code)
        services.transfer_request_file(
            actor=users["township"], household=household, village_code="431302002001", reason="x"
        )
    assert count() == first
