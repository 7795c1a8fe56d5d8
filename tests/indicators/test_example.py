"""The worked example of the specification, end to end: import every template with ``import_data``,
compute period 2025, and compare the five exports with the expected files byte for byte."""

import io

import pytest
from django.core.management import call_command, get_commands

from tests.import_files import EXAMPLE

IMPORTS = [
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
LEVELS = ["city", "county", "township", "village", "site"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def example_computed():
    if "import_data" not in get_commands():
        pytest.fail("import_data is missing: the worked example must be imported through it")
    for kind, name in IMPORTS:
        call_command("import_data", kind, str(EXAMPLE / name), stdout=io.StringIO(), stderr=io.StringIO())
    call_command("compute_indicators", "--period", "2025", stdout=io.StringIO())


@pytest.mark.parametrize("level", LEVELS)
def test_export_equals_the_expected_file_byte_for_byte(example_computed, level, tmp_path):
    output = tmp_path / f"out_{level}.csv"
    call_command("export_indicators", "--period", "2025", "--level", level, "--format", "csv", "--output", str(output))
    assert output.read_bytes() == (EXAMPLE / f"expected_{level}.csv").read_bytes()


def test_as_of_the_last_day_gives_the_same_values(example_computed, tmp_path):
    call_command("compute_indicators", "--period", "2025", "--as-of", "2025-12-31", stdout=io.StringIO())
    output = tmp_path / "out_village.csv"
    call_command("export_indicators", "--period", "2025", "--level", "village", "--output", str(output))
    assert output.read_bytes() == (EXAMPLE / "expected_village.csv").read_bytes()
