"""``export_indicators``: the CSV format of indicators.md ("Export format"), byte for byte."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from core.money import format_money
from indicators.selectors.export import format_number
from tests.factories import AreaFactory, CountyFinanceFactory, HouseholdFactory, SiteFactory, compute

pytestmark = pytest.mark.django_db

EXPECTED_COUNTY = """\
area_code,area_name,level,indicator,numerator,denominator,value,target,met
431302,"娄星区,测试",county,M1-1,1,1,100,100,true
431302,"娄星区,测试",county,M1-2,0,1,0,100,false
431302,"娄星区,测试",county,M1-3,0,0,,100,na
431302,"娄星区,测试",county,M1-4,0,1,0,100,false
431302,"娄星区,测试",county,M1-5,0,0,,100,na
431302,"娄星区,测试",county,M1-6,0,0,,100,na
431302,"娄星区,测试",county,M1-7,0,0,,100,na
431302,"娄星区,测试",county,M2-1,1,1,100,100,true
431302,"娄星区,测试",county,M2-2,2,3,66.6666666667,100,false
431302,"娄星区,测试",county,M2-3,0,1,0,100,false
431302,"娄星区,测试",county,M2-4,1,1,100,100,true
431302,"娄星区,测试",county,M2-5,0,,0,,na
431302,"娄星区,测试",county,M3-1,0,0,,100,na
431302,"娄星区,测试",county,M3-2,0,0,,100,na
431302,"娄星区,测试",county,M3-3,0,0,,100,na
431302,"娄星区,测试",county,M3-4,0,,,,na
431302,"娄星区,测试",county,M3-5,,,,2,na
431302,"娄星区,测试",county,M3-6,0,0,,100,na
431302,"娄星区,测试",county,M3-7,0,0,,100,na
431302,"娄星区,测试",county,M4-1,3,3,100,100,true
431302,"娄星区,测试",county,M4-2,0,0,,100,na
431302,"娄星区,测试",county,M4-3,0,1,0,100,false
431302,"娄星区,测试",county,M4-4,0,,0,,na
431302,"娄星区,测试",county,M5-1,0,0,,100,na
431302,"娄星区,测试",county,M5-2,0,0,,100,na
431302,"娄星区,测试",county,M5-3,0,0,,100,na
431302,"娄星区,测试",county,M5-4,0,0,,100,na
431302,"娄星区,测试",county,M6-1,0,1,0,100,false
431302,"娄星区,测试",county,M6-2,0,0,,100,na
431302,"娄星区,测试",county,M6-3,0,0,,100,na
431302,"娄星区,测试",county,M7-1,0,0,,100,na
431302,"娄星区,测试",county,M7-2,0,0,,100,na
431302,"娄星区,测试",county,M7-3,0,3,0,100,false
431302,"娄星区,测试",county,M8-1,0,3,0,100,false
431302,"娄星区,测试",county,M8-2,0,,0,0,true
431302,"娄星区,测试",county,M8-3,0,0,,100,na
431302,"娄星区,测试",county,M8-4,0,0,,100,na
431302,"娄星区,测试",county,M8-5,0,1,0,100,false
431302,"娄星区,测试",county,M9-1,200.00,300.00,66.6666666667,80,false
431302,"娄星区,测试",county,M9-2,,,2.5,0,true
431302,"娄星区,测试",county,M10-1,0,1,0,100,false
"""


@pytest.fixture
def small_county():
    county = AreaFactory.county(name="娄星区,测试")
    village = AreaFactory.village(parent=AreaFactory.township(parent=county, has_industrial_park=True))
    site = SiteFactory(code="S1", name="S1小区", village=village, party_org=True, industry_plan=True)
    HouseholdFactory(site=site, industry_project="黄精")
    HouseholdFactory(village=village, industry_project="茶")
    HouseholdFactory(village=village)
    CountyFinanceFactory(county=county, year=2024, linkage_funds=100_000, linkage_to_relocation=10_000)
    CountyFinanceFactory(
        county=county,
        year=2025,
        asset_proceeds=30_000,
        proceeds_to_households=20_000,
        linkage_funds=110_000,
        linkage_to_relocation=11_250,
    )
    compute("2025")


def test_county_csv_is_byte_exact(small_county, tmp_path):
    output = tmp_path / "county.csv"
    call_command("export_indicators", "--period", "2025", "--output", str(output))  # default level county
    data = output.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in data
    assert data.decode("utf-8") == EXPECTED_COUNTY


def test_stdout_when_no_output_and_site_rows_use_the_site_code(small_county):
    out = io.StringIO()
    call_command("export_indicators", "--period", "2025", "--level", "site", stdout=out)
    lines = out.getvalue().split("\n")
    assert lines[0] == "area_code,area_name,level,indicator,numerator,denominator,value,target,met"
    assert lines[1] == "S1,S1小区,site,M1-1,1,1,100,100,true"
    assert len(lines) == 1 + 39 + 1  # no M9-x for a site; trailing newline
    assert not any(",M9-" in line for line in lines)


def test_xlsx_holds_the_same_cells(small_county, tmp_path):
    output = tmp_path / "county.xlsx"
    call_command("export_indicators", "--period", "2025", "--format", "xlsx", "--output", str(output))
    rows = list(load_workbook(output).active.iter_rows(values_only=True))
    assert rows[0][0] == "area_code"
    assert len(rows) == 42
    assert rows[9][3:] == ("M2-2", 2, 3, 66.6666666667, 100, "false")  # Excel numbers are doubles


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (Decimal("100.0000000000"), "100"),
        (Decimal("66.6666666667"), "66.6666666667"),
        (Decimal("2.5000000000"), "2.5"),
        (Decimal("-0.4636363636"), "-0.4636363636"),
        (Decimal("0E-10"), "0"),
        (Decimal("0.0000000100"), "0.00000001"),
        (7, "7"),
        (None, ""),
    ],
)
def test_number_format(number, text):
    assert format_number(number) == text


def test_money_format():
    assert format_money(16_000) == "160.00"
    assert format_money(106_638_888) == "1066388.88"
    assert format_money(5) == "0.05"
    assert format_money(0) == "0.00"
