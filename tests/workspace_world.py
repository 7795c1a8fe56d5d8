"""A small Loudi for the workspace home and the 预警清单 tests: one county with two townships (and a
foreign county), staff of each role, households whose numbers are known, the running year computed."""

import datetime

from django.utils import timezone

from accounts import personal_data
from accounts.models import Role, User
from areas.models import Area
from households.choices import ActionKind, Employment, Labour, Relation
from households.models import FollowUpAction, Household
from tests.factories import (
    AreaFactory,
    HouseholdFactory,
    IncomeFactory,
    MonitoringLineFactory,
    PersonFactory,
    SiteFactory,
    compute,
    make_id_number,
)

TODAY = timezone.localdate()
KEY = str(TODAY.year)
LAST_YEAR = TODAY.year - 1
TWO_YEARS_AGO = TODAY.year - 2
LINE_FEN = 730_000  # 7,300 yuan per person per year
HEAD_ID = make_id_number(datetime.date(1975, 4, 3), sequence=11)


class World:
    pass


def user(username: str, role: str, area: Area | None) -> User:
    return User.objects.create_user(username=username, password="x-Secret-123", role=role, area=area)


def with_head_id(household: Household, id_number: str) -> Household:
    """The 户主 ID as typed on the household row (encrypted; pages mask it from the ciphertext)."""
    household.head_id_hash = personal_data.blind_index(id_number)
    household.head_id_encrypted = personal_data.encrypt(id_number)
    household.save(update_fields=["head_id_hash", "head_id_encrypted"])
    return household


def action(household: Household, code: str, due_on: datetime.date | None, **fields: object) -> FollowUpAction:
    return FollowUpAction.objects.create(
        code=code,
        household=household,
        county_code=household.county_code,
        township_code=household.township_code,
        village_code=household.village_code,
        kind=fields.pop("kind", ActionKind.EMPLOYMENT),
        description=fields.pop("description", "走访"),
        owner=fields.pop("owner", "王干部"),
        due_on=due_on,
        **fields,
    )


def build() -> World:
    w = World()
    w.city = AreaFactory.city()
    w.county = AreaFactory.county()
    w.township = AreaFactory.township()
    w.village = AreaFactory.village()
    w.village2 = AreaFactory.village(code="431302001002", name="B村", parent=w.township)
    w.other_township = AreaFactory.township(code="431302002", name="花山街道", parent=w.county)
    w.other_village = AreaFactory.village(code="431302002001", name="花山村", parent=w.other_township)
    w.other_county = AreaFactory.county(code="431322", name="新化县")
    w.far_township = AreaFactory.township(code="431322001", name="上渡街道", parent=w.other_county)
    w.far_village = AreaFactory.village(code="431322001001", name="园松社区", parent=w.far_township)
    w.site = SiteFactory(village=w.village, code="S0001", name="幸福小区")
    MonitoringLineFactory(year=TWO_YEARS_AGO, line=LINE_FEN)
    MonitoringLineFactory(year=LAST_YEAR, line=LINE_FEN)

    # H00001: one unemployed willing worker and one employed → M3-2 of the township is 50 %, 还差 1 人.
    # Its income is below the line → on the 预警清单. The head's name tries to be a formula.
    w.household = with_head_id(
        HouseholdFactory(code="H00001", site=w.site, head_name='=HYPERLINK("http://x")', tap_water=True), HEAD_ID
    )
    w.worker = PersonFactory(
        household=w.household,
        relation=Relation.HEAD,
        name="张三",
        labour=Labour.ORDINARY,
        wants_work=True,
        employment=Employment.UNEMPLOYED,
        employment_checked_on=TODAY,
        born=datetime.date(1985, 3, 9),
    )
    w.employed = PersonFactory(
        household=w.household,
        name="李四",
        labour=Labour.ORDINARY,
        wants_work=True,
        employment=Employment.LOCAL_FIRM,
        employment_checked_on=TODAY,
        born=datetime.date(1988, 1, 2),
    )
    IncomeFactory(household=w.household, year=LAST_YEAR, size=2, per_capita_income=500_000)

    # H00002 in B村: income fell by a third (15,000 → 10,000 yuan), above the line: the 30 % reason only.
    w.dropped = HouseholdFactory(code="H00002", village=w.village2, head_name="刘五", tap_water=True)
    PersonFactory(household=w.dropped, relation=Relation.HEAD, name="刘五", born=datetime.date(1960, 1, 1))
    IncomeFactory(household=w.dropped, year=TWO_YEARS_AGO, size=1, per_capita_income=1_500_000)
    IncomeFactory(household=w.dropped, year=LAST_YEAR, size=1, per_capita_income=1_000_000)

    # H00003: comfortable, no warning.
    w.comfortable = HouseholdFactory(code="H00003", village=w.village, head_name="陈七", tap_water=True)
    PersonFactory(household=w.comfortable, relation=Relation.HEAD, name="陈七", born=datetime.date(1970, 1, 1))
    IncomeFactory(household=w.comfortable, year=LAST_YEAR, size=1, per_capita_income=2_000_000)

    # The other township (same county) and the other county: below the line too, never in our lists.
    w.neighbour = HouseholdFactory(code="H05001", village=w.other_village, head_name="赵邻")
    IncomeFactory(household=w.neighbour, year=LAST_YEAR, size=1, per_capita_income=100_000)
    w.foreign = HouseholdFactory(code="H09001", village=w.far_village, head_name="钱外")
    IncomeFactory(household=w.foreign, year=LAST_YEAR, size=1, per_capita_income=100_000)

    w.overdue_action = action(w.household, "TZ0001", TODAY - datetime.timedelta(days=3), indicator="M3-2")
    w.open_action = action(w.comfortable, "TZ0002", TODAY + datetime.timedelta(days=10))
    action(w.neighbour, "TZ0003", TODAY - datetime.timedelta(days=1))  # another township's

    w.township_user = user("township", Role.TOWNSHIP_STAFF, w.township)
    w.village_user = user("village", Role.VILLAGE_STAFF, w.village)
    w.other_township_user = user("huashan", Role.TOWNSHIP_STAFF, w.other_township)
    w.county_user = user("county", Role.COUNTY_OFFICIAL, w.county)
    w.other_county_user = user("xinhua", Role.COUNTY_OFFICIAL, w.other_county)
    w.bureau_user = User.objects.create_user(
        username="bureau", password="x-Secret-123", role=Role.CITY_BUREAU, area=w.city, department="市人社局"
    )
    compute(KEY)
    return w


def grow(w: World, count: int = 10) -> None:
    """Ten more households per village of the township, each on the 预警清单 with a willing unemployed
    worker, a data-quality warning and an overdue action; then the running year again."""
    for index in range(count):
        for village in (w.village, w.village2):
            household = HouseholdFactory(
                code=f"HG{village.code[-1]}{index:03d}", village=village, head_name=f"户{index}"
            )
            for _adult in range(2):
                PersonFactory(household=household, labour=Labour.ORDINARY, wants_work=True)
            PersonFactory(household=household, labour=Labour.ORDINARY, born=datetime.date(2015, 1, 1))  # too young
            IncomeFactory(household=household, year=LAST_YEAR, size=3, per_capita_income=200_000)
            action(household, f"TZG{household.code}", TODAY - datetime.timedelta(days=index + 1))
    compute(KEY)
