"""Issue 17, findings 9, 10, 14, 18 and 21: one set of validators for forms, the API and imports —
normalised digits, code whitelists, sane values, automatic action numbers that cannot be squatted,
and area codes that carry their parent's prefix."""

import datetime
import importlib
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role, User
from areas.choices import AreaLevel
from areas.models import Area
from core.text import normalise_text
from households import services
from households.models import (
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Household,
    Income,
    Person,
)
from households.validators import validate_id_number, validate_record_code
from tests.factories import AreaFactory, UserFactory, make_id
from tests.import_files import run_command, write_csv

pytestmark = pytest.mark.django_db

API = "/api/v1/"
TODAY = timezone.localdate()
FAR_FUTURE = "2099-01-01"
HEAD_ID = make_id("43130219800101001")
FULL_WIDTH = {ord(digit): chr(0xFF10 + int(digit)) for digit in "0123456789"}
ARABIC_INDIC = {ord(digit): chr(0x0660 + int(digit)) for digit in "0123456789"}
# The bypass of the review: look-alike digits in the first 17 places, the check digit as typed in ASCII.
WIDE_ID = HEAD_ID[:17].translate(FULL_WIDTH) + HEAD_ID[17]
ARABIC_ID = HEAD_ID[:17].translate(ARABIC_INDIC) + HEAD_ID[17]
PERSON_HEADERS = ["身份证号", "姓名", "户编号", "与户主关系", "劳动能力", "就业信息更新日期"]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    other_county = AreaFactory.county(code="431321", name="双峰县", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    far_township = AreaFactory.township(code="431321100", name="永丰镇", parent=other_county)
    AreaFactory.village(code="431302001001", name="A社区", parent=township)
    AreaFactory.village(code="431321100200", name="D村", parent=far_township)
    staff = UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=township)
    admin = UserFactory.create(username="admin", role=Role.CITY_ADMIN, area=city)
    household = services.household_register(
        actor=staff, code="H01", village_code="431302001001", data={"head_name": "张一", "category": "建档立卡户"}
    )
    head = services.person_create(
        actor=staff,
        household=household,
        id_number=HEAD_ID,
        data={"name": "张一", "relation": "户主", "labour": "无劳动力"},
    )
    return {"staff": staff, "admin": admin, "household": household, "head": head, "township": township}


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def import_as(user: str, kind: str, path) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    status, out, err = run_command("import_data", kind, str(path), "--user", user)
    return status, out + err


# -- finding 9: one spelling per ID, code and number ------------------------------------------


# issue 17 finding 9
@pytest.mark.parametrize(
    "typed",
    [
        HEAD_ID.translate(FULL_WIDTH),
        HEAD_ID.translate(ARABIC_INDIC),
        WIDE_ID,
        ARABIC_ID,
        "\u200b" + HEAD_ID[:9] + "\u200d" + HEAD_ID[9:] + "\ufeff",
        "\u00a0" + HEAD_ID + "\u3000",
    ],
)
def test_look_alike_digits_and_invisible_characters_normalise_to_the_ascii_id(typed):
    # issue 17 finding 9
    assert validate_id_number(typed) == HEAD_ID


# issue 17 finding 9
def test_what_is_still_not_ascii_digits_is_refused_as_an_id():
    for typed in (HEAD_ID[:17].replace("1", "一") + HEAD_ID[17], HEAD_ID[:17] + "ß", "٣" * 3 + "四" * 15):
        with pytest.raises(ValidationError):
            validate_id_number(typed)
    assert normalise_text("４３１３\u200b０２") == "431302"


# issue 17 finding 9
def test_full_width_id_cannot_register_the_same_person_again_through_the_form(client, world):
    client.force_login(world["staff"])
    other = services.household_register(
        actor=world["staff"],
        code="H02",
        village_code="431302001001",
        data={"head_name": "李四", "category": "建档立卡户"},
    )
    form = {"id_number": WIDE_ID, "name": "张一", "relation": "户主", "labour": "无劳动力"}
    form |= {"employment": "未就业", "schooling": "非在校"}
    response = client.post(reverse("person_create", args=[other.code]), form)
    assert response.status_code == 200
    assert "该身份证号已在系统中登记" in response.content.decode()
    assert Person.objects.count() == 1


# issue 17 finding 9
def test_arabic_indic_id_cannot_register_the_same_person_again_through_the_api(world):
    services.household_register(
        actor=world["staff"],
        code="H02",
        village_code="431302001001",
        data={"head_name": "李四", "category": "建档立卡户"},
    )
    body = {"id_number": ARABIC_ID, "name": "张一", "household": "H02"}
    body |= {"relation": "户主", "labour": "无劳动力"}
    response = api(world["staff"]).post(f"{API}persons/", body, format="json")
    assert response.status_code == 400, response.content
    assert "id_number" in response.json()
    assert Person.objects.count() == 1


# issue 17 finding 9
def test_full_width_id_in_an_import_matches_the_existing_person(world, tmp_path):
    services.household_register(
        actor=world["staff"],
        code="H02",
        village_code="431302001001",
        data={"head_name": "李四", "category": "建档立卡户"},
    )
    row = [WIDE_ID, "张一", "ＨＯ２".replace("Ｏ", "0"), "户主", "无劳动力", ""]
    status, out = import_as("zhen", "persons", write_csv(tmp_path / "p.csv", PERSON_HEADERS, [row]))
    assert status == 1, out
    assert "已登记在户 H01" in out, out
    assert Person.objects.count() == 1


# -- finding 10: code whitelists ---------------------------------------------------------------


# issue 17 finding 10
@pytest.mark.parametrize("code", ["0/", "G/1", "A/1", "H 01", "<b>", "户01", "H01?x", "../H01", "-H01"])
def test_record_codes_outside_the_whitelist_are_refused(code):
    with pytest.raises(ValidationError):
        validate_record_code(code)


# issue 17 finding 10
def test_look_alike_codes_normalise_to_the_whitelisted_code():
    assert validate_record_code("Ｈ０１") == "H01"
    assert validate_record_code("H\u200b01\u200e") == "H01"
    assert validate_record_code("TZ2025-001") == "TZ2025-001"


# issue 17 finding 10
def test_household_form_refuses_a_slash_code_and_a_look_alike_of_an_existing_code(client, world):
    client.force_login(world["staff"])
    form = {"head_name": "周九", "village": "431302001001", "category": "同步搬迁户", "monitoring": "无"}
    form |= {"housing_hazard": "无", "safety_net": "无", "members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "0"}
    form |= {"members-MIN_NUM_FORMS": "1", "members-MAX_NUM_FORMS": "1000"}
    member = {"members-0-id_number": make_id("43130219900303005")}
    member |= {"members-0-name": "周九", "members-0-relation": "户主", "members-0-labour": "无劳动力"}
    member |= {"members-0-employment": "未就业", "members-0-schooling": "非在校"}
    for code, message in (("0/", "编号只能由英文字母"), ("H\u200b01", "该户编号已在系统中登记")):
        response = client.post(reverse("household_create"), {**form, **member, "code": code})
        assert response.status_code == 200
        assert message in response.content.decode()
    assert list(Household.objects.values_list("code", flat=True)) == ["H01"]


# issue 17 finding 10
def test_api_refuses_slash_codes_for_households_petitions_and_actions(world):
    client = api(world["staff"])
    household = {"code": "0/", "head_name": "周九", "village": "431302001001", "category": "建档立卡户"}
    assert client.post(f"{API}households/", household, format="json").status_code == 400
    grievance = {"code": "G/1", "household": "H01", "village": "431302001001", "received_on": "2026-03-01"}
    grievance |= {"status": "办理中"}
    assert client.post(f"{API}grievances/", grievance, format="json").status_code == 400
    action = {"code": "A/1", "household": "H01", "description": "联系就业", "owner": "李四"}
    assert client.post(f"{API}actions/", action, format="json").status_code == 400
    assert not Household.objects.filter(code="0/").exists()
    assert not Grievance.objects.exists()
    assert not FollowUpAction.objects.exists()


# issue 17 finding 10
def test_imports_refuse_slash_codes(world, tmp_path):
    headers = ["户编号", "户主姓名", "现居村社区代码", "户类型"]
    path = write_csv(tmp_path / "h.csv", headers, [["0/", "周九", "431302001001", "建档立卡户"]])
    status, out = import_as("zhen", "households", path)
    assert status == 1, out
    assert "row 2, 户编号: 编号只能由英文字母" in out, out
    headers = ["事项编号", "户编号", "所在村社区代码", "受理日期", "办理状态", "办结日期"]
    path = write_csv(tmp_path / "g.csv", headers, [["G/1", "H01", "431302001001", "2026-03-01", "办理中", ""]])
    status, out = import_as("zhen", "grievances", path)
    assert status == 1, out
    assert "row 2, 事项编号:" in out, out
    headers = ["台账编号", "户编号", "措施内容", "责任人", "完成日期"]
    path = write_csv(tmp_path / "a.csv", headers, [["A/1", "H01", "联系就业", "李四", ""]])
    status, out = import_as("zhen", "actions", path)
    assert status == 1, out
    assert "row 2, 台账编号:" in out, out
    assert Household.objects.count() == 1
    assert not Grievance.objects.exists()
    assert not FollowUpAction.objects.exists()


# issue 17 finding 10
def test_a_stored_slash_code_no_longer_breaks_the_household_list(client, world):
    legacy = Household.objects.create(
        code="0/",
        head_name="旧数据",
        village=world["household"].village,
        category="建档立卡户",
        county_code="431302",
        township_code="431302001",
        village_code="431302001001",
    )
    client.force_login(world["staff"])
    response = client.get(reverse("household_list"))
    assert response.status_code == 200
    link = reverse("household_detail", args=[legacy.code])
    assert "%252F" in link
    assert client.get(link).status_code == 200


# issue 17 finding 10
def test_migration_repairs_stored_codes_and_records_each_change(world):
    village = world["household"].village
    path = {"county_code": "431302", "township_code": "431302001", "village_code": "431302001001"}
    slash = Household.objects.create(code="0/", head_name="甲", village=village, category="建档立卡户", **path)
    wide = Household.objects.create(code="Ｈ０２", head_name="乙", village=village, category="建档立卡户", **path)
    clash = Household.objects.create(code="H\u200b01", head_name="丙", village=village, category="建档立卡户", **path)
    grievance = Grievance.objects.create(
        code="G/1", village=village, received_on=datetime.date(2026, 3, 1), status="办理中", **path
    )
    action = FollowUpAction.objects.create(code="A/1", household=slash, description="x", owner="y", **path)
    migration = importlib.import_module("households.migrations.0005_codes_whitelist")
    # The migration runs on the models as they were then (Area still in households).
    then = MigrationExecutor(connection).loader.project_state(("households", "0005_codes_whitelist")).apps
    migration.repair_record_codes(then, None)
    for record in (slash, wide, clash, grievance, action):
        record.refresh_from_db()
    assert (slash.code, wide.code, grievance.code, action.code) == ("0", "H02", "G-1", "A-1")
    assert clash.code == f"H-FIX-{clash.pk}"  # H01 is taken by another household
    entry = HistoryEntry.objects.get(entity="household", object_id=clash.pk)
    assert entry.before == {"code": "H\u200b01"}
    assert entry.after == {"code": clash.code}
    assert entry.channel == "system"
    assert HistoryEntry.objects.filter(channel="system").count() == 5


# -- finding 14: automatic action numbers ------------------------------------------------------


# issue 17 finding 14
def test_automatic_action_numbers_come_from_the_database_counter_and_skip_squatted_codes(world):
    household = world["household"]
    prefix = f"TZ{TODAY:%Y%m%d}"
    with connection.cursor() as cursor:  # what the counter will hand out next, squatted beforehand
        if connection.vendor == "postgresql":
            cursor.execute("SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM households_action_number")
        else:
            cursor.execute("SELECT value + 1 FROM households_action_number WHERE id = 1")
        upcoming = cursor.fetchone()[0]
    FollowUpAction.objects.create(
        code=f"{prefix}{upcoming:06d}",
        household=household,
        description="抢占",
        owner="x",
        county_code="431302",
        township_code="431302001",
        village_code="431302001001",
    )
    data = {"description": "联系就业", "owner": "李四"}
    first = services.action_create(actor=world["staff"], household=household, data=dict(data))
    second = services.action_create(actor=world["staff"], household=household, data=dict(data))
    assert re.fullmatch(rf"{prefix}\d{{6,}}", first.code)
    assert first.code != f"{prefix}{upcoming:06d}"
    assert int(second.code[len(prefix) :]) == int(first.code[len(prefix) :]) + 1


# issue 17 finding 14
def test_user_chosen_action_codes_may_not_take_the_automatic_pattern(world, tmp_path):
    reserved = f"TZ{TODAY:%Y%m%d}0001"
    with pytest.raises(ValidationError) as error:
        services.action_create(
            actor=world["staff"],
            household=world["household"],
            data={"code": reserved, "description": "x", "owner": "y"},
        )
    assert "自动生成" in str(error.value)
    body = {"code": reserved, "household": "H01", "description": "联系就业", "owner": "李四"}
    response = api(world["staff"]).post(f"{API}actions/", body, format="json")
    assert response.status_code == 400
    assert "自动生成" in response.content.decode()
    headers = ["台账编号", "户编号", "措施内容", "责任人", "完成日期"]
    status, out = import_as(
        "zhen", "actions", write_csv(tmp_path / "a.csv", headers, [[reserved, "H01", "x", "y", ""]])
    )
    assert status == 1, out
    assert "row 2, 台账编号: " in out, out
    assert "自动生成" in out, out
    assert not FollowUpAction.objects.exists()
    # Other codes (the worked example's TZ2025-001) stay free to choose.
    action = services.action_create(
        actor=world["staff"],
        household=world["household"],
        data={"code": "TZ2025-001", "description": "x", "owner": "y"},
    )
    assert action.code == "TZ2025-001"


# issue 17 finding 14
def test_an_existing_automatic_code_can_still_be_updated_by_import(world, tmp_path):
    action = services.action_create(
        actor=world["staff"], household=world["household"], data={"description": "x", "owner": "y"}
    )
    headers = ["台账编号", "户编号", "措施内容", "责任人", "完成日期"]
    path = write_csv(tmp_path / "a.csv", headers, [[action.code, "H01", "新的措施", "y", ""]])
    status, out = import_as("zhen", "actions", path)
    assert status == 0, out
    action.refresh_from_db()
    assert action.description == "新的措施"


# -- finding 18: sane values -------------------------------------------------------------------


# issue 17 finding 18
def test_forms_refuse_absurd_sizes_dates_and_indicator_codes(client, world):
    client.force_login(world["staff"])
    response = client.post(
        reverse("income_create", args=["H01"]), {"year": 2025, "size": 40000, "per_capita_income": "1"}
    )
    assert response.status_code == 200
    assert "家庭人口数应为 1–99" in response.content.decode()
    grievance = {"received_on": FAR_FUTURE, "topic": "住房", "status": "办理中"}
    response = client.post(reverse("grievance_create", args=["H01"]), grievance)
    assert response.status_code == 200
    assert "晚于今天" in response.content.decode()
    action = {
        "kind": "就业帮扶",
        "description": "推荐岗位",
        "owner": "刘干事",
        "status": "已完成",
        "done_on": "1900-01-01",
    }
    response = client.post(reverse("action_create", args=["H01"]), action)
    assert response.status_code == 200
    assert "早于 2000-01-01" in response.content.decode()
    action |= {"done_on": TODAY.isoformat(), "indicator": "<b>x</b>"}
    response = client.post(reverse("action_create", args=["H01"]), action)
    assert response.status_code == 200
    assert "指标目录" in response.content.decode()
    head = world["head"]
    person = {"name": "张一", "relation": "户主", "labour": "普通劳动力", "status": "正常", "employment": "未就业"}
    person |= {"schooling": "非在校", "employment_checked_on": FAR_FUTURE}
    response = client.post(reverse("person_edit", args=["H01", head.pk]), person)
    assert response.status_code == 200
    assert "晚于今天" in response.content.decode()
    assert not Income.objects.exists()
    assert not Grievance.objects.exists()
    assert not FollowUpAction.objects.exists()
    head.refresh_from_db()
    assert head.employment_checked_on is None


# issue 17 finding 18
def test_api_refuses_absurd_dates_and_indicator_codes(world):
    client = api(world["staff"])
    grievance = {"household": "H01", "village": "431302001001", "received_on": FAR_FUTURE, "status": "办理中"}
    response = client.post(f"{API}grievances/", grievance, format="json")
    assert response.status_code == 400
    assert "received_on" in response.json()
    action = {"household": "H01", "description": "x", "owner": "y", "status": "已完成", "done_on": "1900-01-01"}
    response = client.post(f"{API}actions/", action, format="json")
    assert response.status_code == 400
    assert "done_on" in response.json()
    action = {"household": "H01", "description": "x", "owner": "y", "indicator": "<b>x</b>"}
    response = client.post(f"{API}actions/", action, format="json")
    assert response.status_code == 400
    assert "indicator" in response.json()
    response = client.patch(f"{API}persons/{world['head'].pk}/", {"employment_checked_on": FAR_FUTURE}, format="json")
    assert response.status_code == 400
    assert "employment_checked_on" in response.json()
    assert not Grievance.objects.exists()
    assert not FollowUpAction.objects.exists()


# issue 17 finding 18
def test_services_refuse_what_forms_and_api_refuse(world):
    with pytest.raises(ValidationError) as error:
        services.income_set(
            actor=world["staff"], household=world["household"], year=2025, size=40000, per_capita_income_fen=100
        )
    assert "size" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.action_create(
            actor=world["staff"],
            household=world["household"],
            data={"description": "x", "owner": "y", "due_on": datetime.date(2099, 1, 1)},
        )
    assert "due_on" in error.value.message_dict
    action = services.action_create(
        actor=world["staff"],
        household=world["household"],
        data={"description": "x", "owner": "y", "indicator": "M3-2", "due_on": TODAY + datetime.timedelta(days=90)},
    )
    assert action.indicator == "M3-2"


# issue 17 finding 18
def test_imports_refuse_absurd_sizes_dates_and_indicator_codes(world, tmp_path):
    cases = [
        ("incomes", ["户编号", "年度", "家庭人口数", "人均可支配收入"], ["H01", "2025", "40000", "100"], "家庭人口数"),
        (
            "grievances",
            ["事项编号", "户编号", "所在村社区代码", "受理日期", "办理状态", "办结日期"],
            ["G1", "H01", "431302001001", FAR_FUTURE, "办理中", ""],
            "受理日期",
        ),
        (
            "actions",
            ["台账编号", "户编号", "措施内容", "责任人", "办理状态", "完成日期"],
            ["A1", "H01", "x", "y", "已完成", "1900-01-01"],
            "完成日期",
        ),
        (
            "actions",
            ["台账编号", "户编号", "措施内容", "责任人", "指标代码", "完成日期"],
            ["A1", "H01", "x", "y", "<b>x</b>", ""],
            "指标代码",
        ),
        (
            "persons",
            PERSON_HEADERS,
            [HEAD_ID, "张一", "H01", "户主", "普通劳动力", FAR_FUTURE],
            "就业信息更新日期",
        ),
    ]
    for kind, headers, row, column in cases:
        status, out = import_as("zhen", kind, write_csv(tmp_path / f"{kind}.csv", headers, [row]))
        assert status == 1, (kind, out)
        assert f"row 2, {column}: " in out, (kind, out)
    assert not Income.objects.exists()
    assert not Grievance.objects.exists()
    assert not FollowUpAction.objects.exists()


# -- finding 21: area codes carry their parent's prefix ----------------------------------------

AREA_HEADERS = ["区划代码", "名称", "级别", "上级代码"]


# issue 17 finding 21
def test_township_cannot_import_a_village_with_another_countys_prefix(world, tmp_path):
    path = write_csv(tmp_path / "a.csv", AREA_HEADERS, [["431321001009", "X村", "村", "431302001"]])
    status, out = import_as("zhen", "areas", path)
    assert status == 1, out
    assert "row 2, 区划代码: " in out, out
    assert "上级区划代码开头" in out, out
    assert not Area.objects.filter(code="431321001009").exists()
    ok = write_csv(tmp_path / "b.csv", AREA_HEADERS, [["431302001009", "Y村", "村", "431302001"]])
    assert import_as("zhen", "areas", ok)[0] == 0


# issue 17 finding 21
def test_area_import_errors_name_no_other_area(world, tmp_path):
    # D村 (431321100200) lies in another county: its parent must not be named, nor its level.
    path = write_csv(tmp_path / "a.csv", AREA_HEADERS, [["431321100200", "D村", "村", "431302001"]])
    status, out = import_as("zhen", "areas", path)
    assert status == 1, out
    assert "431321100" not in out.replace("431321100200", ""), out
    assert "已在系统中登记" in out or "上级区划代码开头" in out
    path = write_csv(tmp_path / "b.csv", AREA_HEADERS, [["431321100201", "E村", "村", "431321100"]])
    status, out = import_as("zhen", "areas", path)
    assert status == 1, out
    assert "永丰镇" not in out, out
    assert "乡镇级" not in out, out


# issue 17 finding 21
def test_city_admin_import_and_model_clean_check_the_prefix(world, tmp_path):
    path = write_csv(tmp_path / "a.csv", AREA_HEADERS, [["431321200", "Z镇", "乡镇", "431302"]])
    status, out = import_as("admin", "areas", path)
    assert status == 1, out
    assert "上级区划代码开头" in out, out
    area = Area(code="431321001009", name="X村", level=AreaLevel.VILLAGE, parent=world["township"])
    with pytest.raises(ValidationError) as error:
        area.full_clean()
    assert "code" in error.value.message_dict
    Area(code="431302001009", name="Y村", level=AreaLevel.VILLAGE, parent=world["township"]).full_clean()
