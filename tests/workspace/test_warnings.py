"""The 预警清单 (indicators.md, early warning) and the monitoring decisions that clear it (data.md,
监测认定): scoped per area, masked for county officials, filterable, exported to a formula-safe .xlsx,
cleared by the county's decision (``monitoring_decide``) at the end of a monitoring case that village
or township staff open from a row (发起识别, issue 21: tests/monitoring) — 纳入监测 sets the household's
category with a history entry, 核实排除 holds until a new income row or employment change raises the
warning again — with "assign follow-up" on each row and flat query counts."""

import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from openpyxl import load_workbook

from accounts.personal_data import mask_id_number
from households import services
from households.choices import ActionKind, Employment, Monitoring, MonitoringDecisionKind
from households.models import ChangeFeed, FollowUpAction, HistoryEntry, Household, MonitoringDecision
from monitoring.models import Case
from tests.world import HEAD_ID, LAST_YEAR, TODAY, build_world, grow_workspace

pytestmark = pytest.mark.django_db

LIST_QUERIES = 14
QUALITY_QUERIES = 15


@pytest.fixture
def world():
    return build_world("workspace")


def _list_url(area_code: str, **query: str) -> str:
    url = reverse("warnings_list", args=[area_code])
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-household="([^"]+)">', html)


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- the list ------------------------------------------------------------------------------------


def test_township_list_shows_its_households_with_reasons(client, world):
    client.force_login(world.township_user)
    html = _get(client, _list_url(world.township.code))
    assert _rows(html) == ["H00001", "H00002"]
    assert (
        "2025 年人均可支配收入 5000.00 元低于监测收入线 7300.00 元" in html.replace(str(LAST_YEAR), "2025")
        or f"{LAST_YEAR} 年人均可支配收入 5000.00 元低于监测收入线 7300.00 元" in html
    )
    assert "较上年下降 30% 以上" in html
    assert "H05001" not in html
    assert "H09001" not in html
    assert HEAD_ID in html  # staff see full personal data
    assert 'name="category"' in html  # 发起识别
    assert "派发帮扶" in html


def test_employment_loss_is_a_warning_with_the_members_name(client, world):
    services.person_set_employment(actor=world.township_user, person=world.employed, employment=Employment.UNEMPLOYED)
    client.force_login(world.township_user)
    html = _get(client, _list_url(world.township.code, reason="employment"))
    assert _rows(html) == ["H00001"]
    assert "李四：由“本地企业”变为未就业" in html


def test_filters_by_reason_and_village(client, world):
    client.force_login(world.township_user)
    assert _rows(_get(client, _list_url(world.township.code, reason="income_drop"))) == ["H00002"]
    assert _rows(_get(client, _list_url(world.township.code, reason="income_line"))) == ["H00001"]
    assert _rows(_get(client, _list_url(world.township.code, village=world.village2.code))) == ["H00002"]


def test_village_staff_see_their_village(client, world):
    client.force_login(world.village_user)
    assert _rows(_get(client, _list_url(world.village.code))) == ["H00001"]
    assert client.get(_list_url(world.township.code)).status_code == 404
    assert client.get(_list_url(world.village2.code)).status_code == 404


@pytest.mark.parametrize(
    ("username_attr", "code_attr"),
    [
        ("township_user", "other_township"),
        ("township_user", "other_village"),
        ("township_user", "county"),
        ("county_user", "far_township"),
        ("county_user", "other_county"),
        ("other_township_user", "township"),
    ],
)
def test_another_area_is_404(client, world, username_attr, code_attr):
    client.force_login(getattr(world, username_attr))
    code = getattr(world, code_attr).code
    assert client.get(_list_url(code)).status_code == 404
    assert client.get(reverse("warnings_quality", args=[code])).status_code == 404
    assert client.get(_list_url(code, format="xlsx")).status_code == 404


def test_unknown_area_and_the_city_are_404(client, world):
    client.force_login(world.bureau_user)
    assert client.get(_list_url("999999")).status_code == 404
    assert client.get(_list_url(world.city.code)).status_code == 404
    assert client.get(_list_url(world.county.code)).status_code == 200  # city users read every county


def test_county_official_reads_the_county_list_masked_and_cannot_decide(client, world):
    client.force_login(world.county_user)
    html = _get(client, _list_url(world.county.code))
    assert _rows(html) == ["H00001", "H00002", "H05001"]
    assert HEAD_ID not in html
    assert mask_id_number(HEAD_ID) in html
    assert "decide-form" not in html
    assert "派发帮扶" in html  # county officials write follow-up actions (督办)
    response = client.post(
        reverse("warnings_decide", args=[world.county.code]),
        {"household": "H00001", "category": Monitoring.MARGINAL},
    )
    assert response.status_code == 403
    assert not Case.objects.exists()


# --- export --------------------------------------------------------------------------------------


def _sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content)).active


def test_xlsx_export_is_masked_filtered_and_formula_safe(client, world):
    client.force_login(world.county_user)
    sheet = _sheet(client.get(_list_url(world.county.code, format="xlsx")))
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=5) if row[0].value]
    assert [row[0] for row in rows] == ["H00001", "H00002", "H05001"]
    first = next(row for row in sheet.iter_rows(min_row=5) if row[0].value == "H00001")
    assert first[1].value == '=HYPERLINK("http://x")'
    assert first[1].data_type == "s"
    assert first[2].value == mask_id_number(HEAD_ID)
    assert not any(re.search(r"\d{17}[\dX]", str(value or "")) for row in rows for value in row)

    filtered = _sheet(client.get(_list_url(world.county.code, reason="income_drop", format="xlsx")))
    assert [row[0].value for row in filtered.iter_rows(min_row=5) if row[0].value] == ["H00002"]


def test_staff_export_has_the_full_id(client, world):
    client.force_login(world.township_user)
    sheet = _sheet(client.get(_list_url(world.township.code, format="xlsx")))
    assert sheet.cell(row=5, column=3).value == HEAD_ID


# --- 发起识别 from a row (issue 21), and the decisions that clear it -----------------------------


def _open(client, world, household: str, category: str = Monitoring.MARGINAL, htmx: bool = False, area=None):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        reverse("warnings_decide", args=[(area or world.township).code]),
        {"household": household, "category": category, "note": "收入低于监测线"},
        **headers,
    )


def _decide(client, world, household: str, decision: str, category: str = ""):
    """The county's 县级审定 at the end of a case, as the indicators see it: a monitoring decision."""
    return services.monitoring_decide(
        actor=world.township_user,
        household=Household.objects.get(code=household),
        decision=decision,
        category=category,
        note="入户核实",
    )


def test_a_row_opens_a_monitoring_case_and_nothing_is_decided_yet(client, world):
    client.force_login(world.township_user)
    response = _open(client, world, "H00001", htmx=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="cleared"' in body
    assert "发起监测对象识别（拟纳入边缘易致贫户）" in body
    case = Case.objects.get()
    assert reverse("monitoring_case", args=[case.pk]) in body
    assert (case.household_id, case.source, case.opened_by) == (world.household.pk, "部门预警", world.township_user)
    assert not MonitoringDecision.objects.exists()
    assert Household.objects.get(pk=world.household.pk).monitoring == Monitoring.NONE
    again = _open(client, world, "H00001", htmx=True)
    assert "已有办理中的监测对象识别" in again.content.decode()
    assert Case.objects.count() == 1


def test_include_records_the_decision_sets_the_category_with_history_and_clears_the_row(client, world):
    client.force_login(world.township_user)
    feed_before = ChangeFeed.objects.count()
    decision = _decide(client, world, "H00001", MonitoringDecisionKind.INCLUDE, Monitoring.MARGINAL)
    assert (decision.household_id, decision.decision, decision.category, decision.note) == (
        world.household.pk,
        MonitoringDecisionKind.INCLUDE,
        Monitoring.MARGINAL,
        "入户核实",
    )
    assert decision.decided_by == world.township_user
    assert decision.decided_on == TODAY
    assert decision.township_code == world.township.code
    world.household.refresh_from_db()
    assert world.household.monitoring == Monitoring.MARGINAL
    entry = HistoryEntry.objects.get(entity="household", object_id=world.household.pk)
    assert entry.before == {"monitoring": "无"}
    assert entry.after == {"monitoring": Monitoring.MARGINAL}
    assert entry.user == world.township_user
    assert HistoryEntry.objects.filter(entity="monitoringdecision", object_id=decision.pk).exists()
    assert ChangeFeed.objects.count() == feed_before + 1

    assert _rows(_get(client, _list_url(world.township.code))) == ["H00002"]


def test_opening_without_a_category_is_refused_and_nothing_is_written(client, world):
    client.force_login(world.township_user)
    response = _open(client, world, "H00001", category="", htmx=True)
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#decide-error-{world.household.pk}"
    assert "拟纳入类别" in response.content.decode()
    assert not Case.objects.exists()
    assert Household.objects.get(pk=world.household.pk).monitoring == Monitoring.NONE
    assert _rows(_get(client, _list_url(world.township.code))) == ["H00001", "H00002"]


def test_exclusion_holds_until_a_new_income_row_raises_the_warning_again(client, world):
    client.force_login(world.township_user)
    _decide(client, world, "H00002", MonitoringDecisionKind.EXCLUDE, Monitoring.MARGINAL)
    decision = MonitoringDecision.objects.get()
    assert decision.category == ""  # an exclusion sets no category
    world.dropped.refresh_from_db()
    assert world.dropped.monitoring == Monitoring.NONE
    assert _rows(_get(client, _list_url(world.township.code))) == ["H00001"]

    # The same rows again next time: still excluded.
    assert _rows(_get(client, _list_url(world.township.code))) == ["H00001"]
    # A new income row (the year's figure corrected downwards) raises it again.
    services.income_set(
        actor=world.township_user, household=world.dropped, year=LAST_YEAR, size=1, per_capita_income_fen=600_000
    )
    html = _get(client, _list_url(world.township.code))
    assert _rows(html) == ["H00001", "H00002"]
    assert "低于监测收入线" in re.search(r'data-household="H00002">(.*?)</tr>', html, re.S).group(1)


def test_exclusion_holds_until_an_employment_change_raises_it_again(client, world):
    household = world.comfortable
    person = household.members.get()
    services.person_update(
        actor=world.township_user, person=person, data={"labour": "普通劳动力", "employment_checked_on": TODAY}
    )
    services.person_set_employment(actor=world.township_user, person=person, employment=Employment.FLEXIBLE)
    services.person_set_employment(actor=world.township_user, person=person, employment=Employment.UNEMPLOYED)
    client.force_login(world.township_user)
    assert "H00003" in _rows(_get(client, _list_url(world.township.code)))
    _decide(client, world, "H00003", MonitoringDecisionKind.EXCLUDE)
    assert "H00003" not in _rows(_get(client, _list_url(world.township.code)))
    services.person_set_employment(actor=world.township_user, person=person, employment=Employment.LOCAL_FIRM)
    services.person_set_employment(actor=world.township_user, person=person, employment=Employment.UNEMPLOYED)
    assert "H00003" in _rows(_get(client, _list_url(world.township.code)))


def test_village_staff_may_open_cases_in_their_village_only(client, world):
    client.force_login(world.village_user)
    ok = _open(client, world, "H00001", area=world.village)
    assert ok.status_code == 302
    foreign = _open(client, world, "H00002", area=world.village)
    assert foreign.status_code == 404
    assert Case.objects.count() == 1


def test_deciding_on_another_townships_household_is_404_and_writes_nothing(client, world):
    client.force_login(world.township_user)
    assert _open(client, world, "H05001").status_code == 404
    assert _open(client, world, "H09001").status_code == 404
    assert _open(client, world, "NOPE").status_code == 404
    other = client.post(
        reverse("warnings_decide", args=[world.other_township.code]),
        {"household": "H05001", "category": Monitoring.MARGINAL},
    )
    assert other.status_code == 404
    assert not Case.objects.exists()


def test_service_refuses_roles_and_households_outside_the_area(world):
    with pytest.raises(PermissionDenied):
        services.monitoring_decide(
            actor=world.county_user, household=world.household, decision=MonitoringDecisionKind.EXCLUDE
        )
    with pytest.raises(Http404):
        services.monitoring_decide(
            actor=world.township_user, household=world.neighbour, decision=MonitoringDecisionKind.EXCLUDE
        )
    with pytest.raises(ValidationError) as error:
        services.monitoring_decide(actor=world.township_user, household=world.household, decision="其他")
    assert "decision" in error.value.message_dict
    assert not MonitoringDecision.objects.exists()


# --- assign follow-up ----------------------------------------------------------------------------


def test_assign_follow_up_from_a_warning_row(client, world):
    client.force_login(world.township_user)
    response = client.post(
        reverse("warnings_assign", args=[world.township.code]),
        {"target": "household:H00002", "owner": "周干部", "due_on": "2026-12-31", "kind": ActionKind.MONITORING},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    action = FollowUpAction.objects.get(household=world.dropped)
    assert (action.kind, action.owner, action.indicator) == (ActionKind.MONITORING, "周干部", "")
    assert action.township_code == world.township.code
    assert action.code in response.content.decode()
    html = _get(client, _list_url(world.township.code))
    row = re.search(r'data-household="H00002">(.*?)</tr>', html, re.S).group(1)
    assert action.code in row
    assert "周干部" in row


def test_assign_to_a_foreign_household_is_404(client, world):
    client.force_login(world.township_user)
    response = client.post(
        reverse("warnings_assign", args=[world.township.code]),
        {"target": "household:H05001", "owner": "周干部", "due_on": "2026-12-31", "kind": ActionKind.MONITORING},
    )
    assert response.status_code == 404
    assert not FollowUpAction.objects.filter(household=world.neighbour, owner="周干部").exists()


def test_bureau_cannot_assign(client, world):
    client.force_login(world.bureau_user)
    html = _get(client, _list_url(world.township.code))
    assert "派发帮扶" not in html
    assert 'name="decision"' not in html
    response = client.post(
        reverse("warnings_assign", args=[world.township.code]),
        {"target": "household:H00002", "owner": "周", "due_on": "2026-12-31", "kind": ActionKind.MONITORING},
    )
    assert response.status_code == 403
    assert not FollowUpAction.objects.filter(owner="周").exists()


# --- data-quality list ---------------------------------------------------------------------------


def test_quality_list_rows_and_masking(client, world):
    grow_workspace(world, count=1)
    client.force_login(world.township_user)
    html = _get(client, reverse("warnings_quality", args=[world.township.code]))
    assert "共 16 条" in html
    assert "劳动能力与年龄不符" in html
    assert "户内没有状态正常的户主" in html
    filtered = _get(client, reverse("warnings_quality", args=[world.township.code]) + "?warning=labour_age")
    assert "共 2 条" in filtered


# --- exact, flat query counts --------------------------------------------------------------------


def test_list_query_count_is_flat(client, world, django_assert_num_queries):
    client.force_login(world.township_user)
    url = _list_url(world.township.code)
    with django_assert_num_queries(LIST_QUERIES):
        client.get(url)
    grow_workspace(world)
    with django_assert_num_queries(LIST_QUERIES):
        html = client.get(url).content.decode()
    assert "共 22 户" in html


def test_county_list_query_count_is_flat(client, world, django_assert_num_queries):
    client.force_login(world.county_user)
    url = _list_url(world.county.code)
    with django_assert_num_queries(LIST_QUERIES):
        client.get(url)
    grow_workspace(world)
    with django_assert_num_queries(LIST_QUERIES):
        client.get(url)


def test_quality_list_query_count_is_flat(client, world, django_assert_num_queries):
    client.force_login(world.township_user)
    url = reverse("warnings_quality", args=[world.township.code])
    with django_assert_num_queries(QUALITY_QUERIES):
        client.get(url)
    grow_workspace(world)
    with django_assert_num_queries(QUALITY_QUERIES):
        client.get(url)
