"""Issue 19, acceptance 4: every spreadsheet the portal writes keeps a formula-like text inert.

A person, a household head, a grievance and a county are named ``=HYPERLINK("http://x","y")``; each
export is opened with openpyxl: the cell holding the name is a string cell (``data_type == "s"``) with
the name unchanged, and no cell of any sheet is a formula; in a CSV the name starts with ``'``.

The wide indicator workbook holds no names of people (codes, area and site names only): its cells are
written by the same ``core.spreadsheet`` writer; a county named like a formula is checked there too.
"""

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Role, User
from areas.models import Area
from households.importing.export import export_kind
from households.models import Grievance, Household, ImportJob, Person
from indicators.assessment import scoring as assessment
from indicators.models import Commendation, CommendationLevel
from tests.factories import GrievanceFactory, compute
from tests.world import KEY, YEAR, World, build_world

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://x","y")'
XLSX_FORMAT, CSV_FORMAT = "0", "1"  # the admin's FilesMixin formats: [SafeXLSX, SafeCSV]


@pytest.fixture
def world() -> World:
    """The workspace layout (its H00001 is on the 预警清单 and on 清零清单 lists), renamed to formulas."""
    world = build_world("workspace")
    Household.objects.filter(pk=world.household.pk).update(head_name=FORMULA)
    Person.objects.filter(pk=world.worker.pk).update(name=FORMULA)
    GrievanceFactory.create(code="G-FORMULA", village=world.village, content=FORMULA, household=world.household)
    return world


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _cells(content: bytes) -> Iterator[Any]:
    workbook = load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            yield from row


def assert_inert_xlsx(content: bytes, where: str) -> None:
    """The name is found, as a string cell with its text unchanged, and nothing is a formula."""
    cells = list(_cells(content))
    hits = [cell for cell in cells if cell.value == FORMULA]
    assert hits, f"{where}: the name is not in the file"
    assert all(cell.data_type == "s" for cell in hits), where
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"], where
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(name).decode(), (where, name)


def assert_inert_csv(text: str, where: str) -> None:
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    hits = [cell for cell in cells if FORMULA in cell]
    assert hits, f"{where}: the name is not in the file"
    assert all(cell == "'" + FORMULA for cell in hits), (where, hits)
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")], where


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ok(response: Any, where: str) -> bytes:
    assert response.status_code == 200, (where, response.status_code)
    return response.content


# --- the pages' exports ---------------------------------------------------------------------------


def test_zero_list_export_keeps_a_formula_name_as_text(world: World):
    client = _client(world.county_user)
    for code in ("M3-2", "M2-2"):  # a person's list (the worker) and a household's list (the head)
        url = reverse("indicator_list", args=[code, world.county.code]) + f"?period={KEY}&format=xlsx"
        assert_inert_xlsx(_ok(client.get(url), code), f"清零清单 {code}")


def test_warning_list_export_keeps_a_formula_name_as_text(world: World):
    url = reverse("warnings_list", args=[world.county.code]) + "?format=xlsx"
    assert_inert_xlsx(_ok(_client(world.county_user).get(url), "预警清单"), "预警清单")


def test_indicator_workbook_keeps_a_formula_area_name_as_text(world: World):
    # No person is named in the indicator workbook; a county's name is the text that comes from users.
    Area.objects.filter(pk=world.county.pk).update(name=FORMULA)
    client = _client(world.bureau_user)
    url = reverse("dashboard_export") + f"?period={KEY}&level=county"
    assert_inert_xlsx(_ok(client.get(url), "指标值"), "指标值宽表")
    assert_inert_csv(_ok(client.get(url + "&format=csv"), "指标值 CSV").decode(), "指标值 CSV")


def test_import_error_workbook_keeps_a_formula_name_as_text(world: World, django_capture_on_commit_callbacks):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["户编号", "户主姓名", "现居村社区代码", "户类型"])
    writer.writerow(["H77001", FORMULA, world.other_village.code, "同步搬迁户"])  # another township: an error
    upload = SimpleUploadedFile("搬迁户.csv", out.getvalue().encode("utf-8"), content_type="text/csv")
    client = _client(world.township_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/imports/", {"kind": "households", "file": upload})
    job = ImportJob.objects.get()
    assert job.errors
    content = _ok(client.get(reverse("import_errors", args=[job.pk])), "导入错误")
    assert_inert_xlsx(content, "导入错误工作簿")


def test_registry_exports_keep_a_formula_name_as_text(world: World, tmp_path):
    for kind in ("households", "persons", "grievances"):
        export_kind(kind, tmp_path / f"{kind}.xlsx")
        assert_inert_xlsx((tmp_path / f"{kind}.xlsx").read_bytes(), f"export_data {kind}.xlsx")
        export_kind(kind, tmp_path / f"{kind}.csv")
        assert_inert_csv((tmp_path / f"{kind}.csv").read_text(encoding="utf-8-sig"), f"export_data {kind}.csv")


def test_admin_exports_keep_a_formula_name_as_text(world: World):
    admin = User.objects.create_user(
        "admin19", password="x", role=Role.CITY_ADMIN, area=world.city, is_staff=True, is_superuser=False
    )
    client = _client(admin)
    for model in ("household", "person", "grievance"):
        url = f"/admin/households/{model}/export/"
        form = client.get(url).context["form"]
        ticked = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
        xlsx = client.post(url, {"format": XLSX_FORMAT, "resource": "0", **ticked})
        assert_inert_xlsx(_ok(xlsx, model), f"admin {model}.xlsx")
        text = _ok(client.post(url, {"format": CSV_FORMAT, "resource": "0", **ticked}), model).decode("utf-8-sig")
        assert_inert_csv(text, f"admin {model}.csv")
    assert Grievance.objects.filter(content=FORMULA).exists()


# --- the assessment ------------------------------------------------------------------------------


def test_assessment_workbook_keeps_a_formula_commendation_as_text():
    """A commendation titled like a formula (a cell of its own) and a county named like one (its sheet's
    name: Excel refuses ``/``), before the year's assessment is computed and published."""
    world = build_world("access", assess=False)
    Area.objects.filter(pk=world.a.county.pk).update(name=FORMULA)
    Commendation.objects.create(unit=world.a.county.code, year=YEAR, level=CommendationLevel.PROVINCIAL, title=FORMULA)
    compute(str(YEAR), as_of=datetime.date(YEAR, 12, 31), today=datetime.date(YEAR + 1, 1, 15))
    run = assessment.assessment_run_create(year=YEAR)
    assessment.assessment_run_execute(run_id=run.pk)
    assessment.assessment_publish(year=YEAR)
    url = reverse("assessment_download", args=[YEAR, "xlsx"])
    content = _ok(_client(world.admin).get(url), "考核 xlsx")
    assert_inert_xlsx(content, "考核通报 xlsx")
    assert '=HYPERLINK("httpx","y")' in load_workbook(io.BytesIO(content)).sheetnames
