"""Encodings, .xls, export → import round trips, and formula-safe exports."""

import pytest

from accounts import personal_data
from households import importing
from households.models import HistoryEntry, Person
from indicators.models import CityStatistic
from tests.import_files import EXAMPLE, EXAMPLE_FILES, import_example, read_rows, run_command, write_csv, write_xls


@pytest.fixture
def example_db(db):
    import_example()


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings(example_db, tmp_path, encoding):
    headers, rows = read_rows(EXAMPLE / "persons.csv")
    rows[1][headers.index("姓名")] = "李二妹"
    status, out, _ = run_command("import_data", "persons", str(write_csv(tmp_path / "p.csv", headers, rows, encoding)))
    assert status == 0
    assert "修改 1，未变 26" in out
    assert Person.objects.filter(name="李二妹").exists()


@pytest.mark.parametrize("name", ["𠀀", "䶮"])
def test_name_only_gb18030_can_encode_survives(example_db, tmp_path, name):
    with pytest.raises(UnicodeEncodeError):
        name.encode("gbk")
    headers, rows = read_rows(EXAMPLE / "persons.csv")
    rows[1][headers.index("姓名")] = f"李{name}"
    path = write_csv(tmp_path / "p.csv", headers, rows, "gb18030")
    assert run_command("import_data", "persons", str(path))[0] == 0
    assert Person.objects.get(id_number_hash=personal_data.blind_index("431302198201010026")).name == f"李{name}"


def test_xls_files_are_read(db, tmp_path):
    import datetime

    pytest.importorskip("xlwt")
    import_example(upto="households")
    headers, rows = read_rows(EXAMPLE / "grievances.xlsx")
    rows = [[431302001001 if cell == "431302001001" else cell for cell in row] for row in rows[:3]]
    rows[0][headers.index("受理日期")] = datetime.date(2025, 3, 1)
    rows[0][headers.index("村社区内解决")] = True
    path = write_xls(tmp_path / "g.xls", headers, rows)
    status, out, err = run_command("import_data", "grievances", str(path))
    assert status == 0, (out, err)
    assert "新增 3" in out, (out, err)
    from households.models import Grievance

    g1 = Grievance.objects.get(code="G1")
    assert str(g1.received_on) == "2025-03-01"
    assert g1.resolved_in_village
    assert g1.village_code == "431302001001"


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_export_then_import_changes_nothing_for_every_kind(example_db, tmp_path, suffix):
    history = HistoryEntry.objects.count()
    for kind, _name in EXAMPLE_FILES:
        path = tmp_path / f"{kind}.{suffix}"
        status, out, _ = run_command("export_data", kind, str(path))
        assert status == 0, out
        status, out, err = run_command("import_data", kind, str(path))
        assert status == 0, (kind, out, err)
        assert "新增 0，修改 0" in out, (kind, out)
    assert HistoryEntry.objects.count() == history


def test_masked_export_shows_masked_ids(example_db, tmp_path):
    path = tmp_path / "p.csv"
    assert run_command("export_data", "persons", str(path), "--masked")[0] == 0
    text = path.read_text(encoding="utf-8-sig")
    assert "431302********0012" in text
    assert "431302198005050012" not in text
    importing.export_kind("persons", tmp_path / "full.csv")
    assert "431302198005050012" in (tmp_path / "full.csv").read_text(encoding="utf-8-sig")


def test_formula_like_cells_are_exported_as_text_and_round_trip(example_db, tmp_path):
    from households.models import Grievance

    Grievance.objects.filter(code="G1").update(content='=HYPERLINK("http://x")', handling="-已维修")
    xlsx = tmp_path / "g.xlsx"
    importing.export_kind("grievances", xlsx)
    import openpyxl

    sheet = openpyxl.load_workbook(xlsx).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value and str(cell.value).startswith("=")]
    assert cells
    assert all(cell.data_type == "s" for cell in cells)
    csv_path = tmp_path / "g.csv"
    importing.export_kind("grievances", csv_path)
    assert "'=HYPERLINK" in csv_path.read_text(encoding="utf-8-sig")
    for path in (xlsx, csv_path):
        result = importing.run_import("grievances", path)
        assert result.ok
        assert result.updated == 0
        assert result.created == 0


def test_run_import_with_a_file_object_and_progress(db):
    seen = []
    with (EXAMPLE / "citystats.csv").open("rb") as handle:
        result = importing.run_import("citystats", handle, progress=seen.append)
    assert result.ok
    assert result.created == 2
    assert seen[-1] == 100
    assert CityStatistic.objects.count() == 2


def test_import_job_gets_masked_errors(example_db, tmp_path):
    from households.models import ImportJob

    headers, rows = read_rows(EXAMPLE / "persons.csv")
    rows.append(["431302199901010012", *rows[1][1:]])
    job = ImportJob.objects.create(kind="persons", file_name="p.csv")
    result = importing.run_import("persons", write_csv(tmp_path / "p.csv", headers, rows), job=job)
    job.refresh_from_db()
    assert not result.ok
    assert job.status == ImportJob.Status.INVALID
    # issue 17 finding 3: the stored error row keeps no fragment of the number
    assert job.errors[0]["value"] == "*" * 18
    assert "431302199901010012" not in str(job.errors)
    assert "431302********0012" not in str(job.errors)
