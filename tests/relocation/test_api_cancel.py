"""Cancelling through the API is the portal's 注销 (issue 20 follow-up): ``status: 已注销`` goes through
the same service as the page, with ``cancel_reason`` required (a Chinese message names the choices) and
``cancelled_on`` (today when not given), both in the record, the answer and the history."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from households import services
from households.choices import Labour, Relation
from households.models import HistoryEntry, Person
from tests.factories import make_id
from tests.relocation.test_api import API, HEAD_ID, _fresh_throttles, areas, client_for, records, users  # noqa: F401

pytestmark = pytest.mark.django_db
SPOUSE_ID = make_id("43130219820202002")


@pytest.fixture
def spouse(records):  # noqa: F811
    return services.person_create(
        actor=None,
        household=records["household"],
        id_number=SPOUSE_ID,
        data={"name": "李二", "relation": Relation.SPOUSE, "labour": Labour.NONE},
    )


def test_a_person_cancelled_through_the_api_needs_a_reason_and_keeps_date_and_reason(users, spouse):  # noqa: F811
    client = client_for(users["staff"])
    url = f"{API}persons/{spouse.pk}/"
    refused = client.patch(url, {"status": "已注销"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"cancel_reason": ["注销时请填写注销原因（死亡、迁出、其他）。"]}
    assert Person.objects.get(pk=spouse.pk).status == "正常"
    wrong = client.patch(url, {"status": "已注销", "cancel_reason": "自然消亡"}, format="json")
    assert wrong.status_code == 400
    assert list(wrong.json()) == ["cancel_reason"]
    stray = client.patch(url, {"cancel_reason": "死亡"}, format="json")
    assert stray.status_code == 400
    assert stray.json() == {"cancel_reason": ["注销原因和注销日期只随状态“已注销”一起填写。"]}

    answer = client.patch(
        url, {"status": "已注销", "cancel_reason": "死亡", "cancelled_on": "2025-05-02"}, format="json"
    )

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["cancelled_on"], body["cancel_reason"]) == ("已注销", "2025-05-02", "死亡")
    spouse.refresh_from_db()
    assert (spouse.status, spouse.cancelled_on, spouse.cancel_reason) == ("已注销", datetime.date(2025, 5, 2), "死亡")
    entry = HistoryEntry.objects.get(entity="person", object_id=spouse.pk, action="cancel")
    assert (entry.channel, entry.after["cancelled_on"], entry.after["cancel_reason"]) == ("api", "2025-05-02", "死亡")
    again = client.patch(url, {"status": "已注销", "cancel_reason": "迁出"}, format="json")
    assert again.status_code == 200
    assert Person.objects.get(pk=spouse.pk).cancel_reason == "死亡"  # as first recorded


def test_the_api_cancel_defaults_to_today_and_keeps_the_head_rule(users, records, spouse):  # noqa: F811
    client = client_for(users["staff"])
    head = client.patch(
        f"{API}persons/{records['head'].pk}/", {"status": "已注销", "cancel_reason": "迁出"}, format="json"
    )
    assert head.status_code == 400
    assert "请先通过“更换户主”指定新的户主" in head.content.decode()
    answer = client.patch(f"{API}persons/{spouse.pk}/", {"status": "已注销", "cancel_reason": "其他"}, format="json")
    assert answer.json()["cancelled_on"] == timezone.localdate().isoformat()


def test_a_person_created_cancelled_needs_a_reason(users, records):  # noqa: F811
    client = client_for(users["staff"])
    body = {
        "id_number": SPOUSE_ID,
        "name": "李二",
        "household": "H001",
        "relation": "配偶",
        "labour": Labour.NONE.value,
        "status": "已注销",
    }
    refused = client.post(f"{API}persons/", body, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["cancel_reason"]
    assert not Person.objects.filter(name="李二").exists()
    created = client.post(f"{API}persons/", {**body, "cancel_reason": "迁出"}, format="json")
    assert created.status_code == 201, created.content
    person = Person.objects.get(pk=created.json()["id"])
    assert (person.status, person.cancel_reason, person.cancelled_on) == ("已注销", "迁出", timezone.localdate())


def test_the_cancel_service_refuses_a_missing_reason(records, spouse):  # noqa: F811
    with pytest.raises(ValidationError) as refused:
        services.person_cancel(actor=None, person=spouse, cancelled_on=timezone.localdate(), reason="")
    assert refused.value.message_dict == {"cancel_reason": ["请选择注销原因：死亡、迁出或其他。"]}
