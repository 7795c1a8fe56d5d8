"""The annual assessment (assessment.md): the points rules on hand-built values, the worked example of
expected_assessment.md end to end, the configuration, and who may read and change what."""

import io
from fractions import Fraction as F

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts.models import Role
from areas.choices import AreaLevel
from areas.models import Area
from indicators.assessment import scoring as assessment
from indicators.assessment.scoring import (
    ConfigItem,
    ScoringConfig,
    UnitValue,
    indicator_points,
    unit_score,
)
from indicators.models import AssessmentResult, Commendation, Kind, Met
from tests.factories import AreaFactory, UserFactory
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
COUNTY = AssessmentResult.UnitKind.COUNTY
DEPARTMENT = AssessmentResult.UnitKind.DEPARTMENT


def rate(value, target=100, met=None) -> UnitValue:
    value = None if value is None else F(value)
    if met is None:
        met = Met.NA if value is None else (Met.TRUE if value >= target else Met.FALSE)
    return UnitValue(Kind.RATE, value, F(target), met)


def gap(value, target=2) -> UnitValue:
    return UnitValue(Kind.GAP_PP, F(value), F(target), Met.TRUE if F(value) >= target else Met.FALSE)


def counted(kind, met) -> UnitValue:
    return UnitValue(kind, F(0), F(0), met)


# --- the points of one indicator -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(140, 4), (100, 4), (F(9999, 100), F(1999, 500)), (90, 2), (85, 1), (80, 0), (F(1, 2), 0), (0, 0)],
)
def test_rate_full_at_and_above_target_half_ten_below_nothing_twenty_below(value, expected):
    assert indicator_points(rate(value), F(4)) == expected


def test_rate_with_an_80_percent_target_uses_t_minus_20():
    assert indicator_points(rate(80, target=80), F(2)) == 2
    assert indicator_points(rate(76, target=80), F(2)) == F(8, 5)  # 市财政局's M9-1 in the example
    assert indicator_points(rate(70, target=80), F(2)) == 1
    assert indicator_points(rate(60, target=80), F(2)) == 0
    assert indicator_points(rate(50, target=80), F(2)) == 0


def test_rate_floor_is_configurable():
    assert indicator_points(rate(90), F(4), rate_floor=F(10)) == 0
    assert indicator_points(rate(95), F(4), rate_floor=F(10)) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [(F(27), 3), (2, 3), (F(3, 2), F(9, 4)), (1, F(3, 2)), (F(1, 2), F(3, 4)), (0, 0), (F(-51, 110), 0)],
)
def test_gap_pp_full_at_target_nothing_two_below_linear_between(value, expected):
    assert indicator_points(gap(value), F(3)) == expected


def test_gap_pp_with_a_zero_target():
    assert indicator_points(gap(0, target=0), F(2)) == 2
    assert indicator_points(gap(-1, target=0), F(2)) == 1
    assert indicator_points(gap(-2, target=0), F(2)) == 0


@pytest.mark.parametrize("kind", [Kind.ZERO, Kind.NO_DECREASE])
def test_zero_and_no_decrease_all_or_nothing(kind):
    assert indicator_points(counted(kind, Met.TRUE), F(2)) == 2
    assert indicator_points(counted(kind, Met.FALSE), F(2)) == 0
    assert indicator_points(counted(kind, Met.NA), F(2)) is None


def test_not_applicable_and_info_earn_nothing_and_count_nowhere():
    assert indicator_points(rate(None), F(3)) is None
    assert indicator_points(UnitValue(Kind.INFO, F(5), None, Met.NA), F(3)) is None


# --- a unit's score ------------------------------------------------------------------------------------

SMALL = ScoringConfig(
    F(20),
    (
        ConfigItem("A", "基层党建", F(10)),
        ConfigItem("B", "社区治理", F(20)),
        ConfigItem("C", "社区治理", F(20)),
        ConfigItem("D", "就业帮扶", F(30)),
        ConfigItem("E", "文化建设", F(20)),
    ),
)


def test_not_applicable_indicators_are_left_out_and_the_base_rescaled():
    values = {"A": rate(100), "B": rate(90), "C": rate(None), "D": gap(1), "E": rate(None)}
    score = unit_score(values=values, config=SMALL)
    # earned 10 + 10 + 15 = 35 of 10 + 20 + 30 = 60 applicable points
    assert score.earned == 35
    assert score.applicable == 60
    assert score.base == F(175, 3)
    dimensions = {d.name: d.score for d in score.dimensions}
    assert dimensions["基层党建"] == 10
    assert dimensions["社区治理"] == F(40) * 10 / 20  # out of its own 40 points, C left out
    assert dimensions["就业帮扶"] == 15
    assert dimensions["文化建设"] is None  # every indicator n/a
    assert dimensions["产业发展"] is None  # no indicator at all
    assert score.grade == "不合格"
    assert score.total == F(175, 3)


def test_bonus_counts_higher_levels_and_is_capped_at_five():
    assert assessment.bonus_points(["市级"], unit_kind=COUNTY) == 1
    assert assessment.bonus_points(["市级"], unit_kind=DEPARTMENT) == 0
    assert assessment.bonus_points(["省级", "市级"], unit_kind=DEPARTMENT) == 2
    assert assessment.bonus_points(["省级", "市级", "市级"], unit_kind=COUNTY) == 4
    assert assessment.bonus_points(["国家级", "国家级"], unit_kind=COUNTY) == 5
    assert assessment.bonus_points(["国家级", "省级", "省级"], unit_kind=DEPARTMENT) == 5
    values = {code: rate(100) for code in "ABCDE"}
    capped = unit_score(values=values, config=SMALL, commendation_levels=["国家级", "国家级"])
    assert capped.base == 100
    assert capped.bonus == 5
    assert capped.total == 105
    assert capped.grade == "优秀"


def test_a_unit_without_households_or_applicable_indicators_is_unscored_but_keeps_its_bonus():
    values = {code: rate(100) for code in "ABCDE"}
    empty = unit_score(values=values, config=SMALL, has_households=False, commendation_levels=["国家级"])
    assert not empty.scored
    assert empty.base is None
    assert empty.total is None
    assert empty.grade == ""
    assert empty.bonus == 3
    assert all(d.score is None for d in empty.dimensions)
    nothing = unit_score(values={code: rate(None) for code in "ABCDE"}, config=SMALL)
    assert not nothing.scored
    assert assessment.ranks_for({"empty": None, "x": F(1)}) == {"empty": None, "x": 1}


def test_ties_share_a_rank_on_exact_fractions_and_the_next_rank_skips():
    ranks = assessment.ranks_for(
        {"a": F(90), "b": F(1800, 23), "c": F(1800, 23), "d": F(100, 3), "e": F(7826, 100), "f": None}
    )
    assert ranks == {"a": 1, "b": 2, "c": 2, "e": 4, "d": 5, "f": None}
    # 78.26 rounds like 1800/23 but is not equal to it: it ranks below.


@pytest.mark.parametrize(
    ("total", "grade"),
    [(F(90), "优秀"), (F(8999, 100), "良好"), (F(80), "良好"), (F(7999, 100), "合格"), (F(60), "合格"),
     (F(5999, 100), "不合格"), (F(179999, 3000), "不合格")],
)  # fmt: skip
def test_grades_at_their_boundaries(total, grade):
    assert assessment.grade_for(total) == grade


def test_a_grade_decided_on_the_exact_total_not_the_rounded_one():
    # 89.995 shows as 90.00 (half-up) but is 良好.
    assert assessment.points_text(F(17999, 200)) == "90.00"
    assert assessment.grade_for(F(17999, 200)) == "良好"


def test_a_department_is_scored_on_the_indicators_it_leads_only():
    values = {"A": rate(50), "B": rate(100), "C": rate(95), "D": gap(-5), "E": rate(100)}
    score = unit_score(
        values=values, config=SMALL, unit_kind=DEPARTMENT, codes=["B", "C"], commendation_levels=["省级", "市级"]
    )
    # B 20 of 20, C 15 of 20 → 35/40; dimension 社区治理 out of its 40 points; others empty
    assert score.base == F(175, 2)
    assert score.bonus == 2
    assert score.total == F(179, 2)
    assert score.grade == "良好"
    dimensions = {d.name: d.score for d in score.dimensions}
    assert dimensions["社区治理"] == 35
    assert dimensions["基层党建"] is None
    assert dimensions["就业帮扶"] is None
    leads_nothing = unit_score(values=values, config=SMALL, unit_kind=DEPARTMENT, codes=[])
    assert not leads_nothing.scored


def test_display_rounding_is_half_up_to_two_decimals():
    assert assessment.points_text(F(1, 6)) == "0.17"
    assert assessment.points_text(F(5, 1000)) == "0.01"
    assert assessment.points_text(F(47713, 913)) == "52.26"
    assert assessment.value_display(Kind.RATE, F(9996, 100)) == "99.9"
    assert assessment.value_display(Kind.GAP_PP, F(-51, 110)) == "-0.5"
    assert assessment.exact_text(F(90)) == "90"
    assert assessment.exact_text(F(1800, 23)) == "1800/23"


# --- configuration -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_default_configuration_is_valid_and_matches_assessment_md():
    config = assessment.config_default()
    assessment.config_validate(config)
    points = config.dimension_points()
    assert points == {
        "基层党建": 10, "社区治理": 15, "配套设施": 15, "就业帮扶": 20,
        "产业发展": 15, "防返贫监测": 10, "公共服务": 10, "文化建设": 5,
    }  # fmt: skip
    assert len(config.items) == 39
    assert {"M2-5", "M4-4"}.isdisjoint(item.code for item in config.items)


@pytest.mark.django_db
def test_configuration_validation_in_chinese():
    default = assessment.config_default()
    items = list(default.items)
    moved = [ConfigItem(i.code, i.dimension, i.points + (1 if i.code == "M1-1" else 0)) for i in items]
    with pytest.raises(ValidationError) as error:
        assessment.config_validate(ScoringConfig(F(20), tuple(moved)))
    assert "各指标分值合计须为 100 分，当前合计 101 分。" in error.value.message_dict["__all__"]

    missing = [i for i in items if i.code != "M3-2"] + [ConfigItem("M3-1", "就业帮扶", F(5))]
    with pytest.raises(ValidationError) as error:
        assessment.config_validate(ScoringConfig(F(20), tuple(missing)))
    assert "M3-2 未放入任何考核维度。" in error.value.message_dict["points_M3-2"]
    assert "M3-1 重复出现，每个指标只能放在一个维度中。" in error.value.message_dict["points_M3-1"]

    bad = [ConfigItem(i.code, "其他" if i.code == "M1-2" else i.dimension, i.points) for i in items]
    bad.append(ConfigItem("M2-5", "产业发展", F(0)))
    with pytest.raises(ValidationError) as error:
        assessment.config_validate(ScoringConfig(F(0), tuple(bad)))
    messages = error.value.message_dict
    assert messages["dimension_M1-2"] == ["M1-2 须放在八个考核维度之一中。"]
    assert messages["points_M2-5"] == ["M2-5 为监测类指标，不计分。"]
    assert messages["rate_floor"] == ["起评差距须大于 0 且不超过 100 个百分点。"]


# --- the worked example --------------------------------------------------------------------------------

EXPECTED_COUNTIES = [
    # rank, code, base, dimensions, bonus, total, grade, exact
    (1, "431321", "51.26", ["6.00", "5.00", "4.50", "9.41", "2.31", "10.00", "6.16", "5.00"],
     "1", "52.26", "不合格", "47713/913"),
    (2, "431302", "29.92", ["4.00", "10.00", "3.75", "1.11", "9.00", "0.00", "3.70", "0.00"],
     "5", "34.92", "不合格", "2305/66"),
    (None, "431381", None, [""] * 8, "3", None, "", ""),
]  # fmt: skip
N = ""
EXPECTED_DEPARTMENTS = [
    (1, "市财政局", "90.00", [N, N, N, N, "13.50", N, N, N], "0", "90.00", "优秀", "90"),
    (2, "市医保局", "78.26", [N, N, N, N, N, N, "7.83", N], "0", "78.26", "合格", "1800/23"),
    (2, "市卫健委", "78.26", [N, N, "15.00", N, N, N, "3.48", N], "0", "78.26", "合格", "1800/23"),
    (4, "市教育局", "33.33", [N, N, N, N, N, N, "3.33", N], "0", "33.33", "不合格", "100/3"),
    (5, "市人社局", "22.22", [N, N, N, "4.44", N, N, N, N], "2", "24.22", "不合格", "218/9"),
    (6, "市委组织部", "23.08", ["0.00", "15.00", N, N, N, N, N, N], "0", "23.08", "不合格", "300/13"),
    (7, "市乡村振兴局", "2.38", [N, "0.00", N, N, "0.00", "0.56", N, N], "0", "2.38", "不合格", "50/21"),
    (8, "市住建局", "0.00", [N, N, "0.00", N, N, N, N, N], "0", "0.00", "不合格", "0"),
    (8, "市农业农村局", "0.00", [N, N, N, N, "0.00", N, N, N], "0", "0.00", "不合格", "0"),
    (8, "市易扶办", "0.00", [N, N, N, N, N, N, N, "0.00"], "0", "0.00", "不合格", "0"),
    (8, "市民政局", "0.00", [N, N, N, N, N, "0.00", N, N], "0", "0.00", "不合格", "0"),
    (8, "市水利局", "0.00", [N, N, "0.00", N, N, N, N, N], "0", "0.00", "不合格", "0"),
    (None, "市发改委", None, [N] * 8, "0", None, "", ""),
]  # fmt: skip
# Points per indicator of expected_assessment.md ("n/a" = not applicable).
EXPECTED_POINTS = {
    "431302": "4.00 0.00 3.00 n/a n/a 0.00 3.00 0.00 n/a 0.00 2.00 0.00 0.00 0.00 n/a 1.00 0.00 0.00 0.00 n/a 0.00 "
    "0.00 1.00 3.00 0.00 0.00 2.00 2.00 2.00 0.00 0.00 0.00 2.00 0.00 0.00 n/a 0.17 1.17 0.00",
    "431321": "0.00 6.00 3.00 n/a n/a 0.00 0.00 0.00 n/a n/a 2.00 0.00 0.00 n/a 1.00 0.00 3.00 0.00 0.00 n/a 3.00 "
    "2.00 n/a 0.00 0.00 2.00 0.00 0.00 n/a 4.00 4.00 2.00 2.00 0.00 1.00 n/a 0.55 2.00 5.00",
}
# The order of the table of expected_assessment.md (by dimension).
_ORDER_TEXT = (
    "M1-1 M1-4 M1-2 M1-3 M1-5 M1-6 M1-7 M4-1 M4-2 M4-3 M6-1 M8-1 M8-2 M8-3 M8-4 M8-5 M3-1 M3-2 M3-3 M3-4 M3-5 "
    "M3-6 M3-7 M2-1 M2-2 M2-3 M2-4 M9-1 M9-2 M7-1 M7-2 M7-3 M5-1 M5-2 M5-3 M5-4 M6-2 M6-3 M10-1"
)
EXPECTED_ORDER = _ORDER_TEXT.split(" ")


def example_import() -> None:
    for kind, name in IMPORTS:
        call_command("import_data", kind, str(EXAMPLE / name), stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def example_assessed(db):
    example_import()
    call_command("compute_indicators", "--period", "2025", stdout=io.StringIO())
    out = io.StringIO()
    call_command("assess", "--year", "2025", stdout=out)
    return out.getvalue()


def _rows(units):
    return [
        (
            u["rank"],
            u["unit_code"],
            u["base"],
            [d["display"] for d in u["dimensions"]],
            u["bonus"],
            u["total"],
            u["grade"],
            u["total_exact"],
        )
        for u in units
    ]


def test_example_county_table_equals_expected_assessment_md(example_assessed):
    data = assessment.assessment_result_for_year(2025)
    assert data is not None
    assert not data["published"]
    assert _rows(data["counties"]) == EXPECTED_COUNTIES
    by_code = {u["unit_code"]: u for u in data["counties"]}
    assert (by_code["431321"]["earned_exact"], by_code["431321"]["applicable_exact"]) == ("468/11", "83")
    assert by_code["431321"]["base_exact"] == "46800/913"
    assert (by_code["431302"]["earned_exact"], by_code["431302"]["applicable_exact"]) == ("79/3", "88")
    assert by_code["431302"]["base_exact"] == "1975/66"
    lengjiang = by_code["431381"]
    assert not lengjiang["scored"]
    assert lengjiang["rank"] is None
    assert [(c["level"], c["points"]) for c in lengjiang["commendations"]] == [("国家级", 3)]
    assert [c["year"] for c in by_code["431321"]["commendations"]] == [2025]  # the 2024 one does not count


def test_example_points_per_indicator_equal_expected_assessment_md(example_assessed):
    data = assessment.assessment_result_for_year(2025)
    for unit in data["counties"][:2]:
        points = {row["code"]: row["points"] if row["applicable"] else "n/a" for row in unit["indicators"]}
        assert [points[code] for code in EXPECTED_ORDER] == EXPECTED_POINTS[unit["unit_code"]].split()
    shuangfeng = {row["code"]: row for row in data["counties"][0]["indicators"]}
    assert shuangfeng["M6-2"]["points_exact"] == "6/11"
    assert shuangfeng["M3-5"]["value"] == "27.6740863787"
    assert shuangfeng["M2-5"]["weight"] == ""
    assert not shuangfeng["M2-5"]["applicable"]


def test_example_department_table_equals_expected_assessment_md(example_assessed):
    data = assessment.assessment_result_for_year(2025)
    assert _rows(data["departments"]) == EXPECTED_DEPARTMENTS
    finance = {row["code"]: row["points_exact"] for row in data["departments"][0]["indicators"]}
    assert finance == {"M9-1": "8/5", "M9-2": "2"}
    hr = data["departments"][4]
    assert [c["points"] for c in hr["commendations"]] == [2, 0] or [c["points"] for c in hr["commendations"]] == [0, 2]
    assert hr["earned_exact"] == "4"
    assert hr["applicable_exact"] == "18"
    assert "县市区政府" not in [u["unit_code"] for u in data["departments"]]


def test_assess_prints_the_tables_and_recomputes_until_published(example_assessed):
    assert "1  431321 双峰县  51.26" in example_assessed
    assert "47713/913" in example_assessed
    Commendation.objects.create(unit="431302", year=2025, level="省级", title="另一项表彰")
    Commendation.objects.create(unit="431321", year=2025, level="国家级", title="新表彰")
    call_command("assess", "--year", "2025", stdout=io.StringIO())
    data = assessment.assessment_result_for_year(2025)
    assert data["counties"][0]["unit_code"] == "431321"
    assert data["counties"][0]["bonus"] == "4"
    assert data["counties"][0]["total_exact"] == assessment.exact_text(F(46800, 913) + 4)
    assert AssessmentResult.objects.count() == 16  # the earlier run's results are superseded


@pytest.mark.django_db
def test_assess_computes_the_period_first_when_it_has_no_values():
    city = AreaFactory.create(code="431300", name="娄底市", level=AreaLevel.CITY)
    AreaFactory.create(code="431302", name="娄星区", level=AreaLevel.COUNTY, parent=city, county_code="431302")
    call_command("assess", "--year", "2025", stdout=io.StringIO())
    data = assessment.assessment_result_for_year(2025)
    assert [u["unit_code"] for u in data["counties"]] == ["431302"]
    assert not data["counties"][0]["scored"]  # no household at all
    assert all(not u["scored"] for u in data["departments"])


# --- pages and access ---------------------------------------------------------------------------------


@pytest.fixture
def users(example_assessed):
    city = Area.objects.get(code="431300")
    village = Area.objects.get(code="431302001001")
    return {
        "admin": UserFactory.create(username="admin", role=Role.CITY_ADMIN, area=city),
        "bureau": UserFactory.create(username="bureau", role=Role.CITY_BUREAU, area=city, department="市财政局"),
        "village": UserFactory.create(username="village", role=Role.VILLAGE_STAFF, area=village),
        "county": UserFactory.create(
            username="county", role=Role.COUNTY_OFFICIAL, area=Area.objects.get(code="431321")
        ),
    }


def test_unpublished_assessment_is_read_by_city_roles_only(client, users):
    for name in ("admin", "bureau"):
        client.force_login(users[name])
        page = client.get("/assessment/2025/")
        assert page.status_code == 200
        assert "52.26" in page.content.decode()  # the total as shown; no exact fraction on a page (issue 19)
        assert "双峰县" in page.content.decode()
        assert client.get("/assessment/2025/431321/").status_code == 200
    for name in ("village", "county"):
        client.force_login(users[name])
        assert client.get("/assessment/2025/").status_code == 404
        assert client.get("/assessment/2025/431321/").status_code == 404
        assert client.get("/assessment/2025/report.pdf").status_code == 404
        assert "2025" not in client.get("/assessment/").content.decode().split("<main", 1)[1]


def test_compute_publish_and_config_are_the_administrators(client, users):
    client.force_login(users["bureau"])
    assert client.post("/assessment/2025/compute/").status_code == 403
    assert client.post("/assessment/2025/publish/", {"confirm": "yes"}).status_code == 403
    assert client.get("/assessment/2025/config/").status_code == 403
    assert not assessment.assessment_is_published(2025)

    client.force_login(users["admin"])
    response = client.post("/assessment/2025/compute/")
    assert response.status_code == 302
    assert "/assessment/2025/runs/" in response["Location"]
    progress = client.get(response["Location"])
    assert "已完成" in progress.content.decode()
    assert client.post("/assessment/2025/publish/").status_code == 302  # without confirmation: nothing
    assert not assessment.assessment_is_published(2025)
    client.post("/assessment/2025/publish/", {"confirm": "yes"})
    assert assessment.assessment_is_published(2025)


def test_published_assessment_is_read_by_every_role(client, users):
    call_command("assess", "--year", "2025", "--publish", stdout=io.StringIO())
    for name in ("village", "county", "bureau"):
        client.force_login(users[name])
        page = client.get("/assessment/2025/").content.decode()
        assert "52.26" in page
        assert "冷水江市" in page
        drill = client.get("/assessment/2025/431302/")
        assert drill.status_code == 200
        assert "M6-3" in drill.content.decode()
        assert "1.17" in drill.content.decode()
        assert "2025" in client.get("/assessment/").content.decode()
        xlsx = client.get("/assessment/2025/report.xlsx")
        assert xlsx.status_code == 200
        assert xlsx.content[:2] == b"PK"
    assert client.post("/assessment/2025/compute/").status_code == 403


def test_config_page_validates_in_chinese_and_saves(client, users):
    client.force_login(users["admin"])
    page = client.get("/assessment/2025/config/")
    assert page.status_code == 200
    form = {"rate_floor": "20"}
    for item in assessment.config_default().items:
        form[f"dimension_{item.code}"] = item.dimension
        form[f"points_{item.code}"] = str(item.points)
    form["points_M1-1"] = "5"
    response = client.post("/assessment/2025/config/", form)
    assert response.status_code == 400
    assert "各指标分值合计须为 100 分，当前合计 101 分。" in response.content.decode()
    form["points_M1-4"] = "5"
    form["rate_floor"] = "10"
    assert client.post("/assessment/2025/config/", form).status_code == 302
    config = assessment.config_for_year(2025)
    assert config.rate_floor == 10
    assert {i.code: i.points for i in config.items}["M1-1"] == 5
    call_command("assess", "--year", "2025", stdout=io.StringIO())
    data = assessment.assessment_result_for_year(2025)
    assert data["rate_floor"] == "10.00"
    assert data["dimensions"][0]["points"] == "10"
    call_command("assess", "--year", "2025", "--publish", stdout=io.StringIO())
    response = client.post("/assessment/2025/config/", form)
    assert response.status_code == 400
    assert "已发布" in response.content.decode()
