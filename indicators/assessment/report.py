"""The 年度考核通报 as .xlsx (XlsxWriter) and .pdf (WeasyPrint), both built from the plain data of
``assessment.assessment_result_for_year`` — the very stored numbers the pages show. Nothing here
reads records or recomputes, so a published year exports the same cells and text forever.

The PDF is laid out as an official document (GB/T 9704-2012) and embeds the vendored PortalSerif and
PortalSans (GB 2312 subsets of Noto Serif / Sans CJK SC with TrueType outlines, docs/fonts.md) through
``@font-face`` in ``static/css/report.css``, with the system's Noto CJK SC faces as the fallback for
rare characters (ecosystem.md §8). Every figure reads as ``formatting.py`` writes it.
"""

import datetime
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xlsxwriter
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from core.spreadsheet import SafeWorkbook, sheet_name
from indicators.assessment import formatting
from indicators.models import Kind, Met

MET_LABELS = {Met.TRUE: "达标", Met.FALSE: "未达标", Met.NA: "不适用"}
GRADE_COLOURS = {"优秀": "#C6EFCE", "良好": "#DDEBF7", "合格": "#FFF2CC", "不合格": "#FFC7CE"}
STATIC_DIR = Path(settings.BASE_DIR) / "static"
REPORT_CSS = STATIC_DIR / "css" / "report.css"


def report_title(data: Mapping[str, Any]) -> str:
    return f"娄底市{data['year']}年度易地扶贫搬迁后续扶持工作考核结果通报"


def status_text(data: Mapping[str, Any]) -> str:
    if data["published"]:
        return f"已发布（{timezone.localtime(data['published_at']):%Y-%m-%d}）"
    return "未发布（草稿，结果仍可重新计算）"


def _bonus_cell(row: Mapping[str, Any]) -> str:
    """An unscored unit's commendation points are shown in brackets, for information only."""
    if row["scored"] or row["bonus"] == "0":
        return row["bonus"]
    return f"({row['bonus']})"


def _number(text: str) -> float | str:
    if text in ("", None):
        return "—"
    return float(text)


# --- xlsx ----------------------------------------------------------------------------------------------


def assessment_xlsx(data: Mapping[str, Any]) -> bytes:
    """The workbook: 通报 (title), 县市区排名, one sheet per county, 市直部门."""
    buffer = io.BytesIO()
    # Unit names and commendation titles come from users: never parsed as formulas or links.
    workbook = SafeWorkbook(buffer, {"in_memory": True})
    _set_properties(workbook, data)
    fmt, grade_fmt = _formats(workbook)
    _cover_sheet(workbook, data, fmt)
    _ranking_sheet(workbook, data, fmt, grade_fmt, "县市区排名", data["counties"], "县市区")
    used_names: set[str] = set()
    for row in data["counties"]:
        _county_sheet(workbook, data, fmt, row, _county_sheet_name(row, used_names))
    _ranking_sheet(workbook, data, fmt, grade_fmt, "市直部门", data["departments"], "市直部门")
    workbook.close()
    return buffer.getvalue()


def _set_properties(workbook: xlsxwriter.Workbook, data: Mapping[str, Any]) -> None:
    """Title, issuer and a fixed creation time (published, else computed): the same year exports the
    same bytes."""
    stamp = data["published_at"] or data["computed_at"]
    workbook.set_properties(
        {
            "title": report_title(data),
            "author": data["issuer_short"],
            "company": data["issuer"],
            "created": timezone.make_naive(stamp, datetime.UTC) if stamp else None,
        }
    )


def _formats(workbook: xlsxwriter.Workbook) -> tuple[dict[str, Format], dict[str, Format]]:
    """The cell formats by role, and one per grade (its colour). Added in a fixed order: a format's
    index is part of the file."""
    base = {"font_name": "Microsoft YaHei", "font_size": 10, "valign": "vcenter"}
    fmt = {
        "title": workbook.add_format({**base, "bold": True, "font_size": 16}),
        "bold": workbook.add_format({**base, "bold": True}),
        "text": workbook.add_format(base),
        "wrap": workbook.add_format({**base, "text_wrap": True}),
        "head": workbook.add_format(
            {**base, "bold": True, "bg_color": "#8B1A1A", "font_color": "#FFFFFF", "border": 1, "text_wrap": True}
        ),
        "cell": workbook.add_format({**base, "border": 1}),
        "points": workbook.add_format({**base, "border": 1, "num_format": "0.00"}),
        "value": workbook.add_format({**base, "border": 1, "num_format": "0.0###"}),
        "centre": workbook.add_format({**base, "border": 1, "align": "center"}),
        "bad": workbook.add_format({**base, "border": 1, "font_color": "#9C0006"}),
        "note": workbook.add_format({**base, "italic": True, "font_color": "#555555", "text_wrap": True}),
        # Indicator values as the 通报 shows them (formatting.value_number): a rate, a pp gap, a count.
        Kind.RATE: workbook.add_format({**base, "border": 1, "num_format": '0.0"%"'}),
        Kind.GAP_PP: workbook.add_format({**base, "border": 1, "num_format": '0.0" 个百分点"'}),
        "count": workbook.add_format({**base, "border": 1, "num_format": "0"}),
        "audit": workbook.add_format({**base, "border": 1, "font_color": "#7F7F7F"}),
    }
    grade_fmt = {
        grade: workbook.add_format({**base, "border": 1, "align": "center", "bg_color": colour})
        for grade, colour in GRADE_COLOURS.items()
    }
    return fmt, grade_fmt


def _cover_sheet(workbook: xlsxwriter.Workbook, data: Mapping[str, Any], fmt: dict[str, Format]) -> None:
    """通报: the year, issuer, status and the scoring rules in words, so the workbook stands alone."""
    sheet = workbook.add_worksheet("通报")
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 90)
    sheet.write(0, 0, report_title(data), fmt["title"])
    rows = [
        ("年度", str(data["year"])),
        ("发文单位", f"{data['issuer']}（{data['issuer_short']}）"),
        ("状态", status_text(data)),
        ("参考日期", data["reference_date"].isoformat() if data["reference_date"] else ""),
        ("考核维度", "；".join(f"{d['name']} {d['points']} 分" for d in data["dimensions"])),
        ("等次", "总分 ≥ 90 优秀；≥ 80 良好；≥ 60 合格；< 60 不合格"),
        (
            "计分规则",
            f"比率类：达到目标得满分，低于目标 {data['rate_floor']} 个百分点及以下不得分，其间按比例；"
            "增幅差类：达到目标得满分，低于目标 2 个百分点及以下不得分，其间按比例；"
            "清零类、只增不减类：达标得满分，否则不得分；不适用指标不计入。",
        ),
        ("表彰加分", "县市区：国家级 3 分、省级 2 分、市级 1 分；市直部门：国家级 3 分、省级 2 分；合计最多 5 分。"),
        ("说明", data["footnote"]),
    ]
    for index, (label, text) in enumerate(rows, start=2):
        sheet.write(index, 0, label, fmt["bold"])
        sheet.write(index, 1, text, fmt["wrap"])


def _ranking_sheet(
    workbook: xlsxwriter.Workbook,
    data: Mapping[str, Any],
    fmt: dict[str, Format],
    grade_fmt: dict[str, Format],
    name: str,
    units: list[dict[str, Any]],
    unit_header: str,
) -> None:
    """One ranking (the counties, or the city departments): a row per unit, dimension by dimension."""
    sheet = workbook.add_worksheet(name)
    headers = ["名次", unit_header, "基础得分"]
    headers += [f"{d['name']}（{d['points']}）" for d in data["dimensions"]]
    headers += ["表彰加分", "总分", f"总分{formatting.AUDIT_SUFFIX}", "等次"]
    sheet.write(0, 0, f"{report_title(data)} · {name}", fmt["title"])
    sheet.write_row(1, 0, headers, fmt["head"])
    sheet.set_row(1, 32)
    sheet.freeze_panes(2, 2)
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, len(headers) - 1, 10)
    sheet.set_column(len(headers) - 2, len(headers) - 2, 16)
    for offset, row in enumerate(units, start=2):
        sheet.write(offset, 0, row["rank"] if row["rank"] else "—", fmt["centre"])
        sheet.write(offset, 1, row["label"], fmt["cell"])
        sheet.write(offset, 2, _number(row["base"]), fmt["points"])
        for column, dimension in enumerate(row["dimensions"], start=3):
            sheet.write(offset, column, _number(dimension["display"]), fmt["points"])
        column = 3 + len(row["dimensions"])
        bonus = _bonus_cell(row)
        sheet.write(offset, column, float(bonus) if row["scored"] else bonus, fmt["points"])
        sheet.write(offset, column + 1, _number(row["total"]), fmt["points"])
        sheet.write(offset, column + 2, row["total_exact"] or "—", fmt["audit"])
        sheet.write(offset, column + 3, row["grade"] or "—", grade_fmt.get(row["grade"], fmt["centre"]))
    sheet.write(len(units) + 3, 0, f"注：{data['footnote']}", fmt["note"])


def _county_sheet_name(row: Mapping[str, Any], used_names: set[str]) -> str:
    """The county's name cut to Excel's 31 characters, its code when that name is taken."""
    name = sheet_name(row["unit_name"], row["unit_code"])  # a user's text: Excel refuses some characters
    if name in used_names:
        name = row["unit_code"]
    used_names.add(name)
    return name


def _county_sheet(
    workbook: xlsxwriter.Workbook, data: Mapping[str, Any], fmt: dict[str, Format], row: Mapping[str, Any], name: str
) -> None:
    """One county: its summary line, every indicator's score, then what it missed and its commendations."""
    sheet = workbook.add_worksheet(name)
    sheet.write(0, 0, f"{row['label']} · {data['year']}年度考核指标得分", fmt["title"])
    summary = (
        f"名次 {row['rank'] or '—'}；基础得分 {row['base'] or '—'}；表彰加分 {_bonus_cell(row)}；"
        f"总分 {row['total'] or '—'}；等次 {row['grade'] or '—'}"
    )
    if not row["scored"]:
        summary += "（无在册搬迁户或无适用指标，不计分、不定等次、不排名）"
    sheet.write(1, 0, summary, fmt["text"])
    audit = formatting.AUDIT_SUFFIX
    headers = ["考核维度", "指标代码", "指标名称", "责任单位", "分值", "指标值", f"指标值{audit}", "目标", "达标情况"]
    headers += ["得分", f"得分{audit}"]
    sheet.write_row(3, 0, headers, fmt["head"])
    sheet.freeze_panes(4, 3)
    sheet.set_column(0, 0, 11)
    sheet.set_column(1, 1, 8)
    sheet.set_column(2, 2, 40)
    sheet.set_column(3, 3, 13)
    sheet.set_column(4, 10, 10)
    sheet.set_column(6, 6, 18)
    sheet.set_column(10, 10, 18)
    line = 4
    for indicator in row["indicators"]:
        sheet.write(line, 0, indicator["dimension"] or "（监测指标）", fmt["cell"])
        sheet.write(line, 1, indicator["code"], fmt["cell"])
        sheet.write(line, 2, indicator["name"], fmt["cell"])
        sheet.write(line, 3, indicator["lead"], fmt["cell"])
        sheet.write(line, 4, _number(indicator["weight"]), fmt["points"])
        kind = indicator.get("kind", "")
        shown = formatting.value_number(kind, indicator["value_exact"] or None)
        sheet.write(line, 5, "—" if shown is None else float(shown), fmt.get(kind, fmt["count"]))
        sheet.write(line, 6, indicator["value_exact"] or "—", fmt["audit"])
        sheet.write(line, 7, _number(indicator["target"]), fmt["value"])
        met_fmt = fmt["bad"] if indicator["met"] == Met.FALSE else fmt["cell"]
        sheet.write(line, 8, MET_LABELS.get(indicator["met"], indicator["met"]), met_fmt)
        points = formatting.score_decimal(indicator["points_exact"]) if indicator["applicable"] else None
        sheet.write(line, 9, "—" if points is None else float(points), fmt["points"])
        sheet.write(line, 10, indicator["points_exact"] or "—", fmt["audit"])
        line += 1
    line = _unmet_table(sheet, fmt, row, line + 1)
    _commendation_lines(sheet, data, fmt, row, line + 1)


def _unmet_table(sheet: Worksheet, fmt: dict[str, Format], row: Mapping[str, Any], line: int) -> int:
    """未达标指标及责任单位 from ``line`` on: who answers for each miss. Returns the next free line."""
    sheet.write(line, 0, "未达标指标及责任单位", fmt["bold"])
    line += 1
    sheet.write_row(line, 0, ["指标代码", "指标名称", "指标值", "目标", "责任单位"], fmt["head"])
    line += 1
    if not row["unmet"]:
        sheet.write(line, 0, "无", fmt["text"])
        line += 1
    for indicator in row["unmet"]:
        sheet.write(line, 0, indicator["code"], fmt["cell"])
        sheet.write(line, 1, indicator["name"], fmt["cell"])
        kind = indicator.get("kind", "")
        shown = formatting.value_number(kind, indicator["value_exact"] or None)
        sheet.write(line, 2, "—" if shown is None else float(shown), fmt.get(kind, fmt["count"]))
        sheet.write(line, 3, _number(indicator["target"]), fmt["value"])
        sheet.write(line, 4, indicator["lead"], fmt["cell"])
        line += 1
    return line


def _commendation_lines(
    sheet: Worksheet, data: Mapping[str, Any], fmt: dict[str, Format], row: Mapping[str, Any], line: int
) -> None:
    """The year's commendations of the county from ``line`` on (the points behind 表彰加分)."""
    sheet.write(line, 0, f"{data['year']}年度表彰", fmt["bold"])
    line += 1
    if not row["commendations"]:
        sheet.write(line, 0, "无", fmt["text"])
    for commendation in row["commendations"]:
        sheet.write_row(
            line, 0, [commendation["level"], commendation["title"], f"{commendation['points']} 分"], fmt["text"]
        )
        line += 1


# --- pdf -----------------------------------------------------------------------------------------------


def issue_date(data: Mapping[str, Any]) -> datetime.date:
    """The 成文日期: the day of publishing; today for a draft."""
    if data["published"] and data["published_at"]:
        return timezone.localtime(data["published_at"]).date()
    return timezone.localdate()


def _indicator_row(indicator: Mapping[str, Any]) -> dict[str, Any]:
    kind = indicator.get("kind", "")
    return {
        **indicator,
        "value_text": formatting.value_text(kind, indicator["value_exact"] or None),
        "target_text": formatting.target_text(kind, indicator["target"] or None),
        "met_text": MET_LABELS.get(indicator["met"], indicator["met"]),
        "points_text": formatting.score_text(indicator["points_exact"]) if indicator["applicable"] else "—",
    }


def _unit_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A unit with every figure as it reads in the 通报 (formatting.py); no exact fraction."""
    indicators = [_indicator_row(indicator) for indicator in row["indicators"]]
    return {
        **row,
        "bonus_cell": _bonus_cell(row),
        "base_text": formatting.score_text(row["base_exact"] if row["scored"] else None),
        "total_text": formatting.score_text(row["total_exact"] if row["scored"] else None),
        "earned_text": formatting.score_text(row["earned_exact"] if row["scored"] else None),
        "applicable_text": formatting.score_text(row["applicable_exact"] if row["scored"] else None),
        "dimension_texts": [formatting.score_text(dimension["exact"]) for dimension in row["dimensions"]],
        "indicator_rows": indicators,
        "unmet_rows": [indicator for indicator in indicators if indicator["met"] == Met.FALSE],
    }


def report_context(data: Mapping[str, Any]) -> dict[str, Any]:
    """The template's context: the 公文 parts from the settings (版头, 发文字号, 主送, 抄送) and the
    units with their figures formatted once."""
    day = issue_date(data)
    return {
        "data": data,
        "title": report_title(data),
        "draft": not data["published"],
        "issuer": settings.REPORT_ISSUER,
        "doc_number": settings.REPORT_DOC_NUMBER.replace("{issue_year}", str(day.year)),
        "main_recipients": settings.REPORT_MAIN_RECIPIENTS,
        "copy_to": settings.REPORT_COPY_TO,
        "date_text": formatting.chinese_date(day),
        "print_date": f"{day.year}年{day.month}月{day.day}日",
        "dimension_heads": [_dimension_head(dimension) for dimension in data["dimensions"]],
        "counties": [_unit_row(row) for row in data["counties"]],
        "departments": [_unit_row(row) for row in data["departments"]],
    }


def _dimension_head(dimension: Mapping[str, Any]) -> dict[str, str]:
    """A dimension's name on two short lines (基层/党建, 防返贫/监测): the ranking's 14 columns leave
    each about 9 mm, where a whole name would break mid-word."""
    name = dimension["name"]
    half = (len(name) + 1) // 2
    return {"first": name[:half], "second": name[half:], "points": dimension["points"]}


def assessment_html(data: Mapping[str, Any]) -> str:
    return render_to_string("indicators/report.html", report_context(data))


def assessment_pdf(data: Mapping[str, Any]) -> bytes:
    """The 通报 as a 公文 (GB/T 9704-2012, static/css/report.css): PortalSerif and PortalSans embedded,
    page numbers — N — at the outside edge, table headers repeated on every page; a draft
    (``data["published"]`` false) carries 草稿 across every page."""
    # Imported here: WeasyPrint loads Pango and its fonts on import (about a second); only a PDF needs it.
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    stylesheet = CSS(filename=str(REPORT_CSS), font_config=fonts)
    document = HTML(string=assessment_html(data), base_url=str(STATIC_DIR))
    return document.write_pdf(stylesheets=[stylesheet], font_config=fonts)
