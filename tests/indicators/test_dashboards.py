"""Dashboards (county, township, city, department), the site view and the 清零清单 pages: flat query
counts, stored numbers as shown, display rounding, masking, xlsx export, assigning follow-up, scope."""

import datetime
import io
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Role
from accounts.personal_data import decrypt, mask_id_number
from households.choices import ActionKind, Labour
from households.models import (
    FollowUpAction,
    Grievance,
    Household,
    Site,
)
from indicators.dashboards import panels as dashboards
from indicators.engine.runs import period_close
from indicators.models import AssessmentResult, AssessmentRun, IndicatorValue, Level, Period
from tests.factories import (
    AreaFactory,
    FollowUpActionFactory,
    GrievanceFactory,
    HouseholdFactory,
    SiteFactory,
    UserFactory,
    compute,
    persons_bulk,
)
from tests.world import World, build_world

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
KEY = str(TODAY.year)
PREVIOUS = str(TODAY.year - 1)

# Exact query counts of each page (session, and the user with its area in one query). They must not move
# when the data grows tenfold. County, township and city include the sign-off panel's one grouped query
# (issue 21), taken on every view, cached part or not. The county official's own county is the area
# loaded with the user: the county page looks nothing up for it (issue 22; one query fewer).
COUNTY_QUERIES = 20
# A hit on the rendered part also carries the townships of the follow-up table (one query fewer).
COUNTY_QUERIES_PART_CACHED = 9
# A page this process rendered for the same inputs (parts.county_page_key; issue 22): the period,
# freshness and follow-up counts are read, the sign-off panel's query is not (its stamp is in the cache).
COUNTY_QUERIES_CACHED = 8
TOWNSHIP_QUERIES = 22
# The city page looks up the stored annual assessment: one query when there is none, two with one.
CITY_QUERIES = 14
# The department page looks up the latest year with an assessment it may link (issue 19): one query.
DEPARTMENT_QUERIES = 13
SITE_QUERIES = 12
PERSON_LIST_QUERIES = 13
HOUSEHOLD_LIST_QUERIES = 12
SITE_LIST_QUERIES = 13


@pytest.fixture(autouse=True)
def empty_cache():
    """Rendered dashboard parts are cached per finished run; ids repeat between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world() -> World:
    return build_world("dashboards")


def grow(w: World, factor: int = 10) -> None:
    """Ten times the areas, sites, households, persons, petitions and follow-up actions."""
    for index in range(factor):
        township = AreaFactory.township(code=f"431302{100 + index:03d}", name=f"新镇{index}", parent=w.county)
        village = AreaFactory.village(code=f"{township.code}001", name=f"新村{index}", parent=township)
        site = SiteFactory.create(village=village, code=f"SG{index:03d}", name=f"新区{index}")
        for place_village, place_site in ((village, site), (w.village, w.site)):
            for number in range(3):
                household = HouseholdFactory.create(
                    code=f"HG{index:03d}{'N' if place_site is site else 'O'}{number}",
                    site=place_site,
                    village=place_village,
                )
                persons_bulk(household, 3, labour=Labour.ORDINARY, wants_work=True)
                FollowUpActionFactory.create(
                    code=f"TZG{household.code}",
                    household=household,
                    kind=ActionKind.OTHER,
                    description="x",
                    owner="甲",
                    due_on=TODAY - datetime.timedelta(days=number),
                )
        GrievanceFactory.create(village=village, site=site)
    compute(KEY)


def _county_url(w: World) -> str:
    return reverse("dashboard_county", args=[w.county.code]) + f"?period={KEY}"


def _list_url(code: str, unit: str) -> str:
    return reverse("indicator_list", args=[code, unit]) + f"?period={KEY}"


def _get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response


# --- exact, flat query counts --------------------------------------------------------------------


def _flat(client, django_assert_num_queries, w: World, url: str, expected: int) -> None:
    with django_assert_num_queries(expected):
        _get(client, url)
    grow(w)
    with django_assert_num_queries(expected):
        _get(client, url)


def test_county_dashboard_query_count_is_flat(client, django_assert_num_queries, world):
    client.force_login(world.county_user)
    _flat(client, django_assert_num_queries, world, _county_url(world), COUNTY_QUERIES)


def test_county_dashboard_second_view_reuses_the_rendered_run(client, django_assert_num_queries, world):
    client.force_login(world.county_user)
    _get(client, _county_url(world))
    with django_assert_num_queries(COUNTY_QUERIES_CACHED):
        _get(client, _county_url(world))
    grow(world)  # a new run: the next view renders again, then is cached again
    with django_assert_num_queries(COUNTY_QUERIES):
        _get(client, _county_url(world))
    with django_assert_num_queries(COUNTY_QUERIES_CACHED):
        html = _get(client, _county_url(world)).content.decode()
    assert "新镇9" in html


def _kpi(html: str, label: str) -> str:
    found = re.search(rf'{label}</span><span class="kpi-value">([^<]*)</span>', html)
    assert found, label
    return found.group(1)


def test_county_dashboard_cached_view_shows_follow_up_counts_as_they_are_now(client, world):
    client.force_login(world.county_user)
    _get(client, _county_url(world))
    before = _get(client, _county_url(world)).content.decode()  # from the per-process cache
    open_before = int(_kpi(before, "未办结帮扶台账"))
    FollowUpAction.objects.create(
        code="TZNEW1",
        household=world.household,
        county_code=world.household.county_code,
        township_code=world.household.township_code,
        village_code=world.household.village_code,
        description="x",
        owner="甲",
        due_on=TODAY - datetime.timedelta(days=1),
    )
    after = _get(client, _county_url(world)).content.decode()  # same run: the stored part is reused
    assert int(_kpi(after, "未办结帮扶台账")) == open_before + 1
    row = re.search(rf'<th scope="row">{world.township.name}</th><td class="num">(\d+)</td>', after)
    assert row is not None
    assert int(row.group(1)) >= 1


def test_county_dashboard_cache_keeps_the_city_chooser_from_the_county_official(client, world):
    client.force_login(world.admin_user)
    assert "data-county-chooser" in _get(client, _county_url(world)).content.decode()
    client.force_login(world.county_user)
    html = _get(client, _county_url(world)).content.decode()
    assert "data-county-chooser" not in html
    assert world.other_county.name not in html


def test_township_dashboard_query_count_is_flat(client, django_assert_num_queries, world):
    client.force_login(world.township_user)
    url = reverse("dashboard_township", args=[world.township.code]) + f"?period={KEY}"
    _flat(client, django_assert_num_queries, world, url, TOWNSHIP_QUERIES)


def test_city_dashboard_query_count_is_flat(client, django_assert_num_queries, world):
    client.force_login(world.admin_user)
    _flat(client, django_assert_num_queries, world, reverse("dashboard_city") + f"?period={KEY}", CITY_QUERIES)


def test_department_dashboard_query_count_is_flat(client, django_assert_num_queries, world):
    client.force_login(world.bureau_user)
    url = reverse("dashboard_department", args=["市人社局"]) + f"?period={KEY}"
    _flat(client, django_assert_num_queries, world, url, DEPARTMENT_QUERIES)


def test_site_view_query_count_is_flat(client, django_assert_num_queries, world):
    client.force_login(world.county_user)
    url = reverse("site_view", args=[world.site.code]) + f"?period={KEY}"
    _flat(client, django_assert_num_queries, world, url, SITE_QUERIES)


def test_person_list_query_count_is_flat(client, django_assert_num_queries, world):
    client.force_login(world.county_user)
    _flat(client, django_assert_num_queries, world, _list_url("M3-2", world.county.code), PERSON_LIST_QUERIES)


def test_household_list_query_count_is_flat_for_staff(client, django_assert_num_queries, world):
    client.force_login(world.township_user)
    url = _list_url("M2-2", world.township.code)
    _flat(client, django_assert_num_queries, world, url, HOUSEHOLD_LIST_QUERIES)


def test_site_list_query_count_is_flat(client, django_assert_num_queries, world):
    client.force_login(world.county_user)
    _flat(client, django_assert_num_queries, world, _list_url("M1-2", world.county.code), SITE_LIST_QUERIES)


def test_list_paginates_at_fifty(client, world):
    grow(world, 10)  # 10 × 2 × 3 households with 3 willing unemployed workers each, plus the fixture's
    client.force_login(world.county_user)
    response = _get(client, _list_url("M3-2", world.county.code))
    assert len(response.context["page"].object_list) == 50
    assert response.context["page"].paginator.count == 181
    second = _get(client, _list_url("M3-2", world.county.code) + "&page=4")
    assert len(second.context["page"].object_list) == 31


# --- numbers as shown ----------------------------------------------------------------------------


def _row_value(html: str, code: str) -> str:
    value_cell = r'<td [^>]*class="num value[^"]*">(?:<a [^>]*>)?([^<]*)'
    match = re.search(rf'data-code="{re.escape(code)}">.*?' + value_cell, html, re.S)
    assert match, code
    return match.group(1).strip()


def test_scorecard_shows_every_stored_value(client, world):
    client.force_login(world.county_user)
    html = _get(client, _county_url(world)).content.decode()
    values = IndicatorValue.objects.filter(period__key=KEY, level="county", unit_code=world.county.code)
    values = values.select_related("indicator")
    assert values.count() == 41
    for value in values:
        assert _row_value(html, value.indicator.code) == dashboards.value_text(value, value.indicator.kind)
    m32 = values.get(indicator__code="M3-2")
    assert (m32.numerator, m32.denominator) == (2, 3)
    assert _row_value(html, "M3-2") == "66.6%"  # 66.666… rounded down
    assert "还差 1 人" in html


def test_unmet_99_96_percent_shows_99_9(client, world):
    IndicatorValue.objects.filter(
        period__key=KEY, level="county", unit_code=world.county.code, indicator__code="M6-3"
    ).update(numerator=2499, denominator=2500, value=Decimal("99.96"), value_exact="2499/25", met="false")
    client.force_login(world.county_user)
    html = _get(client, _county_url(world)).content.decode()
    assert _row_value(html, "M6-3") == "99.9%"
    assert "还差 1 人" in html
    assert dashboards.floor_one_decimal(Fraction(9999, 100)) == Decimal("99.9")
    assert dashboards.floor_one_decimal(Fraction(-1, 25)) == Decimal("-0.1")


def test_not_applicable_shows_dash(client, world):
    client.force_login(world.county_user)
    html = _get(client, _county_url(world)).content.decode()
    stored = IndicatorValue.objects.get(
        period__key=KEY, level="county", unit_code=world.county.code, indicator__code="M1-3"
    )
    assert stored.met == "na"  # no 800+ site
    assert _row_value(html, "M1-3") == "—"
    assert re.search(r'data-code="M1-3">.*?status-na', html, re.S)


def test_gap_text_on_scorecard(client, world):
    client.force_login(world.county_user)
    html = _get(client, _county_url(world)).content.decode()
    row = re.search(r'data-code="M8-1">(.*?)</tr>', html, re.S).group(1)
    assert "还差 1 户" in row  # the one registered-poor household has no tap water


def test_stamp_recalculating_and_frozen(client, world):
    client.force_login(world.county_user)
    assert "计算时间" in _get(client, _county_url(world)).content.decode()
    Period.objects.filter(key=KEY).update(dirty_since=timezone.now())
    assert "正在重新计算…" in _get(client, _county_url(world)).content.decode()
    period_close(period=Period.objects.get(key=PREVIOUS))
    html = _get(client, reverse("dashboard_county", args=[world.county.code]) + f"?period={PREVIOUS}").content.decode()
    assert "已冻结" in html


def test_default_period_is_the_running_year(client, world):
    client.force_login(world.county_user)
    response = _get(client, reverse("dashboard_county", args=[world.county.code]))
    assert response.context["period"].key == KEY
    assert client.get(reverse("dashboard_county", args=[world.county.code]) + "?period=1999").status_code == 404


def test_every_judged_value_links_to_its_list(client, world):
    client.force_login(world.county_user)
    html = _get(client, _county_url(world)).content.decode()
    assert f'href="/lists/M3-2/{world.county.code}/?period={KEY}"' in html
    assert f'href="/lists/M3-2/{world.township.code}/?period={KEY}"' in html  # breakdown cell
    assert "/lists/M2-5/" not in html  # info: not judged, no list


def test_city_ranking_and_heatmap(client, world):
    client.force_login(world.bureau_user)
    response = _get(client, reverse("dashboard_city") + f"?period={KEY}")
    html = response.content.decode()
    assert 'id="heatmap-data"' in html
    assert 'data-chart="heatmap"' in html
    assert "排名依据" in html
    # No assessment of any year here: the list of years is linked, never a year's page (a 404; issue 19).
    assert f"/assessment/{KEY}/" not in html
    assert 'href="/assessment/"' in html
    ranking = response.context["ranking"]
    assert [row.code for row in ranking] == sorted(
        [row.code for row in ranking], key=lambda code: [r.code for r in ranking].index(code)
    )
    assert {row.code for row in ranking} == {world.county.code, world.other_county.code}
    first = ranking[0]
    assert Fraction(first.met, first.judged) >= Fraction(ranking[1].met, ranking[1].judged)


def _assess(year: str, *, publish: bool = False) -> None:
    from indicators.assessment import scoring as assessment

    run = assessment.assessment_run_create(year=int(year))
    assessment.assessment_run_execute(run_id=run.pk)
    if publish:
        assessment.assessment_publish(year=int(year))


def _stored_county_results(year: str) -> list[AssessmentResult]:
    run = AssessmentRun.objects.filter(year=int(year), status=AssessmentRun.Status.DONE).latest("finished_at", "id")
    return list(run.results.filter(unit_kind=AssessmentResult.UnitKind.COUNTY).order_by("position"))


def test_city_dashboard_without_assessment_shows_no_summary(client, world):
    client.force_login(world.admin_user)
    html = _get(client, reverse("dashboard_city") + f"?period={KEY}").content.decode()
    assert "data-assessment-summary" not in html
    assert f"/assessment/{PREVIOUS}/report.xlsx" not in html
    assert "下载通报 PDF" not in html


def test_city_dashboard_summarises_the_stored_assessment(client, django_assert_num_queries, world):
    _assess(PREVIOUS)
    results = _stored_county_results(PREVIOUS)
    assert {result.unit_code for result in results} == {world.county.code, world.other_county.code}
    client.force_login(world.admin_user)
    url = reverse("dashboard_city") + f"?period={KEY}"  # no assessment of the running year: the latest earlier one
    with django_assert_num_queries(CITY_QUERIES + 1):
        html = _get(client, url).content.decode()
    summary = re.search(r"<section[^>]*data-assessment-summary>(.*?)</section>", html, re.S).group(1)
    assert f"{PREVIOUS} 年度考核结果" in summary
    assert "草稿（未发布）" in summary
    assert "已发布" not in summary
    for result in results:
        link = f'<a href="/assessment/{PREVIOUS}/{result.unit_code}/">{result.unit_name}</a>'
        row = re.search(rf'<tr><td class="num">[^<]*</td><th scope="row">{link}.*?</tr>', summary, re.S)
        assert row is not None, result.unit_code
        assert f'<td class="num">{result.rank}</td>' in row.group(0)
        assert f'<td class="num">{format(result.total, "f")}</td>' in row.group(0)
    ranks = [int(rank) for rank in re.findall(r'<tr><td class="num">(\d+)</td>', summary)]
    assert ranks == sorted(ranks)
    assert f'href="/assessment/{PREVIOUS}/report.xlsx"' in summary
    assert f'href="/assessment/{PREVIOUS}/report.pdf"' in summary
    assert f'href="/assessment/{PREVIOUS}/"' in summary
    grow(world)  # more of everything: the same number of queries
    with django_assert_num_queries(CITY_QUERIES + 1):
        _get(client, url)


def test_city_dashboard_summary_marks_a_published_assessment(client, world):
    _assess(PREVIOUS, publish=True)
    client.force_login(world.bureau_user)
    html = _get(client, reverse("dashboard_city") + f"?period={PREVIOUS}").content.decode()
    summary = re.search(r"<section[^>]*data-assessment-summary>(.*?)</section>", html, re.S).group(1)
    assert "已发布" in summary
    assert "草稿（未发布）" not in summary
    for result in _stored_county_results(PREVIOUS):
        assert result.unit_name in summary
        assert format(result.total, "f") in summary


def test_bureau_lands_on_its_department(client, world):
    client.force_login(world.bureau_user)
    response = client.get(reverse("dashboard_home"))
    assert response.status_code == 302
    assert response.url == reverse("dashboard_department", args=["市人社局"])
    html = _get(client, response.url).content.decode()
    assert "M3-2" in html
    assert "M6-3" not in html


def test_site_view_facilities_population_and_indicators(client, world):
    client.force_login(world.county_user)
    html = _get(client, reverse("site_view", args=[world.site.code]) + f"?period={KEY}").content.decode()
    assert "基层党组织" in html
    assert "500人以下" in html
    assert re.search(r"data-population>3 ", html)
    stored = IndicatorValue.objects.get(
        period__key=KEY, level="site", unit_code=world.site.code, indicator__code="M1-1"
    )
    assert stored.met == "true"
    assert _row_value(html, "M1-1") == "100.0%"


# --- lists: masking, export, assigning -----------------------------------------------------------


def test_list_masks_for_county_and_shows_full_for_staff(client, world):
    plaintext = decrypt(world.worker.id_number_encrypted)
    client.force_login(world.county_user)
    html = _get(client, _list_url("M3-2", world.county.code)).content.decode()
    assert mask_id_number(plaintext) in html
    assert plaintext not in html
    assert str(world.worker.birth_date) not in html
    client.force_login(world.township_user)
    html = _get(client, _list_url("M3-2", world.township.code)).content.decode()
    assert plaintext in html
    assert "李四" not in html  # employed: not on the list


def test_xlsx_export_is_masked_and_formula_safe(client, world):
    client.force_login(world.county_user)
    response = _get(client, _list_url("M8-1", world.county.code) + "&format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4)]
    assert rows[0][:3] == ["户编号", "户主", "户主身份证号"]
    assert rows[1][0] == "H00001"
    head_cell = sheet.cell(row=5, column=2)
    assert head_cell.value == '=HYPERLINK("http://x")'
    assert head_cell.data_type == "s"
    person_sheet = load_workbook(
        io.BytesIO(_get(client, _list_url("M3-2", world.county.code) + "&format=xlsx").content)
    ).active
    ids = [row[1].value for row in person_sheet.iter_rows(min_row=5)]
    assert ids == [mask_id_number(decrypt(world.worker.id_number_encrypted))]


def test_assign_follow_up_creates_the_action_and_shows_it(client, world):
    client.force_login(world.township_user)
    url = reverse("indicator_list_assign", args=["M3-2", world.township.code])
    due = TODAY + datetime.timedelta(days=10)
    response = client.post(
        url,
        {
            "target": f"person:{world.worker.pk}",
            "owner": "赵干部",
            "due_on": due.isoformat(),
            "kind": "就业帮扶",
            "period": KEY,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    action = FollowUpAction.objects.get(indicator="M3-2")
    assert (action.household, action.person, action.owner, action.due_on, action.kind) == (
        world.household,
        world.worker,
        "赵干部",
        due,
        "就业帮扶",
    )
    assert action.code in response.content.decode()
    html = _get(client, _list_url("M3-2", world.township.code)).content.decode()
    row = re.search(r"张三.*?</tr>", html, re.S).group(0)
    assert action.code in row
    assert "赵干部" in row


def test_assign_on_a_site_list_attaches_to_the_site(client, world):
    client.force_login(world.county_user)  # 督办: county officials may write follow-up actions
    url = reverse("indicator_list_assign", args=["M1-2", world.county.code])
    response = client.post(
        url, {"target": f"site:{world.site.code}", "owner": "钱", "due_on": TODAY.isoformat(), "kind": "社区治理"}
    )
    assert response.status_code == 302
    action = FollowUpAction.objects.get(indicator="M1-2")
    assert action.site == world.site
    assert action.household is None


def test_bureau_sees_no_assign_form_and_cannot_assign(client, world):
    client.force_login(world.bureau_user)
    html = _get(client, _list_url("M3-2", world.county.code)).content.decode()
    assert "派发帮扶" not in html
    url = reverse("indicator_list_assign", args=["M3-2", world.county.code])
    response = client.post(
        url, {"target": f"person:{world.worker.pk}", "owner": "x", "due_on": TODAY.isoformat(), "kind": "其他"}
    )
    assert response.status_code == 403
    assert not FollowUpAction.objects.exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_assign_to_a_foreign_or_unknown_record_is_400_with_one_message(client, world, htmx):
    """access.md: a write referring outside the area answers 400, like a code that does not exist."""
    client.force_login(world.township_user)
    url = reverse("indicator_list_assign", args=["M3-2", world.township.code])
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    answers = []
    for code in (world.foreign_household.code, "NO-SUCH-HOUSEHOLD"):
        body = {"target": f"household:{code}", "owner": "x", "due_on": "2026-01-01", "kind": "其他"}
        answers.append(client.post(url, body, **headers))
    assert [answer.status_code for answer in answers] == [400, 400]
    # Alike but for what the user typed (the target, echoed in the form) and the form's CSRF token.
    foreign, unknown = (
        re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", answer.content.decode()).replace(code, "CODE")
        for answer, code in zip(answers, (world.foreign_household.code, "NO-SUCH-HOUSEHOLD"), strict=True)
    )
    assert "找不到所选记录" in foreign
    assert foreign == unknown
    assert world.foreign_household.head_name not in foreign
    assert not FollowUpAction.objects.exists()


def test_m5_1_list_is_labelled_net_enrolment(client, world):
    client.force_login(world.county_user)
    html = _get(client, _list_url("M5-1", world.county.code)).content.decode()
    assert "净入园" in html


def test_export_of_stored_values_is_scoped(client, world):
    client.force_login(world.county_user)
    text = _get(client, reverse("dashboard_export") + f"?period={KEY}&level=county&format=csv").content.decode()
    assert world.county.code in text
    assert world.other_county.code not in text
    client.force_login(world.bureau_user)
    text = _get(client, reverse("dashboard_export") + f"?period={KEY}&level=county&format=csv").content.decode()
    assert world.other_county.code in text


# --- scope: 404 for foreign areas ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("dashboard_county", ["431322"]),
        ("dashboard_township", ["431322001"]),
        ("site_view", ["S0900"]),
        ("indicator_list", ["M3-2", "431322"]),
        ("indicator_list", ["M1-2", "S0900"]),
        ("indicator_list", ["M3-2", "431300"]),
        ("dashboard_city", []),
        ("dashboard_department", ["市人社局"]),
        ("dashboard_county", ["999999"]),
    ],
)
def test_county_official_gets_404_outside_the_county(client, world, name, args):
    client.force_login(world.county_user)
    response = client.get(reverse(name, args=args) + f"?period={KEY}")
    assert response.status_code == 404
    assert "新化县" not in response.content.decode()


def test_township_staff_see_own_township_only(client, world):
    client.force_login(world.township_user)
    assert client.get(reverse("dashboard_township", args=[world.township.code])).status_code == 200
    assert client.get(_list_url("M3-2", world.township.code)).status_code == 200
    assert client.get(reverse("dashboard_county", args=[world.county.code])).status_code == 404
    assert client.get(_list_url("M3-2", world.county.code)).status_code == 404
    assert client.get(reverse("dashboard_home")).url == reverse("dashboard_township", args=[world.township.code])


def test_village_staff_land_on_their_village_board(client, world):
    """指标看板 takes village staff to their own village's board, not to 待办 (issue 20)."""
    client.force_login(UserFactory.create(username="cun", role=Role.VILLAGE_STAFF, area=world.village))
    response = client.get(reverse("dashboard_home"))
    assert response.url == reverse("dashboard_township", args=[world.village.code])
    html = _get(client, response.url + f"?period={KEY}").content.decode()
    assert f"{world.village.name} 指标记分卡" in html
    assert world.site.name in html
    stored = IndicatorValue.objects.get(
        period__key=KEY, level=Level.VILLAGE, unit_code=world.village.code, indicator__code="M3-2"
    )
    row = re.search(r'<tr[^>]*data-code="M3-2".*?</tr>', html, re.S).group(0)
    assert dashboards.shown(stored, stored.indicator, KEY).text in row
    # Only the village's own board: no link up to the township's, which village staff may not open.
    assert reverse("dashboard_township", args=[world.township.code]) not in html
    assert client.get(reverse("dashboard_township", args=[world.township.code])).status_code == 404
    client.force_login(world.township_user)
    html = _get(client, reverse("dashboard_township", args=[world.village.code]) + f"?period={KEY}").content.decode()
    assert reverse("dashboard_township", args=[world.township.code]) in html


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(_county_url(world))
    assert response.status_code == 302
    assert "/login/" in response.url


def test_models_untouched_by_reads(client, world):
    before = (Household.objects.count(), Grievance.objects.count(), Site.objects.count())
    client.force_login(world.county_user)
    _get(client, _county_url(world))
    assert (Household.objects.count(), Grievance.objects.count(), Site.objects.count()) == before
