"""The monthly sign-off in the API and the city's workbook (issue 21): every village of the user's area
for a month with state, steps and 审定后有修改; the three steps as POST actions with the pages' role
checks; the 月度审核情况 export; scoping (in area, out of area) and flat query counts."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import Role
from areas.models import Area
from households import services as registry
from households.choices import Employment
from signoff import export, services
from signoff.models import State, VillageMonth
from tests.factories import AreaFactory, HouseholdFactory, UserFactory
from tests.relocation.test_formula_injection import FORMULA, assert_inert_xlsx
from tests.signoff.test_signoff import MONTH, _approve, w  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
LIST = "/api/v1/signoff/"


def api(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def detail(village, suffix: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"{LIST}{village.code}/{MONTH}/{suffix}"


def _more_villages(w, count: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for n in range(count):
        village = AreaFactory.village(code=f"431302002{n + 100:03d}", name=f"新{n}村", parent=w.far.parent)
        HouseholdFactory(code=f"HG{n:04d}", village=village)
        if n % 3 == 0:
            services.submit(None, village, MONTH)


# The overview's five (villages, months, history since approval, calendar, deadline table), the page's
# steps, the calendar for the working days left: the same for 3 villages or 33.
LIST_QUERIES = 7


def test_list_has_every_village_with_state_steps_and_flat_queries(w, django_assert_num_queries):  # noqa: F811
    _approve(w, w.village)
    client = api(w.official)
    with django_assert_num_queries(LIST_QUERIES):
        body = client.get(LIST, {"month": MONTH}).json()
    assert body["count"] == 3
    rows = {row["village"]: row for row in body["results"]}
    approved = rows[w.village.code]
    assert (approved["state"], approved["township"], approved["county"]) == ("已审定", w.township.code, "431302")
    assert [(s["action"], s["level"], s["user"]) for s in approved["steps"]] == [
        ("提交", "村（社区）", str(w.villager)),
        ("审核通过", "乡镇初审", str(w.townsman)),
        ("审核通过", "县级审定", str(w.official)),
    ]
    assert approved["approved_at"]
    assert rows[w.far.code]["state"] == "未提交"
    assert rows[w.far.code]["steps"] == []
    _more_villages(w, 30)
    with django_assert_num_queries(LIST_QUERIES):
        body = client.get(LIST, {"month": MONTH}).json()
    assert body["count"] == 33
    submitted = next(row for row in body["results"] if row["village"] == "431302002100")
    assert submitted["state"] == "已提交"
    assert submitted["due"]["step"] == "初审"
    assert submitted["due"]["state"] in ("正常", "临期", "逾期")
    assert client.get(LIST, {"month": MONTH, "state": "已提交"}).json()["count"] == 10
    assert client.get(LIST, {"month": "2099-01"}).status_code == 400
    assert client.get(LIST, {"month": MONTH, "state": "approved"}).status_code == 400


def test_list_and_detail_are_scoped(w):  # noqa: F811
    _approve(w, w.village)
    township = api(w.townsman)
    body = township.get(LIST, {"month": MONTH}).json()
    assert sorted(row["village"] for row in body["results"]) == [w.village.code, w.bare.code]
    # A foreign area lists nothing, exactly like an area that does not exist.
    foreign = township.get(LIST, {"month": MONTH, "area": w.far.parent.code}).json()
    unknown = township.get(LIST, {"month": MONTH, "area": "431399001"}).json()
    assert foreign == unknown == {"count": 0, "next": None, "previous": None, "results": []}
    assert township.get(LIST, {"month": MONTH, "area": w.bare.code}).json()["count"] == 1
    assert township.get(detail(w.far)).status_code == 404
    assert township.get(f"{LIST}431399001001/{MONTH}/").status_code == 404
    villager = api(w.villager)
    assert [row["village"] for row in villager.get(LIST, {"month": MONTH}).json()["results"]] == [w.village.code]
    assert villager.get(detail(w.bare)).status_code == 404
    assert villager.get(detail(w.village)).status_code == 200
    assert villager.get(f"{LIST}{w.village.code}/2099-01/").status_code == 404
    assert api(w.official).get(detail(w.far)).status_code == 200
    bureau = api(UserFactory(role=Role.CITY_BUREAU, area=None))
    assert bureau.get(LIST, {"month": MONTH, "area": "431300"}).json()["count"] == 3
    assert township.get(LIST, {"month": MONTH, "area": "431300"}).json()["count"] == 0


def test_detail_counts_and_lists_the_records_changed_since_approval(w):  # noqa: F811
    _approve(w, w.village)
    registry.person_set_employment(actor=w.villager, person=w.child, employment=Employment.MIGRANT)
    body = api(w.official).get(detail(w.village)).json()
    assert (body["state"], body["changes_since_approval"]) == ("审定后有修改", 1)
    assert [(c["entity"], c["label"], c["household"], c["writes"]) for c in body["changed"]] == [
        ("person", "张小", "H00001", 1)
    ]
    assert body["snapshot"]["persons_active"] == 2
    assert len(body["snapshot"]["records_sha256"]) == 64
    listed = api(w.official).get(LIST, {"month": MONTH, "state": "审定后有修改"}).json()
    assert [(row["village"], row["changes_since_approval"]) for row in listed["results"]] == [(w.village.code, 1)]


def test_the_three_steps_through_the_api_with_the_pages_role_checks(w):  # noqa: F811
    villager, township, official = api(w.villager), api(w.townsman), api(w.official)
    assert official.post(detail(w.village, "submit/"), {"note": ""}, format="json").status_code == 403
    refused = township.post(detail(w.village, "submit/"), {}, format="json")
    assert refused.status_code == 400
    assert "应由村" in refused.json()["non_field_errors"][0]
    done = villager.post(detail(w.village, "submit/"), {"note": "已核对"}, format="json")
    assert (done.status_code, done.json()["state"]) == (200, "已提交")
    assert villager.post(detail(w.village, "township-review/"), {"decision": "审核通过"}).status_code == 403
    returned = township.post(detail(w.village, "township-review/"), {"decision": "退回"}, format="json")
    assert returned.status_code == 400
    assert "退回原因" in str(returned.json())
    bad = township.post(detail(w.village, "township-review/"), {"decision": "approve"}, format="json")
    assert bad.status_code == 400
    assert "decision" in bad.json()
    ok = township.post(detail(w.village, "township-review/"), {"decision": "审核通过"}, format="json")
    assert ok.json()["state"] == "乡镇已初审"
    assert official.post(detail(w.far, "county-review/"), {"decision": "审核通过"}).status_code == 400
    approved = official.post(detail(w.village, "county-review/"), {"decision": "审核通过", "note": "同意"})
    assert approved.status_code == 200
    assert approved.json()["state"] == "已审定"
    assert [step["note"] for step in approved.json()["steps"]] == ["已核对", "", "同意"]
    # Outside the area: 404 before the role is looked at; nothing written.
    far_official = UserFactory(role=Role.COUNTY_OFFICIAL, area=AreaFactory.county(code="431381", name="冷水江市"))
    assert api(far_official).post(detail(w.village, "county-review/"), {"decision": "退回"}).status_code == 404
    assert api(w.villager).post(detail(w.bare, "submit/"), {}).status_code == 404
    assert VillageMonth.objects.get(village=w.village).state == State.APPROVED
    assert not VillageMonth.objects.filter(village=w.bare).exists()


def _sheet_rows(response) -> list[tuple]:  # type: ignore[no-untyped-def]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]


# Session and user (2), the city, the overview's five, the steps, the session save (3).
EXPORT_QUERIES = 12


def test_the_city_exports_the_month_as_chinese_xlsx(w, client, django_assert_num_queries):  # noqa: F811
    _approve(w, w.village)
    bureau = UserFactory(role=Role.CITY_BUREAU, area=None)
    client.force_login(bureau)
    url = f"{reverse('signoff_export')}?month={MONTH}"
    with django_assert_num_queries(EXPORT_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=utf-8''%E6%9C%88%E5%BA%A6%E5%AE%A1%E6%A0%B8%E6%83%85%E5%86%B5" in response["Content-Disposition"]
    rows = _sheet_rows(response)
    assert rows[0][0] == f"花名册月度审核情况 · 娄底市 · {MONTH}"
    assert rows[1][0].endswith("已审定 1/3")
    assert list(rows[3][: len(export.HEADERS)]) == [str(header) for header in export.HEADERS]
    lines = {row[2]: row for row in rows[4:]}
    assert set(lines) == {w.village.code, w.bare.code, w.far.code}
    approved = lines[w.village.code]
    assert approved[:6] == ("娄星区", "乐坪街道", w.village.code, "A社区", MONTH, "已审定")
    assert (approved[7], approved[9], approved[11]) == (str(w.villager), str(w.townsman), str(w.official))
    assert lines[w.far.code][5] == "未提交"
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    summary = [tuple(row) for row in book.worksheets[1].iter_rows(values_only=True)]
    assert summary[3][:3] == ("区划", "村（社区）数", "已审定")
    assert summary[4][:3] == ("娄星区", 3, 1)
    assert summary[-1][:3] == ("合计", 3, 1)
    _more_villages(w, 30)
    with django_assert_num_queries(EXPORT_QUERIES):
        more = client.get(url)
    assert len(_sheet_rows(more)) == 4 + 33


def test_a_township_exports_its_own_villages_only(w, client):  # noqa: F811
    client.force_login(w.townsman)
    rows = _sheet_rows(client.get(f"{reverse('signoff_export')}?month={MONTH}"))
    assert sorted(row[2] for row in rows[4:]) == [w.village.code, w.bare.code]
    assert client.get(f"{reverse('signoff_export')}?area={w.far.code}").status_code == 404
    client.force_login(w.official)
    page = client.get(f"{reverse('signoff_county', args=[w.county.code])}?month={MONTH}").content.decode()
    assert f"{reverse('signoff_export')}?area={w.county.code}&amp;month={MONTH}" in page
    assert reverse("deadlines_export") in page


def test_a_formula_like_village_name_stays_text_in_the_export(w, client):  # noqa: F811
    Area.objects.filter(pk=w.bare.pk).update(name=FORMULA)
    client.force_login(w.official)
    assert_inert_xlsx(client.get(f"{reverse('signoff_export')}?month={MONTH}").content, "sign-off export")
