"""The 年度考核通报 PDF as an official document (issue 19, acceptance 1 and 2): numbers a person can
read, no cell running off its page, the 公文 parts, the draft watermark, and page images kept as
artifacts (set TEST_ARTIFACTS_DIR to keep them beyond pytest's tmp directory)."""

import datetime
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from areas.choices import AreaLevel
from areas.models import Area
from indicators.assessment import scoring as assessment
from indicators.assessment.formatting import chinese_date, score_text, target_text, value_text
from indicators.assessment.report import assessment_pdf
from indicators.models import AssessmentRun
from tests.factories import AreaFactory

from .test_assessment import example_import

pytestmark = pytest.mark.django_db
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) missing")

SIX = (("431322", "新化县"), ("431382", "涟源市"), ("431371", "娄底经济技术开发区"))
PUBLISHED_AT = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.UTC)


def _six_counties() -> None:
    example_import()
    city = Area.objects.get(code="431300")
    for code, name in SIX:
        AreaFactory.create(code=code, name=name, level=AreaLevel.COUNTY, parent=city, county_code=code)


@pytest.fixture
def published_pdf(db, tmp_path) -> Path:
    """A published six-county 通报, published on 5 January 2026."""
    _six_counties()
    call_command("assess", "--year", "2025", "--publish", stdout=io.StringIO())
    AssessmentRun.objects.filter(year=2025, published_at__isnull=False).update(published_at=PUBLISHED_AT)
    data = assessment.assessment_result_for_year(2025)
    assert data is not None
    assert data["published"]
    assert len(data["counties"]) == 6
    path = tmp_path / "published.pdf"
    path.write_bytes(assessment_pdf(data))
    return path


def pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")


def test_formatting_rounds_half_up_and_reads_rates_and_gaps():
    assert score_text("47713/913") == "52.26"
    assert score_text("1/200") == "0.01"  # 0.005 half-up
    assert score_text("") == "—"
    assert value_text("rate", "2499/25") == "99.9%"  # an unmet 99.96 % never reads 100.0 %
    assert value_text("gap_pp", "-1/30") == "-0.1 个百分点"
    assert value_text("zero", "3") == "3"
    assert target_text("rate", "100") == "100%"
    assert target_text("gap_pp", "2") == "2 个百分点"
    assert chinese_date(datetime.date(2026, 1, 5)) == "二〇二六年一月五日"
    assert chinese_date(datetime.date(2025, 12, 20)) == "二〇二五年十二月二十日"


@needs_poppler
def test_published_pdf_is_an_official_document_with_readable_numbers(published_pdf):
    pages = pdf_pages(published_pdf)
    text = "\f".join(pages)
    # 版头, 发文字号, 主送, 成文日期 in Chinese numerals, 抄送.
    assert "娄底市易地扶贫搬迁后续扶持工作领导小组办公室" in pages[0]
    assert "娄易扶办〔2026〕1号" in pages[0]
    assert "各县市区人民政府，娄底经济技术开发区管委会，市直有关单位：" in re.sub(r"\s", "", pages[0])
    assert "二〇二六年一月五日" in text
    assert "抄送：市乡村振兴领导小组" in text
    assert "草稿" not in text
    # Page numbers — N — on every page, odd at the right, even at the left.
    for number, page in enumerate(pages[:-1], start=1):
        footer = [line for line in page.splitlines() if line.strip()][-1]
        assert re.fullmatch(rf"—\s*{number}\s*—", footer.strip()), (number, footer)
        indent = len(footer) - len(footer.lstrip())
        assert (indent > 40) == (number % 2 == 1), (number, footer)
    # No exact fraction anywhere; in the score tables no number with more than 2 decimals.
    assert not re.search(r"\d\s*/\s*\d", text)
    for line in text.splitlines():
        assert not re.search(r"\d\.\d{3,}", line), line
    assert "52.26" in text
    assert re.search(r"\d+\.\d%", text)


@needs_poppler
def test_no_heading_is_left_alone_at_a_page_foot(published_pdf):
    headings = re.compile(r"^\s*(一|二|三|四)、|^\s*\d+．|未达标指标及责任单位")
    for page in pdf_pages(published_pdf)[:-1]:
        lines = [line for line in page.splitlines() if line.strip()][:-1]  # without the page number
        assert lines
        assert not headings.search(lines[-1]), lines[-1]


@needs_poppler
def test_no_table_cell_overflows_its_page_box_or_its_neighbour(published_pdf):
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(published_pdf) as pdf:
        for page in pdf.pages:
            words = page.extract_words(keep_blank_chars=False, use_text_flow=True)
            for table in page.find_tables():
                x0, top, x1, bottom = table.bbox
                assert min(x0, top) >= 0
                assert x1 <= page.width
                assert bottom <= page.height
                for row in table.rows:
                    for cell in row.cells:
                        if cell is None:
                            continue
                        cx0, ctop, cx1, cbottom = cell
                        inside = [w for w in words if w["top"] >= ctop - 1 and w["bottom"] <= cbottom + 1]
                        for word in inside:
                            centre = (word["x0"] + word["x1"]) / 2
                            if cx0 <= centre <= cx1:  # the cell's own text stays within its borders
                                assert word["x0"] >= cx0 - 0.5, (page.page_number, word)
                                assert word["x1"] <= cx1 + 0.5, (page.page_number, word)
            for char in page.chars:
                inside = char["x0"] >= 0, char["x1"] <= page.width, char["top"] >= 0, char["bottom"] <= page.height
                assert all(inside), (page.page_number, char["text"])


@needs_poppler
def test_page_one_and_the_first_table_page_as_png_artifacts(published_pdf, tmp_path, capsys):
    pages = pdf_pages(published_pdf)
    table_page = next(number for number, page in enumerate(pages, start=1) if re.search(r"维度\s+代码\s+指标", page))
    out = Path(os.environ.get("TEST_ARTIFACTS_DIR") or tmp_path / "artifacts")
    out.mkdir(parents=True, exist_ok=True)
    for name, number in (("report-page1", 1), ("report-table", table_page)):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-singlefile", "-f", str(number), "-l", str(number),
             str(published_pdf), str(out / name)],
            check=True,
        )  # fmt: skip
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with capsys.disabled():
        print(f"\n通报 page images (page 1, page {table_page}): {out}")


@needs_poppler
@override_settings(REPORT_ISSUER="测试发文机关", REPORT_DOC_NUMBER="测试〔{issue_year}〕9号", REPORT_COPY_TO="某某单位")
def test_a_draft_carries_the_watermark_on_every_page_and_the_settings_shape_the_header(db, tmp_path):
    _six_counties()
    call_command("assess", "--year", "2025", stdout=io.StringIO())
    data = assessment.assessment_result_for_year(2025)
    assert data is not None
    assert not data["published"]
    path = tmp_path / "draft.pdf"
    path.write_bytes(assessment_pdf(data))
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(path) as pdf:  # the watermark's large rotated glyphs, on every page
        marks = [{c["text"] for c in page.chars if c["size"] > 60} for page in pdf.pages]
    assert len(marks) > 2
    assert all(mark == {"草", "稿"} for mark in marks), marks
    pages = pdf_pages(path)[:-1]
    assert "测试发文机关" in pages[0]
    assert f"测试〔{timezone.localdate().year}〕9号" in pages[0]
    assert chinese_date(timezone.localdate()) in "".join(pages)
    assert "抄送：某某单位" in "".join(pages)


def test_assessment_pages_show_no_exact_fraction(admin_client):
    example_import()
    call_command("assess", "--year", "2025", "--publish", stdout=io.StringIO())
    for url in ("/assessment/2025/", "/assessment/2025/431302/", "/assessment/2025/431321/"):
        page = admin_client.get(url).content.decode()
        assert "52.26" in page or "34.92" in page
        # The December sign-off (issue 21) counts villages, "已审定 0/6": not an indicator's fraction.
        values = re.sub(r"<section[^>]*data-signoff-december.*?</section>", " ", page, flags=re.S)
        assert not re.search(r"\d\s*/\s*\d", re.sub(r"<[^>]*>", " ", values)), url
        assert not re.search(r"title=\"\d+/\d+\"", page), url
    unit = admin_client.get("/assessment/2025/431302/").content.decode()
    assert re.search(r">\s*91\.6%\s*<", unit)  # M6-3, 91.666… % rounded down, with its %
    assert "1.17" in unit
