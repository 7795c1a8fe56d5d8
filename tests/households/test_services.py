"""Registry writes: database constraints, history, change feed and scope (data.md, access.md)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from accounts import personal_data
from accounts.models import Role
from areas.models import Area
from households import services
from households.choices import RecordStatus, Relation
from households.models import (
    ChangeFeed,
    HistoryEntry,
    Household,
    Person,
)
from tests.factories import AreaFactory, UserFactory, make_id

pytestmark = pytest.mark.django_db


HEAD_ID = make_id("43130219800101001")
SPOUSE_ID = make_id("43130219820202002")


@pytest.fixture
def areas():
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    village = AreaFactory.village(code="431302001001", name="A社区", parent=township)
    other_township = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    other_village = AreaFactory.village(code="431302002001", name="B村", parent=other_township)
    return {"city": city, "county": county, "township": township, "village": village, "other_village": other_village}


@pytest.fixture
def staff(areas):
    return UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=areas["township"])


@pytest.fixture
def household(areas, staff):
    return services.household_register(
        actor=staff,
        code="H01",
        village_code="431302001001",
        data={"head_name": "张一", "category": "建档立卡户"},
        phone="13812345678",
    )


def person_data(**overrides):
    data = {
        "name": "张一",
        "relation": Relation.HEAD,
        "labour": "普通劳动力",
        "employment_checked_on": datetime.date(2026, 1, 5),
    }
    data.update(overrides)
    return data


def test_register_copies_area_path_records_history_and_feeds_the_engine(household, staff):
    assert (household.county_code, household.township_code, household.village_code) == (
        "431302",
        "431302001",
        "431302001001",
    )
    entry = HistoryEntry.objects.get(entity="household", object_id=household.pk)
    assert entry.user == staff
    assert entry.channel == "form"
    assert entry.action == "create"
    assert entry.after["head_name"] == "张一"
    assert "13812345678" not in str(entry.after)  # the phone is kept masked only
    assert ChangeFeed.objects.count() == 1


def test_person_stores_derived_fields_and_no_plaintext_id(household, staff):
    person = services.person_create(actor=staff, household=household, id_number=HEAD_ID, data=person_data())
    row = Person.objects.filter(pk=person.pk).values().get()
    assert HEAD_ID not in str(row)
    assert row["birth_date"] == datetime.date(1980, 1, 1)
    assert row["sex"] == "男"
    assert personal_data.decrypt(row["id_number_encrypted"]) == HEAD_ID
    assert Person.objects.filter(id_number_hash=personal_data.blind_index(HEAD_ID)).get().pk == person.pk
    assert HEAD_ID not in str(list(HistoryEntry.objects.values("before", "after")))


def test_second_active_head_is_refused_by_service_and_by_the_database(household, staff):
    services.person_create(actor=staff, household=household, id_number=HEAD_ID, data=person_data())
    with pytest.raises(ValidationError) as error:
        services.person_create(actor=staff, household=household, id_number=SPOUSE_ID, data=person_data(name="李二"))
    assert "户主" in str(error.value)
    assert Person.objects.count() == 1
    # The constraint itself, bypassing the service.
    first = Person.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(
            household=household,
            id_number_hash="x",
            id_number_encrypted="x",
            name="李二",
            relation=Relation.HEAD,
            sex="女",
            birth_date=first.birth_date,
            labour="无劳动力",
        )


def test_cancelled_head_frees_the_place_for_a_new_head(household, staff):
    head = services.person_create(actor=staff, household=household, id_number=HEAD_ID, data=person_data())
    services.person_update(actor=staff, person=head, data={"status": RecordStatus.CANCELLED})
    services.person_create(actor=staff, household=household, id_number=SPOUSE_ID, data=person_data(name="李二"))
    assert Person.objects.filter(status=RecordStatus.ACTIVE, relation=Relation.HEAD).count() == 1


def test_id_number_is_unique_among_active_persons_with_the_neutral_message(household, staff):
    services.person_create(actor=staff, household=household, id_number=HEAD_ID, data=person_data())
    other = services.household_register(
        actor=staff, code="H02", village_code="431302001001", data={"head_name": "王七", "category": "同步搬迁户"}
    )
    with pytest.raises(ValidationError) as error:
        services.person_create(actor=staff, household=other, id_number=HEAD_ID, data=person_data(name="王七"))
    assert "该身份证号已在系统中登记，请联系县级管理员" in str(error.value)
    assert "H01" not in str(error.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(
            household=other,
            id_number_hash=personal_data.blind_index(HEAD_ID),
            id_number_encrypted="x",
            name="王七",
            relation=Relation.SPOUSE,
            sex="男",
            birth_date=datetime.date(1980, 1, 1),
            labour="无劳动力",
        )


def test_a_cancelled_persons_id_may_be_registered_again(household, staff):
    head = services.person_create(actor=staff, household=household, id_number=HEAD_ID, data=person_data())
    services.household_cancel(actor=staff, household=household)
    head.refresh_from_db()
    assert head.status == RecordStatus.CANCELLED  # cancelling a household cancels its members
    other = services.household_register(
        actor=staff, code="H02", village_code="431302001001", data={"head_name": "张一", "category": "建档立卡户"}
    )
    services.person_create(actor=staff, household=other, id_number=HEAD_ID, data=person_data())
    assert Person.objects.filter(id_number_hash=personal_data.blind_index(HEAD_ID)).count() == 2


def test_labour_force_person_needs_an_employment_check_date(household, staff):
    with pytest.raises(ValidationError) as error:
        services.person_create(
            actor=staff, household=household, id_number=HEAD_ID, data=person_data(employment_checked_on=None)
        )
    assert "employment_checked_on" in error.value.message_dict
    assert not Person.objects.exists()


def test_out_of_area_village_says_so_and_a_missing_one_does_not_exist(areas):
    village_staff = UserFactory.create(username="cun", role=Role.VILLAGE_STAFF, area=areas["village"])
    with pytest.raises(ValidationError) as foreign:
        services.household_register(
            actor=village_staff,
            code="H09",
            village_code="431302002001",
            data={"head_name": "某", "category": "同步搬迁户"},
        )
    with pytest.raises(ValidationError) as missing:
        services.household_register(
            actor=village_staff,
            code="H09",
            village_code="431302999999",
            data={"head_name": "某", "category": "同步搬迁户"},
        )
    # Issue 20: a village code is a public division code, so one outside the area says so (and names
    # the user's area); a missing one keeps "不存在".
    assert foreign.value.message_dict["village"] == [
        f"村代码“431302002001”不在您的管辖范围（您管辖：{areas['village'].name}），请核对代码或联系上级调整。"
    ]
    assert missing.value.message_dict["village"] == ["区划代码“431302999999”不存在或不是村级，请核对。"]
    assert not Household.objects.exists()


def test_foreign_household_is_404_and_a_read_only_role_gets_403(areas, household):
    other_staff = UserFactory.create(username="hs", role=Role.TOWNSHIP_STAFF, area=Area.objects.get(code="431302002"))
    with pytest.raises(Http404):
        services.household_update(actor=other_staff, household=household, data={"helper": "某"})
    bureau = UserFactory.create(username="rs", role=Role.CITY_BUREAU, area=areas["city"], department="市人社局")
    with pytest.raises(PermissionDenied):
        services.household_update(actor=bureau, household=household, data={"helper": "某"})
    household.refresh_from_db()
    assert household.helper == ""


def test_quick_employment_update_writes_status_date_and_history(household, staff):
    person = services.person_create(actor=staff, household=household, id_number=HEAD_ID, data=person_data())
    services.person_set_employment(
        actor=staff, person=person, employment="本地企业", checked_on=datetime.date(2026, 11, 29)
    )
    entry = HistoryEntry.objects.filter(entity="person", action="update").get()
    assert entry.before == {"employment": "未就业", "employment_checked_on": "2026-01-05"}
    assert entry.after == {"employment": "本地企业", "employment_checked_on": "2026-11-29"}


def test_transfer_moves_members_and_is_one_recorded_change(areas, household, staff):
    services.person_create(actor=staff, household=household, id_number=HEAD_ID, data=person_data())
    official = UserFactory.create(username="xian", role=Role.COUNTY_OFFICIAL, area=areas["county"])
    services.household_transfer(actor=official, household=household, village_code="431302002001")
    assert set(Person.objects.values_list("township_code", flat=True)) == {"431302002"}
    assert HistoryEntry.objects.filter(action="transfer").count() == 1


def test_a_write_notifies_the_engine_once_after_commit(household, staff, django_capture_on_commit_callbacks):
    from households import history

    calls = []
    history.CHANGE_LISTENERS.append(lambda: calls.append(1))
    # The fixture's own callback waits for the test transaction, which never commits: drop it.
    transaction.get_connection().run_on_commit.clear()
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            services.household_update(actor=staff, household=household, data={"helper": "甲"})
            services.household_update(actor=staff, household=household, data={"helper": "乙"})
        assert calls == [1]
        assert ChangeFeed.objects.count() == 3  # register + two updates: the durable records
    finally:
        history.CHANGE_LISTENERS.pop()


def test_a_county_official_closing_a_petition_cannot_rewrite_it(areas, staff):
    services.grievance_save(
        actor=staff,
        code="G1",
        village_code="431302001001",
        data={"received_on": datetime.date(2026, 1, 5), "status": "办理中", "content": "漏水"},
    )
    official = UserFactory.create(username="xian2", role=Role.COUNTY_OFFICIAL, area=areas["county"])
    closed = services.grievance_save(
        actor=official,
        code="G1",
        village_code="431302001001",
        data={"status": "已办结", "resolved_on": datetime.date(2026, 1, 9), "content": "改写的内容"},
    )
    assert (closed.status, closed.content) == ("已办结", "漏水")
    with pytest.raises(PermissionDenied):
        services.grievance_save(actor=official, code="G1", village_code="431302001001", data={"content": "再改"})
