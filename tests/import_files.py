"""Build small template files for the import tests (xlsx with real date and numeric cells, csv, xls)."""

import csv
import datetime
import io
from pathlib import Path
from typing import Any

import openpyxl
from django.core.management import call_command
from django.core.management.base import CommandError

# The specification's worked example, copied into the repository (tests/data/example/README.md).
EXAMPLE = Path(__file__).resolve().parent / "data" / "example"
EXAMPLE_FILES = [
    ("areas", "areas.xlsx"),
    ("sites", "sites.xlsx"),
    ("households", "households.xlsx"),
    ("persons", "persons.csv"),
    ("incomes", "incomes.csv"),
    ("grievances", "grievances.xlsx"),
    ("actions", "actions.xlsx"),
    ("finance", "finance.xlsx"),
    ("citystats", "citystats.csv"),
    ("commendations", "commendations.xlsx"),
]


def write_xlsx(path: Path, headers: list[str], rows: list[list[Any]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
    workbook.save(path)
    return path


def write_csv(path: Path, headers: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xls(path: Path, headers: list[str], rows: list[list[Any]]) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for column, header in enumerate(headers):
        sheet.write(0, column, header)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, datetime.date):
                sheet.write(number, column, value, date_style)
            else:
                sheet.write(number, column, value)
    book.save(str(path))
    return path


def read_rows(path: Path) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of an example file, to derive broken variants from."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            data = list(csv.reader(handle))
        return data[0], data[1:]
    sheet = openpyxl.load_workbook(path).active
    data = [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    return [str(cell) for cell in data[0]], data[1:]


def run_command(*args: str) -> tuple[int, str, str]:
    """Run ``import_data``/``export_data``; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        err.write(str(error))
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def import_example(upto: str | None = None) -> None:
    for kind, name in EXAMPLE_FILES:
        status, out, err = run_command("import_data", kind, str(EXAMPLE / name))
        assert status == 0, (kind, out, err)
        if kind == upto:
            return
