"""User administration, history visibility and one-record unmasking (access.md)."""

import pytest
from django.contrib.auth.models import Permission

from accounts.models import PersonalDataAccess, Role, User
from households import services
from tests.factories import AreaFactory, UserFactory, make_id

pytestmark = pytest.mark.django_db
ID = make_id("43130219800101001")


@pytest.fixture
def tree():
    city = AreaFactory.city()
    made = {"city": city}
    for county_code, name in (("431302", "娄星区"), ("431321", "双峰县")):
        county = AreaFactory.county(code=county_code, name=name, parent=city)
        township = AreaFactory.township(code=county_code + "001", name=name + "一镇", parent=county)
        village = AreaFactory.village(code=county_code + "001001", name=name + "一村", parent=township)
        made[county_code] = (county, township, village)
    return made


def test_city_admin_creates_a_user_with_role_and_area(client, tree):
    client.force_login(UserFactory.create(username="admin", role=Role.CITY_ADMIN, area=tree["city"]))
    response = client.post(
        "/users/new/",
        {
            "username": "li",
            "full_name": "李四",
            "role": Role.TOWNSHIP_STAFF,
            "area_code": "431302001",
            "password": "Loudi-2026-strong",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="li")
    assert (created.role, created.area.code, created.check_password("Loudi-2026-strong")) == (
        Role.TOWNSHIP_STAFF,
        "431302001",
        True,
    )


def test_user_form_errors_are_chinese_and_keep_the_typed_values(client, tree):
    client.force_login(UserFactory.create(username="admin", role=Role.CITY_ADMIN, area=tree["city"]))
    response = client.post(
        "/users/new/",
        {
            "username": "li",
            "full_name": "李四",
            "role": Role.TOWNSHIP_STAFF,
            "area_code": "431302001001",
            "password": "Loudi-2026-strong",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "不存在或不是乡镇级" in body
    assert 'value="李四"' in body
    assert not User.objects.filter(username="li").exists()


def test_county_official_sees_only_the_users_of_the_county_and_cannot_edit(client, tree):
    official = UserFactory.create(username="xian", role=Role.COUNTY_OFFICIAL, area=tree["431302"][0])
    UserFactory.create(username="own", role=Role.TOWNSHIP_STAFF, area=tree["431302"][1])
    foreign = UserFactory.create(username="foreign", role=Role.TOWNSHIP_STAFF, area=tree["431321"][1])
    client.force_login(official)
    body = client.get("/users/").content.decode()
    assert "own" in body
    assert "foreign" not in body
    assert client.get(f"/users/{foreign.pk}/").status_code == 404
    assert client.post("/users/new/", {"username": "x"}).status_code == 403


def test_staff_cannot_open_user_administration_or_history(client, tree):
    client.force_login(UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=tree["431302"][1]))
    assert client.get("/users/").status_code == 403
    assert client.get("/history/").status_code == 403


def test_deactivating_a_user_ends_their_session(client, tree):
    victim = UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=tree["431302"][1])
    from django.test import Client

    their_client = Client()
    their_client.force_login(victim)
    assert their_client.get("/").status_code == 200
    client.force_login(UserFactory.create(username="admin", role=Role.CITY_ADMIN, area=tree["city"]))
    client.post(f"/users/{victim.pk}/", {"full_name": "张三", "role": Role.TOWNSHIP_STAFF, "area_code": "431302001"})
    victim.refresh_from_db()
    assert victim.is_active is False
    assert their_client.get("/").status_code == 302


def test_history_is_scoped_to_the_county(client, tree):
    staff_a = UserFactory.create(username="a", role=Role.TOWNSHIP_STAFF, area=tree["431302"][1])
    staff_b = UserFactory.create(username="b", role=Role.TOWNSHIP_STAFF, area=tree["431321"][1])
    services.household_register(
        actor=staff_a, code="HA01", village_code="431302001001", data={"head_name": "甲", "category": "同步搬迁户"}
    )
    services.household_register(
        actor=staff_b, code="HB01", village_code="431321001001", data={"head_name": "乙", "category": "同步搬迁户"}
    )
    client.force_login(UserFactory.create(username="xian", role=Role.COUNTY_OFFICIAL, area=tree["431302"][0]))
    body = client.get("/history/").content.decode()
    assert "HA01" in body
    assert "HB01" not in body


def test_unmask_needs_the_permission_is_logged_and_scoped(client, tree):
    staff = UserFactory.create(username="a", role=Role.TOWNSHIP_STAFF, area=tree["431302"][1])
    household = services.household_register(
        actor=staff,
        code="HA01",
        village_code="431302001001",
        data={"head_name": "甲", "category": "同步搬迁户"},
        phone="13812345678",
    )
    person = services.person_create(
        actor=staff, household=household, id_number=ID, data={"name": "甲", "relation": "户主", "labour": "无劳动力"}
    )
    official = UserFactory.create(username="xian", role=Role.COUNTY_OFFICIAL, area=tree["431302"][0])
    client.force_login(official)
    assert client.post(f"/persons/{person.pk}/unmask/").status_code == 403
    official.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    official = User.objects.get(pk=official.pk)
    client.force_login(official)
    response = client.post(f"/persons/{person.pk}/unmask/", REMOTE_ADDR="10.1.2.3")
    assert response.json() == {"id_number": ID, "phone": "13812345678"}
    log = PersonalDataAccess.objects.get()
    assert (log.user, log.object_id, log.ip_address) == (official, person.pk, "10.1.2.3")
    other = UserFactory.create(username="other", role=Role.COUNTY_OFFICIAL, area=tree["431321"][0])
    other.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    client.force_login(User.objects.get(pk=other.pk))
    assert client.post(f"/persons/{person.pk}/unmask/").status_code == 404
    assert PersonalDataAccess.objects.count() == 1
