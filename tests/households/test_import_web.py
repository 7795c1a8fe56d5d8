"""The web import (issue 3): upload → dry-run preview → confirm or abandon, the error workbook, the
templates, the uploaded file's lifecycle, scope and personal data. Tasks are queued on commit; the
tests run them by executing the captured on-commit callbacks (in-process, no broker)."""

import datetime
import os
import time
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Department, Role, User
from households import import_jobs, import_runs, services
from households.importing import get_kind
from households.models import (
    HistoryEntry,
    Household,
    ImportJob,
    Person,
)
from households.validators import id_check_digit
from tests.factories import AreaFactory, UserFactory, make_id

pytestmark = pytest.mark.django_db

HEADERS = "户编号,户主姓名,现居村社区代码,户类型"


HEAD_ID = make_id("43130219800101001")


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
        "county": county,
        "township": township,
        "village": AreaFactory.village(code="431302001001", name="A社区", parent=township),
        "other_village": AreaFactory.village(code="431302002001", name="B村", parent=other_township),
        "other_township": other_township,
    }


@pytest.fixture
def staff(areas):
    return UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=areas["township"])


@pytest.fixture
def other_staff(areas):
    return UserFactory.create(username="huashan", role=Role.TOWNSHIP_STAFF, area=areas["other_township"])


@pytest.fixture
def household(staff):
    household = services.household_register(
        actor=staff,
        code="H01",
        village_code="431302001001",
        data={"head_name": "张一", "category": "建档立卡户"},
    )
    services.person_create(
        actor=staff,
        household=household,
        id_number=HEAD_ID,
        data={"name": "张一", "relation": "户主", "labour": "无劳动力"},
    )
    return household


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def csv_file(text: str, name: str = "乐坪街道搬迁户.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def upload(client, capture, text: str, kind: str = "households", name: str = "乐坪街道搬迁户.csv") -> ImportJob:
    """POST the upload form and run the queued dry run; returns the job."""
    with capture(execute=True):
        response = client.post("/imports/", {"kind": kind, "file": csv_file(text, name)})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get()
    assert response["Location"] == f"/imports/{job.pk}/"
    return job


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


GOOD = (
    f"{HEADERS}\nH01,张一新,431302001001,建档立卡户\nH02,王二,431302001001,同步搬迁户\n"
    "H03,李三,431302001001,同步搬迁户\n"
)
ONE_BAD = f"{HEADERS}\nH02,王二,431302001001,同步搬迁户\nH03,=SUM(A1:A9),431302002001,同步搬迁户\n"


# --- upload and preview --------------------------------------------------------------------------


def test_upload_stores_the_file_under_a_random_name_and_previews_counts(
    staff_client, household, media, django_capture_on_commit_callbacks
):
    job = upload(staff_client, django_capture_on_commit_callbacks, GOOD)

    job.refresh_from_db()
    assert (job.status, job.progress, job.total_rows) == (ImportJob.Status.PREVIEWED, 100, 3)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (2, 1, 0)
    assert job.file_name == "乐坪街道搬迁户.csv"
    stored = Path(job.stored_file)
    assert stored.parent == Path(media) / "imports"
    assert stored.is_file()
    assert "乐坪" not in stored.name
    assert stored.suffix == ".csv"
    assert not Household.objects.filter(code__in=["H02", "H03"]).exists()
    assert Household.objects.get(code="H01").head_name == "张一"
    body = page(staff_client, f"/imports/{job.pk}/")
    assert "校验通过（试运行，尚未写入）" in body
    assert 'data-count="created">2<' in body
    assert 'data-count="updated">1<' in body
    assert 'data-count="unchanged">0<' in body
    assert f'action="/imports/{job.pk}/confirm/"' in body
    assert 'max="100" value="100"' in body
    assert 'hx-trigger="every' not in body  # finished: no polling (the header loads its unread count once)


def test_a_file_with_one_bad_row_imports_nothing_and_shows_the_row_error(
    staff_client, household, django_capture_on_commit_callbacks
):
    job = upload(staff_client, django_capture_on_commit_callbacks, ONE_BAD)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert [(error["row"], error["column"]) for error in job.errors] == [(3, "现居村社区代码")]
    body = page(staff_client, f"/imports/{job.pk}/")
    assert "发现 1 处错误，未写入任何数据" in body
    assert '<tr data-row="3" data-column="现居村社区代码">' in body
    assert "村代码“431302002001”不在您的管辖范围" in body  # issue 20: a village outside the area says so
    assert "/confirm/" not in body
    assert f'href="/imports/{job.pk}/errors.xlsx"' in body
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/imports/{job.pk}/confirm/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert not Household.objects.filter(code__in=["H02", "H03"]).exists()


def test_a_missing_required_column_is_a_file_error_on_the_page(staff_client, django_capture_on_commit_callbacks):
    job = upload(staff_client, django_capture_on_commit_callbacks, "户编号,户主姓名\nH02,王二\n")

    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert job.errors[0]["row"] == 0
    assert "缺少必需的列：现居村社区代码、户类型" in job.errors[0]["reason"]
    assert "缺少必需的列" in page(staff_client, f"/imports/{job.pk}/")


def test_unknown_columns_are_shown_as_warnings(staff_client, django_capture_on_commit_callbacks):
    text = f"{HEADERS},备注\nH02,王二,431302001001,同步搬迁户,x\n"
    job = upload(staff_client, django_capture_on_commit_callbacks, text)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert [warning["reason"] for warning in job.warnings] == ["未知的列“备注”已忽略。"]
    assert "未知的列“备注”已忽略。" in page(staff_client, f"/imports/{job.pk}/")


def test_error_workbook_holds_the_uploaded_rows_with_an_error_column_and_formulas_as_text(
    staff_client, household, django_capture_on_commit_callbacks, tmp_path
):
    job = upload(staff_client, django_capture_on_commit_callbacks, ONE_BAD)

    response = staff_client.get(f"/imports/{job.pk}/errors.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    path = tmp_path / "errors.xlsx"
    path.write_bytes(response.content)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["导入数据及错误", "错误清单"]
    rows = [[cell.value for cell in row] for row in book["导入数据及错误"].iter_rows()]
    assert rows[0] == ["户编号", "户主姓名", "现居村社区代码", "户类型", "错误"]
    assert rows[1] == ["H02", "王二", "431302001001", "同步搬迁户", None]
    assert rows[2][:4] == ["H03", "=SUM(A1:A9)", "431302002001", "同步搬迁户"]
    assert rows[2][4].startswith("现居村社区代码: 村代码“431302002001”不在您的管辖范围")  # issue 20
    formula_cell = book["导入数据及错误"]["B3"]
    assert formula_cell.data_type == "s"  # text, never a formula
    listed = [[cell.value for cell in row] for row in book["错误清单"].iter_rows()]
    assert listed[0] == ["行号", "列名", "填写的值", "错误原因"]
    assert listed[1][:3] == ["3", "现居村社区代码", "431302002001"]


def test_error_workbook_after_the_file_is_gone_still_lists_the_errors(
    staff_client, household, django_capture_on_commit_callbacks, tmp_path
):
    job = upload(staff_client, django_capture_on_commit_callbacks, ONE_BAD)
    staff_client.post(f"/imports/{job.pk}/abandon/")

    response = staff_client.get(f"/imports/{job.pk}/errors.xlsx")

    path = tmp_path / "errors.xlsx"
    path.write_bytes(response.content)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["错误清单"]
    assert book["错误清单"]["B2"].value == "现居村社区代码"


# --- confirm and abandon -------------------------------------------------------------------------


def test_confirm_imports_for_real_marks_the_job_done_and_deletes_the_file(
    staff_client, staff, household, django_capture_on_commit_callbacks
):
    job = upload(staff_client, django_capture_on_commit_callbacks, GOOD)
    stored = Path(ImportJob.objects.get().stored_file)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(f"/imports/{job.pk}/confirm/")

    assert response.status_code == 302
    assert response["Location"] == f"/imports/{job.pk}/"
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.progress, job.stored_file) == (ImportJob.Status.DONE, 100, "")
    assert (job.created_count, job.updated_count, job.unchanged_count) == (2, 1, 0)
    assert job.finished_at is not None
    assert not stored.exists()
    assert set(Household.objects.values_list("code", flat=True)) == {"H01", "H02", "H03"}
    assert Household.objects.get(code="H01").head_name == "张一新"
    assert HistoryEntry.objects.filter(import_job=job, user=staff).count() == 3
    body = page(staff_client, f"/imports/{job.pk}/")
    assert "导入完成" in body
    assert 'data-count="created">2<' in body
    assert 'max="100" value="100"' in body


def test_the_import_task_is_idempotent(staff_client, household, django_capture_on_commit_callbacks):
    job = upload(staff_client, django_capture_on_commit_callbacks, GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(f"/imports/{job.pk}/confirm/")
    history = HistoryEntry.objects.count()

    from households.tasks import import_job_run_task, import_job_validate_task

    assert import_job_run_task.apply(args=[job.pk]).get() == "done"
    assert import_job_validate_task.apply(args=[job.pk]).get() == "done"
    assert HistoryEntry.objects.count() == history
    assert Household.objects.count() == 3


def test_a_second_confirm_is_refused(staff_client, household, django_capture_on_commit_callbacks):
    job = upload(staff_client, django_capture_on_commit_callbacks, GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(f"/imports/{job.pk}/confirm/")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(f"/imports/{job.pk}/confirm/", follow=True)

    assert callbacks == []
    assert "只有校验通过、待确认的导入任务可以确认导入。" in response.content.decode()


def test_abandon_deletes_the_file_and_writes_nothing(staff_client, household, django_capture_on_commit_callbacks):
    job = upload(staff_client, django_capture_on_commit_callbacks, GOOD)
    stored = Path(ImportJob.objects.get().stored_file)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(f"/imports/{job.pk}/abandon/", follow=True)

    assert callbacks == []
    job.refresh_from_db()
    assert (job.status, job.stored_file) == (ImportJob.Status.ABANDONED, "")
    assert not stored.exists()
    assert not Household.objects.filter(code__in=["H02", "H03"]).exists()
    assert Household.objects.get(code="H01").head_name == "张一"
    body = response.content.decode()
    assert "已放弃：上传的文件已删除，未写入任何数据" in body
    assert "/confirm/" not in body
    assert staff_client.post(f"/imports/{job.pk}/confirm/").status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.ABANDONED


def test_an_invalid_job_may_be_abandoned_which_deletes_its_file(staff_client, django_capture_on_commit_callbacks):
    job = upload(staff_client, django_capture_on_commit_callbacks, ONE_BAD)
    stored = Path(ImportJob.objects.get().stored_file)
    assert stored.exists()  # kept for the error workbook until abandoned or purged

    staff_client.post(f"/imports/{job.pk}/abandon/")

    assert not stored.exists()


# --- progress ------------------------------------------------------------------------------------


def test_progress_fragment_polls_while_running_and_asks_for_a_reload_when_finished(staff_client, staff):
    job = ImportJob.objects.create(
        kind="households", file_name="x.csv", created_by=staff, status=ImportJob.Status.VALIDATING, progress=35
    )

    running = staff_client.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    detail = page(staff_client, f"/imports/{job.pk}/")

    body = running.content.decode()
    assert 'hx-trigger="every 1s"' in body
    assert f'hx-get="/imports/{job.pk}/progress/"' in body
    assert 'value="35"' in body
    assert "HX-Refresh" not in running
    assert 'hx-trigger="every 1s"' in detail
    assert "data-import-result" not in detail
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PREVIEWED, progress=100)
    finished = staff_client.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true"
    assert 'hx-trigger="every' not in finished.content.decode()


def test_progress_is_written_in_small_commits_during_the_run(
    staff: User, household: Household, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    job = ImportJob.objects.create(
        kind="households", file_name="x.csv", created_by=staff, stored_file="", status=ImportJob.Status.UPLOADED
    )
    path = import_runs.import_upload_dir()
    path.mkdir(parents=True, exist_ok=True)
    (path / "f.csv").write_text(GOOD, encoding="utf-8")
    ImportJob.objects.filter(pk=job.pk).update(stored_file=str(path / "f.csv"))
    original = import_runs._progress_writer

    def spy(job):  # type: ignore[no-untyped-def]
        write = original(job)

        def report(percent: int) -> None:
            write(percent)
            seen.append(ImportJob.objects.get(pk=job.pk).progress)

        return report

    monkeypatch.setattr(import_runs, "_progress_writer", spy)
    import_runs.import_job_validate(job_id=job.pk)

    assert seen == [20, 35, 50, 65]
    assert ImportJob.objects.get(pk=job.pk).progress == 100


# --- access --------------------------------------------------------------------------------------


def test_another_users_job_answers_404_everywhere(
    client, staff_client, other_staff, household, django_capture_on_commit_callbacks
):
    job = upload(staff_client, django_capture_on_commit_callbacks, GOOD)
    client.force_login(other_staff)

    for url in ("", "progress/", "errors.xlsx"):
        assert client.get(f"/imports/{job.pk}/{url}").status_code == 404
    for url in ("confirm/", "abandon/"):
        assert client.post(f"/imports/{job.pk}/{url}").status_code == 404
    assert f"/imports/{job.pk}/" not in page(client, "/imports/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert Path(job.stored_file).exists()
    assert client.get("/imports/999999/").status_code == 404


def test_the_list_shows_only_the_users_own_jobs(staff_client, staff, other_staff):
    own = ImportJob.objects.create(kind="households", file_name="mine.csv", created_by=staff)
    ImportJob.objects.create(kind="households", file_name="theirs.csv", created_by=other_staff)

    body = page(staff_client, "/imports/")

    assert "mine.csv" in body
    assert "theirs.csv" not in body
    assert f'href="/imports/{own.pk}/"' in body


def test_anonymous_users_are_sent_to_login(client):
    assert client.get("/imports/")["Location"].startswith("/login/")
    assert client.get("/imports/templates/households.xlsx")["Location"].startswith("/login/")


def test_township_staff_are_offered_their_kinds_only(staff_client):
    body = page(staff_client, "/imports/")

    offered = [kind.name for kind in import_jobs.import_kinds_for(User.objects.get(username="zhen"))]
    assert offered == ["areas", "sites", "households", "persons", "incomes", "grievances", "actions"]
    for name in offered:
        assert f'<option value="{name}"' in body
    for name in ("finance", "citystats", "commendations"):
        assert f'<option value="{name}"' not in body


def test_a_role_that_may_not_import_a_kind_gets_403_and_nothing_is_stored(
    client, areas, media, django_capture_on_commit_callbacks
):
    county = UserFactory.create(username="xian", role=Role.COUNTY_OFFICIAL, area=areas["county"])
    client.force_login(county)

    body = page(client, "/imports/")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/imports/", {"kind": "households", "file": csv_file(GOOD)})

    assert '<option value="finance"' in body
    assert '<option value="households"' not in body
    assert response.status_code == 403
    assert not ImportJob.objects.exists()
    assert not (Path(media) / "imports").exists() or not any((Path(media) / "imports").iterdir())
    assert client.get("/imports/templates/households.xlsx").status_code == 403
    assert client.get("/imports/templates/finance.xlsx").status_code == 200


def test_a_bureau_without_import_rights_sees_no_form(client, areas):
    bureau = UserFactory.create(
        username="ju", role=Role.CITY_BUREAU, department=Department.HUMAN_RESOURCES, area=areas["county"].parent
    )
    client.force_login(bureau)

    body = page(client, "/imports/")

    assert "您的角色没有可导入的数据类型。" in body
    assert 'name="file"' not in body
    assert client.post("/imports/", {"kind": "finance", "file": csv_file("x")}).status_code == 403


def test_unknown_kind_template_is_404_and_a_bad_extension_is_a_form_error(staff_client):
    assert staff_client.get("/imports/templates/nothing.xlsx").status_code == 404

    response = staff_client.post("/imports/", {"kind": "households", "file": csv_file(GOOD, "a.txt")})

    assert response.status_code == 200
    assert "请上传 .xlsx、.xls 或 .csv 文件。" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_rows_outside_the_users_area_are_row_errors(client, other_staff, household, django_capture_on_commit_callbacks):
    client.force_login(other_staff)

    job = upload(client, django_capture_on_commit_callbacks, f"{HEADERS}\nH01,改名,431302001001,建档立卡户\n")

    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert [(error["row"], error["column"]) for error in job.errors] == [(2, "户编号")]
    assert job.errors[0]["reason"] == "该户编号已在系统中登记，请联系县级管理员。"
    assert Household.objects.get(code="H01").head_name == "张一"


# --- templates -----------------------------------------------------------------------------------


def _workbook(response, tmp_path) -> openpyxl.Workbook:  # type: ignore[no-untyped-def]
    path = tmp_path / "template.xlsx"
    path.write_bytes(response.content)
    return openpyxl.load_workbook(path)


def test_template_has_the_exact_headers_required_marks_instructions_and_drop_downs(staff_client, tmp_path):
    response = staff_client.get("/imports/templates/households.xlsx")

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    book = _workbook(response, tmp_path)
    kind = get_kind("households")
    assert book.sheetnames == ["搬迁户", "填写说明"]
    sheet = book["搬迁户"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == kind.headers
    assert sheet.max_row == 1  # empty
    red = [cell for cell in sheet[1] if cell.font.bold and str(getattr(cell.font.color, "rgb", "")) == "FFC00000"]
    marked = {cell.value for cell in red}
    assert marked == {"户编号", "户主姓名", "现居村社区代码", "户类型"}
    lists = {}
    for validation in sheet.data_validations.dataValidation:
        assert validation.type == "list"
        for ref in str(validation.sqref).split():
            lists[headers[openpyxl.utils.cell.column_index_from_string(ref.split(":")[0].rstrip("0123456789")) - 1]] = (
                validation.formula1
            )
    assert lists["户类型"] == '"建档立卡户,同步搬迁户"'
    assert lists["监测对象类别"] == '"无,脱贫不稳定户,边缘易致贫户,突发严重困难户"'
    assert lists["自来水"] == '"是,否"'
    assert set(lists) == {
        "户类型", "状态", "监测对象类别", "帮扶措施已落实", "住房安全隐患", "自来水", "季节性缺水", "符合兜底条件",
        "兜底保障类型",
    }  # fmt: skip
    notes = book["填写说明"]
    explained = {row[0]: row for row in notes.iter_rows(values_only=True) if row[0] in kind.headers}
    assert set(explained) == set(kind.headers)
    assert explained["户编号"][1] == "必填（主键）"
    assert explained["户类型"][1] == "必填"
    assert "建档立卡户 / 同步搬迁户" in explained["户类型"][2]
    assert "留空 = 分散安置" in explained["安置点编码"][2]
    assert explained["联系电话"][1] == "可选"


@pytest.mark.parametrize("kind", ["areas", "sites", "persons", "incomes", "grievances", "actions"])
def test_every_template_of_township_staff_round_trips_its_headers(staff_client, tmp_path, kind):
    book = _workbook(staff_client.get(f"/imports/templates/{kind}.xlsx"), tmp_path)

    assert [cell.value for cell in book.worksheets[0][1]] == get_kind(kind).headers
    assert book.sheetnames[1] == "填写说明"


def test_an_empty_template_is_refused_as_a_file_without_data_rows(staff_client, tmp_path):
    # issue 17 finding 16: 0 data rows is said plainly, not "previewed" with nothing in it
    from households.importing import FileError, run_import

    response = staff_client.get("/imports/templates/persons.xlsx")
    path = tmp_path / "persons.xlsx"
    path.write_bytes(response.content)

    with pytest.raises(FileError, match="文件中没有数据行"):
        run_import("persons", path, dry_run=True)


# --- the uploaded file's lifecycle and personal data --------------------------------------------


def test_purge_deletes_files_older_than_a_day_and_marks_their_jobs_abandoned(staff, media):
    folder = import_runs.import_upload_dir()
    folder.mkdir(parents=True)
    now = timezone.now()

    def job_with_file(name: str, age: datetime.timedelta, status: str) -> ImportJob:
        path = folder / name
        path.write_text("x")
        job = ImportJob.objects.create(
            kind="households", file_name=name, stored_file=str(path), created_by=staff, status=status
        )
        ImportJob.objects.filter(pk=job.pk).update(created_at=now - age)
        return job

    old = job_with_file("old.csv", datetime.timedelta(hours=25), ImportJob.Status.PREVIEWED)
    old_invalid = job_with_file("old-invalid.csv", datetime.timedelta(hours=24), ImportJob.Status.INVALID)
    fresh = job_with_file("fresh.csv", datetime.timedelta(hours=1), ImportJob.Status.PREVIEWED)
    orphan = folder / "orphan.csv"
    orphan.write_text("x")
    stamp = time.time() - 25 * 3600
    os.utime(orphan, (stamp, stamp))
    young_orphan = folder / "young-orphan.csv"
    young_orphan.write_text("x")

    from households.tasks import import_jobs_purge_task

    assert import_jobs_purge_task.apply().get() == 3

    for job in (old, old_invalid):
        job.refresh_from_db()
        assert (job.status, job.stored_file) == (ImportJob.Status.ABANDONED, "")
        assert not (folder / job.file_name).exists()
    fresh.refresh_from_db()
    assert fresh.status == ImportJob.Status.PREVIEWED
    assert (folder / "fresh.csv").exists()
    assert not orphan.exists()
    assert young_orphan.exists()


def test_purge_is_in_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-import-files"]
    assert entry["task"] == "households.tasks.import_jobs_purge_task"
    assert entry["schedule"] <= 3600  # with the 23 h age, no file outlives 24 h


def test_a_purged_preview_can_no_longer_be_confirmed(staff_client, household, django_capture_on_commit_callbacks):
    job = upload(staff_client, django_capture_on_commit_callbacks, GOOD)
    import_runs.import_jobs_purge(now=timezone.now() + datetime.timedelta(hours=24))

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(f"/imports/{job.pk}/confirm/")

    job.refresh_from_db()
    assert job.status == ImportJob.Status.ABANDONED
    assert not Household.objects.filter(code="H02").exists()


def test_import_job_errors_hold_only_the_masked_id_number(staff_client, household, django_capture_on_commit_callbacks):
    first17 = "43130219900615123"
    wrong = first17 + ("0" if id_check_digit(first17) != "0" else "1")
    text = (
        "身份证号,姓名,户编号,与户主关系,劳动能力,就业信息更新日期\n"
        f"{wrong},王五,H01,子女,无劳动力,\n"
        f"{HEAD_ID},张一,H01,户主,无劳动力,\n"
    )

    job = upload(staff_client, django_capture_on_commit_callbacks, text, kind="persons", name="persons.csv")

    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert [(error["row"], error["column"]) for error in job.errors] == [(2, "身份证号")]
    stored = str(job.errors) + str(job.warnings)
    assert wrong not in stored
    assert first17 not in stored
    assert wrong[6:14] not in stored
    assert job.errors[0]["value"] == "*" * 18  # issue 17 finding 3: no fragment in stored error rows
    assert "校验" in job.errors[0]["reason"]
    body = page(staff_client, f"/imports/{job.pk}/")
    assert wrong in body  # issue 20: the uploader is shown what they typed (kept encrypted in the row)
    assert f"{wrong[:6]}********{wrong[-4:]}" not in body
    assert Person.objects.count() == 1
