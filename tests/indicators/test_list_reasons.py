"""Every 清零清单 row says why it is listed: the rule in words with the record's own value
(``indicators.engine.rules.reason``), in the 原因 column of the page, the export and the API."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from households.choices import (
    Employment,
    GrievanceStatus,
    HousingHazard,
    Labour,
    Monitoring,
    RecordStatus,
    SafetyNet,
    Schooling,
)
from indicators.dashboards import panels
from indicators.engine import rules
from indicators.models import IndicatorValue
from indicators.selectors import values as selectors
from tests.factories import (
    CountyFinanceFactory,
    GrievanceFactory,
    HouseholdFactory,
    PersonFactory,
    SiteFactory,
    persons_bulk,
)
from tests.indicators.test_dashboards import PERSON_LIST_QUERIES
from tests.world import build_world

pytestmark = pytest.mark.django_db
R = datetime.date(2025, 12, 31)
WORKER = {"labour": Labour.ORDINARY}


def _person(**fields):
    return lambda: PersonFactory(**fields)


def _household(**fields):
    return lambda: HouseholdFactory(**fields)


def _site_of_500():
    site = SiteFactory(property_management=False)
    persons_bulk(HouseholdFactory(site=site), 500)
    return site


CASES = [
    (
        "M3-1",
        _person(**WORKER, employment_checked_on=datetime.date(2025, 8, 30)),
        "就业信息 2025-08-30 核实，已超过 90 天",
    ),
    ("M3-1", _person(**WORKER, employment_checked_on=None), "未登记就业信息更新日期"),
    (
        "M3-1",
        _person(**WORKER, employment_checked_on=R + datetime.timedelta(1)),
        "就业信息 2026-01-01 核实，晚于参考日期 2025-12-31",
    ),
    ("M3-2", _person(**WORKER, wants_work=True, employment=Employment.UNEMPLOYED), "有就业意愿，未就业"),
    (
        "M3-6",
        _person(wants_training=True, trained_on=datetime.date(2024, 5, 1)),
        "有培训意愿，最近培训 2024-05-01，2025 年未参加培训",
    ),
    ("M3-6", _person(wants_training=True), "有培训意愿，未参加过培训"),
    ("M3-7", _person(employment=Employment.MIGRANT), "外出务工，未发放交通补助"),
    (
        "M5-1",
        _person(born=datetime.date(2022, 1, 1), schooling=Schooling.PRESCHOOL_NOT_ENROLLED),
        "3 岁未入园（学龄前未入园）",
    ),
    ("M5-2", _person(born=datetime.date(2013, 3, 1), schooling=Schooling.DROPPED_OUT), "适龄（12 岁）辍学"),
    ("M5-2", _person(born=datetime.date(2013, 3, 1), schooling=Schooling.NOT_IN_SCHOOL), "适龄（12 岁）未入学"),
    ("M5-3", _person(hardship_student=True), "困难学生，未获资助"),
    ("M6-2", _person(), "未签约家庭医生"),
    ("M6-3", _person(), "未参加基本医疗保险"),
    ("M2-2", _household(), "未登记后扶产业项目"),
    ("M3-3", lambda: PersonFactory(**WORKER).household, "有劳动力 1 人，无人就业"),
    ("M4-1", _household(housing_hazard=HousingHazard.UNFIXED), "住房安全隐患：有未整改"),
    (
        "M7-1",
        _household(safety_net_eligible=True, safety_net=SafetyNet.NONE),
        "符合兜底保障条件，未纳入低保或特困（现为无）",
    ),
    ("M7-2", _household(monitoring=Monitoring.MARGINAL), "边缘易致贫户，未落实帮扶措施"),
    ("M7-3", _household(), "建档立卡户，未落实结对帮扶人"),
    ("M8-1", _household(), "未通自来水"),
    ("M8-2", _household(seasonal_water_shortage=True), "季节性缺水"),
    ("M1-6", lambda: GrievanceFactory(received_on=datetime.date(2025, 2, 1)), "2025-02-01 受理，至参考日期未办结"),
    (
        "M1-7",
        lambda: GrievanceFactory(status=GrievanceStatus.RESOLVED, resolved_on=R, resolved_in_village=False),
        "2025-12-31 办结，未在村（社区）内解决",
    ),
    ("M1-4", lambda: SiteFactory(first_secretary=True, work_team=False), "未配套驻村工作队"),
    ("M4-2", _site_of_500, "安置 500 人（500 人以上），未配套物业管理"),
    ("M8-3", lambda: SiteFactory(ceremony_hall_needed=True), "有红白喜事场所需求，未配套"),
    ("M2-4", lambda: SiteFactory.create().village.parent, "乡镇有安置点，未建后扶产业园"),
    (
        "M9-1",
        lambda: CountyFinanceFactory(asset_proceeds=10_000, proceeds_to_households=7_999),
        "2025 年盘活资产收益用于搬迁户 79.9%",
    ),
]


@pytest.mark.parametrize(("code", "make", "reason"), CASES, ids=[f"{case[0]}-{case[2]}" for case in CASES])
def test_a_listed_record_names_the_rule_and_its_value(code, make, reason):
    record = make()
    listed = list(selectors.failing_records_for(code=code, reference_date=R, area=None))
    assert listed == [record]
    table = panels.list_table(
        actor=None, code=code, records=listed, reference_date=R, villages=panels.village_names(listed)
    )
    assert table.headers[-1] == "原因"
    assert table.rows[0].cells[-1] == reason


def test_m3_4_names_what_the_former_public_welfare_worker_is_now():
    person = PersonFactory(employment=Employment.UNEMPLOYED)
    assert rules.reason("M3-4", person, R) == "上期末在公益性岗位，现为未就业"
    person.status = RecordStatus.CANCELLED
    assert rules.reason("M3-4", person, R) == "上期末在公益性岗位，现已注销"


def test_m3_5_keeps_its_own_reason_under_the_same_header():
    table = panels.list_table(actor=None, code="M3-5", records=[], reference_date=R, villages={})
    assert table.headers[-1] == "原因"


def test_every_listed_rule_has_a_reason():
    """A rule added without its sentence would list records with an empty 原因."""
    listed = {*rules.household_rules(R), *rules.person_rules(R), *rules.petition_rules(R), *rules.SITE_RULES}
    without_list = {"M2-5", "M4-4"}  # 监测 (info) indicators: no list
    assert listed - without_list - set(rules.REASONS) == set()


def test_data_quality_warns_exactly_the_persons_m3_1_lists():
    """One freshness rule (M3-1's 90 days): the data-quality page and the 清零清单 agree."""
    for checked in (R, R - datetime.timedelta(90), R - datetime.timedelta(91), None, R + datetime.timedelta(1)):
        PersonFactory(relation="户主", **WORKER, employment_checked_on=checked)
    stale = {item["person"].pk for item in selectors.data_quality_warnings(reference_date=R)}
    listed = {person.pk for person in selectors.failing_records_for(code="M3-1", reference_date=R)}
    assert stale == listed
    assert len(listed) == 3


def test_the_list_page_shows_the_reason_with_the_same_query_count(client, django_assert_num_queries):
    world = build_world("dashboards")
    client.force_login(world.county_user)
    url = reverse("indicator_list", args=["M3-2", world.county.code]) + f"?period={timezone.localdate().year}"
    with django_assert_num_queries(PERSON_LIST_QUERIES):
        response = client.get(url)
    html = response.content.decode()
    assert '<th scope="col">原因</th>' in html
    assert re.search(r'<td data-label="原因"[^>]*>有就业意愿，未就业</td>', html)


def test_the_api_gives_the_reason_of_each_record(client):
    world = build_world("dashboards")
    client.force_login(world.county_user)
    key = str(timezone.localdate().year)
    value = IndicatorValue.objects.get(indicator__code="M3-2", unit_code=world.county.code, period__key=key)
    body = client.get(f"/api/v1/indicator-values/{value.pk}/failing/").json()
    assert body["results"]
    assert {row["reason"] for row in body["results"]} == {"有就业意愿，未就业"}
