"""The deadline table in the API and the city's workbook (issue 21): the steps in the procedure's
order with the administrator's working days over the defaults, the same for every role, and the
办理时限 export with the working-day overrides."""

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import Role
from deadlines.export import DAY_HEADERS, HEADERS
from deadlines.models import CalendarDay, Deadline, Step
from tests.factories import AreaFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = "/api/v1/deadlines/"


@pytest.fixture
def users():  # type: ignore[no-untyped-def]
    village = AreaFactory.village()
    return {
        "village": UserFactory(role=Role.VILLAGE_STAFF, area=village),
        "bureau": UserFactory(role=Role.CITY_BUREAU, area=None),
    }


def api(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_table_in_the_procedures_order_for_every_role(users, django_assert_num_queries):
    Deadline.objects.filter(step=Step.HOME_VISIT).update(working_days=5, note="甘肃省规定")
    for user in users.values():
        with django_assert_num_queries(2):  # count, page
            body = api(user).get(LIST).json()
        assert [row["step"] for row in body["results"]] == Step.values
        home = body["results"][0]
        assert home == {
            "step": "home_visit",
            "name": "入户核实",
            "working_days": 5,
            "default_working_days": 2,
            "note": "甘肃省规定",
        }
    assert api(users["village"]).get(f"{LIST}publicity/").json()["working_days"] == 5
    assert api(users["village"]).get(f"{LIST}nothing/").status_code == 404
    assert APIClient().get(LIST).status_code == 401
    assert api(users["bureau"]).patch(f"{LIST}publicity/", {"working_days": 9}).status_code == 405


def test_the_export_lists_the_steps_and_the_overrides(users, client):
    CalendarDay.objects.create(date=datetime.date(2027, 2, 6), is_workday=True, note="2027 年春节调休")
    client.force_login(users["village"])
    response = client.get(reverse("deadlines_export"))
    assert response.status_code == 200
    assert "filename*=utf-8''%E5%8A%9E%E7%90%86%E6%97%B6%E9%99%90" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    steps, days = ([tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets)
    assert steps[0][0] == "办理时限（工作日）"
    assert list(steps[3]) == [str(header) for header in HEADERS]
    assert [row[:3] for row in steps[4:9]] == [
        ("入户核实", 2, 2),
        ("监测对象识别（全程）", 15, 15),
        ("村级公示", 5, 5),
        ("乡镇初审（提交后）", 5, 5),
        ("县级审定（初审后）", 5, 5),
    ]
    assert steps[9][0] == "帮扶台账跟进事项"
    assert list(days[3]) == [str(header) for header in DAY_HEADERS]
    assert days[4] == ("2027-02-06", "星期六", "上班", "2027 年春节调休")
