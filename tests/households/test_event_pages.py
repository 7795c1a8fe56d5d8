"""Every household event is a page (issue 20): transfer inside a township, a township's transfer
request decided by the county official, cancelling a household or a person with a date and reason,
correcting an ID number, changing the 户主 — through the services (history, change feed), with the
typed values kept on error and exact, flat query counts."""

import datetime

import pytest
from django.urls import reverse

from accounts import personal_data
from accounts.models import Role
from households import services
from households.models import ChangeFeed, HistoryEntry, Household, Person, TransferRequest
from tests.factories import AreaFactory, UserFactory, make_id

pytestmark = pytest.mark.django_db

HEAD_ID = make_id("43130219800101001")
SPOUSE_ID = make_id("43130219820202002")
CHILD_ID = make_id("43130220100303003")
NEW_ID = make_id("43130219800101019")


@pytest.fixture
def areas():
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    other_township = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    far_county = AreaFactory.county(code="431321", name="双峰县", parent=city)
    far_township = AreaFactory.township(code="431321001", name="永丰镇", parent=far_county)
    return {
        "county": county,
        "township": township,
        "village": AreaFactory.village(code="431302001001", name="A社区", parent=township),
        "village2": AreaFactory.village(code="431302001002", name="C村", parent=township),
        "other_township": other_township,
        "other_village": AreaFactory.village(code="431302002001", name="B村", parent=other_township),
        "far_village": AreaFactory.village(code="431321001001", name="远村", parent=far_township),
    }


@pytest.fixture
def users(areas):
    return {
        "township": UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=areas["township"]),
        "other_township": UserFactory.create(username="hua", role=Role.TOWNSHIP_STAFF, area=areas["other_township"]),
        "village": UserFactory.create(username="cun", role=Role.VILLAGE_STAFF, area=areas["village"]),
        "county": UserFactory.create(username="xian", role=Role.COUNTY_OFFICIAL, area=areas["county"]),
    }


def _household(actor, code="H001", members=((HEAD_ID, "张一", "户主"), (SPOUSE_ID, "李二", "配偶"))):
    site = services.site_save(
        actor=None, code=f"S{code}", village_code="431302001001", data={"name": "幸福小区", "kind": "城镇集中安置"}
    )
    household = services.household_register(
        actor=actor,
        code=code,
        village_code="431302001001",
        data={"head_name": members[0][1], "category": "建档立卡户", "site": site},
    )
    for id_number, name, relation in members:
        services.person_create(
            actor=actor,
            household=household,
            id_number=id_number,
            data={"name": name, "relation": relation, "labour": "无劳动力"},
        )
    return Household.objects.get(pk=household.pk)


@pytest.fixture
def household(users):
    return _household(users["township"])


def _client(client, user):
    client.force_login(user)
    return client


# --- transfer ---------------------------------------------------------------------------------------


def test_township_transfers_a_household_between_its_villages(client, users, household):
    _client(client, users["township"])
    url = reverse("household_transfer", args=[household.code])
    page = client.get(url)
    assert page.status_code == 200
    assert "B村" not in page.content.decode()  # another township's village is not offered
    feed = ChangeFeed.objects.count()
    response = client.post(url, {"village": "431302001002", "site": ""})
    assert response.status_code == 302
    household.refresh_from_db()
    assert (household.village.code, household.site, household.township_code) == ("431302001002", None, "431302001")
    assert set(Person.objects.filter(household=household).values_list("village_code", flat=True)) == {"431302001002"}
    entry = HistoryEntry.objects.get(entity="household", object_id=household.pk, action="transfer")
    assert entry.after["village"] == household.village_id
    assert ChangeFeed.objects.count() == feed + 1


def test_township_cannot_transfer_to_another_township_directly(client, users, household):
    _client(client, users["township"])
    response = client.post(reverse("household_transfer", args=[household.code]), {"village": "431302002001"})
    assert response.status_code == 200
    assert "village" in response.context["form"].errors
    assert Household.objects.get(pk=household.pk).village_code == "431302001001"


def test_a_move_to_the_same_village_and_site_is_refused_with_a_message(client, users, household):
    _client(client, users["township"])
    url = reverse("household_transfer", args=[household.code])
    response = client.post(url, {"village": "431302001001", "site": household.site.code})
    assert "该户已在此村（社区）和安置点" in response.content.decode()
    assert not HistoryEntry.objects.filter(action="transfer").exists()


def test_village_staff_may_not_transfer_and_see_no_event_link(client, users, household):
    _client(client, users["village"])
    assert client.get(reverse("household_transfer", args=[household.code])).status_code == 403
    detail = client.get(reverse("household_detail", args=[household.code])).content.decode()
    assert reverse("household_transfer", args=[household.code]) not in detail
    assert reverse("household_transfer_request", args=[household.code]) not in detail
    assert reverse("household_cancel", args=[household.code]) in detail  # village staff write households


# --- transfer request ---------------------------------------------------------------------------------


def test_request_approved_by_the_county_moves_the_household(client, users, household):
    _client(client, users["township"])
    url = reverse("household_transfer_request", args=[household.code])
    form = client.get(url).content.decode()
    assert "花山街道 · B村" in form
    assert "远村" not in form
    assert "C村" not in form
    assert client.post(url, {"village": "431302002001", "reason": "投靠子女"}).status_code == 302
    request = TransferRequest.objects.get()
    assert (request.status, request.township_code, request.requested_by) == ("待审批", "431302001", users["township"])
    detail = client.get(reverse("household_detail", args=[household.code])).content.decode()
    assert "申请迁入 B村" in detail
    assert "待审批" in detail

    _client(client, users["county"])
    listed = client.get(reverse("transfer_request_list")).content.decode()
    assert household.code in listed
    assert reverse("transfer_request_decide", args=[request.pk]) in listed
    response = client.post(reverse("transfer_request_decide", args=[request.pk]), {"decision": "approve"})
    assert response.status_code == 302
    household.refresh_from_db()
    assert (household.village.code, household.township_code) == ("431302002001", "431302002")
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("已批准", users["county"])
    assert HistoryEntry.objects.filter(entity="household", object_id=household.pk, action="transfer").count() == 1

    _client(client, users["township"])  # the household left the township; its request stays listed
    assert client.get(reverse("household_detail", args=[household.code])).status_code == 404
    mine = client.get(reverse("transfer_request_list") + "?status=all").content.decode()
    assert "已批准" in mine
    assert household.code in mine
    _client(client, users["other_township"])
    assert client.get(reverse("household_detail", args=[household.code])).status_code == 200


def test_a_rejection_needs_a_reason_and_the_township_sees_it(client, users, household):
    request = services.transfer_request_file(
        actor=users["township"], household=household, village_code="431302002001", reason="投靠子女"
    )
    _client(client, users["county"])
    url = reverse("transfer_request_decide", args=[request.pk])
    response = client.post(url, {"decision": "reject", "note": ""})
    assert response.status_code == 200
    assert "驳回时请填写驳回理由" in response.content.decode()
    assert client.post(url, {"decision": "reject", "note": "材料不全"}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decision_note) == ("已驳回", "材料不全")
    _client(client, users["township"])
    detail = client.get(reverse("household_detail", args=[household.code])).content.decode()
    assert "已驳回" in detail
    assert "材料不全" in detail
    assert Household.objects.get(pk=household.pk).village_code == "431302001001"


def test_a_request_inside_the_township_or_the_county_is_refused(users, household):
    for code in ("431302001002", "431321001001", "431399001001"):
        with pytest.raises(services.ValidationError):
            services.transfer_request_file(actor=users["township"], household=household, village_code=code, reason="x")
    services.transfer_request_file(
        actor=users["township"], household=household, village_code="431302002001", reason="x"
    )
    with pytest.raises(services.ValidationError, match="待审批"):
        services.transfer_request_file(
            actor=users["township"], household=household, village_code="431302002001", reason="y"
        )


def test_the_request_form_keeps_the_typed_values(client, users, household):
    _client(client, users["township"])
    url = reverse("household_transfer_request", args=[household.code])
    response = client.post(url, {"village": "431302002001", "reason": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="431302002001" selected>' in html
    assert "reason" in response.context["form"].errors


def test_only_the_county_official_decides(client, users, household):
    request = services.transfer_request_file(
        actor=users["township"], household=household, village_code="431302002001", reason="投靠子女"
    )
    for who in ("township", "village"):
        _client(client, users[who])
        assert (
            client.post(reverse("transfer_request_decide", args=[request.pk]), {"decision": "approve"}).status_code
            == 403
        )
    assert TransferRequest.objects.get().status == "待审批"


# --- cancel ------------------------------------------------------------------------------------------


def test_cancel_a_household_with_date_and_reason(client, users, household):
    _client(client, users["township"])
    url = reverse("household_cancel", args=[household.code])
    response = client.post(url, {"cancelled_on": "2026-05-01", "cancel_reason": "迁出"})
    assert response.status_code == 302
    household.refresh_from_db()
    assert (household.status, household.cancelled_on, household.cancel_reason) == (
        "已注销",
        datetime.date(2026, 5, 1),
        "迁出",
    )
    members = Person.objects.filter(household=household)
    assert {(p.status, p.cancelled_on, p.cancel_reason) for p in members} == {
        ("已注销", datetime.date(2026, 5, 1), "迁出")
    }
    entry = HistoryEntry.objects.get(entity="household", object_id=household.pk, action="cancel")
    assert entry.after == {"status": "已注销", "cancelled_on": "2026-05-01", "cancel_reason": "迁出"}
    detail = client.get(reverse("household_detail", args=[household.code])).content.decode()
    assert "2026-05-01 迁出" in detail
    assert reverse("household_transfer", args=[household.code]) not in detail


def test_cancel_keeps_typed_values_on_error(client, users, household):
    _client(client, users["township"])
    url = reverse("household_cancel", args=[household.code])
    response = client.post(url, {"cancelled_on": "2999-01-01", "cancel_reason": "自然消亡"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="2999-01-01"' in html
    assert '<option value="自然消亡" selected>' in html
    assert Household.objects.get(pk=household.pk).status == "正常"


def test_cancel_a_person_and_the_head_goes_last(client, users, household):
    _client(client, users["village"])
    head = Person.objects.get(household=household, relation="户主")
    spouse = Person.objects.get(household=household, relation="配偶")
    response = client.post(
        reverse("person_cancel", args=[household.code, head.pk]),
        {"cancelled_on": "2026-05-01", "cancel_reason": "死亡"},
    )
    assert response.status_code == 200
    assert "请先通过“更换户主”指定新的户主" in response.content.decode()
    response = client.post(
        reverse("person_cancel", args=[household.code, spouse.pk]),
        {"cancelled_on": "2026-05-02", "cancel_reason": "死亡"},
    )
    assert response.status_code == 302
    spouse.refresh_from_db()
    assert (spouse.status, spouse.cancelled_on, spouse.cancel_reason) == ("已注销", datetime.date(2026, 5, 2), "死亡")
    entry = HistoryEntry.objects.get(entity="person", object_id=spouse.pk, action="cancel")
    assert entry.after["cancel_reason"] == "死亡"


# --- ID correction and 户主 change ------------------------------------------------------------------


def test_correct_an_id_number(client, users, household):
    _client(client, users["township"])
    head = Person.objects.get(household=household, relation="户主")
    url = reverse("person_correct_id", args=[household.code, head.pk])
    page = client.get(url).content.decode()
    assert HEAD_ID in page  # township staff see the full number (access.md)
    same = client.post(url, {"id_number": HEAD_ID})
    assert "新号码与原身份证号相同" in same.content.decode()
    wrong = client.post(url, {"id_number": NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")})
    assert wrong.status_code == 200
    assert "id_number" in wrong.context["form"].errors
    assert client.post(url, {"id_number": NEW_ID}).status_code == 302
    head.refresh_from_db()
    household.refresh_from_db()
    assert head.id_number_hash == personal_data.blind_index(NEW_ID)
    assert household.head_id_hash == head.id_number_hash  # 户主身份证号 follows
    entry = HistoryEntry.objects.get(entity="person", object_id=head.pk, action="correct_id")
    assert entry.before["id_number"] == entry.after["id_number"] == "已变更"


def test_change_the_head(client, users, household):
    _client(client, users["township"])
    url = reverse("household_change_head", args=[household.code])
    spouse = Person.objects.get(household=household, relation="配偶")
    response = client.post(url, {"new_head": str(spouse.pk), "old_head_relation": ""})
    assert response.status_code == 200
    assert "old_head_relation" in response.context["form"].errors
    assert f'<option value="{spouse.pk}" selected>' in response.content.decode()
    assert client.post(url, {"new_head": str(spouse.pk), "old_head_relation": "配偶"}).status_code == 302
    household.refresh_from_db()
    relations = dict(Person.objects.filter(household=household).values_list("name", "relation"))
    assert relations == {"张一": "配偶", "李二": "户主"}
    assert household.head_name == "李二"
    assert household.head_id_hash == personal_data.blind_index(SPOUSE_ID)
    assert HistoryEntry.objects.filter(entity="person", action="update", after__relation="户主").count() >= 1


# --- query counts: exact and flat -------------------------------------------------------------------


# Each page: the session and the user, its own reads, then the session saved (three statements).
EVENT_PAGE_QUERIES = {
    "household_transfer": 8,  # household, villages, sites
    "household_transfer_request": 7,  # household, the county's other villages
    "household_cancel": 6,  # household
    "household_change_head": 7,  # household, members
    "person_cancel": 7,  # household, person
    "person_correct_id": 7,  # household, person
}


def _event_urls(household):
    head = Person.objects.get(household=household, relation="户主")
    urls = {name: reverse(name, args=[household.code]) for name in EVENT_PAGE_QUERIES if not name.startswith("person")}
    urls.update(
        {name: reverse(name, args=[household.code, head.pk]) for name in ("person_cancel", "person_correct_id")}
    )
    return urls


def test_event_pages_query_counts_are_exact_and_flat(client, users, household, django_assert_num_queries):
    _client(client, users["township"])
    for name, url in _event_urls(household).items():
        with django_assert_num_queries(EVENT_PAGE_QUERIES[name]):
            assert client.get(url).status_code == 200, name
    # More members, villages and sites: the same counts.
    for index in range(3):
        services.person_create(
            actor=users["township"],
            household=household,
            id_number=make_id(f"4313022012010100{index}"),
            data={"name": f"子{index}", "relation": "子女", "labour": "无劳动力"},
        )
        AreaFactory.village(code=f"43130200100{index + 3}", name=f"新村{index}", parent=users["township"].area)
        services.site_save(
            actor=None, code=f"SX{index}", village_code="431302001002", data={"name": "新小区", "kind": "城镇集中安置"}
        )
    for name, url in _event_urls(household).items():
        with django_assert_num_queries(EVENT_PAGE_QUERIES[name]):
            assert client.get(url).status_code == 200, name


TRANSFER_LIST_QUERIES = 6  # session, user, the requests with their households, villages, users; session saved
DECIDE_QUERIES = 6  # session, user, the request with its household and villages; session saved


def test_transfer_request_list_query_count_is_flat(client, users, household, django_assert_num_queries):
    services.transfer_request_file(
        actor=users["township"], household=household, village_code="431302002001", reason="投靠子女"
    )
    _client(client, users["county"])
    with django_assert_num_queries(TRANSFER_LIST_QUERIES):
        assert client.get(reverse("transfer_request_list")).status_code == 200
    for index in range(3):
        other = _household(
            users["township"], code=f"H10{index}", members=((make_id(f"4313021990010100{index}"), "王", "户主"),)
        )
        services.transfer_request_file(
            actor=users["township"], household=other, village_code="431302002001", reason="投靠子女"
        )
    with django_assert_num_queries(TRANSFER_LIST_QUERIES):
        response = client.get(reverse("transfer_request_list"))
    assert len(response.context["requests"]) == 4
    request = TransferRequest.objects.first()
    with django_assert_num_queries(DECIDE_QUERIES):
        assert client.get(reverse("transfer_request_decide", args=[request.pk])).status_code == 200


def test_the_city_administrator_transfers_across_counties_the_county_official_cannot(client, users, household):
    admin = UserFactory.create(username="shi", role=Role.CITY_ADMIN, area=users["county"].area.parent)
    _client(client, users["county"])
    url = reverse("household_transfer", args=[household.code])
    assert "远村" not in client.get(url).content.decode()
    assert client.post(url, {"village": "431321001001"}).status_code == 200
    _client(client, admin)
    assert client.post(url, {"village": "431321001001", "site": ""}).status_code == 302
    household.refresh_from_db()
    assert (household.county_code, household.village_code) == ("431321", "431321001001")


def test_each_role_sees_only_the_events_it_may_do(client, users, household):
    links = {
        name: reverse(name, args=[household.code])
        for name in ("household_transfer", "household_transfer_request", "household_change_head", "household_cancel")
    }
    expected = {
        "township": {"household_transfer", "household_transfer_request", "household_change_head", "household_cancel"},
        "village": {"household_change_head", "household_cancel"},
        "county": {"household_transfer"},
    }
    for who, names in expected.items():
        _client(client, users[who])
        detail = client.get(reverse("household_detail", args=[household.code])).content.decode()
        assert {name for name, url in links.items() if f'href="{url}"' in detail} == names, who
