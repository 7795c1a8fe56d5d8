"""One test per rule of data.md: a small file that breaks only that rule beside valid rows is rejected
whole (exit 1), the row and column are reported, and no table changes."""

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts import personal_data
from accounts.models import Role, User
from areas.models import Area
from households.models import (
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Household,
    Income,
    Person,
    Site,
)
from indicators.models import CityStatistic, Commendation, CountyFinance
from tests.import_files import EXAMPLE, EXAMPLE_FILES, import_example, read_rows, run_command, write_csv, write_xlsx

FILES = dict(EXAMPLE_FILES)
MODELS = [Area, Site, Household, Person, Income, Grievance, FollowUpAction, CountyFinance, CityStatistic, Commendation]


def table_state() -> list[Any]:
    return [list(model._default_manager.order_by("pk").values()) for model in MODELS] + [HistoryEntry.objects.count()]


def variant_file(tmp_path: Path, kind: str, changes: dict[str, Any], base: int = 0, *, extra: bool = True) -> Path:
    """The example file of ``kind`` plus (``extra``) a copy of row ``base`` with ``changes`` applied,
    or with row ``base`` itself changed; returned as .xlsx."""
    headers, rows = read_rows(EXAMPLE / FILES[kind])
    row = list(rows[base])
    for header, value in changes.items():
        row[headers.index(header)] = value
    rows = [*rows, row] if extra else [*rows[:base], row, *rows[base + 1 :]]
    return write_xlsx(tmp_path / f"{kind}.xlsx", headers, rows)


def assert_rejected(path: Path, kind: str, row: int, column: str, *words: str, user: str | None = None) -> str:
    before = table_state()
    args = ["import_data", kind, str(path)] + (["--user", user] if user else [])
    status, out, err = run_command(*args)
    assert status == 1, (out, err)
    line = next((line for line in out.splitlines() if line.startswith(f"row {row}, {column}: ")), None)
    assert line is not None, out
    for word in words:
        assert word in line, line
    assert table_state() == before
    return out


@pytest.fixture
def example_db(db):
    import_example()


# -- areas ------------------------------------------------------------------------------------
AREA_CASES = [
    ({"区划代码": "43130200", "名称": "X"}, "区划代码", "位数字"),
    ({"区划代码": "431302001009", "级别": "村", "上级代码": "431302"}, "上级代码", "乡镇级"),
    ({"区划代码": "431302001009", "级别": "村", "上级代码": "431302009"}, "上级代码", "不存在"),
    ({"区划代码": "431302001009", "级别": "社区"}, "级别", "只能填写"),
    ({"区划代码": "431399", "级别": "县", "上级代码": ""}, "上级代码", "必填"),
    ({"区划代码": "431302", "级别": "乡镇", "上级代码": "431302"}, "区划代码", "位数字"),
    ({"区划代码": "431302003", "级别": "乡镇", "上级代码": "431302", "后扶产业园": "有"}, "后扶产业园", "是"),
]


@pytest.mark.parametrize(("changes", "column", "word"), AREA_CASES)
def test_area_rules(example_db, tmp_path, changes, column, word):
    assert_rejected(variant_file(tmp_path, "areas", changes, base=8), "areas", 16, column, word)


def test_area_parent_may_come_later_in_the_same_file(db, tmp_path):
    headers = ["区划代码", "名称", "级别", "上级代码"]
    rows = [["431302001001", "A社区", "村", "431302001"], ["431302001", "乐坪街道", "乡镇", "431302"]]
    rows += [["431302", "娄星区", "县", "431300"], ["431300", "娄底市", "市", ""]]
    status, out, err = run_command("import_data", "areas", str(write_csv(tmp_path / "a.csv", headers, rows)))
    assert status == 0, out
    assert Area.objects.get(code="431302001001").county_code == "431302"


# -- sites ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "column", "word"),
    [
        ({"安置点编码": "S9", "所在村社区代码": "431302001"}, "所在村社区代码", "村社区代码"),
        ({"安置点编码": "S9", "所在村社区代码": "431302001009"}, "所在村社区代码", "不存在"),
        ({"安置点编码": "S9", "安置方式": "集中安置"}, "安置方式", "城镇集中安置"),
        ({"安置点编码": "S9", "便利店": "可能"}, "便利店", "是"),
        ({"安置点名称": ""}, "安置点名称", "必填"),
    ],
)
def test_site_rules(example_db, tmp_path, changes, column, word):
    assert_rejected(variant_file(tmp_path, "sites", changes), "sites", 5, column, word)


# -- households -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "column", "word"),
    [
        ({"户编号": "H99", "安置点编码": "S2"}, "安置点编码", "不在现居村社区"),
        ({"户编号": "H99", "安置点编码": "S9"}, "安置点编码", "不存在"),
        ({"户编号": "H99", "搬迁年份": "2000"}, "搬迁年份", "2001"),
        ({"户编号": "H99", "户类型": ""}, "户类型", "必填"),
        ({"户编号": "H99", "迁出地代码": "431302999"}, "迁出地代码", "不存在"),
        ({"户编号": "H99", "联系电话": "12345"}, "联系电话", "11 位"),
        ({"户编号": "H99", "产业分红金额": "1.005"}, "产业分红金额", "两位小数"),
        ({"户编号": "H99", "产业分红金额": "-5"}, "产业分红金额", "负数"),
        ({"户编号": "H99", "监测对象类别": "监测户"}, "监测对象类别", "脱贫不稳定户"),
        ({"户编号": "H99", "状态": "注销"}, "状态", "已注销"),
        ({"户编号": "H99", "户主身份证号": "431302198005050013"}, "户主身份证号", "校验位"),
        ({"户编号": "H99", "现居村社区代码": "431302001"}, "现居村社区代码", "村社区代码"),
        ({"户编号": "H99", "自来水": "有"}, "自来水", "是"),
    ],
)
def test_household_rules(example_db, tmp_path, changes, column, word):
    assert_rejected(variant_file(tmp_path, "households", changes), "households", 13, column, word)


def test_household_head_id_must_match_the_person_marked_head(example_db, tmp_path):
    path = variant_file(tmp_path, "households", {"户主身份证号": "431302198201010026"}, base=0, extra=False)
    out = assert_rejected(path, "households", 2, "户主身份证号", "张一", "身份证号不一致")
    assert "431302********" not in out  # issue 17 finding 3: error rows are stored, no ID fragment


def test_household_head_id_may_wait_for_the_persons_file(db, tmp_path):
    import_example(upto="households")
    household = Household.objects.get(code="H01")
    assert personal_data.mask_id_number(personal_data.decrypt(household.head_id_encrypted)) == "431302********0012"


# -- persons ----------------------------------------------------------------------------------
def persons_file(tmp_path: Path, changes: dict[str, Any], base: int = 1, extra: bool = True, name: str = "p.csv"):
    headers, rows = read_rows(EXAMPLE / "persons.csv")
    row = list(rows[base])
    for header, value in changes.items():
        row[headers.index(header)] = value
    rows = [*rows, row] if extra else [*rows[:base], row, *rows[base + 1 :]]
    return write_csv(tmp_path / name, headers, rows)


NEW_ID = "431302199901010013"  # valid check digit, not in the example


@pytest.mark.parametrize(
    ("changes", "column", "word"),
    [
        ({"身份证号": "431302199901010012"}, "身份证号", "校验位"),
        ({"身份证号": "4.31302E+17"}, "身份证号", "文本"),
        ({"身份证号": "431302199901010000"}, "身份证号", "文本"),
        ({"身份证号": "43130220990101001X"}, "身份证号", "今天之后"),
        ({"身份证号": "431302199902300012"}, "身份证号", "出生日期"),
        ({"身份证号": NEW_ID, "户编号": "H99"}, "户编号", "不存在"),
        ({"身份证号": NEW_ID, "与户主关系": "户主"}, "与户主关系", "只能有一名户主"),
        ({"身份证号": NEW_ID, "劳动能力": "普通劳动力", "就业信息更新日期": ""}, "就业信息更新日期", "必须填写"),
        ({"身份证号": NEW_ID, "劳动能力": "半劳动力"}, "劳动能力", "弱劳动力或半劳动力"),
        ({"身份证号": NEW_ID, "最近培训日期": "2025.1.1"}, "最近培训日期", "日期"),
        ({"身份证号": NEW_ID, "在校情况": "大学"}, "在校情况", "高中及以上"),
        ({"身份证号": NEW_ID, "姓名": ""}, "姓名", "必填"),
        ({"身份证号": "431302198201010026"}, "身份证号", "与第 3 行重复"),
    ],
)
def test_person_rules(example_db, tmp_path, changes, column, word):
    assert_rejected(persons_file(tmp_path, changes), "persons", 29, column, word)


def test_id_number_unique_among_active_persons(example_db, tmp_path):
    path = persons_file(tmp_path, {"户编号": "H02"}, base=1, extra=False)
    assert_rejected(path, "persons", 3, "身份证号", "已登记在户 H01")


def test_each_household_keeps_an_active_head(example_db, tmp_path):
    # cancelling 王七 (户主 of H02) leaves 王八 without a head
    path = persons_file(tmp_path, {"状态": "已注销"}, base=6, extra=False)
    assert_rejected(path, "persons", 8, "与户主关系", "没有状态为“正常”的户主")


def test_a_head_can_be_handed_over_in_one_file(example_db, tmp_path):
    headers, rows = read_rows(EXAMPLE / "persons.csv")
    rows[6][headers.index("与户主关系")] = "父母"  # 王七 steps down
    rows[7][headers.index("与户主关系")] = "户主"  # 王八 takes over
    status, out, _ = run_command("import_data", "persons", str(write_csv(tmp_path / "p.csv", headers, rows)))
    assert status == 0, out
    assert "修改 2" in out, out
    assert Person.objects.get(name="王八").relation == "户主"


def test_truncated_id_from_a_numeric_excel_cell(example_db, tmp_path):
    headers, rows = read_rows(EXAMPLE / "persons.csv")
    row = list(rows[1])
    row[0] = 431302199901010011  # a number: Excel keeps 15 digits
    path = write_xlsx(tmp_path / "p.xlsx", headers, [*rows, row])
    assert_rejected(path, "persons", 29, "身份证号", "文本")


# -- incomes ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("row", "column", "word"),
    [
        (["H01", "2015", "5", "100"], "年度", "2016"),
        (["H01", str(timezone.localdate().year + 1), "5", "100"], "年度", "2016"),
        (["H01", "2023", "0", "100"], "家庭人口数", "1"),
        (["H99", "2023", "1", "100"], "户编号", "不存在"),
        (["H01", "2023", "1", "一百"], "人均可支配收入", "元"),
        (["H01", "2023", "1", ""], "人均可支配收入", "必填"),
        (["H01", "2024", "5", "100"], "户编号", "重复"),
    ],
)
def test_income_rules(example_db, tmp_path, row, column, word):
    headers, rows = read_rows(EXAMPLE / "incomes.csv")
    path = write_csv(tmp_path / "i.csv", headers, [*rows, row])
    assert_rejected(path, "incomes", 19, column, word)


# -- grievances -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "column", "word"),
    [
        ({"事项编号": "G99", "办结日期": ""}, "办结日期", "必须填写"),
        ({"事项编号": "G99", "办结日期": "2025-02-01"}, "办结日期", "不能早于"),
        ({"事项编号": "G99", "所在村社区代码": "431302001002"}, "所在村社区代码", "不一致"),
        ({"事项编号": "G99", "受理日期": ""}, "受理日期", "必填"),
        ({"事项编号": "G99", "办理状态": "已完成"}, "办理状态", "已办结"),
        ({"事项编号": "G99", "事项类别": "治安"}, "事项类别", "住房"),
        ({"事项编号": "G99", "户编号": "H99"}, "户编号", "不存在"),
    ],
)
def test_grievance_rules(example_db, tmp_path, changes, column, word):
    assert_rejected(variant_file(tmp_path, "grievances", changes), "grievances", 11, column, word)


# -- actions ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "column", "word"),
    [
        ({"台账编号": "TZ9", "户编号": "", "安置点编码": ""}, "户编号", "安置点编码"),
        ({"台账编号": "TZ9", "身份证号": "431302197507070078"}, "身份证号", "不是户 H01"),
        ({"台账编号": "TZ9", "办理状态": "已完成", "完成日期": ""}, "完成日期", "必须填写"),
        ({"台账编号": "TZ9", "措施内容": ""}, "措施内容", "必填"),
        ({"台账编号": "TZ9", "帮扶类别": "帮扶"}, "帮扶类别", "就业帮扶"),
        ({"台账编号": "TZ9", "安置点编码": "S9"}, "安置点编码", "不存在"),
    ],
)
def test_action_rules(example_db, tmp_path, changes, column, word):
    assert_rejected(variant_file(tmp_path, "actions", changes, base=1), "actions", 5, column, word)


# -- finance, citystats, commendations --------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "column", "word"),
    [
        ({"年度": "2023", "收益用于搬迁户后扶": "101"}, "收益用于搬迁户后扶", "不能大于"),
        ({"年度": "2023", "衔接资金用于搬迁后扶": "1000.01"}, "衔接资金用于搬迁后扶", "不能大于"),
        ({"年度": "2023", "县市区代码": "431302001"}, "县市区代码", "6 位"),
        ({"年度": "2023", "县市区代码": "431399"}, "县市区代码", "不存在"),
        ({"年度": "2023", "盘活资产收益": ""}, "盘活资产收益", "必填"),
    ],
)
def test_finance_rules(example_db, tmp_path, changes, column, word):
    assert_rejected(variant_file(tmp_path, "finance", changes), "finance", 5, column, word)


@pytest.mark.parametrize(("value", "ok"), [("6.1", True), ("6.1%", True), ("六", False), ("6.12345", False)])
def test_citystats_percent(db, tmp_path, value, ok):
    path = write_csv(tmp_path / "c.csv", ["年度", "全市居民人均可支配收入增长率"], [["2023", value]])
    if ok:
        assert run_command("import_data", "citystats", str(path))[0] == 0
        assert str(CityStatistic.objects.get(year=2023).city_income_growth) == "6.1000"
    else:
        assert_rejected(path, "citystats", 2, "全市居民人均可支配收入增长率", "6.1%")


def test_citystats_real_percent_cell(db, tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", ["年度", "全市居民人均可支配收入增长率"], [[2023, 0.061]])
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    workbook.active["B2"].number_format = "0.0%"
    workbook.save(path)
    assert run_command("import_data", "citystats", str(path))[0] == 0
    assert str(CityStatistic.objects.get(year=2023).city_income_growth) == "6.1000"


@pytest.mark.parametrize(
    ("changes", "column", "word"),
    [
        ({"被表彰单位": "市公安局"}, "被表彰单位", "市人社局"),
        ({"被表彰单位": "431302001"}, "被表彰单位", "6 位"),
        ({"被表彰单位": "431399"}, "被表彰单位", "不存在"),
        ({"表彰名称": "X", "表彰级别": "县级"}, "表彰级别", "国家级"),
        ({"表彰名称": ""}, "表彰名称", "必填"),
    ],
)
def test_commendation_rules(example_db, tmp_path, changes, column, word):
    assert_rejected(variant_file(tmp_path, "commendations", changes), "commendations", 9, column, word)


# -- file-level refusals ----------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "name"), EXAMPLE_FILES)
def test_missing_required_column_rejects_the_file(db, tmp_path, kind, name):
    from households.importing import get_kind

    headers, rows = read_rows(EXAMPLE / name)
    drop = get_kind(kind).required_headers()[-1]
    index = headers.index(drop)
    path = write_xlsx(
        tmp_path / "f.xlsx", headers[:index] + headers[index + 1 :], [r[:index] + r[index + 1 :] for r in rows]
    )
    status, _out, err = run_command("import_data", kind, str(path))
    assert status == 2
    assert drop in err


def test_unknown_kind_and_unreadable_file(db, tmp_path):
    assert run_command("import_data", "villages", str(EXAMPLE / "areas.xlsx"))[0] == 2
    broken = tmp_path / "x.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert run_command("import_data", "areas", str(broken))[0] == 2
    assert run_command("import_data", "areas", str(tmp_path / "missing.xlsx"))[0] == 2


def test_unknown_columns_are_ignored_with_a_warning(example_db, tmp_path):
    headers, rows = read_rows(EXAMPLE / "incomes.csv")
    path = write_csv(tmp_path / "i.csv", [*headers, "备注"], [[*row, "x"] for row in rows])
    status, out, err = run_command("import_data", "incomes", str(path))
    assert status == 0
    assert "未变 17" in out
    assert "备注" in err


def test_omitted_optional_column_keeps_stored_value_blank_cell_sets_default(example_db, tmp_path):
    headers, rows = read_rows(EXAMPLE / "households.xlsx")
    keep = [headers.index(h) for h in headers if h != "后扶产业项目"]
    path = write_xlsx(tmp_path / "h.xlsx", [headers[i] for i in keep], [[row[i] for i in keep] for row in rows])
    assert run_command("import_data", "households", str(path))[0] == 0
    assert Household.objects.get(code="H01").industry_project == "黄精"
    blank = variant_file(tmp_path, "households", {"后扶产业项目": "", "产业分红金额": ""}, extra=False)
    status, out, _ = run_command("import_data", "households", str(blank))
    assert status == 0
    assert "修改 1" in out
    h01 = Household.objects.get(code="H01")
    assert (h01.industry_project, h01.dividend) == ("", 0)
    entry = HistoryEntry.objects.filter(object_code="H01", action="update").get()
    assert entry.before == {"industry_project": "黄精", "dividend": 10000}
    assert entry.channel == "system"


# -- scope and roles --------------------------------------------------------------------------
@pytest.fixture
def staff(example_db):
    village = Area.objects.get(code="431302001001")
    township = Area.objects.get(code="431302001")
    User.objects.create(username="cun", role=Role.VILLAGE_STAFF, area=village)
    User.objects.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=township)
    User.objects.create(username="admin", role=Role.CITY_ADMIN, area=Area.objects.get(code="431300"))


def test_out_of_area_village_says_so_a_missing_one_does_not_exist(staff, tmp_path):
    # Issue 20: village codes are public division codes; one outside the area is named as such.
    outside = variant_file(tmp_path, "households", {"户编号": "H99", "现居村社区代码": "431302001002"}, extra=False)
    assert_rejected(outside, "households", 2, "现居村社区代码", "不在您的管辖范围（您管辖：A社区）", user="cun")
    missing = variant_file(tmp_path, "households", {"户编号": "H99", "现居村社区代码": "431302001009"}, extra=False)
    assert_rejected(missing, "households", 2, "现居村社区代码", "不存在", user="cun")


def test_existing_record_outside_area_gets_the_neutral_message(staff, tmp_path):
    headers, rows = read_rows(EXAMPLE / "incomes.csv")
    path = write_csv(tmp_path / "i.csv", headers, [["H01", "2023", "5", "100"], ["H06", "2023", "3", "100"]])
    assert_rejected(path, "incomes", 3, "户编号", "不存在", user="cun")
    status, out, _ = run_command("import_data", "incomes", str(path), "--user", "zhen")
    assert status == 1  # H06 is in another county
    ok = write_csv(tmp_path / "ok.csv", headers, [["H01", "2023", "5", "100"]])
    status, out, _ = run_command("import_data", "incomes", str(ok), "--user", "cun")
    assert status == 0
    assert "新增 1" in out
    assert HistoryEntry.objects.filter(channel="import", user__username="cun").count() == 1


def test_role_may_not_import_kind(staff):
    status, _out, err = run_command("import_data", "areas", str(EXAMPLE / "areas.xlsx"), "--user", "cun")
    assert status == 2
    assert "无权" in err
    assert run_command("import_data", "households", str(EXAMPLE / "households.xlsx"), "--user", "admin")[0] == 2
    assert run_command("import_data", "citystats", str(EXAMPLE / "citystats.csv"), "--user", "admin")[0] == 0


def test_township_staff_may_add_villages_of_its_township_only(staff, tmp_path):
    headers = ["区划代码", "名称", "级别", "上级代码"]
    path = write_csv(tmp_path / "a.csv", headers, [["431302001003", "G社区", "村", "431302001"]])
    assert run_command("import_data", "areas", str(path), "--user", "zhen")[0] == 0
    other = write_csv(tmp_path / "b.csv", headers, [["431321100201", "H村", "村", "431321100"]])
    assert_rejected(other, "areas", 2, "区划代码", "本乡镇", user="zhen")


# issue 17 finding 8: an ID number pasted into an imported text is dropped, as the services drop it
def test_imported_texts_keep_no_id_number(example_db, tmp_path):
    pasted = "431302197507070078"
    path = variant_file(
        tmp_path,
        "actions",
        {
            "台账编号": "TZ9",
            "措施内容": f"核实 {pasted} 的就业",
            "走访记录": f"身份证{pasted}",
            "责任人": f"张三{pasted}",
        },
        base=1,
    )
    status, out, err = run_command("import_data", "actions", str(path))
    assert status == 0, (out, err)
    action = FollowUpAction.objects.get(code="TZ9")
    assert action.description == "核实 [身份证号已隐去] 的就业"
    assert pasted not in action.visit_note + action.owner
    path = variant_file(
        tmp_path, "grievances", {"事项编号": "XF9", "反映内容": f"{pasted}反映漏水", "办理情况": pasted}
    )
    status, out, err = run_command("import_data", "grievances", str(path))
    assert status == 0, (out, err)
    grievance = Grievance.objects.get(code="XF9")
    assert pasted not in grievance.content + grievance.handling
