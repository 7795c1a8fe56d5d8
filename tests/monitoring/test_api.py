"""The monitoring-identification cases in the API and the city's workbook (issue 21): scoped lists and
cases with their deadlines in working days, the procedure's writes as POST actions with the pages'
role checks, the 监测对象识别案件 export, never an ID number, phone or birth date, flat query counts."""

import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import Role
from monitoring import export, services
from monitoring.models import Case, CaseState, Objection, Source
from tests.factories import HouseholdFactory, UserFactory
from tests.monitoring.test_cases import _secrets, _to_county, on, w  # noqa: F401  (fixtures)
from tests.relocation.test_formula_injection import FORMULA, assert_inert_xlsx

pytestmark = pytest.mark.django_db
LIST = "/api/v1/cases/"


def api(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def _open(w, household=None) -> Case:  # type: ignore[no-untyped-def]  # noqa: F811
    return services.open_case(
        actor=w.villager, household=household or w.household, source=Source.CADRE, category="边缘易致贫户"
    )


# Count, the calendar overrides, the page with households and 公示: 3 cases or 23.
LIST_QUERIES = 3


def test_list_is_scoped_with_deadlines_in_working_days_and_flat(w, on, django_assert_num_queries):  # noqa: F811
    on("2026-02-12")  # Thursday before 春节: the home visit is due two working days later, on the 调休 Saturday
    _open(w)
    client = api(w.official)
    with django_assert_num_queries(LIST_QUERIES):
        body = client.get(LIST).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["household"], row["head_name"], row["village"], row["source"]) == (
        "H00001",
        "张三",
        w.village.code,
        "干部排查",
    )
    assert (row["state"], row["step"], row["visit_due_on"]) == ("待入户核实", "入户核实", "2026-02-14")
    assert row["deadline"] == {
        "step": "入户核实",
        "date": "2026-02-14",
        "state": "正常",
        "working_days_left": 2,
        "working_days_late": 0,
    }
    on("2026-02-25")
    late = client.get(LIST).json()["results"][0]["deadline"]
    assert (late["state"], late["working_days_late"]) == ("逾期", 2)  # 24 and 25 Feb, after 春节
    for n in range(20):
        _open(w, HouseholdFactory(code=f"HM{n:04d}", village=w.village))
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(LIST).json()["count"] == 21
    assert client.get(LIST, {"household": "H00001"}).json()["count"] == 1
    assert client.get(LIST, {"open": "false"}).json()["count"] == 0
    assert client.get(LIST, {"state": "待入户核实"}).json()["count"] == 21
    assert client.get(LIST, {"state": "pending"}).status_code == 400
    far = api(w.far_official)
    assert far.get(LIST).json()["count"] == 0
    case = Case.objects.get(household=w.household)
    assert far.get(f"{LIST}{case.pk}/").status_code == 404
    assert api(w.villager).get(f"{LIST}{case.pk}/").status_code == 200


def test_the_api_shows_no_id_number_phone_or_birth_date(w, on):  # noqa: F811
    case = _to_county(w, on)
    services.record_objection(actor=w.villager, case=case, received_on=case.publicity.start_on, text="有异议")
    for user in (w.villager, w.townsman, w.official):
        client = api(user)
        text = json.dumps([client.get(LIST).json(), client.get(f"{LIST}{case.pk}/").json()], ensure_ascii=False)
        assert "H00001" in text
        for secret in _secrets(w):
            assert secret not in text
    body = api(w.official).get(f"{LIST}{case.pk}/").json()
    assert [(s["step"], s["action"]) for s in body["steps"]][:3] == [
        ("发起识别", "办理"),
        ("入户核实", "办理"),
        ("村级评议", "办理"),
    ]
    assert body["objections"] == 1
    assert body["publicity_end_on"]


def test_the_procedure_through_the_api_with_the_pages_role_checks(w, on):  # noqa: F811
    on("2026-02-12")
    villager, township, official = api(w.villager), api(w.townsman), api(w.official)
    body = {"household": "H00001", "source": "干部排查", "category": "边缘易致贫户", "note": "排查发现"}
    assert official.post(LIST, body, format="json").status_code == 403
    opened = villager.post(LIST, body, format="json")
    assert opened.status_code == 201
    url = f"{LIST}{opened.json()['id']}/"
    assert opened.json()["state"] == "待入户核实"
    # A household outside the area is refused exactly like one that does not exist.
    foreign = villager.post(LIST, {**body, "household": "H09001"}, format="json")
    unknown = villager.post(LIST, {**body, "household": "HX999"}, format="json")
    assert foreign.status_code == unknown.status_code == 400
    assert json.dumps(foreign.json()).replace("H09001", "X") == json.dumps(unknown.json()).replace("HX999", "X")
    assert villager.post(LIST, {**body, "source": "部门预警"}, format="json").status_code == 400
    assert township.post(f"{url}township-review/", {}, format="json").status_code == 400  # not at this step
    assert villager.post(f"{url}township-review/", {}, format="json").status_code == 403
    empty = villager.post(f"{url}step/", {"note": ""}, format="json")
    assert (empty.status_code, list(empty.json())) == (400, ["note"])
    visited = villager.post(f"{url}step/", {"note": "户主因病失去劳动能力"}, format="json")
    assert visited.json()["state"] == "待村级评议"
    on("2026-02-13")
    reviewed = villager.post(
        f"{url}step/", {"note": "评议同意纳入", "place": "村委会办公室", "phone": "0738-8321234"}, format="json"
    )
    assert reviewed.json()["state"] == "公示中"
    objection = villager.post(f"{url}objections/", {"received_on": "2026-02-13", "text": "有异议"}, format="json")
    assert (objection.status_code, objection.json()["objections"]) == (200, 1)
    assert villager.post(f"{url}step/", {}, format="json").json()["state"] == "待乡镇初审"
    back = township.post(f"{url}township-review/", {"action": "退回", "note": "材料不全"}, format="json")
    assert (back.json()["state"], back.json()["returned"]) == ("待村级评议", True)
    villager.post(f"{url}step/", {"note": "再评议", "place": "村委会", "phone": "0738-8321234"}, format="json")
    villager.post(f"{url}step/", {}, format="json")
    assert township.post(f"{url}township-review/", {"note": "同意"}, format="json").json()["state"] == "待县级审定"
    decide = {"outcome": "纳入监测", "category": "边缘易致贫户", "note": "同意"}
    early = official.post(f"{url}county-review/", decide, format="json")
    assert early.status_code == 400
    assert "公示期满后" in str(early.json())
    assert api(w.far_official).post(f"{url}county-review/", decide, format="json").status_code == 404
    on("2026-03-02")
    done = official.post(f"{url}county-review/", decide, format="json")
    assert (done.status_code, done.json()["state"], done.json()["closed_on"]) == (200, "已纳入监测", "2026-03-02")
    w.household.refresh_from_db()
    assert w.household.monitoring == "边缘易致贫户"
    assert Objection.objects.count() == 1


def _rows(response) -> list[tuple]:  # type: ignore[no-untyped-def]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]


# Session and user (2), the area, the calendar, the cases with households and 公示, the area names
# (4), the session save (3).
EXPORT_QUERIES = 9


def test_the_city_exports_the_cases_as_chinese_xlsx(w, on, client, django_assert_num_queries):  # noqa: F811
    case = _to_county(w, on)
    on("2026-03-20")  # the identification's 15 working days are over
    bureau = UserFactory(role=Role.CITY_BUREAU, area=None)
    client.force_login(bureau)
    url = f"{reverse('monitoring_export', args=['431300'])}?show=all"
    with django_assert_num_queries(EXPORT_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert "filename*=utf-8''%E7%9B%91%E6%B5%8B" in response["Content-Disposition"]
    rows = _rows(response)
    assert rows[0][0] == "监测对象识别案件 · 娄底市 · 全部"
    assert list(rows[3]) == [str(header) for header in export.HEADERS]
    line = rows[4]
    assert line[:9] == (
        "娄星区",
        "乐坪街道",
        "A社区",
        "H00001",
        "张三",
        "干部排查",
        "边缘易致贫户",
        "待县级审定",
        "县级审定",
    )
    # Due on 11 March (15 working days from 12 February across 春节 and its two 调休 Saturdays): 7 late.
    assert (line[12], line[13], line[15]) == ("2026-03-11", "逾期", 7)
    assert line[16] == f"{case.publicity.start_on:%Y-%m-%d}"
    text = json.dumps(rows, ensure_ascii=False, default=str)
    for secret in _secrets(w):
        assert secret not in text
    for n in range(15):
        _open(w, HouseholdFactory(code=f"HM{n:04d}", village=w.village))
    with django_assert_num_queries(EXPORT_QUERIES):
        assert len(_rows(client.get(url))) == 4 + 16
    client.force_login(w.far_official)
    assert client.get(reverse("monitoring_export", args=[w.county.code])).status_code == 404
    far_rows = _rows(client.get(reverse("monitoring_export", args=["431381"])))
    assert far_rows[4:] == []
    client.force_login(w.official)
    page = client.get(reverse("monitoring_cases", args=[w.county.code])).content.decode()
    assert f"{reverse('monitoring_export', args=[w.county.code])}?show=open" in page
    assert str(CaseState.COUNTY.label) in page


def test_a_formula_like_head_name_stays_text_in_the_export(w, on, client):  # noqa: F811
    on("2026-03-02")
    household = HouseholdFactory(code="HF0001", village=w.village, head_name=FORMULA)
    _open(w, household)
    client.force_login(w.official)
    assert_inert_xlsx(client.get(reverse("monitoring_export", args=[w.county.code])).content, "cases export")
