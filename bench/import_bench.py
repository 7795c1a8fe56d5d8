"""Import benchmark (not a test): households.xlsx (20,000 rows) and persons.csv (GB18030, ~72,000
rows) imported on the configured database (DATABASE_URL), then re-imported unchanged; each file is
compared with a plain read of itself in the same run (openpyxl read-only for the .xlsx, the csv module
for the .csv).

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python bench/import_bench.py      # migrates first
    DATABASE_URL=postgres://… python bench/import_bench.py --households 20000
    … python bench/import_bench.py --memory 1000000   # + peak RSS of a 1,000,000-row persons import

Goal (issue 22): a first import within 3x of the plain read of the same file; a re-import of an
unchanged file >= 20,000 rows/s; a 1,000,000-row persons import in <= 1 GB (measured in a child
process: its ``VmHWM``, see ``peak_rss_mb``). The run ends with a summary block to paste.
Bench data lives in its own county (439901) and is removed before each run.
"""

import argparse
import csv
import datetime
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings.local")
# As a worker runs: no SQL logged per query (DEBUG on costs the import ~10 %).
os.environ.setdefault("DEBUG", "0")

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
import xlsxwriter  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from areas.models import Area  # noqa: E402
from households.importing import ImportResult, run_import  # noqa: E402
from households.models import (  # noqa: E402
    HistoryEntry,
    Household,
    Person,
    Site,
)
from households.validators import id_check_digit  # noqa: E402

COUNTY, TOWNSHIP = "439901", "439901001"
PERSON_HEADERS = [
    "身份证号",
    "姓名",
    "户编号",
    "与户主关系",
    "状态",
    "劳动能力",
    "就业意愿",
    "就业状态",
    "就业信息更新日期",
]
PERSON_HEADERS += ["务工地点", "交通补助已发放", "培训意愿", "最近培训日期", "在校情况", "困难学生", "已获资助"]
PERSON_HEADERS += ["基本医疗保险", "家庭医生签约"]
HOUSEHOLD_HEADERS = [
    "户编号",
    "户主姓名",
    "户主身份证号",
    "现居村社区代码",
    "安置点编码",
    "迁出地代码",
    "搬迁年份",
    "户类型",
]
HOUSEHOLD_HEADERS += ["状态", "监测对象类别", "帮扶措施已落实", "住房安全隐患", "自来水", "季节性缺水", "后扶产业项目"]
HOUSEHOLD_HEADERS += ["产业分红金额", "符合兜底条件", "兜底保障类型", "结对帮扶人", "结对联系人", "联系电话"]


def make_id(serial: int) -> str:
    """Distinct valid ID numbers: 1,000 per birth date, dates counted from 1950-01-01."""
    birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=serial // 1000 * 37 % 25000)
    first17 = f"439901{birth:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_check_digit(first17)


def person_row(row: int, household: int, position: int, id_number: str) -> list[str]:
    return [
        id_number,
        f"成员{row}",
        f"BH{household:06d}",
        "户主" if position == 0 else "子女",
        "正常",
        "普通劳动力",
        "是",
        "外出务工",
        "2025-10-02",
        "广东",
        "是",
        "否",
        "",
        "非在校",
        "否",
        "否",
        "是",
        "是",
    ]


def build(directory: Path, households: int, persons: int, villages: int) -> tuple[Path, Path]:
    rng = random.Random(7)
    household_path, person_path = directory / "households.xlsx", directory / "persons.csv"
    ids: list[list[str]] = [[] for _ in range(households)]
    for index in range(persons):
        household = index if index < households else rng.randrange(households)
        ids[household].append(make_id(index))
    book = xlsxwriter.Workbook(str(household_path), {"constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HOUSEHOLD_HEADERS)
    for index in range(households):
        village = f"{TOWNSHIP}{index % villages + 1:03d}"
        site = f"BS{index % villages + 1:03d}" if index % 3 else ""
        sheet.write_row(
            index + 1,
            0,
            [
                f"BH{index:06d}",
                f"户主{index}",
                ids[index][0],
                village,
                site,
                TOWNSHIP,
                "2018",
                "建档立卡户",
                "正常",
                "无",
                "否",
                "无",
                "是",
                "否",
                "茶",
                "100.50",
                "否",
                "无",
                "王",
                "",
                f"1380000{index % 10000:04d}",
            ],
        )
    book.close()
    with person_path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PERSON_HEADERS)
        row = 1
        for index, members in enumerate(ids):
            for position, id_number in enumerate(members):
                writer.writerow(person_row(row, index, position, id_number))
                row += 1
    return household_path, person_path


def remove_county() -> None:
    """Remove the bench's county, then vacuum on PostgreSQL: the timed imports must not run on the dead
    rows of the last run (a million after ``--memory``) nor beside the autovacuum they wake."""
    Person.objects.filter(county_code=COUNTY).delete()
    Household.objects.filter(county_code=COUNTY).delete()
    Site.objects.filter(county_code=COUNTY).delete()
    HistoryEntry.objects.filter(county_code=COUNTY).delete()
    Area.objects.filter(county_code=COUNTY, level="村").delete()
    Area.objects.filter(county_code=COUNTY).exclude(level="县").delete()
    Area.objects.filter(code=COUNTY).delete()
    if connection.vendor == "postgresql":
        tables = [model._meta.db_table for model in (Person, Household, Site, HistoryEntry, Area)]
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")


def reset(villages: int) -> None:
    remove_county()
    city, _ = Area.objects.get_or_create(code="431300", defaults={"name": "娄底市", "level": "市"})
    county = Area.objects.create(code=COUNTY, name="基准县", level="县", parent=city, county_code=COUNTY)
    township = Area.objects.create(
        code=TOWNSHIP, name="基准镇", level="乡镇", parent=county, county_code=COUNTY, township_code=TOWNSHIP
    )
    areas = [
        Area(
            code=f"{TOWNSHIP}{n:03d}",
            name=f"村{n}",
            level="村",
            parent=township,
            county_code=COUNTY,
            township_code=TOWNSHIP,
        )
        for n in range(1, villages + 1)
    ]
    Area.objects.bulk_create(areas)
    by_code = {area.code: area for area in Area.objects.filter(township_code=TOWNSHIP, level="村")}
    Site.objects.bulk_create(
        Site(
            code=f"BS{n:03d}",
            name=f"安置点{n}",
            village=by_code[f"{TOWNSHIP}{n:03d}"],
            kind="城镇集中安置",
            county_code=COUNTY,
            township_code=TOWNSHIP,
            village_code=f"{TOWNSHIP}{n:03d}",
        )
        for n in range(1, villages + 1)
    )


def plain_read(path: Path) -> float:
    """The floor: openpyxl read-only for a workbook, the csv module (GB18030) for a CSV file."""
    start, cpu = time.perf_counter(), time.process_time()
    if path.suffix == ".csv":
        with path.open(encoding="gb18030", newline="") as handle:
            for _row in csv.reader(handle):
                pass
    else:
        workbook = openpyxl.load_workbook(path, read_only=True)
        for _row in workbook.active.iter_rows(values_only=True):
            pass
        workbook.close()
    CPU[f"read {path.name}"] = time.process_time() - cpu
    return time.perf_counter() - start


CPU: dict[str, float] = {}
SERVER_CPU: dict[str, float] = {}


def timed(kind: str, path: Path) -> tuple[float, ImportResult]:
    """Wall seconds (and this process's CPU seconds, kept in ``CPU`` per kind and pass: on a shared
    machine the CPU ratio is the steadier one for SQLite, where the database runs in-process)."""
    start, cpu, server = time.perf_counter(), time.process_time(), backend_cpu()
    result = run_import(kind, path)
    CPU[kind] = CPU.get(kind, 0.0) + time.process_time() - cpu
    if server is not None:
        SERVER_CPU[kind] = SERVER_CPU.get(kind, 0.0) + (backend_cpu() or server) - server
    return time.perf_counter() - start, result


def backend_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend, when the server runs on this machine: the
    part of an import's wall time spent in the database, which the process's own CPU does not show."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_child(path: Path) -> None:
    """Run in a child process: import ``path`` (persons) and print the peak resident set in MB."""
    seconds, result = timed("persons", path)
    assert result.ok, result.errors[:5]
    print(f"{seconds:.2f} {peak_rss_mb():.0f} {result.total}")


def peak_rss_mb() -> float:
    """This process's peak resident set: ``VmHWM`` (Linux), which starts afresh at ``exec``. Linux
    keeps ``ru_maxrss`` across ``exec``: a child forked from the bench, after the bench imported the
    households of a 1,000,000-row run (~1 GB), reported the bench's peak, not its own."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def memory_run(directory: Path, persons: int, villages: int) -> tuple[int, float, float]:
    """A ``persons``-row persons.csv (3.6 members a household) imported in a child process, its
    households imported first by this one; prints the child's peak RSS."""
    households = max(1, round(persons / 3.6))
    reset(villages)
    household_path, person_path = build(directory, households, persons, villages)
    seconds, result = timed("households", household_path)
    assert result.ok, result.errors[:5]
    print(f"memory run: {households} households imported in {seconds:.1f} s")
    env = {**os.environ, "IMPORT_MAX_ROWS": str(max(persons, 500_000))}
    out = subprocess.run(  # noqa: S603 - this very script, run by the bench's own interpreter
        [sys.executable, __file__, "--memory-child", str(person_path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    seconds, peak_mb, total = float(out[0]), float(out[1]), int(out[2])
    print(f"persons import of {total} rows: {seconds:7.1f} s  {total / seconds:7.0f} rows/s  peak RSS {peak_mb:.0f} MB")
    remove_county()
    return total, seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--persons", type=int, default=72000)
    parser.add_argument("--villages", type=int, default=100)
    parser.add_argument("--memory", type=int, default=0, help="then a persons import of this many rows, peak RSS")
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    call_command("migrate", verbosity=0)
    reset(args.villages)
    total = args.households + args.persons
    with tempfile.TemporaryDirectory() as tmp:
        household_path, person_path = build(Path(tmp), args.households, args.persons, args.villages)
        read = [plain_read(household_path), plain_read(person_path)]
        first = [timed("households", household_path), timed("persons", person_path)]
        first_cpu, first_server = dict(CPU), dict(SERVER_CPU)
        again = [timed("households", household_path), timed("persons", person_path)]
        for _seconds, result in first:
            assert result.ok, result.errors[:5]
            assert result.created, result.errors[:5]
        for _seconds, result in again:
            assert result.ok
            assert not result.created
            assert not result.updated
        print(f"database: {connection.vendor}; rows: {args.households} households + {args.persons} persons = {total}")
        files = (("households.xlsx", args.households), ("persons.csv", args.persons))
        for index, (name, rows) in enumerate(files):
            plain, (first_s, _r), (again_s, _a) = read[index], first[index], again[index]
            print(
                f"{name:<16} plain read {plain:6.2f} s | first import {first_s:6.2f} s"
                f" = {first_s / plain:4.2f}x the read ({rows / first_s:6.0f} rows/s)"
                f" | re-import {again_s:6.2f} s = {rows / again_s:6.0f} rows/s"
            )
        read_s, first_s, again_s = sum(read), sum(s for s, _ in first), sum(s for s, _ in again)
        print(
            f"both files       plain read {read_s:6.2f} s | first import {first_s:6.2f} s"
            f" = {first_s / read_s:4.2f}x the read ({total / first_s:6.0f} rows/s)"
            f" | re-import {again_s:6.2f} s = {total / again_s:6.0f} rows/s"
        )
        read_cpu = first_cpu["read households.xlsx"] + first_cpu["read persons.csv"]
        import_cpu = first_cpu["households"] + first_cpu["persons"]
        print(
            f"CPU of this process: plain read {read_cpu:6.2f} s | first import {import_cpu:6.2f} s"
            f" = {import_cpu / read_cpu:4.2f}x the read (households {first_cpu['households']:.2f} s,"
            f" persons {first_cpu['persons']:.2f} s)"
        )
        if first_server:
            print(
                f"CPU of the database backend, first import: households {first_server['households']:.2f} s,"
                f" persons {first_server['persons']:.2f} s"
            )
        for label, runs in (("first", first), ("again", again)):
            for kind, (seconds, result) in zip(("households", "persons"), runs, strict=True):
                print(f"  {label} {kind:<10} {seconds:6.2f} s  {result.summary()}")
        memory = memory_run(Path(tmp), args.memory, args.villages) if args.memory else None
    summary(connection.vendor, files, read, first, again, first_cpu, memory)


def summary(
    vendor: str,
    files: tuple[tuple[str, int], ...],
    read: list[float],
    first: list[tuple[float, ImportResult]],
    again: list[tuple[float, ImportResult]],
    cpu: dict[str, float],
    memory: tuple[int, float, float] | None,
) -> None:
    """The block to paste (issue 22, acceptance 2): each file and both, against the three goals."""
    read_s, first_s, again_s = sum(read), sum(s for s, _ in first), sum(s for s, _ in again)
    rows = sum(count for _name, count in files)
    read_cpu = cpu["read households.xlsx"] + cpu["read persons.csv"]
    import_cpu = cpu["households"] + cpu["persons"]
    ratio, rate = first_s / read_s, rows / again_s
    lines = [f"== import bench ({vendor}) =="]
    for index, (name, count) in enumerate(files):
        lines.append(
            f"{name:<16} {count:>7} rows  plain read {read[index]:6.2f} s  first import {first[index][0]:6.2f} s"
            f"  re-import {again[index][0]:6.2f} s = {count / again[index][0]:6.0f} rows/s"
        )
    lines.append(
        f"both files       {rows:>7} rows  first import = {ratio:.2f}x the plain read"
        f" (CPU {import_cpu / read_cpu:.2f}x)  [goal <= 3x: {'met' if ratio <= 3 else 'NOT met'}]"
    )
    lines.append(f"re-import unchanged: {rate:,.0f} rows/s  [goal >= 20,000: {'met' if rate >= 20000 else 'NOT met'}]")
    if memory is not None:
        total, seconds, peak_mb = memory
        lines.append(
            f"persons import of {total:,} rows: {seconds:.0f} s ({total / seconds:,.0f} rows/s),"
            f" peak RSS {peak_mb:,.0f} MB  [goal <= 1,024 MB: {'met' if peak_mb <= 1024 else 'NOT met'}]"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
