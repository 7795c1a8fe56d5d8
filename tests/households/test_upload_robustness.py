"""Hostile uploads (issue 17, acceptance 2): real files built here — a far cell, a zip bomb, a million
columns, a 49 MiB line, a million empty rows, a CSV under a workbook's name. Each is refused within
10 s with a Chinese message, nothing written, the stored upload deleted, and the process reading it
stays under 300 MB (measured in a fresh subprocess with ``getrusage``)."""

import json
import os
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from areas.choices import AreaLevel
from households import import_jobs, import_runs
from households.importing import FileError, get_kind
from households.models import HistoryEntry, Household, ImportJob
from indicators.models import Commendation, Period
from tests.factories import AreaFactory, UserFactory
from tests.import_files import run_command

ROOT = Path(__file__).resolve().parents[2]
HOUSEHOLDS = get_kind("households")
assert HOUSEHOLDS is not None
HEADERS = HOUSEHOLDS.headers
MAX_SECONDS = 10
MAX_RSS_MB = 300

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _column(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_row() -> str:
    cells = "".join(
        f'<c r="{_column(index)}1" t="inlineStr"><is><t>{header}</t></is></c>'
        for index, header in enumerate(HEADERS, start=1)
    )
    return f'<row r="1">{cells}</row>'


def _workbook(path: Path, write_sheet) -> Path:  # type: ignore[no-untyped-def]
    """A minimal .xlsx whose sheet XML is streamed by ``write_sheet(stream)`` (never held in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            write_sheet(stream)
    return path


def far_cell(path: Path, ref: str) -> Path:
    def sheet(stream) -> None:  # type: ignore[no-untyped-def]
        row = "".join(ch for ch in ref if ch.isdigit())
        stream.write(
            f'{SHEET_HEAD}<dimension ref="A1:{ref}"/><sheetData>{_header_row()}'
            f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>'.encode()
        )

    return _workbook(path, sheet)


def zip_bomb(path: Path, size: int = 1536 * 1024 * 1024) -> Path:
    def sheet(stream) -> None:  # type: ignore[no-untyped-def]
        stream.write(f"{SHEET_HEAD}<sheetData>{_header_row()}".encode())
        block = b"0" * (16 * 1024 * 1024)
        for _ in range(size // len(block)):
            stream.write(block)
        stream.write(b"</sheetData></worksheet>")

    return _workbook(path, sheet)


def empty_rows(path: Path, rows: int = 1_048_576) -> Path:
    def sheet(stream) -> None:  # type: ignore[no-untyped-def]
        stream.write(f"{SHEET_HEAD}<sheetData>{_header_row()}".encode())
        for start in range(2, rows + 1, 65536):
            stream.write("".join(f'<row r="{n}"/>' for n in range(start, min(start + 65536, rows + 1))).encode())
        stream.write(b"</sheetData></worksheet>")

    return _workbook(path, sheet)


def wide_csv(path: Path, columns: int = 1_000_000) -> Path:
    with path.open("w", encoding="utf-8") as target:
        target.write(",".join(HEADERS) + ",x" * columns + "\n")
        target.write("1001,张三,,431302001001\n")
    return path


def long_line_csv(path: Path, size: int = 49 * 1024 * 1024) -> Path:
    with path.open("wb") as target:
        block = b"a" * (1024 * 1024)
        for _ in range(size // len(block)):
            target.write(block)
    return path


def plain_csv(path: Path) -> Path:
    path.write_text(",".join(HEADERS) + "\n1001,张三,,431302001001,,,2020,一般户\n", encoding="utf-8")
    return path


HOSTILE = {
    "far_cell_xfd": (lambda d: far_cell(d / "far-xfd.xlsx", "XFD1048576"), "文件中没有数据行"),
    "far_cell_az": (lambda d: far_cell(d / "far-az.xlsx", "AZ1048576"), "文件中没有数据行"),
    "zip_bomb": (lambda d: zip_bomb(d / "bomb.xlsx"), "解压后约"),
    "million_columns": (lambda d: wide_csv(d / "wide.csv"), "表头超过 41 列"),
    "long_line": (lambda d: long_line_csv(d / "line.csv"), "超过 4194304 个字符"),
    "million_empty_rows": (lambda d: empty_rows(d / "empty.xlsx"), "文件中没有数据行"),
    "csv_named_xls": (lambda d: plain_csv(d / "csv.xls"), "文件内容与扩展名不符"),
    "csv_named_xlsx": (lambda d: plain_csv(d / "csv.xlsx"), "文件内容与扩展名不符"),
}

MEASURE = """
import json, resource, sys, time
import django
django.setup()
from django.utils import translation
translation.activate("zh-hans")  # the portal's language, whatever the process inherited
from households.importing import FileError, run_import
start = time.monotonic()
try:
    run_import("households", sys.argv[1], dry_run=True)
    message = ""
except FileError as error:
    message = str(error)
seconds = time.monotonic() - start
# ru_maxrss keeps the forking parent's high-water mark across exec on Linux (it read pytest's own
# 272 MB for every file): VmHWM is this process's peak; getrusage where /proc is missing.
try:
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"message": message, "seconds": seconds, "rss_mb": peak}))
"""


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def hostile_files(hostile_dir):
    return {name: build(hostile_dir) for name, (build, _message) in HOSTILE.items()}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def village_staff(db):
    city = AreaFactory.create(code="431300", name="娄底市", level=AreaLevel.CITY)
    county = AreaFactory.create(code="431302", name="娄星区", level=AreaLevel.COUNTY, parent=city, county_code="431302")
    township = AreaFactory.create(
        code="431302001", name="乐坪街道", level=AreaLevel.TOWNSHIP, parent=county,
        county_code="431302", township_code="431302001",
    )  # fmt: skip
    village = AreaFactory.create(
        code="431302001001", name="A社区", level=AreaLevel.VILLAGE, parent=township,
        county_code="431302", township_code="431302001",
    )  # fmt: skip
    return UserFactory.create(username="cun", role=Role.VILLAGE_STAFF, area=village)


def nothing_written() -> bool:
    return not Household.objects.exists() and not HistoryEntry.objects.exists()


def stored_files(media: Path) -> list[Path]:
    folder = media / "imports"
    return sorted(folder.iterdir()) if folder.is_dir() else []


# --- the reader in a fresh process: time and peak memory ----------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_file_is_refused_fast_within_300_mb_in_a_fresh_process(hostile_files, name):
    # issue 17 findings 1, 6, 7, 16 and the content sniffing: bounded reading, measured
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "relocation.settings.test", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(hostile_files[name])],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{name}: {measured['seconds']:.2f} s, peak RSS {measured['rss_mb']:.0f} MB — {measured['message']}")
    assert HOSTILE[name][1] in measured["message"]
    assert measured["seconds"] < MAX_SECONDS
    assert measured["rss_mb"] < MAX_RSS_MB


# --- through the import job: nothing written, the job ends, the file is gone ---------------------


@pytest.mark.parametrize("name", [name for name in HOSTILE if not name.startswith("csv_named")])
def test_hostile_upload_ends_its_job_invalid_with_its_file_deleted_and_nothing_written(
    hostile_files, name, village_staff, media, django_capture_on_commit_callbacks
):
    # issue 17 findings 1, 6, 7, 16: the job ends (never stuck validating), the upload is removed
    path = hostile_files[name]
    start = time.monotonic()
    with path.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.import_job_create(actor=village_staff, kind="households", upload=File(handle, name=path.name))
    elapsed = time.monotonic() - start

    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID, job.errors
    assert HOSTILE[name][1] in job.errors[0]["reason"]
    assert job.stored_file == ""
    assert stored_files(media) == []
    assert nothing_written()
    assert elapsed < MAX_SECONDS


@pytest.mark.parametrize("suffix", [".xls", ".xlsx"])
def test_csv_under_a_workbook_name_is_refused_at_upload_on_web_and_api(
    client, village_staff, media, suffix, django_capture_on_commit_callbacks
):
    # issue 17, the oracle run: content sniffed, a mismatch refused before any job or file exists
    content = (",".join(HEADERS) + "\n1001,张三,,431302001001,,,2020,一般户\n").encode()
    client.force_login(village_staff)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/imports/", {"kind": "households", "file": SimpleUploadedFile(f"h{suffix}", content)})
        api = client.post("/api/v1/imports/", {"kind": "households", "file": SimpleUploadedFile(f"h{suffix}", content)})

    assert page.status_code == 200
    assert "文件内容与扩展名不符" in page.content.decode()
    assert api.status_code == 400
    assert "文件内容与扩展名不符" in json.dumps(api.json(), ensure_ascii=False)
    assert not ImportJob.objects.exists()
    assert stored_files(media) == []
    assert nothing_written()


@pytest.mark.parametrize("suffix", [".xls", ".xlsx"])
def test_csv_under_a_workbook_name_exits_2_and_writes_nothing(db, tmp_path, suffix):
    # issue 17, the oracle run: a CSV named .xls was imported as commendations (a row written)
    path = tmp_path / f"commendations{suffix}"
    path.write_text("被表彰单位,年度,表彰级别,表彰名称\n娄星区,2024,省级,先进单位\n", encoding="utf-8")

    status, out, err = run_command("import_data", "commendations", str(path))

    assert status == 2
    assert "文件内容与扩展名不符" in out + err
    assert not Commendation.objects.exists()


def test_a_zip_without_content_types_is_no_workbook(db, tmp_path):
    # issue 17, content sniffing: a zip is an .xlsx only with [Content_Types].xml
    path = tmp_path / "h.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")

    status, out, err = run_command("import_data", "households", str(path))

    assert status == 2
    assert "不是 Excel 工作簿" in out + err


def test_a_quadratic_header_check_is_gone_duplicates_still_refused(db, tmp_path):
    # issue 17 finding 7: duplicates found with one count, still named in the message
    path = tmp_path / "dup.csv"
    path.write_text(",".join(HEADERS + ["户编号", "户类型"]) + "\n", encoding="utf-8")

    status, out, err = run_command("import_data", "households", str(path))

    assert status == 2
    assert "表头重复：户类型、户编号" in out + err


def test_far_cell_workbook_still_reads_its_real_rows_through_the_bounded_reader(village_staff, tmp_path):
    # issue 17 finding 1: a stray far cell sends the file to the streaming reader; its rows still count
    def sheet(stream) -> None:  # type: ignore[no-untyped-def]
        row = '<row r="2"><c r="A2" t="inlineStr"><is><t>1001</t></is></c></row>'
        far = '<row r="3"><c r="XFD3" t="inlineStr"><is><t>x</t></is></c></row>'
        stream.write(
            f'{SHEET_HEAD}<dimension ref="A1:XFD3"/><sheetData>{_header_row()}{row}{far}'.encode()
            + b"</sheetData></worksheet>"
        )

    from households.importing import readers

    table = readers.open_table(_workbook(tmp_path / "f.xlsx", sheet), columns=len(HEADERS))
    rows = list(table.rows)

    assert table.headers == HEADERS
    assert [values[0] for _number, values in rows] == ["1001", ""]
    assert max(len(values) for _number, values in rows) <= len(HEADERS)


def test_row_cap_from_settings_refuses_a_longer_file(settings, tmp_path):
    # issue 17 finding 1: the row cap comes from IMPORT_MAX_ROWS
    from households.importing import readers

    settings.IMPORT_MAX_ROWS = 3
    path = tmp_path / "rows.csv"
    path.write_text(",".join(HEADERS) + "\n" + "1,a\n" * 5, encoding="utf-8")

    with pytest.raises(FileError, match="超过 3 行数据的上限"):
        list(readers.open_table(path, columns=len(HEADERS)).rows)


# --- an import that dies anyway -------------------------------------------------------------------


def _uploaded(village_staff, media) -> ImportJob:  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("h.csv", (",".join(HEADERS) + "\n1001,张三,,431302001001\n").encode())
    return import_jobs.import_job_create(actor=village_staff, kind="households", upload=upload)


def test_an_import_whose_task_raises_ends_failed_and_deletes_its_file(village_staff, media, monkeypatch):
    # issue 17 finding 1: an exception inside the import ends the job "failed", file removed
    job = _uploaded(village_staff, media)
    stored = Path(job.stored_file)
    assert stored.is_file()

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OverflowError("cannot allocate")

    monkeypatch.setattr(import_runs, "run_import", explode)
    import_runs.import_job_validate(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "OverflowError" in job.errors[0]["reason"]
    assert job.stored_file == ""
    assert not stored.exists()
    assert nothing_written()


def test_a_job_whose_worker_died_while_validating_ends_failed_when_redelivered(village_staff, media):
    # issue 17 finding 1: a killed worker left the job "validating"; the redelivered task fails it
    job = _uploaded(village_staff, media)
    stored = Path(job.stored_file)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING, progress=0)

    import_runs.import_job_validate(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "进程意外中止" in job.errors[0]["reason"]
    assert job.stored_file == ""
    assert not stored.exists()
    assert nothing_written()


# --- finding 22: uploaded files are owner-only ------------------------------------------------------


def test_uploaded_files_are_0600_in_a_0700_folder(village_staff, media):
    # issue 17 finding 22: the upload holds personal data; no other account may read it
    job = _uploaded(village_staff, media)

    assert stat.S_IMODE(Path(job.stored_file).stat().st_mode) == 0o600
    assert stat.S_IMODE((media / "imports").stat().st_mode) == 0o700


# --- compute_indicators --period 2099 --------------------------------------------------------------


def test_compute_indicators_for_a_future_period_writes_no_period_row(db):
    # issue 17, remark: the refused period was created anyway
    status, out, err = run_command("compute_indicators", "--period", "2099")

    assert status == 1
    assert "2099" in out + err
    assert not Period.objects.filter(key="2099").exists()


def test_a_redelivered_import_run_ends_failed_and_deletes_its_file(village_staff, media):
    # issue 17 finding 1: the broker redelivers the run of a worker that died; it is not run again
    job = _uploaded(village_staff, media)
    stored = Path(job.stored_file)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.IMPORTING)

    import_runs.import_job_run(job_id=job.pk, redelivered=True)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "进程意外中止" in job.errors[0]["reason"]
    assert job.stored_file == ""
    assert not stored.exists()
    assert nothing_written()


def test_a_workbook_with_oversized_shared_strings_is_refused_before_unpacking(db, settings, tmp_path):
    # issue 17 finding 6: parts loaded whole (shared strings, styles) get a quarter of the unpacked limit
    settings.IMPORT_MAX_UNZIPPED_MB = 4
    path = far_cell(tmp_path / "strings.xlsx", "A2")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", os.urandom(768 * 1024).hex())  # 1.5 MB, barely compressible

    status, out, err = run_command("import_data", "households", str(path))

    assert status == 2
    assert "xl/sharedStrings.xml 解压后约 1 MB（上限 1 MB）" in out + err
