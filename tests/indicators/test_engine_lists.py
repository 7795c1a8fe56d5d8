"""The 清零清单, the gap to target, data quality and early warning (indicators.selectors)."""

import datetime
import zoneinfo

import pytest

from households.choices import (
    Employment,
    GrievanceStatus,
    HouseholdCategory,
    Labour,
    Monitoring,
    MonitoringDecisionKind,
    Relation,
    Schooling,
)
from households.models import HistoryEntry, MonitoringDecision
from indicators.models import Met
from indicators.selectors import values as selectors
from tests.factories import (
    AreaFactory,
    CityStatisticFactory,
    CountyFinanceFactory,
    GrievanceFactory,
    HouseholdFactory,
    IncomeFactory,
    MonitoringLineFactory,
    PersonFactory,
    SiteFactory,
    compute,
    stored,
)

LOUDI = zoneinfo.ZoneInfo("Asia/Shanghai")  # settings.TIME_ZONE

pytestmark = pytest.mark.django_db
R = datetime.date(2025, 12, 31)
VILLAGE = "431302001001"


def test_rate_list_is_the_denominator_less_the_numerator_and_its_length_is_the_gap():
    household = HouseholdFactory()
    checked = PersonFactory(household=household, labour=Labour.ORDINARY, employment_checked_on=R)
    stale = PersonFactory(household=household, labour=Labour.ORDINARY, employment_checked_on=None)
    late = PersonFactory(household=household, labour=Labour.SKILLED, employment_checked_on=R + datetime.timedelta(1))
    compute()
    value = stored()[("village", VILLAGE, "M3-1")]

    failing = selectors.failing_records(value=value)

    assert list(failing) == [stale, late]
    assert checked not in failing
    assert selectors.gap(value) == 2 == value.denominator - value.numerator
    assert selectors.gap_text(value) == "还差 2 人"


def test_m5_1_lists_the_net_enrolment_gap_even_when_the_gross_rate_is_met():
    household = HouseholdFactory(category=HouseholdCategory.REGISTERED_POOR)
    PersonFactory(household=household, born=datetime.date(2018, 1, 1), schooling=Schooling.KINDERGARTEN)  # 7
    PersonFactory(household=household, born=datetime.date(2021, 1, 1), schooling=Schooling.KINDERGARTEN)  # 4
    not_enrolled = PersonFactory(
        household=household, born=datetime.date(2022, 1, 1), schooling=Schooling.PRESCHOOL_NOT_ENROLLED
    )
    compute()
    value = stored()[("village", VILLAGE, "M5-1")]
    assert value.met == Met.TRUE  # 2 / 2
    assert list(selectors.failing_records(value=value)) == [not_enrolled]
    assert selectors.gap(value) == 0


def test_petition_lists_and_zero_kind_lists_the_records_counted():
    village = AreaFactory.village()
    open_petition = GrievanceFactory(village=village, received_on=datetime.date(2025, 2, 1))
    outside = GrievanceFactory(
        village=village, received_on=datetime.date(2025, 3, 1), status=GrievanceStatus.RESOLVED, resolved_on=R
    )
    short = HouseholdFactory(village=village, seasonal_water_shortage=True)
    HouseholdFactory(village=village)

    assert list(selectors.failing_records_for(code="M1-6", reference_date=R, area=village)) == [open_petition]
    assert list(selectors.failing_records_for(code="M1-7", reference_date=R, area=village)) == [outside]
    assert list(selectors.failing_records_for(code="M8-2", reference_date=R, area=village)) == [short]
    compute()
    assert selectors.gap_text(stored()[("village", VILLAGE, "M8-2")]) == "还差 1 户"


def test_site_lists_are_judged_against_the_population():
    site = SiteFactory(party_org=False)
    other = SiteFactory(party_org=True)
    county = AreaFactory.county()
    assert selectors.failing_records_for(code="M1-1", reference_date=R, area=county) == [site]
    assert selectors.failing_records_for(code="M1-3", reference_date=R, area=county) == []  # no 800+ site
    assert selectors.failing_records_for(code="M1-1", reference_date=R, site=other) == []


def test_m3_5_lists_missing_income_rows_first_then_slow_growth():
    CityStatisticFactory(year=2025, city_income_growth="6.1")
    fast, slow, missing = HouseholdFactory(code="H1"), HouseholdFactory(code="H2"), HouseholdFactory(code="H3")
    IncomeFactory(household=fast, year=2024, per_capita_income=1_000_000)
    IncomeFactory(household=fast, year=2025, per_capita_income=1_081_000)  # exactly +2.0 pp: fine
    IncomeFactory(household=slow, year=2024, per_capita_income=1_000_000)
    IncomeFactory(household=slow, year=2025, per_capita_income=1_080_000)
    IncomeFactory(household=missing, year=2025)

    shortfalls = selectors.failing_records_for(code="M3-5", reference_date=R, area=AreaFactory.county())

    assert [(item.household.code, item.reason) for item in shortfalls][0] == ("H3", "缺少 2024 年收入数据")
    assert [item.household.code for item in shortfalls] == ["H3", "H2"]


def test_m9_lists_the_finance_rows_of_the_county():
    county = AreaFactory.county()
    other = AreaFactory.county(code="431321", name="双峰县")
    row_2024 = CountyFinanceFactory(county=county, year=2024)
    row_2025 = CountyFinanceFactory(county=county, year=2025)
    CountyFinanceFactory(county=other, year=2025)
    assert list(selectors.failing_records_for(code="M9-1", reference_date=R, area=county)) == [row_2025]
    assert list(selectors.failing_records_for(code="M9-2", reference_date=R, area=county)) == [row_2024, row_2025]


def test_m3_4_lists_persons_who_left_a_public_welfare_post_after_the_previous_close():
    household = HouseholdFactory()
    left = PersonFactory(household=household, labour=Labour.ORDINARY, employment=Employment.UNEMPLOYED)
    kept = PersonFactory(household=household, labour=Labour.ORDINARY, employment=Employment.PUBLIC_WELFARE)
    before_close = PersonFactory(household=household, labour=Labour.ORDINARY, employment=Employment.MIGRANT)
    for person, at, before, after in [
        (left, datetime.datetime(2025, 11, 3, 9, tzinfo=LOUDI), "公益性岗位", "未就业"),
        (before_close, datetime.datetime(2025, 10, 20, 9, tzinfo=LOUDI), "公益性岗位", "外出务工"),
    ]:
        entry = HistoryEntry.objects.create(
            entity="person",
            object_id=person.pk,
            action=HistoryEntry.Action.UPDATE,
            channel="form",
            before={"employment": before},
            after={"employment": after},
        )
        HistoryEntry.objects.filter(pk=entry.pk).update(at=at)
    compute("2025-11")

    losses = selectors.failing_records_for(
        code="M3-4",
        reference_date=datetime.date(2025, 11, 30),
        period=stored("2025-11")[("village", VILLAGE, "M3-4")].period,
        area=AreaFactory.village(),
    )

    assert losses == [left]
    assert kept not in losses


def test_data_quality_warnings_and_township_score():
    household = HouseholdFactory()
    PersonFactory(household=household, relation=Relation.HEAD, labour=Labour.ORDINARY, employment_checked_on=R)
    PersonFactory(
        household=household, born=datetime.date(2012, 1, 1), labour=Labour.SKILLED, employment_checked_on=R
    )  # 13 and 技能劳动力
    PersonFactory(household=household, born=datetime.date(2021, 1, 1), schooling=Schooling.PRIMARY)  # 4 in 小学
    PersonFactory(household=household, labour=Labour.LOST, employment=Employment.PUBLIC_WELFARE)
    headless = HouseholdFactory()
    PersonFactory(household=headless)
    IncomeFactory(household=headless, year=2025, size=1)

    warnings = selectors.data_quality_warnings(reference_date=R)
    kinds = sorted(warning["warning"] for warning in warnings)
    assert kinds == ["employed_no_labour", "labour_age", "no_head", "schooling_age", "schooling_age"]  # 13 and 非在校
    score = selectors.data_quality_scores(reference_date=R)["431302001"]
    assert (score["persons"], score["clean"], str(score["score_display"])) == (5, 1, "20.0")


def test_early_warning_income_below_the_line_or_falling_30_percent_until_excluded():
    MonitoringLineFactory(year=2025, line=730_000)
    poor = HouseholdFactory(code="H1")
    IncomeFactory(household=poor, year=2025, per_capita_income=729_999)
    falling = HouseholdFactory(code="H2")
    IncomeFactory(household=falling, year=2024, per_capita_income=2_000_000)
    IncomeFactory(household=falling, year=2025, per_capita_income=1_400_000)  # exactly −30 %
    monitored = HouseholdFactory(code="H3", monitoring=Monitoring.MARGINAL)
    IncomeFactory(household=monitored, year=2025, per_capita_income=100)

    assert [warning["household"].code for warning in selectors.early_warnings()] == ["H1", "H2"]

    MonitoringDecision.objects.create(
        household=poor,
        decided_on=R,
        decision=MonitoringDecisionKind.EXCLUDE,
        **{"county_code": poor.county_code, "township_code": poor.township_code, "village_code": poor.village_code},
    )
    assert [warning["household"].code for warning in selectors.early_warnings()] == ["H2"]
