"""The access matrix for a transferred household's linked records (issue 17, acceptance 4).

A county official moves side A's household to a village of another township of the county. Its
petition, follow-up action and monitoring decision must move with it: the old village's and old
township's staff get 404 on them (pages and API, read and write), exactly like a missing record; the
new village's and township's staff read and edit them. Built on ``tests.world``'s access layout.
"""

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoDbBlocker
from rest_framework.test import APIClient

from accounts.access import scope
from accounts.models import Role, User
from households import services
from households.models import (
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Household,
    MonitoringDecision,
    Person,
)
from tests.factories import AreaFactory, UserFactory
from tests.world import build_world

pytestmark = pytest.mark.django_db
API = "/api/v1/"
NEW_TOWNSHIP, NEW_VILLAGE = "431302002", "431302002001"


@pytest.fixture(scope="module")
def moved(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[dict[str, Any]]:
    """Side A's household with a monitoring decision, transferred by side A's county official."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world(assess=False)
        township = AreaFactory.township(code=NEW_TOWNSHIP, name="新迁街道", parent=world.a.county)
        village = AreaFactory.village(code=NEW_VILLAGE, name="新家社区", parent=township)
        users = {
            "old_village": world.a.users["village"],
            "old_township": world.a.users["township"],
            "new_village": UserFactory.create(username="cunNew", role=Role.VILLAGE_STAFF, area=village),
            "new_township": UserFactory.create(username="zhenNew", role=Role.TOWNSHIP_STAFF, area=township),
            "county": world.a.users["county"],
        }
        decision = services.monitoring_decide(
            actor=world.a.users["village"],
            household=world.a.household,
            decision="核实排除",
            note="入户核实",
            decided_on=datetime.date(2025, 5, 1),
        )
        services.household_transfer(
            actor=world.a.users["county"], household=world.a.household, village_code=NEW_VILLAGE
        )
        yield {"world": world, "users": users, "decision": decision}
        transaction.set_rollback(True)


OLD = ("old_village", "old_township")
NEW = ("new_village", "new_township", "county")


def _api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _page(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _records(moved: dict[str, Any]) -> dict[str, Any]:
    world = moved["world"]
    return {"household": world.a.household, "grievance": world.a.grievance, "action": world.a.action}


# issue 17 finding 8
def test_transfer_moves_every_linked_record_in_one_write(moved):
    household = Household.objects.get(pk=moved["world"].a.household.pk)
    linked = [
        *Person.objects.filter(household=household),
        *Grievance.objects.filter(household=household),
        *FollowUpAction.objects.filter(household=household),
        *MonitoringDecision.objects.filter(household=household),
    ]
    assert len(linked) == 4
    for record in [household, *linked]:
        assert (record.county_code, record.township_code, record.village_code) == ("431302", NEW_TOWNSHIP, NEW_VILLAGE)
    grievance = Grievance.objects.get(pk=moved["world"].a.grievance.pk)
    assert grievance.village.code == NEW_VILLAGE  # its village link moved too (the petition rules hold)
    moves = HistoryEntry.objects.filter(action=HistoryEntry.Action.TRANSFER)
    assert set(moves.values_list("entity", flat=True)) == {
        "household",
        "grievance",
        "followupaction",
        "monitoringdecision",
    }
    assert set(moves.values_list("township_code", flat=True)) == {NEW_TOWNSHIP}


# issue 17 finding 8
@pytest.mark.parametrize("who", OLD)
@pytest.mark.parametrize("kind", ["household", "grievance", "action"])
def test_old_village_staff_get_404_on_moved_records_through_the_api(moved, who, kind):
    user = moved["users"][who]
    record = _records(moved)[kind]
    path = {"household": "households", "grievance": "grievances", "action": "actions"}[kind]
    client = _api(user)
    assert client.get(f"{API}{path}/{record.code}/").status_code == 404
    body = {"household": {"head_name": "改"}, "grievance": {"content": "改"}, "action": {"description": "改"}}[kind]
    assert client.patch(f"{API}{path}/{record.code}/", body, format="json").status_code == 404
    assert type(record).objects.get(pk=record.pk).__dict__.get(next(iter(body))) != "改"
    listed = client.get(f"{API}{path}/").json()
    assert record.code not in str(listed)


# issue 17 finding 8
@pytest.mark.parametrize("who", OLD)
def test_old_village_staff_get_404_on_moved_records_in_the_pages(moved, who):
    client = _page(moved["users"][who])
    household, action, grievance = moved["world"].a.household, moved["world"].a.action, moved["world"].a.grievance
    assert client.get(reverse("household_detail", args=[household.code])).status_code == 404
    assert client.get(reverse("action_edit", args=[household.code, action.code])).status_code == 404
    assert client.get(reverse("grievance_edit", args=[household.code, grievance.code])).status_code == 404
    closed = client.post(reverse("action_close", args=[household.code, action.code]))
    assert closed.status_code == 404
    assert FollowUpAction.objects.get(pk=action.pk).status != "已完成"


# issue 17 finding 8
@pytest.mark.parametrize("who", OLD)
def test_old_village_staff_no_longer_see_moved_decisions(moved, who):
    assert not scope(MonitoringDecision.objects.filter(pk=moved["decision"].pk), moved["users"][who]).exists()


# issue 17 finding 8
@pytest.mark.parametrize("who", NEW)
def test_new_village_staff_read_the_moved_records(moved, who):
    user = moved["users"][who]
    client = _api(user)
    for kind, path in (("household", "households"), ("grievance", "grievances"), ("action", "actions")):
        record = _records(moved)[kind]
        assert client.get(f"{API}{path}/{record.code}/").status_code == 200, (who, kind)
    assert scope(MonitoringDecision.objects.filter(pk=moved["decision"].pk), user).exists()
    household = moved["world"].a.household
    assert _page(user).get(reverse("household_detail", args=[household.code])).status_code == 200


# issue 17 finding 8
@pytest.mark.parametrize("who", ["new_village", "new_township"])
def test_new_village_staff_edit_the_moved_records(moved, who):
    client = _api(moved["users"][who])
    action, grievance = moved["world"].a.action, moved["world"].a.grievance
    text = f"{who} 已跟进"
    response = client.patch(f"{API}actions/{action.code}/", {"description": text}, format="json")
    assert response.status_code == 200, response.content
    assert FollowUpAction.objects.get(pk=action.pk).description == text
    response = client.patch(f"{API}grievances/{grievance.code}/", {"content": text}, format="json")
    assert response.status_code == 200, response.content
    assert Grievance.objects.get(pk=grievance.pk).content == text
