"""The monthly prefilled update (一表同享, issue 20): the workbook of the area's current households and
persons with a hidden keyed checksum per row; an upload skips the rows whose checksum still matches,
validates the changed ones as the imports do, previews each changed cell (old → new), and confirms all
or nothing. Tasks are queued on commit; the tests run the captured callbacks (in-process, no broker)."""

import datetime
import io
import json
from urllib.parse import unquote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from households import services
from households.importing import get_kind
from households.importing.monthly import CHECKSUM_HEADER, row_checksum
from households.models import ChangeFeed, HistoryEntry, Household, ImportJob, Person
from tests.factories import AreaFactory, UserFactory, make_id

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def areas():
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    other_township = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    return {
        "township": township,
        "village": AreaFactory.village(code="431302001001", name="A社区", parent=township),
        "other_village": AreaFactory.village(code="431302002001", name="B村", parent=other_township),
        "other_township": other_township,
    }


@pytest.fixture
def staff(areas):
    return UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=areas["township"])


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def register(actor, code: str, village: str, people: int, serial: int, phone: str = "") -> Household:
    household = services.household_register(
        actor=actor, code=code, village_code=village, data={"head_name": f"户主{code}", "category": "建档立卡户"},
        phone=phone,
    )  # fmt: skip
    for index in range(people):
        services.person_create(
            actor=actor,
            household=household,
            id_number=make_id(f"43130219800101{serial:02d}{index}"),
            data={
                "name": f"户主{code}" if index == 0 else f"成员{code}-{index}",
                "relation": "户主" if index == 0 else "子女",
                "labour": "无劳动力",
            },
        )
    return household


@pytest.fixture
def world(staff, areas):
    outsider = UserFactory.create(username="huashan", role=Role.TOWNSHIP_STAFF, area=areas["other_township"])
    first = register(staff, "H01", "431302001001", 2, 1, phone=PHONE)
    second = register(staff, "H02", "431302001001", 2, 2)
    register(outsider, "B01", "431302002001", 1, 3)
    gone = Person.objects.get(household=second, relation="子女")
    services.person_cancel(actor=staff, person=gone, cancelled_on=datetime.date(2026, 1, 5), reason="迁出")
    return {"first": first, "second": second}


def download(client) -> bytes:
    response = client.get("/imports/monthly/workbook.xlsx")
    assert response.status_code == 200, response.content[:300]
    return response.content


def sheets(content: bytes) -> dict[str, list[list[str]]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return {
        sheet.title: [
            ["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)
        ]
        for sheet in workbook.worksheets
    }


def edited(content: bytes, changes: list[tuple[str, int, str, str]]) -> bytes:
    """``changes``: (sheet, data row index from 0, header, new value)."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    for title, index, header, value in changes:
        sheet = workbook[title]
        headers = [cell.value for cell in sheet[1]]
        sheet.cell(row=index + 2, column=headers.index(header) + 1, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, capture, content: bytes) -> ImportJob:
    with capture(execute=True):
        response = client.post(
            "/imports/monthly/", {"file": SimpleUploadedFile("乐坪街道_住户人员月度更新表.xlsx", content)}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == f"/imports/{job.pk}/"
    job.refresh_from_db()
    return job


def confirm(client, capture, job: ImportJob) -> ImportJob:
    with capture(execute=True):
        response = client.post(f"/imports/{job.pk}/confirm/")
    assert response.status_code == 302
    job.refresh_from_db()
    return job


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


# --- the download -----------------------------------------------------------------------------------


def test_the_workbook_holds_the_areas_current_records_as_the_import_templates(staff_client, world):
    response = staff_client.get("/imports/monthly/workbook.xlsx")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert "filename*=utf-8''" in disposition
    name = unquote(disposition.split("filename*=utf-8''")[1])
    assert name.startswith("乐坪街道_住户人员月度更新表_")
    assert name.endswith("月.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["搬迁户", "家庭成员"]
    data = sheets(response.content)
    households, persons = get_kind("households"), get_kind("persons")
    assert data["搬迁户"][0] == [*households.headers, CHECKSUM_HEADER]
    assert data["家庭成员"][0] == [*persons.headers, CHECKSUM_HEADER]
    # The checksum column is hidden; its values are the keyed HMAC of the row's exported texts.
    for title in ("搬迁户", "家庭成员"):
        sheet = workbook[title]
        letter = openpyxl.utils.get_column_letter(len(data[title][0]))
        assert sheet.column_dimensions[letter].hidden
    assert [row[0] for row in data["搬迁户"][1:]] == ["H01", "H02"]  # not the other township's B01
    assert len(data["家庭成员"]) == 1 + 3  # the cancelled member is not current
    for title, kind in (("搬迁户", "households"), ("家庭成员", "persons")):
        for row in data[title][1:]:
            assert row[-1] == row_checksum(kind, row[:-1])
    first = data["搬迁户"][1]
    assert first[households.headers.index("联系电话")] == PHONE  # prefilled in full for the clerk
    assert row_checksum("persons", first[:-1]) != first[-1]  # a row cannot move to the other sheet


def test_only_village_and_township_staff_get_the_workbook(client, areas, world):
    official = UserFactory.create(username="xian", role=Role.COUNTY_OFFICIAL, area=areas["township"].parent)
    client.force_login(official)
    assert client.get("/imports/monthly/workbook.xlsx").status_code == 403
    assert client.get("/imports/monthly/").status_code == 403
    upload = SimpleUploadedFile("x.xlsx", b"PK")
    assert client.post("/imports/monthly/", {"file": upload}).status_code == 403
    assert not ImportJob.objects.exists()


def test_village_staff_get_their_own_village_only(client, areas, staff):
    other = AreaFactory.village(code="431302001002", name="C村", parent=areas["township"])
    register(staff, "H01", "431302001001", 1, 1)
    register(staff, "C01", other.code, 1, 2)
    clerk = UserFactory.create(username="cun", role=Role.VILLAGE_STAFF, area=other)
    client.force_login(clerk)
    data = sheets(download(client))
    assert [row[0] for row in data["搬迁户"][1:]] == ["C01"]
    assert [row[2] for row in data["家庭成员"][1:]] == ["C01"]


def test_download_page_and_workbook_queries_are_exact_and_flat(staff_client, staff, world):
    page = queries(staff_client, "/imports/monthly/")
    workbook = queries(staff_client, "/imports/monthly/workbook.xlsx")
    for number in range(3, 9):
        register(staff, f"H{number:02d}", "431302001001", 3, number + 10)
    assert queries(staff_client, "/imports/monthly/") == page == PAGE_QUERIES
    assert queries(staff_client, "/imports/monthly/workbook.xlsx") == workbook == WORKBOOK_QUERIES


# --- the upload -------------------------------------------------------------------------------------


def test_an_unchanged_workbook_changes_nothing_and_writes_no_history(
    staff_client, world, django_capture_on_commit_callbacks
):
    history, feed = HistoryEntry.objects.count(), ChangeFeed.objects.count()
    job = upload(staff_client, django_capture_on_commit_callbacks, download(staff_client))
    assert job.status == ImportJob.Status.PREVIEWED, job.errors
    assert (job.total_rows, job.unchanged_count, job.updated_count, job.created_count) == (5, 5, 0, 0)
    assert "没有改动" in staff_client.get(f"/imports/{job.pk}/").content.decode()
    job = confirm(staff_client, django_capture_on_commit_callbacks, job)
    assert job.status == ImportJob.Status.DONE
    assert HistoryEntry.objects.count() == history
    assert ChangeFeed.objects.count() == feed


THREE = [("搬迁户", 0, "自来水", "是"), ("家庭成员", 0, "家庭医生签约", "是"), ("家庭成员", 1, "基本医疗保险", "是")]


def test_three_changed_cells_preview_three_changes_and_write_three_history_entries(
    staff_client, world, django_capture_on_commit_callbacks
):
    feed = ChangeFeed.objects.count()
    job = upload(staff_client, django_capture_on_commit_callbacks, edited(download(staff_client), THREE))
    assert job.status == ImportJob.Status.PREVIEWED, job.errors
    assert (job.unchanged_count, job.updated_count) == (2, 3)
    page = staff_client.get(f"/imports/{job.pk}/").content.decode()
    assert page.count("data-change ") == 3
    for column in ("自来水", "家庭医生签约", "基本医疗保险"):
        assert f'data-column="{column}"' in page
    assert Household.objects.get(code="H01").tap_water is False  # a preview writes nothing
    job = confirm(staff_client, django_capture_on_commit_callbacks, job)
    assert job.status == ImportJob.Status.DONE, job.errors
    entries = HistoryEntry.objects.filter(import_job=job)
    assert entries.count() == 3
    assert {tuple(entry.after) for entry in entries} == {("tap_water",), ("family_doctor",), ("medical_insurance",)}
    assert ChangeFeed.objects.count() == feed + 1  # one change-feed entry for the whole workbook
    assert Household.objects.get(code="H01").tap_water is True
    assert Person.objects.filter(family_doctor=True).count() == 1


def test_a_changed_phone_is_shown_to_the_uploader_and_never_stored_in_plain_text(
    staff_client, world, django_capture_on_commit_callbacks
):
    content = edited(download(staff_client), [("搬迁户", 1, "联系电话", "13900139000")])
    job = upload(staff_client, django_capture_on_commit_callbacks, content)
    assert "13900139000" not in json.dumps(job.warnings)
    assert [(c["column"], c["old"], c["new"]) for c in job.warnings] == [("联系电话", "", "139****9000")]
    assert "13900139000" in staff_client.get(f"/imports/{job.pk}/").content.decode()
    # The API shows the uploader the same, never the ciphertext kept beside the masked value.
    shown = staff_client.get(f"/api/v1/imports/{job.pk}/").json()["warnings"]
    assert [(c["column"], c["new"]) for c in shown] == [("联系电话", "13900139000")]
    assert not any(key.startswith("sealed") for change in shown for key in change)


def test_an_edited_or_forged_checksum_only_sends_the_row_through_validation(
    staff_client, world, django_capture_on_commit_callbacks
):
    content = download(staff_client)
    persons = sheets(content)["家庭成员"]
    # A changed value keeps its old checksum: the change is seen all the same.
    job = upload(staff_client, django_capture_on_commit_callbacks, edited(content, [("家庭成员", 0, "培训意愿", "是")]))
    assert [(c["column"], c["old"], c["new"]) for c in job.warnings] == [("培训意愿", "否", "是")]
    # Garbage in the hidden column, or another row's checksum, with the values unchanged: nothing to write.
    forged = edited(
        content, [("家庭成员", 0, CHECKSUM_HEADER, "0" * 32), ("家庭成员", 1, CHECKSUM_HEADER, persons[3][-1])]
    )
    job = upload(staff_client, django_capture_on_commit_callbacks, forged)
    assert job.status == ImportJob.Status.PREVIEWED
    assert (job.unchanged_count, job.updated_count, job.warnings) == (5, 0, [])
    # A checksum copied onto a changed row does not hide the change either.
    copied = edited(content, [("家庭成员", 1, "姓名", "改名"), ("家庭成员", 1, CHECKSUM_HEADER, persons[1][-1])])
    job = upload(staff_client, django_capture_on_commit_callbacks, copied)
    assert [(c["column"], c["new"]) for c in job.warnings] == [("姓名", "改名")]


def test_a_row_with_an_error_blocks_every_change(staff_client, world, django_capture_on_commit_callbacks):
    history = HistoryEntry.objects.count()
    content = edited(download(staff_client), [*THREE, ("家庭成员", 2, "劳动能力", "很强"), ("搬迁户", 1, "户类型", "")])
    job = upload(staff_client, django_capture_on_commit_callbacks, content)
    assert job.status == ImportJob.Status.INVALID
    assert sorted(error["column"] for error in job.errors) == ["家庭成员·劳动能力", "搬迁户·户类型"]
    response = staff_client.post(f"/imports/{job.pk}/confirm/")
    assert response.status_code == 302
    assert HistoryEntry.objects.count() == history
    assert Household.objects.get(code="H01").tap_water is False
    workbook = staff_client.get(f"/imports/{job.pk}/errors.xlsx")
    assert workbook.status_code == 200
    listed = sheets(workbook.content)
    assert list(listed) == ["错误清单"]
    assert len(listed["错误清单"]) == 3


def test_a_file_that_is_not_the_workbook_is_refused(staff_client, world, django_capture_on_commit_callbacks):
    other = openpyxl.Workbook()
    other.active.title = "Sheet1"
    buffer = io.BytesIO()
    other.save(buffer)
    job = upload(staff_client, django_capture_on_commit_callbacks, buffer.getvalue())
    assert job.status == ImportJob.Status.INVALID
    assert "找不到工作表" in job.errors[0]["reason"]
    response = staff_client.post("/imports/monthly/", {"file": SimpleUploadedFile("x.csv", b"a,b\n")})
    assert response.status_code == 200
    assert "只接受" in response.content.decode()


def test_the_preview_page_queries_are_exact_and_flat(staff_client, world, django_capture_on_commit_callbacks):
    content = download(staff_client)
    job = upload(staff_client, django_capture_on_commit_callbacks, edited(content, THREE))
    few = queries(staff_client, f"/imports/{job.pk}/")
    more = [
        *THREE,
        ("家庭成员", 2, "培训意愿", "是"),
        ("搬迁户", 1, "自来水", "是"),
        ("搬迁户", 1, "结对帮扶人", "李四"),
    ]
    job = upload(staff_client, django_capture_on_commit_callbacks, edited(content, more))
    assert len(job.warnings) == 6
    assert queries(staff_client, f"/imports/{job.pk}/") == few == PREVIEW_QUERIES


PAGE_QUERIES = 5
WORKBOOK_QUERIES = 7
PREVIEW_QUERIES = 6


def test_the_upload_is_read_within_the_importers_bounds(
    staff_client, world, settings, django_capture_on_commit_callbacks
):
    content = download(staff_client)
    settings.IMPORT_MAX_ROWS = 2  # the 家庭成员 sheet holds 3 rows
    job = upload(staff_client, django_capture_on_commit_callbacks, content)
    assert job.status == ImportJob.Status.INVALID
    assert "上限" in job.errors[0]["reason"]
    assert not job.stored_file  # a refused file is not kept


def test_an_edited_id_number_is_not_a_second_person(staff_client, world, django_capture_on_commit_callbacks):
    persons = Person.objects.count()
    content = edited(download(staff_client), [("家庭成员", 1, "身份证号", make_id("43130219900101001"))])
    job = upload(staff_client, django_capture_on_commit_callbacks, content)
    assert job.status == ImportJob.Status.INVALID
    assert [error["column"] for error in job.errors] == ["家庭成员·身份证号"]
    assert "更正身份证号" in job.errors[0]["reason"]
    assert Person.objects.count() == persons
