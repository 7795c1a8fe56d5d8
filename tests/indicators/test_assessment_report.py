"""The 年度考核通报 files: their content, their freezing once published, and the PDF's speed."""

import io
import re
import shutil
import subprocess

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from areas.choices import AreaLevel
from areas.models import Area
from households.models import Household, Site
from indicators.assessment import scoring as assessment
from indicators.models import Commendation, IndicatorValue
from tests.factories import AreaFactory

from .test_assessment import example_import

pytestmark = pytest.mark.django_db
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) missing")


def export(tmp_path, fmt: str, name: str):
    output = tmp_path / f"{name}.{fmt}"
    call_command("export_assessment", "--year", "2025", "--format", fmt, "--output", str(output), stdout=io.StringIO())
    return output


def xlsx_cells(path) -> dict[str, list[tuple]]:
    workbook = openpyxl.load_workbook(path)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook}


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def published(db):
    example_import()
    call_command("assess", "--year", "2025", "--publish", stdout=io.StringIO())
    return assessment.assessment_result_for_year(2025)


def test_xlsx_has_title_ranking_county_and_department_sheets(published, tmp_path):
    cells = xlsx_cells(export(tmp_path, "xlsx", "report"))
    assert list(cells) == ["通报", "县市区排名", "双峰县", "娄星区", "冷水江市", "市直部门"]
    title = [value for row in cells["通报"] for value in row if value]
    assert "娄底市2025年度易地扶贫搬迁后续扶持工作考核结果通报" in title
    assert "娄底市易地扶贫搬迁后续扶持工作领导小组办公室（市易扶办）" in title
    ranking = cells["县市区排名"]
    assert ranking[1][:4] == ("名次", "县市区", "基础得分", "基层党建（10）")
    assert ranking[2] == (
        1, "431321 双峰县", 51.26, 6, 5, 4.5, 9.41, 2.31, 10, 6.16, 5, 1, 52.26, "47713/913", "不合格"
    )  # fmt: skip
    assert ranking[4][:3] == ("—", "431381 冷水江市", "—")
    assert ranking[4][11] == "(3)"
    assert any("各维度得分之和不必等于基础得分" in str(row[0]) for row in ranking if row)
    county = cells["娄星区"]
    m63 = next(row for row in county if row[1] == "M6-3")
    # Shown as the 通报 shows it (91.6 %, 1.17 points), the exact value in the audit column beside it.
    assert m63[:6] == ("公共服务", "M6-3", "基本医疗保险参保率", "市医保局", 2, 91.6)
    assert m63[7:10] == (100, "未达标", 1.17)
    assert "/" in m63[6]
    assert "/" in m63[10]
    assert county[3][6] == county[3][10].replace("得分", "指标值") == "指标值精确值（审计用）"
    assert county[3][10] == "得分精确值（审计用）"
    unmet_start = next(i for i, row in enumerate(county) if row[0] == "未达标指标及责任单位")
    assert ("M1-6", "信访舆情办结率", 33.3, 100, "市乡村振兴局") in [row[:5] for row in county[unmet_start:]]
    departments = cells["市直部门"]
    assert [row[1] for row in departments[2:4]] == ["市财政局", "市医保局"]
    assert departments[4][0] == 2
    assert departments[4][-2] == "1800/23"
    assert departments[1][-2] == "总分精确值（审计用）"


def test_xlsx_header_is_frozen_and_grades_coloured(published, tmp_path):
    workbook = openpyxl.load_workbook(export(tmp_path, "xlsx", "report"))
    assert workbook["县市区排名"].freeze_panes == "C3"
    assert workbook["双峰县"].freeze_panes == "D5"
    grade = workbook["市直部门"]["O3"]
    assert grade.value == "优秀"
    assert grade.fill.fgColor.rgb.endswith("C6EFCE")
    assert workbook["县市区排名"]["C3"].number_format == "0.00"


@needs_poppler
def test_pdf_text_holds_every_county_and_its_total(published, tmp_path):
    text = pdf_text(export(tmp_path, "pdf", "report"))
    assert "娄底市2025年度易地扶贫搬迁后续扶持工作考核结果通报" in re.sub(r"\s", "", text)  # the title on two lines
    lines = text.splitlines()
    for county in published["counties"]:
        assert county["unit_name"] in text
        if county["total"]:  # the ranking row holds the county and its total
            assert any(county["unit_name"] in line and county["total"] in line for line in lines)
    assert "52.26" in text
    assert "34.92" in text
    assert re.search(r"—\s*1\s*—", text)
    assert "市卫健委" in text
    assert not re.search(r"\d\s*/\s*\d", text)  # exact fractions only in the xlsx's audit columns
    assert "1800/23" not in text.split("二、")[1].split("三、")[0]
    assert "各维度得分之和不必等于基础得分" in text


@needs_poppler
def test_a_published_year_exports_the_same_after_records_change_and_a_recompute(published, tmp_path):
    before_xlsx = xlsx_cells(export(tmp_path, "xlsx", "before"))
    before_pdf = pdf_text(export(tmp_path, "pdf", "before"))
    before = assessment.assessment_result_for_year(2025)

    # Records change: a site gets every facility, a household leaves, names and commendations change.
    Site.objects.update(party_org=True, first_secretary=True, work_team=True, cultural_venue=True)
    Household.objects.filter(code__endswith="01").update(status="已注销")
    Area.objects.filter(code="431302").update(name="娄星区（改名）")
    Commendation.objects.create(unit="431302", year=2025, level="省级", title="新增表彰")
    # ... and recomputing is refused for the closed year, or changes nothing.
    with pytest.raises(CommandError):
        call_command("compute_indicators", "--period", "2025", stdout=io.StringIO())
    call_command("assess", "--year", "2025", stdout=io.StringIO())
    call_command("assess", "--year", "2025", "--publish", stdout=io.StringIO())
    with pytest.raises(assessment.AssessmentError):
        assessment.assessment_run_create(year=2025)
    # Even stored values edited behind the engine's back do not reach the published result.
    IndicatorValue.objects.filter(period__key="2025").update(value_exact="100/1", met="true")

    assert assessment.assessment_result_for_year(2025) == before
    assert xlsx_cells(export(tmp_path, "xlsx", "after")) == before_xlsx
    assert pdf_text(export(tmp_path, "pdf", "after")) == before_pdf


def test_pdf_for_six_counties_names_every_county(db, tmp_path):
    """Six counties (the published document's size) render; the time it takes is a figure for the
    closing note (printed by ``export_assessment``), not a bound a loaded CI machine can trip."""
    example_import()
    city = Area.objects.get(code="431300")
    for code, name in (("431322", "新化县"), ("431382", "涟源市"), ("431371", "娄底经济技术开发区")):
        AreaFactory.create(code=code, name=name, level=AreaLevel.COUNTY, parent=city, county_code=code)
    call_command("assess", "--year", "2025", stdout=io.StringIO())
    assert len(assessment.assessment_result_for_year(2025)["counties"]) == 6
    output = export(tmp_path, "pdf", "six")
    assert output.read_bytes()[:5] == b"%PDF-"
    text = pdf_text(output)
    for name in ("新化县", "涟源市", "娄底经济技术开发区"):
        assert name in text
