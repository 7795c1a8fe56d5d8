"""REST API v1 (interfaces.md, HTTP API): every resource — list, retrieve, create, patch — with scope
(404 outside the area), role (403, nothing written), out-of-area references (400 like an unknown
code), masking per role, Chinese/English field errors, token auth, and the docs under the CSP."""

import datetime
import re

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import ApiToken, Department, Role, User
from accounts.tokens import key_digest
from areas.models import Area
from households import services
from households.choices import Channel, Labour, Relation
from households.models import (
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Household,
    ImportJob,
    Income,
    Person,
    Site,
)
from indicators.models import CountyFinance, IndicatorValue
from tests.factories import AreaFactory, UserFactory, compute, make_id

pytestmark = pytest.mark.django_db

API = "/api/v1/"


HEAD_ID = make_id("43130219800101001")
NEW_ID = make_id("43130219900303005")
FOREIGN_ID = make_id("43130219750505003")


def masked(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()  # throttle counters live in the cache
    yield
    cache.clear()


@pytest.fixture
def areas():
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    other_county = AreaFactory.county(code="431321", name="双峰县", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    other_township = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    far_township = AreaFactory.township(code="431321001", name="永丰街道", parent=other_county)
    return {
        "city": city,
        "county": county,
        "other_county": other_county,
        "township": township,
        "other_township": other_township,
        "village": AreaFactory.village(code="431302001001", name="A社区", parent=township),
        "village2": AreaFactory.village(code="431302001002", name="C村", parent=township),
        "other_village": AreaFactory.village(code="431302002001", name="B村", parent=other_township),
        "far_village": AreaFactory.village(code="431321001001", name="D村", parent=far_township),
    }


@pytest.fixture
def users(areas):
    return {
        "village": UserFactory.create(username="cun", role=Role.VILLAGE_STAFF, area=areas["village"]),
        "staff": UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=areas["township"]),
        "other_staff": UserFactory.create(username="huashan", role=Role.TOWNSHIP_STAFF, area=areas["other_township"]),
        "county": UserFactory.create(username="xian", role=Role.COUNTY_OFFICIAL, area=areas["county"]),
        "other_county": UserFactory.create(
            username="shuangfeng", role=Role.COUNTY_OFFICIAL, area=areas["other_county"]
        ),
        "bureau": UserFactory.create(
            username="renshe", role=Role.CITY_BUREAU, area=areas["city"], department=Department.HUMAN_RESOURCES
        ),
        "finance": UserFactory.create(
            username="caizheng", role=Role.CITY_BUREAU, area=areas["city"], department=Department.FINANCE
        ),
        "admin": UserFactory.create(
            username="admin", role=Role.CITY_ADMIN, area=areas["city"], department=Department.RELOCATION_OFFICE
        ),
    }


@pytest.fixture
def records(areas):
    """A site, a household with its head, an income, a petition and an action in 乐坪街道 A社区; a
    household in 花山街道 (same county, other township)."""
    system = None
    site = services.site_save(
        actor=system, code="S001", village_code="431302001001", data={"name": "幸福小区", "kind": "城镇集中安置"}
    )
    household = services.household_register(
        actor=system,
        code="H001",
        village_code="431302001001",
        data={"head_name": "张三", "category": "建档立卡户", "site": site, "dividend": 12_000},
        phone="13812345678",
    )
    head = services.person_create(
        actor=system,
        household=household,
        id_number=HEAD_ID,
        data={"name": "张三", "relation": Relation.HEAD, "labour": Labour.NONE},
    )
    income = services.income_set(actor=system, household=household, year=2025, size=1, per_capita_income_fen=1_234_550)
    grievance = services.grievance_save(
        actor=system,
        code="XF001",
        village_code="431302001001",
        data={"household": household, "received_on": datetime.date(2025, 3, 1), "status": "办理中"},
    )
    action = services.action_create(
        actor=system,
        data={"code": "TZ001", "description": "联系就业", "owner": "李四", "kind": "就业帮扶"},
        household=household,
    )
    foreign = services.household_register(
        actor=system, code="H900", village_code="431302002001", data={"head_name": "王五", "category": "同步搬迁户"}
    )
    foreign_person = services.person_create(
        actor=system,
        household=foreign,
        id_number=FOREIGN_ID,
        data={"name": "王五", "relation": Relation.HEAD, "labour": Labour.NONE},
    )
    finance = CountyFinance.objects.create(
        county=areas["county"],
        year=2025,
        asset_proceeds=10_000,
        proceeds_to_households=8_000,
        linkage_funds=100_000,
        linkage_to_relocation=10_000,
    )
    return {
        "site": site,
        "household": household,
        "head": head,
        "income": income,
        "grievance": grievance,
        "action": action,
        "foreign": foreign,
        "foreign_person": foreign_person,
        "finance": finance,
    }


def client_for(user: User | None, language: str | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    if language:
        client.credentials(HTTP_ACCEPT_LANGUAGE=language)
    return client


def api_history(entity: str, object_id: int) -> list[HistoryEntry]:
    return list(HistoryEntry.objects.filter(entity=entity, object_id=object_id, channel=Channel.API))


# --- authentication ------------------------------------------------------------------------------


def test_anonymous_requests_answer_401_with_a_token_challenge(records):
    response = APIClient().get(f"{API}households/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "身份认证信息未提供。"}


def test_token_from_the_token_endpoint_authenticates(users, records):
    response = APIClient().post(f"{API}auth/token/", {"username": "zhen", "password": "pw-Loudi-2026"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.get(user=users["staff"]).key_hash == key_digest(token)  # only the digest is kept

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listed = client.get(f"{API}households/")

    assert listed.status_code == 200
    assert [row["code"] for row in listed.json()["results"]] == ["H001"]


def test_token_endpoint_refuses_a_wrong_password_without_leaking(users):
    response = APIClient().post(f"{API}auth/token/", {"username": "zhen", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not ApiToken.objects.exists()


def test_session_authentication_needs_csrf_for_writes(users, records):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(users["staff"])

    assert client.get(f"{API}households/H001/").status_code == 200
    response = client.patch(f"{API}households/H001/", {"head_name": "改名"}, format="json")

    assert response.status_code == 403
    assert Household.objects.get(code="H001").head_name == "张三"


def test_anonymous_token_requests_are_throttled(users):
    client = APIClient()
    statuses = [
        client.post(f"{API}auth/token/", {"username": "nobody", "password": "x"}, format="json").status_code
        for _ in range(11)
    ]

    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


# --- areas ---------------------------------------------------------------------------------------


def test_areas_are_scoped_and_filter_by_level_word_and_parent(users, areas):
    client = client_for(users["staff"])

    everything = client.get(f"{API}areas/").json()
    villages = client.get(f"{API}areas/", {"level": "village"}).json()
    children = client.get(f"{API}areas/", {"parent": "431302001"}).json()

    assert [row["code"] for row in everything["results"]] == ["431302001", "431302001001", "431302001002"]
    assert everything["results"][0] == {
        "code": "431302001",
        "name": "乐坪街道",
        "level": "township",
        "parent": "431302",
        "has_industrial_park": False,
    }
    assert [row["code"] for row in villages["results"]] == ["431302001001", "431302001002"]
    assert [row["code"] for row in children["results"]] == ["431302001001", "431302001002"]
    assert client.get(f"{API}areas/431302002001/").status_code == 404
    assert client.get(f"{API}areas/", {"level": "村"}).status_code == 400


# --- sites ---------------------------------------------------------------------------------------


def test_site_population_counts_active_persons_of_active_households(users, records):
    services.person_create(
        actor=None,
        household=records["household"],
        id_number=NEW_ID,
        data={"name": "张小", "relation": Relation.CHILD, "labour": Labour.NONE},
    )
    response = client_for(users["staff"]).get(f"{API}sites/S001/")

    assert response.status_code == 200
    body = response.json()
    assert body["population"] == 2
    assert body["village"] == "431302001001"
    assert body["kind"] == "城镇集中安置"


def test_township_staff_create_and_patch_a_site_recorded_as_api(users, records):
    client = client_for(users["staff"])

    created = client.post(
        f"{API}sites/",
        {"code": "S002", "name": "新区", "village": "431302001002", "kind": "农村集中安置", "party_org": True},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["party_org"] is True
    assert created.json()["population"] == 0

    patched = client.patch(f"{API}sites/S002/", {"name": "新区二期", "kindergarten": True}, format="json")

    assert patched.status_code == 200
    site = Site.objects.get(code="S002")
    assert (site.name, site.kindergarten, site.party_org, site.village.code) == ("新区二期", True, True, "431302001002")
    assert [entry.action for entry in api_history("site", site.pk)] == ["update", "create"]


def test_village_staff_may_not_create_sites(users, records):
    response = client_for(users["village"]).post(
        f"{API}sites/", {"code": "S003", "name": "X", "village": "431302001001", "kind": "城镇集中安置"}, format="json"
    )

    assert response.status_code == 403
    assert not Site.objects.filter(code="S003").exists()


# --- households ----------------------------------------------------------------------------------


def test_household_filters(users, records, areas):
    services.household_register(
        actor=None, code="H002", village_code="431302001002", data={"head_name": "赵六", "category": "同步搬迁户"}
    )
    client = client_for(users["staff"])

    def codes(**params):
        response = client.get(f"{API}households/", params)
        assert response.status_code == 200, response.json()
        return [row["code"] for row in response.json()["results"]]

    assert codes() == ["H001", "H002"]
    assert codes(village="431302001002") == ["H002"]
    assert codes(site="S001") == ["H001"]
    assert codes(category="同步搬迁户") == ["H002"]
    assert codes(q="赵") == ["H002"]
    assert codes(q="H001") == ["H001"]
    assert codes(village="431302002001") == []  # another township's village: nothing, not an error
    assert client.get(f"{API}households/", {"category": "poor"}).status_code == 400


def test_household_answer_uses_data_md_keys_codes_and_yuan(users, records):
    body = client_for(users["staff"]).get(f"{API}households/H001/").json()

    assert body["village"] == "431302001001"
    assert body["site"] == "S001"
    assert body["origin"] is None
    assert body["category"] == "建档立卡户"
    assert body["status"] == "正常"
    assert body["dividend"] == "120.00"
    assert body["phone"] == "13812345678"
    assert body["member_count"] == 1


def test_staff_register_a_household_through_the_service(users, records):
    response = client_for(users["staff"]).post(
        f"{API}households/",
        {
            "code": "H010",
            "head_name": "钱七",
            "village": "431302001001",
            "site": "S001",
            "category": "同步搬迁户",
            "dividend": "35.50",
            "phone": "13900001111",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    household = Household.objects.get(code="H010")
    assert (household.dividend, household.site.code, household.township_code) == (3550, "S001", "431302001")
    assert [entry.action for entry in api_history("household", household.pk)] == ["create"]
    assert response.json()["phone"] == "13900001111"


def test_out_of_area_village_is_a_400_that_says_so_a_site_like_an_unknown_code(users, records):
    client = client_for(users["staff"])
    payload = {"code": "H011", "head_name": "孙八", "category": "同步搬迁户"}

    foreign = client.post(f"{API}households/", {**payload, "village": "431302002001"}, format="json")
    unknown = client.post(f"{API}households/", {**payload, "village": "431302009999"}, format="json")

    assert foreign.status_code == unknown.status_code == 400
    # Issue 20: a village (a public division code) outside the area says so; a site stays neutral.
    assert foreign.json()["village"] == [
        "村代码“431302002001”不在您的管辖范围（您管辖：乐坪街道），请核对代码或联系上级调整。"
    ]
    assert unknown.json()["village"] == ["区划代码“431302009999”不存在或不是村级，请核对。"]
    assert not Household.objects.filter(code="H011").exists()

    site = client.post(f"{API}households/", {**payload, "village": "431302001001", "site": "S999"}, format="json")
    assert site.status_code == 400
    assert site.json() == {"site": ["安置点编码“S999”不存在，请核对。"]}


def test_an_existing_household_code_elsewhere_gets_the_neutral_message(users, records):
    response = client_for(users["staff"]).post(
        f"{API}households/",
        {"code": "H900", "head_name": "X", "village": "431302001001", "category": "同步搬迁户"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"code": ["该户编号已在系统中登记，请联系县级管理员"]}


def test_patch_household_fields_and_cancel(users, records):
    client = client_for(users["staff"])

    response = client.patch(f"{API}households/H001/", {"tap_water": True, "helper": "刘帮扶"}, format="json")
    assert response.status_code == 200
    assert response.json()["tap_water"] is True

    unexplained = client.patch(f"{API}households/H001/", {"status": "已注销"}, format="json")
    assert unexplained.status_code == 400
    assert unexplained.json() == {"cancel_reason": ["注销时请填写注销原因（迁出、自然消亡）。"]}

    cancelled = client.patch(
        f"{API}households/H001/",
        {"status": "已注销", "cancel_reason": "迁出", "cancelled_on": "2025-06-30"},
        format="json",
    )

    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("已注销", "迁出")
    assert cancelled.json()["cancelled_on"] == "2025-06-30"
    head = Person.objects.get(pk=records["head"].pk)
    assert (head.status, head.cancelled_on, head.cancel_reason) == ("已注销", datetime.date(2025, 6, 30), "迁出")
    entries = [entry.action for entry in api_history("household", records["household"].pk)]
    assert entries == ["cancel", "update"]


def test_a_masked_phone_sent_back_is_ignored(users, records):
    client = client_for(users["county"])
    body = client.get(f"{API}households/H001/").json()
    assert body["phone"] == "138****5678"

    staff = client_for(users["staff"])
    response = staff.patch(f"{API}households/H001/", {"phone": "138****5678", "contact": "周"}, format="json")

    assert response.status_code == 200
    assert response.json()["phone"] == "13812345678"


def test_county_official_transfers_a_household_by_patching_its_village(users, records):
    response = client_for(users["county"]).patch(f"{API}households/H001/", {"village": "431302002001"}, format="json")

    assert response.status_code == 200, response.json()
    household = Household.objects.get(code="H001")
    assert (household.village.code, household.township_code, household.site) == ("431302002001", "431302002", None)
    assert Person.objects.get(pk=records["head"].pk).township_code == "431302002"
    assert [entry.action for entry in api_history("household", household.pk)] == ["transfer"]


def test_county_official_may_not_edit_household_fields(users, records):
    response = client_for(users["county"]).patch(f"{API}households/H001/", {"head_name": "改"}, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "您的角色无权修改此类记录。"}
    assert Household.objects.get(code="H001").head_name == "张三"
    assert not api_history("household", records["household"].pk)


@pytest.mark.parametrize("who", ["other_staff", "village", "other_county"])
def test_foreign_household_answers_404_for_read_and_write(users, records, who):
    client = client_for(users[who])
    code = "H900" if who == "village" else "H001"

    assert client.get(f"{API}households/{code}/").status_code == 404
    patched = client.patch(f"{API}households/{code}/", {"head_name": "改"}, format="json")

    assert patched.status_code == 404
    assert patched.json() == {"detail": "未找到。"}
    assert Household.objects.get(code=code).head_name in ("张三", "王五")


# --- persons -------------------------------------------------------------------------------------


def test_staff_see_full_id_numbers_and_masked_roles_see_masked_ones_and_age(users, records):
    staff = client_for(users["staff"]).get(f"{API}persons/", {"household": "H001"}).json()["results"]
    county = client_for(users["county"]).get(f"{API}persons/", {"household": "H001"}).json()["results"]
    city = client_for(users["bureau"]).get(f"{API}persons/{records['head'].pk}/").json()

    assert staff[0]["id_number"] == HEAD_ID
    assert staff[0]["birth_date"] == "1980-01-01"
    assert county[0]["id_number"] == masked(HEAD_ID)
    assert county[0]["birth_date"] is None
    assert county[0]["age"] == staff[0]["age"] > 40
    assert city["id_number"] == masked(HEAD_ID)
    assert HEAD_ID not in str(county) + str(city)


def test_person_create_takes_the_id_number_as_input(users, records):
    response = client_for(users["staff"]).post(
        f"{API}persons/",
        {
            "id_number": NEW_ID,
            "name": "张小",
            "household": "H001",
            "relation": "子女",
            "labour": "普通劳动力",
            "employment": "外出务工",
            "employment_checked_on": "2026-01-05",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["id_number"], body["sex"], body["birth_date"], body["household"]) == (
        NEW_ID,
        "男",
        "1990-03-03",
        "H001",
    )
    person = Person.objects.get(pk=body["id"])
    assert [entry.action for entry in api_history("person", person.pk)] == ["create"]


def test_person_errors_are_per_field_in_chinese_and_english(users, records):
    payload = {"id_number": "431302199001011235", "name": "", "household": "H001", "relation": "儿子"}

    chinese = client_for(users["staff"]).post(f"{API}persons/", payload, format="json")
    english = client_for(users["staff"], language="en").post(f"{API}persons/", payload, format="json")

    assert chinese.status_code == english.status_code == 400
    assert chinese.json() == {
        "name": ["该字段不能为空。"],
        "relation": ["“儿子” 不是合法选项。"],
        "labour": ["该字段是必填项。"],
    }
    assert english.json() == {
        "name": ["This field may not be blank."],
        "relation": ['"儿子" is not a valid choice.'],
        "labour": ["This field is required."],
    }


def test_service_errors_come_back_per_field(users, records):
    response = client_for(users["staff"]).post(
        f"{API}persons/",
        {
            "id_number": "431302199001011235",
            "name": "李",
            "household": "H001",
            "relation": "子女",
            "labour": "无劳动力",
        },
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["id_number"]
    assert "校验位" in response.json()["id_number"][0]


def test_a_masked_id_number_in_a_patch_is_ignored(users, records):
    head = records["head"]
    client = client_for(users["staff"])

    response = client.patch(
        f"{API}persons/{head.pk}/", {"id_number": masked(HEAD_ID), "work_place": "长沙"}, format="json"
    )

    assert response.status_code == 200, response.json()
    head.refresh_from_db()
    assert head.work_place == "长沙"
    assert response.json()["id_number"] == HEAD_ID
    assert [entry.action for entry in api_history("person", head.pk)] == ["update"]


def test_a_different_full_id_number_in_a_patch_is_a_recorded_correction(users, records):
    head = records["head"]
    response = client_for(users["staff"]).patch(f"{API}persons/{head.pk}/", {"id_number": NEW_ID}, format="json")

    assert response.status_code == 200
    assert response.json()["id_number"] == NEW_ID
    assert [entry.action for entry in api_history("person", head.pk)] == ["correct_id"]


def test_county_official_may_not_patch_persons(users, records):
    head = records["head"]
    response = client_for(users["county"]).patch(f"{API}persons/{head.pk}/", {"name": "改"}, format="json")

    assert response.status_code == 403
    head.refresh_from_db()
    assert head.name == "张三"


def test_foreign_person_answers_404(users, records):
    client = client_for(users["staff"])
    foreign = records["foreign_person"]

    assert client.get(f"{API}persons/{foreign.pk}/").status_code == 404
    assert client.patch(f"{API}persons/{foreign.pk}/", {"name": "改"}, format="json").status_code == 404
    assert client.get(f"{API}persons/", {"household": "H900"}).json()["results"] == []
    created = client.post(
        f"{API}persons/",
        {"id_number": NEW_ID, "name": "X", "household": "H900", "relation": "子女", "labour": "无劳动力"},
        format="json",
    )
    assert created.status_code == 400
    assert created.json() == {"household": ["户编号“H900”不存在，请核对。"]}


# --- incomes -------------------------------------------------------------------------------------


def test_incomes_create_retrieve_patch(users, records):
    client = client_for(users["village"])

    created = client.post(
        f"{API}incomes/", {"household": "H001", "year": 2024, "size": 3, "per_capita_income": "9800.5"}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["per_capita_income"] == "9800.50"

    assert client.get(f"{API}incomes/H001/2025/").json()["per_capita_income"] == "12345.50"
    patched = client.patch(f"{API}incomes/H001/2024/", {"size": 4}, format="json")

    assert patched.status_code == 200
    income = Income.objects.get(household__code="H001", year=2024)
    assert (income.size, income.per_capita_income) == (4, 980_050)
    again = client.post(
        f"{API}incomes/", {"household": "H001", "year": 2024, "size": 3, "per_capita_income": "1"}, format="json"
    )
    assert again.status_code == 400
    assert list(again.json()) == ["year"]
    assert client.get(f"{API}incomes/H900/2025/").status_code == 404
    assert [row["year"] for row in client.get(f"{API}incomes/", {"household": "H001"}).json()["results"]] == [
        2024,
        2025,
    ]


# --- petitions -----------------------------------------------------------------------------------


def test_grievances_create_and_county_official_closes(users, records):
    staff = client_for(users["staff"])
    created = staff.post(
        f"{API}grievances/",
        {"household": "H001", "received_on": "2026-01-10", "status": "办理中", "topic": "就业", "content": "求职"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    code = created.json()["code"]
    assert created.json()["village"] == "431302001001"

    county = client_for(users["county"])
    forbidden = county.patch(f"{API}grievances/{code}/", {"content": "改"}, format="json")
    closed = county.patch(
        f"{API}grievances/{code}/",
        {"status": "已办结", "resolved_on": "2026-01-20", "resolved_in_village": True},
        format="json",
    )

    assert forbidden.status_code == 403
    assert closed.status_code == 200, closed.json()
    grievance = Grievance.objects.get(code=code)
    assert (grievance.status, grievance.content) == ("已办结", "求职")
    missing_date = staff.patch(f"{API}grievances/XF001/", {"status": "已办结"}, format="json")
    assert missing_date.status_code == 400
    assert missing_date.json() == {"resolved_on": ["已办结的事项必须填写办结日期。"]}


# --- follow-up actions ---------------------------------------------------------------------------


def test_actions_create_with_a_member_and_patch(users, records):
    client = client_for(users["staff"])
    created = client.post(
        f"{API}actions/",
        {"household": "H001", "person": HEAD_ID, "kind": "医疗保障", "description": "办医保", "owner": "王"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["person"], body["status"], body["household"]) == (HEAD_ID, "待办", "H001")

    masked_view = client_for(users["county"]).get(f"{API}actions/{body['code']}/").json()
    assert masked_view["person"] == masked(HEAD_ID)

    done = client_for(users["county"]).patch(
        f"{API}actions/{body['code']}/", {"status": "已完成", "person": masked(HEAD_ID)}, format="json"
    )
    assert done.status_code == 200, done.json()
    action = FollowUpAction.objects.get(code=body["code"])
    assert (action.status, action.person_id) == ("已完成", records["head"].pk)
    assert action.done_on is not None

    stranger = client.post(
        f"{API}actions/",
        {"household": "H001", "person": FOREIGN_ID, "description": "x", "owner": "王"},
        format="json",
    )
    assert stranger.status_code == 400
    assert stranger.json() == {"person": ["该成员不属于此户。"]}


# --- finance -------------------------------------------------------------------------------------


def test_finance_county_writes_its_own_county_and_city_finance_bureau_any(users, records, areas):
    county = client_for(users["county"])
    patched = county.patch(f"{API}finance/431302/2025/", {"asset_proceeds": "200.00"}, format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["asset_proceeds"] == "200.00"
    finance = CountyFinance.objects.get(county__code="431302", year=2025)
    assert finance.asset_proceeds == 20_000
    entry = HistoryEntry.objects.get(entity="countyfinance", object_id=finance.pk)
    assert (entry.channel, entry.county_code, entry.before, entry.after) == (
        "api",
        "431302",
        {"asset_proceeds": 10_000},
        {"asset_proceeds": 20_000},
    )

    payload = {
        "county": "431321",
        "year": 2025,
        "asset_proceeds": "100",
        "proceeds_to_households": "50",
        "linkage_funds": "1000",
        "linkage_to_relocation": "100",
    }
    foreign = county.post(f"{API}finance/", payload, format="json")
    assert foreign.status_code == 400
    assert foreign.json() == {"county": ["区划代码“431321”不存在或不是县级，请核对。"]}

    created = client_for(users["finance"]).post(f"{API}finance/", payload, format="json")
    assert created.status_code == 201, created.json()

    assert (
        client_for(users["bureau"]).post(f"{API}finance/", {**payload, "year": 2024}, format="json").status_code == 403
    )
    assert (
        client_for(users["staff"]).post(f"{API}finance/", {**payload, "year": 2024}, format="json").status_code == 403
    )
    assert not CountyFinance.objects.filter(year=2024).exists()
    assert county.get(f"{API}finance/431321/2025/").status_code == 404
    too_much = county.patch(f"{API}finance/431302/2025/", {"proceeds_to_households": "999"}, format="json")
    assert too_much.status_code == 400
    assert too_much.json() == {"proceeds_to_households": ["收益用于搬迁户后扶的金额不能大于盘活资产收益。"]}


# --- indicators ----------------------------------------------------------------------------------


def test_indicator_catalogue(users):
    body = client_for(users["staff"]).get(f"{API}indicators/").json()

    assert body["count"] == len(body["results"]) or body["next"]
    first = body["results"][0]
    assert (first["code"], first["measure"], first["kind"]) == ("M1-1", 1, "rate")
    assert client_for(users["staff"]).get(f"{API}indicators/M6-3/").json()["name"]


def test_indicator_values_filters_scope_and_failing_list_masked(users, records):
    compute("2025", as_of=datetime.date(2025, 12, 31))
    county = client_for(users["county"])

    values = county.get(
        f"{API}indicator-values/", {"period": "2025", "level": "county", "area": "431302", "indicator": "M6-3"}
    ).json()["results"]
    assert len(values) == 1
    value = values[0]
    assert (value["level"], value["area"], value["indicator"], value["period"]) == ("county", "431302", "M6-3", "2025")
    assert (value["numerator"], value["denominator"], value["met"]) == (0, 2, "false")

    failing = county.get(f"{API}indicator-values/{value['id']}/failing/").json()
    assert failing["count"] == 2
    rows = {row["household"]: row for row in failing["results"]}
    assert rows["H001"]["id_number"] == masked(HEAD_ID)
    assert rows["H001"]["type"] == "person"

    staff = client_for(users["staff"])
    assert staff.get(f"{API}indicator-values/{value['id']}/").status_code == 404  # the county row
    township = staff.get(f"{API}indicator-values/", {"level": "township", "indicator": "M6-3"}).json()["results"]
    assert [row["area"] for row in township] == ["431302001"]
    staff_failing = staff.get(f"{API}indicator-values/{township[0]['id']}/failing/").json()
    assert [row["id_number"] for row in staff_failing["results"]] == [HEAD_ID]
    city_value = IndicatorValue.objects.get(period__key="2025", level="city", indicator__code="M6-3")
    assert county.get(f"{API}indicator-values/{city_value.pk}/failing/").status_code == 404
    assert county.get(f"{API}indicator-values/", {"level": "region"}).status_code == 400


def test_assessment_without_a_stored_result_is_a_json_404(users):
    response = client_for(users["admin"]).get(f"{API}assessments/2025/")

    assert response.status_code == 404
    assert response.json() == {"detail": "尚无 2025 年度的考核结果。"}


# --- imports -------------------------------------------------------------------------------------


def _csv(text: str, name: str = "households.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_import_dry_run_then_confirm(users, records, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(users["staff"])
    upload = _csv("户编号,户主姓名,现居村社区代码,户类型\nH050,周九,431302001001,同步搬迁户\n")

    # The dry run and the import are tasks queued on commit (run in-process without a broker).
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(f"{API}imports/", {"kind": "households", "file": upload}, format="multipart")

    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "uploaded"
    job = client.get(f"{API}imports/{created.json()['id']}/").json()
    assert (job["status"], job["created_count"], job["errors"]) == ("previewed", 1, [])
    assert not Household.objects.filter(code="H050").exists()

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"{API}imports/{job['id']}/confirm/")
    assert confirmed.status_code == 200, confirmed.json()
    assert client.get(f"{API}imports/{job['id']}/").json()["status"] == "done"
    assert Household.objects.filter(code="H050").exists()
    assert ImportJob.objects.get(pk=job["id"]).stored_file == ""
    assert list(tmp_path.glob("imports/*")) == []
    assert client.get(f"{API}imports/{job['id']}/").json()["progress"] == 100
    assert client_for(users["other_staff"]).get(f"{API}imports/{job['id']}/").status_code == 404


def test_import_with_row_errors_reports_them_and_writes_nothing(
    users, records, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    upload = _csv("户编号,户主姓名,现居村社区代码,户类型\nH051,周九,431302002001,同步搬迁户\n")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(users["staff"]).post(f"{API}imports/", {"kind": "households", "file": upload})

    assert response.status_code == 201
    job = client_for(users["staff"]).get(f"{API}imports/{response.json()['id']}/").json()
    assert job["status"] == "invalid"
    assert [(error["row"], error["column"]) for error in job["errors"]] == [(2, "现居村社区代码")]
    assert not Household.objects.filter(code="H051").exists()
    assert client_for(users["staff"]).post(f"{API}imports/{job['id']}/confirm/").status_code == 400


def test_import_of_a_kind_the_role_may_not_import_is_403(users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = _csv("区划代码,名称,级别,上级代码\n431302001009,新村,村,431302001\n", "areas.csv")

    response = client_for(users["village"]).post(f"{API}imports/", {"kind": "areas", "file": upload})

    assert response.status_code == 403
    assert not Area.objects.filter(code="431302001009").exists()


# --- schema and docs -----------------------------------------------------------------------------


def test_schema_endpoint_serves_openapi_with_error_responses(users):
    response = client_for(None).get(f"{API}schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    operation = schema["paths"]["/api/v1/households/{code}/"]["patch"]
    assert {"200", "400", "401", "403", "404"} <= set(operation["responses"])


def test_swagger_docs_page_uses_only_local_files_and_no_inline_script(users):
    client = client_for(None)
    page = client.get(f"{API}docs/")

    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, sources
    assert all(source.startswith("/") for source in sources), sources
    assert "<script>" not in html
    assert "<style>" not in html
    assert "script-src 'self'" in page["Content-Security-Policy"]
    script = client.get(f"{API}docs/", {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_redoc_page_uses_only_local_files(users):
    page = client_for(None).get(f"{API}redoc/")

    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html)
    assert sources, sources
    assert all(source.startswith("/") for source in sources), sources
    assert "<script>" not in html


def test_token_endpoint_shares_the_login_lockout(users):
    client = APIClient()
    for _ in range(5):
        client.post(f"{API}auth/token/", {"username": "zhen", "password": "wrong"}, format="json")

    locked = client.post(f"{API}auth/token/", {"username": "zhen", "password": "pw-Loudi-2026"}, format="json")

    assert locked.status_code in (400, 403, 429)
    assert not ApiToken.objects.filter(user=users["staff"]).exists()
