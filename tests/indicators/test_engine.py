"""The indicator engine on hand-built data: one test per rule and boundary of indicators.md."""

import datetime
import gc
import random
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection

from households.choices import Employment, GrievanceStatus, HouseholdCategory, Labour, RecordStatus, Schooling
from households.validators import age_on
from indicators.catalogue import CATALOGUE, FINANCE_CODES
from indicators.engine import judging, passes, rules, store
from indicators.engine import runs as services
from indicators.models import ComputeRun, Indicator, Met
from tests.factories import (
    AreaFactory,
    CityStatisticFactory,
    CountyFinanceFactory,
    GrievanceFactory,
    HouseholdFactory,
    IncomeFactory,
    PersonFactory,
    SiteFactory,
    cells,
    compute,
    persons_bulk,
    stored,
)

pytestmark = pytest.mark.django_db
R = datetime.date(2025, 12, 31)
VILLAGE = "431302001001"


def test_catalogue_is_loaded_in_order_with_weights():
    codes = list(Indicator.objects.values_list("code", flat=True))
    assert codes == [entry.code for entry in CATALOGUE]
    assert len(codes) == 41
    assert sum(Indicator.objects.values_list("weight", flat=True)) == 100
    assert Indicator.objects.get(code="M9-1").target == 80
    assert Indicator.objects.get(code="M3-5").dimension == "就业帮扶"


# --- sites and thresholds ----------------------------------------------------------------------------


def test_800_threshold_799_is_not_800_and_cancelled_people_never_count():
    site = SiteFactory(one_stop_centre=True, kindergarten=False)
    household = HouseholdFactory(site=site)
    persons_bulk(household, 799)
    persons_bulk(household, 3, status=RecordStatus.CANCELLED)
    persons_bulk(HouseholdFactory(site=site, status=RecordStatus.CANCELLED), 5)

    compute()
    values = stored()
    assert cells(values[("site", site.code, "M1-3")]) == (0, 0, None, Met.NA)
    assert cells(values[("site", site.code, "M5-4")]) == (0, 0, None, Met.NA)

    persons_bulk(household, 1)
    compute()
    values = stored()
    assert cells(values[("site", site.code, "M1-3")]) == (1, 1, "100", Met.TRUE)
    assert cells(values[("site", site.code, "M5-4")]) == (0, 1, "0", Met.FALSE)
    assert cells(values[("village", VILLAGE, "M1-3")]) == (1, 1, "100", Met.TRUE)


def test_500_threshold_499_is_not_500():
    small, large = SiteFactory(), SiteFactory(property_management=True)
    persons_bulk(HouseholdFactory(site=small), 499)
    persons_bulk(HouseholdFactory(site=large), 500)

    compute()
    values = stored()
    assert cells(values[("site", small.code, "M4-2")]) == (0, 0, None, Met.NA)
    assert cells(values[("site", large.code, "M4-2")]) == (1, 1, "100", Met.TRUE)
    assert cells(values[("village", VILLAGE, "M4-2")]) == (1, 1, "100", Met.TRUE)


def test_site_without_households_counts_in_every_site_based_indicator():
    site = SiteFactory(party_org=True, kind="农村集中安置", ceremony_hall_needed=True)

    compute()
    values = stored()
    assert cells(values[("site", site.code, "M1-1")]) == (1, 1, "100", Met.TRUE)
    assert cells(values[("site", site.code, "M1-4")]) == (0, 1, "0", Met.FALSE)
    assert cells(values[("site", site.code, "M4-3")]) == (0, 0, None, Met.NA)  # not 城镇集中安置
    assert cells(values[("site", site.code, "M8-3")]) == (0, 1, "0", Met.FALSE)
    assert cells(values[("site", site.code, "M8-4")]) == (0, 0, None, Met.NA)
    assert cells(values[("site", site.code, "M2-4")]) == (0, 0, None, Met.NA)
    assert cells(values[("site", site.code, "M8-2")]) == (0, None, None, Met.NA)


def test_m2_4_counts_townships_holding_a_site():
    with_site = AreaFactory.village(code="431302001001")
    AreaFactory.township(code="431302002", name="无安置点镇", has_industrial_park=True)
    SiteFactory(village=with_site)

    compute()
    values = stored()
    assert cells(values[("township", "431302001", "M2-4")]) == (0, 1, "0", Met.FALSE)
    assert cells(values[("township", "431302002", "M2-4")]) == (0, 0, None, Met.NA)
    assert cells(values[("village", VILLAGE, "M2-4")]) == (0, 0, None, Met.NA)
    assert cells(values[("county", "431302", "M2-4")]) == (0, 1, "0", Met.FALSE)


# --- ages and windows --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "years"),
    [
        (datetime.date(2023, 2, 28), 3),
        (datetime.date(2023, 3, 1), 3),
        (datetime.date(2024, 2, 29), 4),
        (datetime.date(2024, 2, 28), 1),
        (datetime.date(2025, 12, 31), 6),
    ],
)
def test_years_before_agrees_with_age_on_around_29_february(reference, years):
    cut_off = rules.years_before(reference, years)
    for offset in range(-800, 800):
        born = cut_off + datetime.timedelta(days=offset)
        assert (age_on(born, reference) >= years) == (born <= cut_off), born


def test_school_ages_on_the_birthday_and_the_day_before():
    household = HouseholdFactory(category=HouseholdCategory.REGISTERED_POOR)
    for born, schooling in [
        (datetime.date(2022, 12, 31), Schooling.KINDERGARTEN),  # 3 on the reference date
        (datetime.date(2023, 1, 1), Schooling.KINDERGARTEN),  # still 2
        (datetime.date(2020, 1, 1), Schooling.PRESCHOOL_NOT_ENROLLED),  # 5
        (datetime.date(2019, 12, 31), Schooling.KINDERGARTEN),  # turns 6: in M5-2, consolidated
        (datetime.date(2010, 1, 1), Schooling.DROPPED_OUT),  # 15
        (datetime.date(2009, 12, 31), Schooling.DROPPED_OUT),  # turns 16: out of range
    ]:
        PersonFactory(household=household, born=born, schooling=schooling)

    compute()
    values = stored()
    assert cells(values[("village", VILLAGE, "M5-1")]) == (3, 2, "150", Met.TRUE)
    assert cells(values[("village", VILLAGE, "M5-2")]) == (1, 2, "50", Met.FALSE)


def test_29_february_birthday_falls_on_1_march_in_common_years():
    household = HouseholdFactory(category=HouseholdCategory.REGISTERED_POOR)
    PersonFactory(household=household, born=datetime.date(2020, 2, 29), schooling=Schooling.KINDERGARTEN)

    compute("2023-02", as_of=datetime.date(2023, 2, 28))
    compute("2023-03", as_of=datetime.date(2023, 3, 1))
    assert cells(stored("2023-02")[("village", VILLAGE, "M5-1")]) == (1, 0, None, Met.NA)  # still 2
    assert cells(stored("2023-03")[("village", VILLAGE, "M5-1")]) == (1, 1, "100", Met.TRUE)  # 3


def test_gross_rate_over_zero_denominator_is_not_applicable():
    household = HouseholdFactory(category=HouseholdCategory.REGISTERED_POOR)
    PersonFactory(household=household, born=datetime.date(2018, 5, 5), schooling=Schooling.KINDERGARTEN)

    compute()
    assert cells(stored()[("village", VILLAGE, "M5-1")]) == (1, 0, None, Met.NA)


def test_employment_check_window_is_90_days_inclusive():
    household = HouseholdFactory()
    for checked in [
        R - datetime.timedelta(days=90),
        R,
        R - datetime.timedelta(days=91),
        R + datetime.timedelta(days=1),
    ]:
        PersonFactory(household=household, labour=Labour.ORDINARY, employment_checked_on=checked)
    PersonFactory(household=household, labour=Labour.LOST, employment_checked_on=R)  # not labour force

    compute()
    assert cells(stored()[("village", VILLAGE, "M3-1")]) == (2, 4, "50", Met.FALSE)


def test_training_counts_from_1_january_to_the_reference_date():
    household = HouseholdFactory(category=HouseholdCategory.REGISTERED_POOR)
    for trained in [datetime.date(2025, 1, 1), R, datetime.date(2024, 12, 31), datetime.date(2026, 1, 5), None]:
        PersonFactory(household=household, wants_training=True, trained_on=trained)
    other = HouseholdFactory(category=HouseholdCategory.ALONGSIDE)
    PersonFactory(household=other, wants_training=True, trained_on=None)  # not registered-poor

    compute()
    assert cells(stored()[("village", VILLAGE, "M3-6")]) == (2, 5, "40", Met.FALSE)


def test_labour_force_has_no_age_limit_and_employed_is_any_job():
    household = HouseholdFactory()
    PersonFactory(household=household, born=datetime.date(2010, 6, 1), labour=Labour.ORDINARY, wants_work=True)
    PersonFactory(household=household, labour=Labour.WEAK, wants_work=True, employment=Employment.WORK_RELIEF)
    PersonFactory(household=household, labour=Labour.LOST, employment=Employment.PUBLIC_WELFARE)

    compute()
    values = stored()
    assert cells(values[("village", VILLAGE, "M3-2")]) == (1, 2, "50", Met.FALSE)
    assert cells(values[("village", VILLAGE, "M3-3")]) == (1, 1, "100", Met.TRUE)
    assert cells(values[("village", VILLAGE, "M3-4")]) == (1, None, None, Met.NA)  # first period ever


# --- petitions ---------------------------------------------------------------------------------------


def test_petition_window_with_carried_over_petitions():
    village = AreaFactory.village()
    site = SiteFactory(village=village)
    resolved = GrievanceStatus.RESOLVED
    GrievanceFactory(
        village=village,
        site=site,
        received_on=datetime.date(2025, 7, 7),
        status=resolved,
        resolved_on=R,
        resolved_in_village=True,
    )
    GrievanceFactory(
        village=village, received_on=datetime.date(2024, 7, 7), status=resolved, resolved_on=datetime.date(2025, 1, 1)
    )
    GrievanceFactory(
        village=village,
        received_on=datetime.date(2024, 12, 1),
        status=resolved,
        resolved_on=datetime.date(2024, 12, 31),
    )
    GrievanceFactory(
        village=village,
        site=site,
        received_on=datetime.date(2025, 12, 30),
        status=resolved,
        resolved_on=datetime.date(2026, 1, 2),
    )
    GrievanceFactory(village=village, received_on=datetime.date(2024, 11, 11))  # 办理中, carried over
    GrievanceFactory(village=village, received_on=datetime.date(2026, 1, 1))  # after the reference date

    compute()
    values = stored()
    assert cells(values[("village", VILLAGE, "M1-6")]) == (2, 4, "50", Met.FALSE)
    assert cells(values[("village", VILLAGE, "M1-7")]) == (1, 2, "50", Met.FALSE)
    assert cells(values[("site", site.code, "M1-6")]) == (1, 2, "50", Met.FALSE)
    assert cells(values[("site", site.code, "M1-7")]) == (1, 1, "100", Met.TRUE)


# --- cancelled records, zero and info kinds ----------------------------------------------------------


def test_cancelled_households_and_persons_count_nowhere():
    cancelled = HouseholdFactory(status=RecordStatus.CANCELLED, seasonal_water_shortage=True, dividend=100)
    PersonFactory(household=cancelled, family_doctor=True)
    IncomeFactory(household=cancelled, year=2024, per_capita_income=100)
    IncomeFactory(household=cancelled, year=2025, per_capita_income=5000)
    CityStatisticFactory(year=2025)
    active = HouseholdFactory()
    PersonFactory(household=active, status=RecordStatus.CANCELLED, family_doctor=True)

    compute()
    values = stored()
    assert cells(values[("village", VILLAGE, "M6-2")]) == (0, 0, None, Met.NA)
    assert cells(values[("village", VILLAGE, "M8-2")]) == (0, None, "0", Met.TRUE)
    assert cells(values[("village", VILLAGE, "M2-5")]) == (0, None, "0", Met.NA)
    assert cells(values[("village", VILLAGE, "M2-2")]) == (0, 1, "0", Met.FALSE)
    assert cells(values[("village", VILLAGE, "M3-5")]) == (None, None, None, Met.NA)


def test_zero_kind_in_an_area_without_active_household_is_not_applicable():
    HouseholdFactory(status=RecordStatus.CANCELLED, seasonal_water_shortage=True)
    AreaFactory.village(code="431302001002", name="B社区")
    HouseholdFactory(village=AreaFactory.village(code="431302001003", name="C社区"), seasonal_water_shortage=True)

    compute()
    values = stored()
    assert cells(values[("village", VILLAGE, "M8-2")]) == (0, None, None, Met.NA)
    assert cells(values[("village", "431302001002", "M8-2")]) == (0, None, None, Met.NA)
    assert cells(values[("village", "431302001003", "M8-2")]) == (1, None, "1", Met.FALSE)
    assert values[("village", "431302001003", "M8-2")].target == 0


# --- exact boundaries: gap_pp and 80 % ---------------------------------------------------------------


def test_income_growth_gap_of_exactly_2_pp_is_met():
    household = HouseholdFactory()
    IncomeFactory(household=household, year=2024, size=3, per_capita_income=1_000_000)
    IncomeFactory(household=household, year=2025, size=3, per_capita_income=1_081_000)
    CityStatisticFactory(year=2025, city_income_growth="6.1")
    assert (1081_000 / 1_000_000 - 1) * 100 - 6.1 < 2  # the float trap

    compute()
    value = stored()[("village", VILLAGE, "M3-5")]
    assert cells(value) == (None, None, "2", Met.TRUE)
    assert value.value_exact == "2/1"
    assert value.target == 2


def test_income_growth_gap_just_under_2_pp_is_not_met_and_weights_by_size():
    first, second = HouseholdFactory(), HouseholdFactory()
    IncomeFactory(household=first, year=2024, size=5, per_capita_income=1_000_000)
    IncomeFactory(household=first, year=2025, size=5, per_capita_income=1_100_000)
    IncomeFactory(household=second, year=2025, size=3, per_capita_income=900_000)  # 2025 only
    CityStatisticFactory(year=2025, city_income_growth="6.1")

    compute()
    value = stored()[("village", VILLAGE, "M3-5")]
    # I(2024) = 10000, I(2025) = (11000·5 + 9000·3)/8 = 10250 → 2.5 % − 6.1 = −3.6 pp
    assert cells(value) == (None, None, "-3.6", Met.FALSE)


def test_income_growth_without_city_statistic_is_not_applicable():
    household = HouseholdFactory()
    IncomeFactory(household=household, year=2024)
    IncomeFactory(household=household, year=2025)

    compute()
    assert cells(stored()[("village", VILLAGE, "M3-5")]) == (None, None, None, Met.NA)


def test_exactly_80_percent_of_asset_proceeds_meets_m9_1():
    county = AreaFactory.county()
    CountyFinanceFactory(county=county, year=2025, asset_proceeds=133_298_610, proceeds_to_households=106_638_888)

    compute()
    values = stored()
    assert cells(values[("county", "431302", "M9-1")]) == (106_638_888, 133_298_610, "80", Met.TRUE)
    assert values[("county", "431302", "M9-1")].target == 80
    assert cells(values[("city", "431300", "M9-1")]) == (106_638_888, 133_298_610, "80", Met.TRUE)
    assert cells(values[("county", "431302", "M9-2")]) == (None, None, None, Met.NA)  # no 2024 row


def test_m9_2_gap_of_exactly_zero_is_met_and_city_sums_existing_rows():
    first, second = AreaFactory.county(), AreaFactory.county(code="431321", name="双峰县")
    CountyFinanceFactory(county=first, year=2024, linkage_funds=1000, linkage_to_relocation=100)
    CountyFinanceFactory(county=first, year=2025, linkage_funds=1100, linkage_to_relocation=110)
    CountyFinanceFactory(county=second, year=2025, linkage_funds=500, linkage_to_relocation=50)

    compute()
    values = stored()
    assert cells(values[("county", "431302", "M9-2")]) == (None, None, "0", Met.TRUE)
    assert cells(values[("county", "431321", "M9-2")]) == (None, None, None, Met.NA)
    # city: L 100 → 160 (+60 %), T 1000 → 1600 (+60 %)
    assert cells(values[("city", "431300", "M9-2")]) == (None, None, "0", Met.TRUE)


def test_finance_indicators_exist_only_for_counties_and_the_city():
    SiteFactory()
    compute()
    values = stored()
    levels = {level for (level, _code, indicator) in values if indicator in FINANCE_CODES}
    assert levels == {"county", "city"}
    assert cells(values[("county", "431302", "M9-1")]) == (0, 0, None, Met.NA)
    per_level = {}
    for level, unit, _indicator in values:
        per_level.setdefault((level, unit), 0)
        per_level[(level, unit)] += 1
    assert set(per_level.values()) == {39, 41}


def test_rates_judged_in_integers_give_the_cells_of_exact_fractions():
    """The judging loop's integer path (judging.rate_cells) against Fraction arithmetic, on every
    target kind and on both sides of each boundary."""
    targets = [Decimal("100"), Decimal("80"), Decimal("99.5"), Decimal("0"), None]
    pairs = [(n, d) for d in range(0, 41) for n in range(0, d + 2)] + [(799, 800), (800, 800), (4, 5), (12345, 99999)]
    for target in targets:
        for numerator, denominator in pairs:
            expected = judging.cells_of(judging._judge_rate(numerator, denominator, target))
            assert judging.rate_cells(numerator, denominator, target) == expected, (numerator, denominator, target)
    assert judging.rate_cells(4, 5, Decimal("80"))[3:] == ("80/1", Decimal("80"), Met.TRUE)
    assert judging.rate_cells(799, 1000, Decimal("80"))[5] == Met.FALSE


def test_m3_5_judged_in_integers_gives_the_cells_of_exact_fractions():
    """The judging loop's integer path for M3-5 (judging.income_gap_cells) against ``judge``: growth
    above, on and below the city's + 2 pp, a missing year, a zero base, no city statistic."""
    target = next(entry.target for entry in CATALOGUE if entry.code == "M3-5")
    counters = [Counter(), Counter({"income.cur.rows": 3, "income.cur.size": 5, "income.cur.total": 500})]
    for previous_total in (0, 1000, 1020, 1200):  # 500 / 5 against previous_total / 10
        counters.append(
            Counter({"income.cur.rows": 2, "income.cur.size": 5, "income.cur.total": 600, "income.prev.rows": 2,
                     "income.prev.size": 10, "income.prev.total": previous_total})
        )  # fmt: skip
    chance = random.Random(4)
    for _ in range(300):
        counters.append(
            Counter({f"income.{year}.{part}": chance.randint(0 if part == "total" else 1, 10**9)
                     for year in ("cur", "prev") for part in ("rows", "size", "total")})
        )  # fmt: skip
    for city_growth in (None, Fraction(5), Fraction(8, 3), Fraction(-1, 7)):
        for counter in counters:
            expected = judging.cells_of(judging.judge("M3-5", counter, city_growth=city_growth, previous_count=None))
            assert judging.income_gap_cells(counter, city_growth, target) == expected, (counter, city_growth)
    # 600/5 against 1000/10 is +20 %: exactly the city's 18 % + 2 pp meets the target.
    assert judging.income_gap_cells(counters[3], Fraction(18), target)[2:] == (
        Decimal("2.0000000000"),
        "2/1",
        target,
        Met.TRUE,
    )


def test_rounding_is_half_up_to_10_places():
    assert judging.round_half_up(Fraction(200, 3)) == Decimal("66.6666666667")
    assert judging.round_half_up(Fraction(-51, 110)) == Decimal("-0.4636363636")
    assert judging.round_half_up(Fraction(1, 2 * 10**10)) == Decimal("0.0000000001")


# --- roll-up -----------------------------------------------------------------------------------------


def test_area_values_are_summed_numerators_and_denominators_never_averaged():
    village_a = AreaFactory.village(code="431302001001", name="A")
    village_b = AreaFactory.village(code="431302001002", name="B")
    village_c = AreaFactory.village(code="431321100200", name="C")
    for village, doctors, others in [(village_a, 1, 3), (village_b, 2, 0), (village_c, 0, 1)]:
        household = HouseholdFactory(village=village, industry_project="茶" if doctors else "")
        persons_bulk(household, doctors, family_doctor=True, labour=Labour.ORDINARY)
        persons_bulk(household, others, labour=Labour.SKILLED, employment=Employment.MIGRANT)
        SiteFactory(village=village, party_org=bool(others))

    compute()
    values = stored()
    assert cells(values[("township", "431302001", "M6-2")]) == (3, 6, "50", Met.FALSE)  # not (25 + 100) / 2
    rates = [entry.code for entry in CATALOGUE if entry.kind == "rate" and entry.code not in FINANCE_CODES]
    for indicator in [code for code in rates if code != "M2-4"]:  # M2-4 starts at townships
        villages = [values[("village", village.code, indicator)] for village in (village_a, village_b, village_c)]
        city = values[("city", "431300", indicator)]
        assert city.numerator == sum(value.numerator for value in villages), indicator
        assert city.denominator == sum(value.denominator for value in villages), indicator
        township = values[("township", "431302001", indicator)]
        assert township.numerator == villages[0].numerator + villages[1].numerator
    townships = [values[("township", code, "M2-4")] for code in ("431302001", "431321100")]
    assert values[("city", "431300", "M2-4")].denominator == sum(value.denominator for value in townships) == 2


def test_counts_are_one_query_per_family_whatever_the_size(django_assert_num_queries):
    for _ in range(3):
        persons_bulk(HouseholdFactory(site=SiteFactory()), 4)
    # persons (and the site populations), sites, households (M3-3 by their member counts), their
    # incomes, petitions, finance; on PostgreSQL the persons and households passes each set their
    # work_mem (savepoint, SET, release)
    queries = 6 + (6 if connection.vendor == "postgresql" else 0)
    with django_assert_num_queries(queries):
        passes.collect_counts(R)
    for _ in range(5):
        persons_bulk(HouseholdFactory(site=SiteFactory()), 6)
    with django_assert_num_queries(queries):
        passes.collect_counts(R)


# --- runs --------------------------------------------------------------------------------------------


def test_a_recompute_that_fails_midway_leaves_the_previous_values(monkeypatch):
    household = HouseholdFactory()
    PersonFactory(household=household, family_doctor=True)
    first = compute()
    before = {key: (value.pk, cells(value)) for key, value in stored().items()}
    PersonFactory(household=household, family_doctor=False)

    real_insert = services.values_insert

    collector_during_run = []

    def insert_half_then_fail(values, **kwargs):  # the old rows are already deleted (or detached) here
        collector_during_run.append(gc.isenabled())
        values = list(values)
        real_insert(values[: len(values) // 2], **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "values_insert", insert_half_then_fail)
    second = compute()

    assert first.status == ComputeRun.Status.DONE
    assert second.status == ComputeRun.Status.FAILED
    assert "disk full" in second.error
    after = {key: (value.pk, cells(value)) for key, value in stored().items()}
    assert after == before
    assert cells(stored()[("village", VILLAGE, "M6-2")]) == (1, 1, "100", Met.TRUE)
    # Python's cyclic collector pauses for the run (compute.collector_paused), and is back after a failure.
    assert collector_during_run == [False]
    assert gc.isenabled()


@pytest.mark.needs_postgres
def test_a_full_recompute_swaps_in_one_new_partition_of_the_period_on_postgresql():
    """The period's old values are dropped with their partition (or deleted from the default one)
    and the new partition is the only one of the period; a year-data run writes through the parent."""
    from indicators.engine import partitions
    from indicators.models import IndicatorValue, Period

    household = HouseholdFactory()
    PersonFactory(household=household, family_doctor=True)

    def partitions_of(period_id: int) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = %s::regclass AND pg_get_expr(c.relpartbound, c.oid) = %s",
                [IndicatorValue._meta.db_table, f"FOR VALUES IN ('{period_id}')"],
            )
            return [name for (name,) in cursor.fetchall()]

    assert partitions.is_partitioned()
    first = compute()
    period = Period.objects.get(pk=first.period_id)
    assert partitions_of(period.pk) == [f"indicators_indicatorvalue_p{period.pk}_r{first.pk}"]
    count = IndicatorValue.objects.filter(period=period).count()
    PersonFactory(household=household, family_doctor=False)
    second = compute()
    assert partitions_of(period.pk) == [f"indicators_indicatorvalue_p{period.pk}_r{second.pk}"]
    assert IndicatorValue.objects.filter(period=period).count() == count
    assert set(IndicatorValue.objects.filter(period=period).values_list("run_id", flat=True)) == {second.pk}
    # Ids from the run's own block (no sequence), one per row.
    ids = list(IndicatorValue.objects.filter(period=period).values_list("id", flat=True))
    assert len(set(ids)) == len(ids) == count
    assert all(second.pk * store.ID_BLOCK <= row_id < (second.pk + 1) * store.ID_BLOCK for row_id in ids)
    # The run's cells were column defaults during the load only: every row has them, the table keeps none.
    stamps = set(IndicatorValue.objects.filter(period=period).values_list("period_id", "reference_date", "computed_at"))
    assert len(stamps) == 1
    (period_id, reference_date, computed_at) = stamps.pop()
    assert (period_id, reference_date) == (period.pk, second.reference_date)
    assert second.started_at <= computed_at <= second.finished_at
    assert cells(stored()[("village", VILLAGE, "M6-2")]) == (1, 2, "50", Met.FALSE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_attrdef WHERE adrelid = %s::regclass", [partitions_of(period.pk)[0]])
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT COUNT(*) FROM indicators_indicatorvalue_default WHERE period_id = %s", [period.pk])
        assert cursor.fetchone() == (0,)
        # Its indexes are the parent's (no second one built by ATTACH): the unit key, the primary key
        # and the BRIN of counties and townships; and it has statistics, so the planner uses the BRIN.
        new = partitions_of(period.pk)[0]
        cursor.execute(
            "SELECT am.amname, i.inhparent::regclass::text FROM pg_index x "
            "JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_am am ON am.oid = c.relam "
            "LEFT JOIN pg_inherits i ON i.inhrelid = x.indexrelid WHERE x.indrelid = %s::regclass",
            [new],
        )
        assert sorted(cursor.fetchall()) == [
            ("brin", "value_area"),
            ("btree", "indicators_indicatorvalue_pkey"),
            ("btree", "value_unique_unit"),
        ]
        cursor.execute("SELECT COUNT(*) FROM pg_stats WHERE tablename = %s AND attname = 'township_code'", [new])
        assert cursor.fetchone() == (1,)
