"""Issue 20, one pass of validation: a form or an import row reports every error it has in one go —
field rules, the ID check, references and scope — and a village outside the user's area says so
("不在您的管辖范围") where a household, site or person outside it still reads like a missing one."""

import io
import re

import openpyxl
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from households import services
from households.importing import run_import
from households.models import Household, ImportJob, Person
from tests.factories import AreaFactory, UserFactory, make_id

pytestmark = pytest.mark.django_db

HEAD_ID = make_id("43130219800101001")
NEW_ID = make_id("43130219900202002")
BAD_CHECK_ID = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
OUTSIDE = "村代码“431302002001”不在您的管辖范围（您管辖：乐坪街道），请核对代码或联系上级调整。"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def areas():
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    other = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    return {
        "township": township,
        "village": AreaFactory.village(code="431302001001", name="A社区", parent=township),
        "other_village": AreaFactory.village(code="431302002001", name="B村", parent=other),
    }


@pytest.fixture
def staff(areas):
    return UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=areas["township"])


@pytest.fixture
def household(staff):
    household = services.household_register(
        actor=staff, code="H01", village_code="431302001001", data={"head_name": "张一", "category": "建档立卡户"}
    )
    services.person_create(
        actor=staff,
        household=household,
        id_number=HEAD_ID,
        data={"name": "张一", "relation": "户主", "labour": "无劳动力"},
    )
    return household


def field_errors(page: str) -> dict[str, str]:
    """Every ``<p class="field-error" id="id_<name>_error">`` of a page, by field name."""
    return dict(re.findall(r'<p class="field-error" id="id_([\w-]+)_error">(.*?)</p>', page, re.S))


def household_post(**overrides: str) -> dict[str, str]:
    data = {
        "code": "H09",
        "head_name": "周九",
        "village": "431302001001",
        "category": "同步搬迁户",
        "monitoring": "无",
        "housing_hazard": "无",
        "safety_net": "无",
        "helper": "陈帮扶",
        "members-TOTAL_FORMS": "2",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "1000",
        "members-0-id_number": NEW_ID,
        "members-0-name": "周九",
        "members-0-relation": "户主",
        "members-0-labour": "无劳动力",
        "members-0-employment": "未就业",
        "members-0-schooling": "非在校",
        "members-1-employment": "未就业",
        "members-1-schooling": "非在校",
    }
    data.update(overrides)
    return data


# --- forms --------------------------------------------------------------------------------------


def test_household_form_reports_five_errors_of_fields_id_and_service_rules_in_one_submit(client, staff):
    client.force_login(staff)
    data = household_post(
        code="H 9!",  # 户编号 format (field)
        phone="12345",  # phone (field)
        relocation_year="2999",  # after this year (field)
        **{
            "members-0-id_number": BAD_CHECK_ID,  # check digit (service)
            "members-0-labour": "普通劳动力",  # … without 就业信息更新日期 (service)
        },
    )
    response = client.post(reverse("household_create"), data)

    assert response.status_code == 200
    page = response.content.decode()
    errors = field_errors(page)
    assert set(errors) == {
        "code",
        "phone",
        "relocation_year",
        "members-0-id_number",
        "members-0-employment_checked_on",
    }
    assert "身份证号校验位不正确" in errors["members-0-id_number"]
    assert "有劳动能力的人员必须填写就业信息更新日期" in errors["members-0-employment_checked_on"]
    # The live ID check keeps its message in its own spot after the submit.
    check = re.search(
        r'<div class="id-check" id="id_members-0-id_number_check" aria-live="polite">(.*?)</div>', page, re.S
    )
    assert check
    assert "身份证号校验位不正确" in check.group(1)
    # What was typed is kept in every field.
    for typed in ('value="H 9!"', 'value="12345"', 'value="2999"', f'value="{BAD_CHECK_ID}"', 'value="陈帮扶"'):
        assert typed in page
    assert '<option value="普通劳动力" selected>' in page
    assert not Household.objects.filter(code="H09").exists()


def test_a_valid_id_keeps_its_all_clear_after_a_submit_refused_for_other_fields(client, staff):
    client.force_login(staff)
    response = client.post(reverse("household_create"), household_post(phone="12345"))

    page = response.content.decode()
    assert set(field_errors(page)) == {"phone"}
    check = re.search(r'id="id_members-0-id_number_check" aria-live="polite">(.*?)</div>', page, re.S)
    assert check
    assert "号码格式与校验位正确" in check.group(1)


def test_a_duplicate_id_and_a_taken_code_come_with_the_field_errors(client, staff, household):
    client.force_login(staff)
    data = household_post(code="H01", phone="12345", **{"members-0-id_number": HEAD_ID})
    response = client.post(reverse("household_create"), data)

    errors = field_errors(response.content.decode())
    assert set(errors) == {"code", "phone", "members-0-id_number"}
    assert "该户编号已在系统中登记" in errors["code"]
    assert "该身份证号已在系统中登记，请联系县级管理员" in errors["members-0-id_number"]
    assert Household.objects.count() == 1


def test_household_form_says_a_village_outside_the_area_is_outside_it(client, staff):
    client.force_login(staff)
    response = client.post(reverse("household_create"), household_post(village="431302002001", phone="12345"))

    errors = field_errors(response.content.decode())
    assert errors["village"] == OUTSIDE
    assert "phone" in errors
    missing = client.post(reverse("household_create"), household_post(village="431302001999"))
    assert "不存在" in field_errors(missing.content.decode())["village"]
    assert not Household.objects.filter(code="H09").exists()


def test_household_form_saves_once_everything_is_right(client, staff):
    client.force_login(staff)
    response = client.post(reverse("household_create"), household_post(phone="13900001111"))

    assert response.status_code == 302
    household = Household.objects.get(code="H09")
    assert Person.objects.get(household=household).relation == "户主"


def test_person_form_reports_field_id_and_labour_errors_together(client, staff, household):
    client.force_login(staff)
    response = client.post(
        reverse("person_create", args=["H01"]),
        {
            "id_number": "4.31321E+17",  # Excel truncated it (service)
            "name": "",  # required (field)
            "relation": "户主",  # a second 户主 (service)
            "labour": "普通劳动力",  # … without 就业信息更新日期 (service)
            "employment": "未就业",
            "schooling": "非在校",
            "trained_on": "2999-01-01",  # in the future (field)
        },
    )

    errors = field_errors(response.content.decode())
    assert set(errors) == {"id_number", "name", "relation", "employment_checked_on", "trained_on"}
    assert "Excel" in errors["id_number"]
    assert "户主" in errors["relation"]
    assert Person.objects.filter(household=household).count() == 1


def test_person_edit_reports_field_and_labour_errors_together(client, staff, household):
    client.force_login(staff)
    head = Person.objects.get(household=household)
    response = client.post(
        reverse("person_edit", args=["H01", head.pk]),
        {
            "name": "张一",
            "relation": "户主",
            "status": "正常",
            "labour": "技能劳动力",
            "employment": "未就业",
            "schooling": "非在校",
            "trained_on": "2999-01-01",
        },
    )

    assert set(field_errors(response.content.decode())) == {"employment_checked_on", "trained_on"}


def test_household_edit_reports_every_field_error_at_once(client, staff, household):
    client.force_login(staff)
    response = client.post(
        reverse("household_edit", args=["H01"]),
        {"head_name": "张一", "category": "建档立卡户", "monitoring": "无", "housing_hazard": "无", "phone": "12345"},
    )
    assert set(field_errors(response.content.decode())) == {"phone", "safety_net"}


# --- imports ------------------------------------------------------------------------------------

HEADERS = "户编号,户主姓名,户主身份证号,现居村社区代码,户类型,联系电话"


def import_csv(tmp_path, text: str, user) -> ImportJob:
    path = tmp_path / "households.csv"
    path.write_text(text, encoding="utf-8")
    job = ImportJob.objects.create(kind="households", file_name="households.csv", created_by=user)
    run_import("households", path, user=user, dry_run=True, job=job)
    job.refresh_from_db()
    return job


def test_an_import_row_with_five_errors_lists_all_five(tmp_path, staff):
    row = f"H09,,{BAD_CHECK_ID},431302002001,不知道,12345"
    job = import_csv(tmp_path, f"{HEADERS}\n{row}\n", staff)

    assert job.status == ImportJob.Status.INVALID
    reasons = {error["column"]: error["reason"] for error in job.errors}
    assert sorted(reasons) == sorted(["户主姓名", "户主身份证号", "现居村社区代码", "户类型", "联系电话"])
    assert reasons["现居村社区代码"] == OUTSIDE
    assert "校验位" in reasons["户主身份证号"]
    assert not Household.objects.filter(code="H09").exists()


def test_an_import_row_with_cell_errors_still_gets_its_reference_and_labour_checked(tmp_path, staff, household):
    text = (
        "身份证号,姓名,户编号,与户主关系,劳动能力,就业信息更新日期\n"
        f"{BAD_CHECK_ID},李四,H99,子女,普通劳动力,\n"  # ID, household unknown, labour date missing
    )
    path = tmp_path / "persons.csv"
    path.write_text(text, encoding="utf-8")
    result = run_import("persons", path, user=staff, dry_run=True)

    assert sorted(error.column for error in result.errors) == ["就业信息更新日期", "户编号", "身份证号"]
    assert "不存在" in next(error.reason for error in result.errors if error.column == "户编号")


def test_import_of_an_unknown_village_keeps_the_neutral_message(tmp_path, staff):
    job = import_csv(tmp_path, f"{HEADERS}\nH09,周九,,431302001999,同步搬迁户,12345\n", staff)

    reasons = {error["column"]: error["reason"] for error in job.errors}
    assert "不存在" in reasons["现居村社区代码"]
    assert "联系电话" in reasons


def test_the_error_workbook_lists_all_five(tmp_path, client, staff):
    job = import_csv(tmp_path, f"{HEADERS}\nH09,,{BAD_CHECK_ID},431302002001,不知道,12345\n", staff)
    client.force_login(staff)

    response = client.get(f"/imports/{job.pk}/errors.xlsx")

    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    listed = [[cell.value for cell in row] for row in book["错误清单"].iter_rows(min_row=2)]
    assert sorted(row[1] for row in listed) == sorted(
        ["户主姓名", "户主身份证号", "现居村社区代码", "户类型", "联系电话"]
    )


# --- API ----------------------------------------------------------------------------------------


def test_api_says_a_village_outside_the_area_is_outside_it(staff):
    client = APIClient()
    client.force_authenticate(staff)
    response = client.post(
        "/api/v1/households/",
        {"code": "H09", "head_name": "周九", "category": "同步搬迁户", "village": "431302002001"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["village"] == [OUTSIDE]


def test_two_heads_typed_together_are_refused_beside_the_other_errors(client, staff):
    client.force_login(staff)
    second = {
        "members-1-id_number": make_id("43130219920303003"),
        "members-1-name": "周十",
        "members-1-relation": "户主",
        "members-1-labour": "无劳动力",
    }
    response = client.post(reverse("household_create"), household_post(phone="12345", **second))

    errors = field_errors(response.content.decode())
    assert set(errors) == {"phone", "members-1-relation"}
    assert "每户只能有一名" in errors["members-1-relation"]
