"""No plaintext ID or phone number in the database (access.md, Personal data): after writes by form,
API and import — a failing import whose errors name the ID included — the raw columns of the person,
household, history and import-job tables hold none; uniqueness and exact lookup still work."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from households.importing import run_import
from households.models import ImportJob
from tests.factories import make_id
from tests.import_files import write_csv
from tests.world import ID_A, ID_B, PHONE_A, PHONE_B, build_world

pytestmark = pytest.mark.django_db

FORM_ID, FORM_PHONE = make_id("43130219850202002"), "13700001111"
API_ID = make_id("43130219950303004")
IMPORT_ID = make_id("43130220000404006")
BAD_ID = "43130219900101001X"  # a wrong check digit: the import refuses the row
HEADERS = ["身份证号", "姓名", "户编号", "与户主关系", "状态", "劳动能力", "就业状态", "就业信息更新日期", "在校情况"]
TABLES = ("households_person", "households_household", "households_historyentry", "households_importjob")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _raw(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
        return "\n".join(repr(row) for row in cursor.fetchall())


def test_no_plaintext_id_or_phone_in_the_raw_tables(tmp_path):
    world = build_world(assess=False)
    staff = world.a.users["village"]
    client = Client()
    client.force_login(staff)
    form = {
        "code": "HF001", "head_name": "表单户", "village": world.a.village.code, "category": "建档立卡户",
        "monitoring": "无", "housing_hazard": "无", "safety_net": "无", "phone": FORM_PHONE,
        "members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "0", "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "1000", "members-0-id_number": FORM_ID, "members-0-name": "表单户",
        "members-0-relation": "户主", "members-0-status": "正常", "members-0-labour": "无劳动力",
        "members-0-employment": "未就业", "members-0-schooling": "非在校",
    }  # fmt: skip
    assert client.post("/households/new/", form).status_code == 302
    body = {"id_number": API_ID, "name": "接口成员", "household": "HF001", "relation": "子女", "labour": "无劳动力"}
    assert client.post("/api/v1/persons/", body, content_type="application/json").status_code == 201
    good = write_csv(
        tmp_path / "ok.csv",
        HEADERS,
        [[IMPORT_ID, "导入成员", "HF001", "子女", "正常", "无劳动力", "未就业", "", "非在校"]],
    )
    result = run_import("persons", good, user=staff, job=ImportJob.objects.create(kind="persons", file_name="ok.csv"))
    assert not result.errors
    rows = [[BAD_ID, "错号成员", "HF001", "子女", "正常", "无劳动力", "未就业", "", "非在校"]]
    rows.append([ID_B, "重号成员", "HF001", "子女", "正常", "无劳动力", "未就业", "", "非在校"])
    failing_job = ImportJob.objects.create(kind="persons", file_name="bad.csv", created_by=staff)
    run_import("persons", write_csv(tmp_path / "bad.csv", HEADERS, rows), user=staff, job=failing_job)
    failing_job.refresh_from_db()
    assert failing_job.errors, "the failing import must keep its row errors"

    plain = [ID_A, ID_B, FORM_ID, API_ID, IMPORT_ID, BAD_ID, PHONE_A, PHONE_B, FORM_PHONE]
    for table in TABLES:
        raw = _raw(table)
        assert raw, f"{table} is empty: the test wrote nothing there"
        found = [value for value in plain if value in raw or value[:17] in raw]
        assert not found, f"plaintext personal data in {table}: {found}"

    # Uniqueness still works, with the neutral message (the other county's ID).
    again = client.post(
        "/api/v1/persons/",
        {"id_number": ID_B, "name": "重号", "household": "HF001", "relation": "子女", "labour": "无劳动力"},
        content_type="application/json",
    )
    assert again.status_code == 400
    assert again.json() == {"id_number": ["该身份证号已在系统中登记，请联系县级管理员"]}
    # Exact lookup by ID number (blind index) from the household list, without the number in the URL.
    found = client.post("/households/", {"q": IMPORT_ID}, follow=True)
    assert IMPORT_ID not in found.redirect_chain[-1][0]
    assert "HF001" in found.content.decode()
    assert world.a.household.code not in found.content.decode()
