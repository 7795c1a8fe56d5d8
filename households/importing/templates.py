"""Empty template workbooks: the exact headers of a kind (required ones bold red, with a comment),
drop-down lists on choice and yes/no columns, and a second sheet 填写说明 explaining every column.

Everything is derived from the kind's column definitions (and, for choice lists, the model field's
choices), plus a few notes from data.md for rules that no parser can tell; so a new column shows
up in its template without touching this file.
"""

from typing import IO, Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from core.spreadsheet import SafeWorkbook
from households.importing.base import Column, Kind, parse_id_number, parse_phone
from households.importing.cells import any_area_code, parse_bool, parse_date, parse_money, parse_percent, parse_text

INSTRUCTIONS_SHEET = "填写说明"
LAST_ROW = 1_048_575  # Excel's last row (0-based): validations cover the whole column
GENERAL_NOTES = [
    "第 1 行是表头：列名必须与模板完全一致（不要增删字符），列的顺序可以调整。",
    "红色加粗的列必须保留在表中；标“必填”的列每行都要填写。",
    "其他列可以整列删除：新增记录取默认值，已有记录保留原值；保留了列但单元格留空，则设为默认值（否、无、空）。",
    "编码类（户编号、安置点编码、区划代码、身份证号）请保持文本格式，前导 0 和 18 位身份证号才不会被 Excel 改动。",
    "支持 .xlsx、.xls 和 .csv（UTF-8 或 GBK 编码）文件。导入“全部或全无”：任何一行有错误，整份文件都不写入，"
    "并逐行列出错误（第几行、哪一列、如何改正）。",
    "同一文件重复导入不会产生任何变化；只能新增或修改本辖区内的记录。",
]

# Rules of data.md that no parser states by itself (header → note; (kind, header) wins over header).
NOTES: dict[Any, str] = {
    "区划代码": "6 位（县）、9 位（乡镇）或 12 位（村/社区）统计用区划代码；以 000 补足的 12 位代码视同乡镇/县。",
    "级别": "由级别决定层级，而不是代码的位数。",
    "上级代码": "上一级区划的代码；仅“市”级留空。上级可在同一文件中。",
    "后扶产业园": "仅对乡镇有意义。",
    "所在村社区代码": "村/社区一级的 12 位区划代码，须在本辖区内。",
    "现居村社区代码": "村/社区一级的 12 位区划代码，须在本辖区内；已登记户的现居村社区不能通过导入更改"
    "（请使用“迁移”）。",
    ("households", "安置点编码"): "留空 = 分散安置；否则为已登记的安置点，且位于现居村社区。",
    ("grievances", "安置点编码"): "可选；已登记的安置点编码。",
    ("actions", "安置点编码"): "已登记的安置点编码；安置点层面的工作（设施、治理）可只填安置点编码。",
    ("sites", "安置点编码"): "安置点的唯一编码（文本）。",
    "迁出地代码": "县级及以下区划代码（县、乡镇或村）。",
    "搬迁年份": "2001 至今年之间的整数。",
    "户主身份证号": "家庭成员导入后以成员表中的户主为准：此处填写不同的号码会报错，留空则不核对。",
    ("persons", "身份证号"): "18 位，校验位正确（末位可为 X），出生日期真实；同一人只能在一户中为“正常”状态。",
    ("actions", "身份证号"): "可选；须为所填户编号的家庭成员。",
    ("persons", "户编号"): "已登记（或在搬迁户表中导入）的户编号。",
    ("incomes", "户编号"): "已登记的户编号。",
    ("grievances", "户编号"): "可选；已登记的户编号，须与所在村社区一致。",
    ("actions", "户编号"): "已登记的户编号；填写了安置点编码时可留空。",
    ("households", "户编号"): "户的唯一编号（文本，保留前导 0）。",
    "与户主关系": "每户只能有一名状态为“正常”的户主（文件与系统中的记录合并计算）。",
    "就业信息更新日期": "劳动能力为普通劳动力、技能劳动力、弱劳动力或半劳动力时必填（最近一次核实就业情况的日期）。",
    "就业状态": "劳动能力为丧失劳动力或无劳动力、就业状态却不是未就业时，允许导入但提示核实。",
    "最近培训日期": "最近一次完成职业技能培训的日期；留空 = 无。",
    "在校情况": "初中毕业 = 已完成义务教育、目前不在校。",
    ("households", "状态"): "已注销的户及其成员不计入任何指标。",
    ("persons", "状态"): "已注销 = 死亡或迁出。",
    "年度": "2016 至今年之间的整数。",
    "家庭人口数": "该年度的家庭人口数，≥ 1 的整数。",
    "办结日期": "办理状态为“已办结”时必填，不能早于受理日期。",
    "村社区内解决": "办理状态为“已办结”时有意义。",
    "台账编号": "台账的唯一编号；在平台中新建时自动生成，导入时必填。",
    "指标代码": "可选；台账来源清单的指标代码，如 M3-2。",
    "完成日期": "办理状态为“已完成”时必填。",
    "县市区代码": "县市区（含经开区）的 6 位代码。",
    "收益用于搬迁户后扶": "不大于盘活资产收益。",
    "衔接资金用于搬迁后扶": "不大于衔接资金总额。",
    "全市居民人均可支配收入增长率": "百分数：6.1 或 6.1% 均表示 6.1%。",
    "被表彰单位": "县级区划代码，或牵头部门名称（如 市人社局）。",
    "联系电话": "11 位手机号或带区号的固定电话；可选。",
}


def choices_of(kind: Kind, column: Column) -> list[str]:
    """The allowed values of a choice column (those of the model field), or ``[]``."""
    try:
        field = kind.model._meta.get_field(column.field)
    except FieldDoesNotExist:
        return []
    if not isinstance(field, models.Field):  # a reverse relation offers no choices
        return []
    return [str(value) for value, _label in field.choices or []]


def _max_length(kind: Kind, column: Column) -> int | None:
    try:
        return getattr(kind.model._meta.get_field(column.field), "max_length", None)
    except FieldDoesNotExist:
        return None


def requirement(kind: Kind, column: Column) -> str:
    if column.key:
        return "必填（主键）"
    if column.required:
        return "必填"
    if column.required_column or column.header in kind.one_of:
        return "须保留此列"
    return "可选"


def describe(kind: Kind, column: Column) -> str:
    """One column's explanation: what the cell takes, its default, and the data.md rule behind it."""
    parts: list[str] = []
    parse = column.parse
    choices = choices_of(kind, column)
    name = getattr(parse, "__qualname__", "")
    if column.key:
        parts.append("主键：按它匹配已有记录（有则修改，无则新增）。")
    if parse is parse_bool:
        parts.append("填“是”或“否”（也可写 Y/N、1/0、true/false，或用 √ 表示是）；留空 = 否。")
    elif parse is parse_date:
        parts.append("日期：2026-03-05、2026/3/5、2026年3月5日、20260305 或 Excel 日期格式。")
    elif parse is parse_money:
        parts.append("金额，单位元，最多两位小数，可写 12,345.50；不能为负数。")
    elif parse is parse_percent:
        parts.append("百分数，最多 4 位小数。")
    elif parse is parse_id_number:
        parts.append("18 位公民身份号码。请把此列设为文本格式，否则 Excel 会截断号码。")
    elif parse is parse_phone:
        parts.append("电话号码。")
    elif parse is any_area_code or name.startswith("area_code_parser"):
        parts.append("区划代码（文本）。")
    elif name.startswith("int_parser"):
        parts.append("整数。")
    elif choices:
        parts.append(f"只能填写：{' / '.join(choices)}。")
    elif parse is parse_text or name.startswith("max_length"):
        limit = _max_length(kind, column)
        parts.append(f"文本，最多 {limit} 个字。" if limit else "文本。")
    if column.default not in ("", None, False, 0) and choices:
        parts.append(f"留空 = {column.default}。")
    note = NOTES.get((kind.name, column.header)) or NOTES.get(column.header)
    if note:
        parts.append(note)
    if column.header in kind.one_of:
        parts.append(f"{'、'.join(kind.one_of)} 至少保留一列。")
    if column.secret:
        parts.append("错误提示中只显示脱敏后的号码。")
    return "".join(parts)


def template_write(kind: Kind, target: IO[bytes]) -> None:
    """Write the empty template of ``kind`` as .xlsx to ``target``."""
    workbook = SafeWorkbook(target, {"strings_to_numbers": False})
    sheet = workbook.add_worksheet(kind.label[:31])
    text = workbook.add_format({"num_format": "@"})
    header = workbook.add_format({"bold": True, "num_format": "@", "bg_color": "#F2F2F2", "border": 1})
    required = workbook.add_format(
        {"bold": True, "font_color": "#C00000", "num_format": "@", "bg_color": "#FDE8E8", "border": 1}
    )
    sheet.freeze_panes(1, 0)
    for index, column in enumerate(kind.columns):
        needed = column.key or column.required or column.required_column
        sheet.write_string(0, index, column.header, required if needed else header)
        width = max(12, len(column.header) * 2 + 4)
        # Dates stay "General" so Excel keeps real date cells; everything else is text (codes, IDs).
        sheet.set_column(index, index, width, None if column.parse is parse_date else text)
        sheet.write_comment(0, index, f"{requirement(kind, column)}。{describe(kind, column)}", {"x_scale": 2.5})
        yes_no = column.parse is parse_bool
        values = ["是", "否"] if yes_no else choices_of(kind, column)
        if values:
            sheet.data_validation(
                1,
                index,
                LAST_ROW,
                index,
                {
                    "validate": "list",
                    "source": values,
                    # Y/N, 1/0, √ … are accepted too: for yes/no another spelling only warns.
                    "error_type": "warning" if yes_no else "stop",
                    "error_title": column.header[:32],
                    "error_message": f"只能填写：{' / '.join(values)}"[:255],
                },
            )

    notes = workbook.add_worksheet(INSTRUCTIONS_SHEET)
    title = workbook.add_format({"bold": True, "font_size": 14})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    bold = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    red = workbook.add_format({"bold": True, "font_color": "#C00000", "valign": "top"})
    notes.set_column(0, 0, 22)
    notes.set_column(1, 1, 14)
    notes.set_column(2, 2, 100, wrap)
    notes.write_string(0, 0, f"{kind.label}（{kind.name}）导入模板填写说明", title)
    row = 2
    for number, line in enumerate(GENERAL_NOTES, start=1):
        notes.write_string(row, 0, f"{number}.")
        notes.write_string(row, 2, line, wrap)
        row += 1
    row += 1
    for index, heading in enumerate(("列名", "是否必填", "填写说明")):
        notes.write_string(row, index, heading, bold)
    for column in kind.columns:
        row += 1
        needed = column.key or column.required or column.required_column
        notes.write_string(row, 0, column.header, red if needed else wrap)
        notes.write_string(row, 1, requirement(kind, column), wrap)
        notes.write_string(row, 2, describe(kind, column), wrap)
    workbook.close()
