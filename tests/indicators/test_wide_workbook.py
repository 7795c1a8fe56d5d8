"""Issue 19, acceptance 5: the dashboards' indicator export is a wide Chinese workbook for people. It
opens in openpyxl, its header names every indicator in Chinese, and every cell agrees with the stored
``IndicatorValue`` of its unit (the worked example, every level); its query count does not grow with
the number of units."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from indicators.dashboards.panels import floor_one_decimal
from indicators.dashboards.workbook import HEADER_ROW, exact_of
from indicators.models import Indicator, IndicatorValue, Kind, Met, Period
from tests.factories import UserFactory
from tests.import_files import EXAMPLE

pytestmark = pytest.mark.django_db

# Session, user, periods, catalogue, values, their runs (grouped), names, and the session save (3):
# whatever the number of units.
EXPORT_QUERIES = 10
LEVELS = ["city", "county", "township", "village", "site"]
FILLS = {Met.TRUE: "FFC6EFCE", Met.FALSE: "FFFFC7CE", Met.NA: "FFE7E6E6"}
MEASURES = ["措施一", "措施二", "措施三", "措施四", "措施五", "措施六", "措施七", "措施八", "措施九", "措施十"]
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
]


@pytest.fixture(scope="module")
def example(django_db_setup, django_db_blocker):
    """The worked example imported and computed once for the module (rolled back after it)."""
    from django.db import transaction  # the module fixture's own transaction, as tests/world.py does

    with django_db_blocker.unblock(), transaction.atomic():
        for kind, name in IMPORTS:
            call_command("import_data", kind, str(EXAMPLE / name), stdout=io.StringIO(), stderr=io.StringIO())
        call_command("compute_indicators", "--period", "2025", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def _client() -> Client:
    client = Client()
    client.force_login(UserFactory.create(username="yifuban19", role="city_admin", department="市易扶办"))
    return client


def _expected(value: IndicatorValue, indicator: Indicator) -> object:
    if indicator.kind in (Kind.RATE, Kind.GAP_PP):
        exact = None if value.met == Met.NA else exact_of(value)
        if exact is None:
            return "—"
        shown = floor_one_decimal(exact)
        return float(shown / 100) if indicator.kind == Kind.RATE else float(shown)
    return "—" if value.numerator is None else value.numerator


@pytest.mark.parametrize("level", LEVELS)
def test_wide_workbook_agrees_with_every_stored_value(example, level):
    response = _client().get(reverse("dashboard_export") + f"?period=2025&level={level}")
    assert response.status_code == 200
    assert "filename*=utf-8''" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["总表", *MEASURES, "说明"]
    indicators = list(Indicator.objects.select_related("measure").order_by("order"))
    stored = {
        (value.unit_code, value.indicator.code): value
        for value in IndicatorValue.objects.filter(period__key="2025", level=level).select_related("indicator")
    }
    assert stored
    sheet = workbook["总表"]
    rows = list(sheet.iter_rows(min_row=HEADER_ROW + 1))
    header = [cell.value for cell in rows[0]]
    first = header.index("M1-1 " + indicators[0].name)
    assert header[first:] == [f"{indicator.code} {indicator.name}" for indicator in indicators]
    body = rows[1:]
    assert sorted(row[0].value for row in body) == sorted({unit for unit, _code in stored})
    checked = 0
    for row in body:
        unit = row[0].value
        for indicator, cell in zip(indicators, row[first:], strict=True):
            value = stored.get((unit, indicator.code))
            if value is None:
                assert cell.value is None, (unit, indicator.code)
                continue
            expected = _expected(value, indicator)
            if isinstance(expected, float):
                assert cell.value == pytest.approx(expected, abs=1e-12), (unit, indicator.code)
            else:
                assert cell.value == expected, (unit, indicator.code)
            fill = cell.fill.fgColor.rgb if cell.fill.fill_type else None
            assert fill == (None if indicator.kind == Kind.INFO else FILLS[value.met]), (unit, indicator.code)
            checked += 1
    assert checked == len(stored)
    # A measure's sheet holds that measure's indicators, with the same cells.
    third = [cell.value for cell in next(workbook["措施三"].iter_rows(min_row=HEADER_ROW + 1, max_row=HEADER_ROW + 1))]
    assert [text for text in third if str(text).startswith("M")] == [
        f"{indicator.code} {indicator.name}" for indicator in indicators if indicator.measure.number == 3
    ]
    notes = {row[0]: row[1] for row in workbook["说明"].iter_rows(values_only=True) if row and row[0]}
    period = Period.objects.get(key="2025")
    assert "2025年度" in notes["期间"]
    assert notes["参考日期"] == next(iter(stored.values())).reference_date.isoformat()
    assert notes["计算批次"].startswith("#")
    assert {"达标", "未达标", "不适用"} <= set(notes)
    assert period.start.isoformat() in notes["期间"]


def test_wide_workbook_reads_values_in_a_flat_number_of_queries(example):
    client = _client()
    counts = {}
    for level in ("county", "village"):
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("dashboard_export") + f"?period=2025&level={level}")
        counts[level] = len(queries)
    units = {
        level: IndicatorValue.objects.filter(level=level).values("unit_code").distinct().count()
        for level in ("county", "village")
    }
    assert units["village"] > units["county"]
    assert counts == {"county": EXPORT_QUERIES, "village": EXPORT_QUERIES}


def test_machine_csv_stays_behind_format_csv(example):
    response = _client().get(reverse("dashboard_export") + "?period=2025&level=county&format=csv")
    # The export_indicators format, byte for byte (the city admin sees every unit).
    assert response.content == (EXAMPLE / "expected_county.csv").read_bytes()
