"""Issue 20, record-level messages and household codes: an ID that Excel turned into a number says so,
the uploader sees their own typed phone or ID in their import's errors (others see it masked), the
household form suggests the next 户编号, and the household's 户主身份证号 follows its 户主 member."""

import datetime
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import personal_data
from accounts.models import Role
from households import import_jobs, selectors, services
from households.choices import RecordStatus, Relation
from households.history import ID_CHANGED
from households.importing.base import parse_id_number
from households.importing.cells import CellError
from households.importing.readers import cell_value
from households.models import HistoryEntry, Household, ImportJob
from households.validators import validate_id_number
from tests.factories import AreaFactory, UserFactory, make_id

pytestmark = pytest.mark.django_db

HEAD_ID = make_id("43130219800101001")
SPOUSE_ID = make_id("43130219820202002")
NEW_HEAD_ID = make_id("43130219850303003")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def areas():
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    return {
        "county": county,
        "township": township,
        "village": AreaFactory.village(code="431302001001", name="A社区", parent=township),
        "village_b": AreaFactory.village(code="431302001002", name="B村", parent=township),
    }


@pytest.fixture
def staff(areas):
    return UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=areas["township"])


@pytest.fixture
def official(areas):
    return UserFactory.create(username="xian", role=Role.COUNTY_OFFICIAL, area=areas["county"])


def register(staff, code: str, village: str = "431302001001") -> Household:
    return services.household_register(
        actor=staff, code=code, village_code=village, data={"head_name": "张一", "category": "建档立卡户"}
    )


def head_data(**overrides):
    return {"name": "张一", "relation": Relation.HEAD, "labour": "无劳动力", **overrides}


# --- an ID number that Excel stored as a number ---------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "4.31321E+17",  # the cell as Excel shows it
        "431321000000000000",  # the float cell read back: check digit "0" by chance, no real birth date
        "431302199001010000",  # a real-looking birth date, wrong check digit
    ],
)
def test_an_id_excel_stored_as_a_number_says_so_and_how_to_enter_it_as_text(typed):
    with pytest.raises(ValidationError) as error:
        validate_id_number(typed, today=datetime.date(2026, 12, 1))
    assert error.value.code == "id_truncated"
    message = error.value.messages[0]
    assert "Excel 当作数字截断" in message
    assert "“文本”格式" in message
    assert "英文单引号 '" in message
    assert "出生日期" not in message


@pytest.mark.parametrize("cell", [4.31321e17, 431321000000000000, 4.31302199001011e17])
def test_a_numeric_id_cell_of_an_import_gets_the_excel_message(cell):
    with pytest.raises(CellError) as error:
        parse_id_number(cell_value(cell))
    assert "Excel 当作数字截断" in str(error.value)
    assert "出生日期" not in str(error.value)


def test_a_real_id_ending_in_three_zeros_is_still_accepted():
    real = make_id("43130219900103000")  # its check digit is 0, its birth date real
    assert real.endswith("000")
    assert validate_id_number(real, today=datetime.date(2026, 12, 1)) == real


# --- the uploader's own typed phone and ID in their import's errors ------------------------------


BAD_PHONE = "1381234567x"
HOUSEHOLD_ROWS = f"户编号,户主姓名,现居村社区代码,户类型,联系电话\nH05,王二,431302001001,同步搬迁户,{BAD_PHONE}\n"


def upload(client, capture, text: str, kind: str = "households") -> ImportJob:
    with capture(execute=True):
        response = client.post(
            "/imports/", {"kind": kind, "file": SimpleUploadedFile("rows.csv", text.encode(), content_type="text/csv")}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    return job


def test_the_uploader_sees_their_own_typed_phone_others_see_it_masked(
    client, staff, official, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    job = upload(client, django_capture_on_commit_callbacks, HOUSEHOLD_ROWS)

    # Stored masked, the typed value only as ciphertext.
    assert BAD_PHONE not in str(job.errors)
    (error,) = job.errors
    assert (error["column"], error["value"]) == ("联系电话", "138****567x")
    assert personal_data.decrypt(error["sealed"]) == BAD_PHONE

    # The page, the API and the error workbook show it back to the uploader.
    assert BAD_PHONE in client.get(f"/imports/{job.pk}/").content.decode()
    api = client.get(f"/api/v1/imports/{job.pk}/")
    assert api.status_code == 200, api.content[:500]
    assert api.json()["errors"][0]["value"] == BAD_PHONE
    assert "sealed" not in api.json()["errors"][0]
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/imports/{job.pk}/errors.xlsx").content))
    assert BAD_PHONE in [cell for row in book["错误清单"].iter_rows(values_only=True) for cell in row]

    # Anyone else (a county official) sees it masked.
    shown = import_jobs.import_job_errors(actor=official, job=job)
    assert shown == [{"row": 2, "column": "联系电话", "value": "138****567x", "reason": error["reason"]}]
    target = io.BytesIO()
    import_jobs.import_job_errors_workbook(actor=official, job=job, target=target)
    cells = [
        cell
        for sheet in openpyxl.load_workbook(io.BytesIO(target.getvalue())).worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    ]
    assert BAD_PHONE not in cells
    assert "138****567x" in cells


def test_the_uploader_sees_their_own_mistyped_id_number(client, staff, official, django_capture_on_commit_callbacks):
    household = register(staff, "H01")
    services.person_create(actor=staff, household=household, id_number=HEAD_ID, data=head_data())
    wrong = HEAD_ID[:17] + ("0" if HEAD_ID[17] != "0" else "1")
    text = f"身份证号,姓名,户编号,与户主关系,劳动能力,就业信息更新日期\n{wrong},王五,H01,子女,无劳动力,\n"
    client.force_login(staff)

    job = upload(client, django_capture_on_commit_callbacks, text, kind="persons")

    assert wrong not in str(job.errors)
    assert job.errors[0]["value"] == "*" * 18
    assert wrong in client.get(f"/imports/{job.pk}/").content.decode()
    assert import_jobs.import_job_errors(actor=official, job=job)[0]["value"] == "*" * 18


# --- 户编号: the suggested next code -----------------------------------------------------------


def test_next_code_follows_the_villages_letters_and_digits(staff, django_assert_num_queries):
    register(staff, "H01")
    register(staff, "H02")
    register(staff, "H07", village="431302001002")  # the same letters in the township: not free
    with django_assert_num_queries(1):
        assert selectors.household_next_code(village_code="431302001001") == "H08"


def test_next_code_follows_a_township_running_number_and_counts_every_village(staff):
    register(staff, "431302001000001")
    register(staff, "431302001000002", village="431302001002")
    register(staff, "431302001000003")
    assert selectors.household_next_code(village_code="431302001001") == "431302001000004"


def test_next_code_of_a_village_without_households_is_its_code_and_001(staff):
    assert selectors.household_next_code(village_code="431302001002") == "431302001002001"
    register(staff, "431302001002001", village="431302001002")
    assert selectors.household_next_code(village_code="431302001002") == "431302001002002"


def test_the_household_form_prefills_the_next_code_of_the_village(client, staff, areas):
    village_staff = UserFactory.create(username="cun", role=Role.VILLAGE_STAFF, area=areas["village"])
    register(staff, "H01")
    client.force_login(village_staff)
    body = client.get("/households/new/").content.decode()
    assert 'value="H02"' in body
    client.force_login(staff)  # two villages: the one chosen with ?village=
    assert 'value="431302001002001"' in client.get("/households/new/?village=431302001002").content.decode()
    assert 'name="code" value=' not in client.get("/households/new/").content.decode()


# --- 户主身份证号 follows the 户主 member ---------------------------------------------------------


def household_history(household: Household) -> list[HistoryEntry]:
    return list(HistoryEntry.objects.filter(entity="household", object_id=household.pk).order_by("pk"))


def test_a_household_gets_its_head_id_when_its_head_is_added(staff):
    household = register(staff, "H01")
    assert (household.head_id_hash, household.head_id_encrypted) == ("", "")

    services.person_create(
        actor=staff, household=household, id_number=SPOUSE_ID, data=head_data(name="李二", relation="配偶")
    )
    household.refresh_from_db()
    assert household.head_id_hash == ""  # a member who is not the 户主 changes nothing
    assert len(household_history(household)) == 1

    services.person_create(actor=staff, household=household, id_number=HEAD_ID, data=head_data())
    household.refresh_from_db()
    assert household.head_id_hash == personal_data.blind_index(HEAD_ID)
    assert personal_data.decrypt(household.head_id_encrypted) == HEAD_ID
    entry = household_history(household)[-1]
    assert (entry.action, entry.user, entry.before, entry.after) == (
        "update",
        staff,
        {"head_id": ""},
        {"head_id": ID_CHANGED},
    )
    assert HEAD_ID not in str(entry.after)


def test_head_id_follows_correction_cancellation_and_a_new_head(staff):
    household = services.household_register_with_members(
        actor=staff,
        code="H01",
        village_code="431302001001",
        data={"head_name": "张一", "category": "建档立卡户"},
        members=[(HEAD_ID, head_data()), (SPOUSE_ID, head_data(name="李二", relation="配偶"))],
    )
    household.refresh_from_db()
    assert personal_data.decrypt(household.head_id_encrypted) == HEAD_ID
    head = household.members.get(relation=Relation.HEAD)
    spouse = household.members.get(relation="配偶")

    services.person_correct_id_number(actor=staff, person=head, id_number=NEW_HEAD_ID)
    household.refresh_from_db()
    assert household.head_id_hash == personal_data.blind_index(NEW_HEAD_ID)

    services.person_update(actor=staff, person=head, data={"status": RecordStatus.CANCELLED})
    household.refresh_from_db()
    assert (household.head_id_hash, household.head_id_encrypted) == ("", "")

    services.person_update(actor=staff, person=spouse, data={"relation": Relation.HEAD})
    household.refresh_from_db()
    assert household.head_id_hash == personal_data.blind_index(SPOUSE_ID)

    services.person_update(actor=staff, person=spouse, data={"relation": "配偶"})
    household.refresh_from_db()
    assert household.head_id_hash == ""
    assert [entry.after for entry in household_history(household)][-4:] == [
        {"head_id": ID_CHANGED},
        {"head_id": ""},
        {"head_id": ID_CHANGED},
        {"head_id": ""},
    ]


def test_a_non_head_update_does_not_touch_the_household(staff):
    household = register(staff, "H01")
    spouse = services.person_create(
        actor=staff, household=household, id_number=SPOUSE_ID, data=head_data(name="李二", relation="配偶")
    )
    before = len(household_history(household))
    services.person_update(actor=staff, person=spouse, data={"name": "李三"})
    assert len(household_history(household)) == before
