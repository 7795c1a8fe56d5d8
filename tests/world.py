"""The one test world: ``build_world(layout)`` builds a small Loudi from the factories, in one of three
layouts that the tests read:

- ``"access"`` (the access matrix, masking, hardening, ID look-up): two counties, each a township, a
  village, a site and a household with its head, an income, a petition, a follow-up action and a
  finance row, written through the services (so history and the change feed exist); a user of every
  local role on each side and the city roles; with ``assess`` the year computed and its assessment
  published. Side "A" (娄星区) is the inside of every local test user; side "B" (双峰县) is the
  outside. Every name and code of side B is unique in the world, so a test can search a body for it.
- ``"workspace"`` (the workspace home and the 预警清单): one county with two townships and a foreign
  county, staff of each role, households whose numbers are known, the running year computed.
- ``"dashboards"`` (the dashboards and the 清零清单): one county with one township and a foreign county,
  a site, a household of three workers, the previous and the running year computed.

An attribute of another layout is unset (AttributeError), so a test cannot read a part it did not build.
"""

import datetime
from dataclasses import dataclass, field
from typing import Literal, TypeVar, overload

from django.utils import timezone

from accounts import personal_data
from accounts.models import Department, Role, User
from areas.models import Area
from households import services
from households.choices import Employment, Labour, Relation
from households.models import (
    FollowUpAction,
    Grievance,
    Household,
    Income,
    Person,
    Site,
)
from indicators.assessment import scoring as assessment
from indicators.finance import finance_save
from indicators.models import CountyFinance
from tests.factories import (
    AreaFactory,
    FollowUpActionFactory,
    HouseholdFactory,
    IncomeFactory,
    MonitoringLineFactory,
    PersonFactory,
    SiteFactory,
    UserFactory,
    compute,
    make_id,
    make_id_number,
)

Layout = Literal["access", "workspace", "dashboards"]

# The access layout's year, and the plain personal data of its two heads (tests assert they never
# appear where they must not).
YEAR = 2025
ID_A = make_id("43130219800101001")
ID_B = make_id("43132119750505003")
PHONE_A = "13812345678"
PHONE_B = "13998765432"
ROLE_KEYS = ("village", "township", "county", "bureau", "finance", "admin")
LOCAL_ROLES = ("village", "township", "county")

# The workspace and dashboards layouts run in the current year.
TODAY = timezone.localdate()
KEY = str(TODAY.year)
PREVIOUS = str(TODAY.year - 1)
LAST_YEAR = TODAY.year - 1
TWO_YEARS_AGO = TODAY.year - 2
LINE_FEN = 730_000  # 7,300 yuan per person per year
HEAD_ID = make_id_number(datetime.date(1975, 4, 3), sequence=11)


@dataclass
class Side:
    """One county of the access layout with one record of each kind and its local users."""

    county: Area
    township: Area
    village: Area
    site: Site
    household: Household
    person: Person
    income: Income
    grievance: Grievance
    action: FollowUpAction
    finance: CountyFinance
    users: dict[str, User] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Codes and names that identify this side's records (searched for in foreign bodies)."""
        return [
            self.township.name,
            self.village.name,
            self.site.code,
            self.site.name,
            self.household.code,
            self.household.head_name,
            self.person.name,
            self.grievance.code,
            self.action.code,
        ]


class World:
    """What a layout builds; each layout sets its own attributes (see the module docstring)."""

    # Areas (every layout: city; workspace and dashboards: the rest).
    city: Area
    county: Area
    township: Area
    village: Area
    village2: Area
    other_township: Area
    other_village: Area
    other_county: Area
    far_township: Area
    far_village: Area
    # Registry (workspace and dashboards).
    site: Site
    other_site: Site
    household: Household
    worker: Person
    employed: Person
    foreign_household: Household
    dropped: Household
    comfortable: Household
    neighbour: Household
    foreign: Household
    overdue_action: FollowUpAction
    open_action: FollowUpAction
    # Users (workspace and dashboards).
    township_user: User
    village_user: User
    other_township_user: User
    county_user: User
    other_county_user: User
    bureau_user: User
    admin_user: User
    # The access layout: the two sides and the city roles.
    a: Side
    b: Side
    bureau: User
    finance_bureau: User
    admin: User

    def user(self, role_key: str) -> User:
        """The access layout's user of ``role_key`` (a local role is side A's)."""
        return {"bureau": self.bureau, "finance": self.finance_bureau, "admin": self.admin}.get(role_key) or (
            self.a.users[role_key]
        )


W = TypeVar("W", bound=World)


@overload
def build_world(layout: Layout = "access", *, assess: bool = True) -> World: ...
@overload
def build_world(layout: Layout = "access", *, assess: bool = True, into: W) -> W: ...
def build_world(layout: Layout = "access", *, assess: bool = True, into: World | None = None) -> World:
    """Build the world of ``layout``; ``assess`` (access layout only) computes the year and publishes
    its assessment. A test that adds parts of its own passes ``into``, an empty instance of a subclass
    of World declaring their types."""
    world = World() if into is None else into
    world.city = AreaFactory.city()
    if layout == "access":
        _access(world, assess=assess)
    elif layout == "workspace":
        _workspace(world)
    else:
        _dashboards(world)
    return world


# --- the access layout --------------------------------------------------------------------------------


def _side(city: Area, tag: str, county_code: str, names: dict[str, str], id_number: str, phone: str) -> Side:
    county = AreaFactory.county(code=county_code, name=names["county"], parent=city)
    township = AreaFactory.township(code=f"{county_code}001", name=names["township"], parent=county)
    village = AreaFactory.village(code=f"{county_code}001001", name=names["village"], parent=township)
    site = services.site_save(
        actor=None, code=f"S{tag}01", village_code=village.code, data={"name": names["site"], "kind": "城镇集中安置"}
    )
    household = services.household_register(
        actor=None,
        code=f"H{tag}001",
        village_code=village.code,
        data={"head_name": names["head"], "category": "建档立卡户", "site": site},
        phone=phone,
    )
    person = services.person_create(
        actor=None,
        household=household,
        id_number=id_number,
        data={
            "name": names["head"],
            "relation": Relation.HEAD,
            "labour": Labour.ORDINARY,
            "employment_checked_on": datetime.date(YEAR, 6, 1),
        },
    )
    income = services.income_set(actor=None, household=household, year=YEAR, size=1, per_capita_income_fen=1_234_500)
    grievance = services.grievance_save(
        actor=None,
        code=f"XF{tag}001",
        village_code=village.code,
        data={"household": household, "received_on": datetime.date(YEAR, 3, 1), "status": "办理中"},
    )
    action = services.action_create(
        actor=None,
        data={"code": f"TZ{tag}001", "description": "联系就业", "owner": "李四", "kind": "就业帮扶"},
        household=household,
    )
    finance = finance_save(
        actor=None,
        county_code=county.code,
        year=YEAR,
        amounts={
            "asset_proceeds": 10_000,
            "proceeds_to_households": 8_000,
            "linkage_funds": 100_000,
            "linkage_to_relocation": 10_000,
        },
    )
    side = Side(county, township, village, site, household, person, income, grievance, action, finance)
    side.users = {
        "village": UserFactory.create(username=f"cun{tag}", role=Role.VILLAGE_STAFF, area=village),
        "township": UserFactory.create(username=f"zhen{tag}", role=Role.TOWNSHIP_STAFF, area=township),
        "county": UserFactory.create(username=f"xian{tag}", role=Role.COUNTY_OFFICIAL, area=county),
    }
    return side


def _access(w: World, *, assess: bool) -> None:
    """The registry goes through the services, so history and the change feed exist."""
    w.a = _side(
        w.city,
        "A",
        "431302",
        {"county": "娄星区", "township": "乐坪街道", "village": "幸福社区", "site": "幸福小区", "head": "张三丰"},
        ID_A,
        PHONE_A,
    )
    w.b = _side(
        w.city,
        "B",
        "431321",
        {"county": "双峰县", "township": "永丰外镇", "village": "远山外村", "site": "远山外苑", "head": "欧阳外户"},
        ID_B,
        PHONE_B,
    )
    w.bureau = _city_user("renshe", Role.CITY_BUREAU, w.city, Department.HUMAN_RESOURCES)
    w.finance_bureau = _city_user("caizheng", Role.CITY_BUREAU, w.city, Department.FINANCE)
    w.admin = _city_user("yifuban", Role.CITY_ADMIN, w.city, Department.RELOCATION_OFFICE)
    if assess:
        compute(str(YEAR), as_of=datetime.date(YEAR, 12, 31), today=datetime.date(YEAR + 1, 1, 15))
        run = assessment.assessment_run_create(year=YEAR)
        assessment.assessment_run_execute(run_id=run.pk)
        assessment.assessment_publish(year=YEAR)


def _city_user(username: str, role: str, city: Area, department: str) -> User:
    return UserFactory.create(username=username, role=role, area=city, department=department)


# --- the workspace and dashboards layouts ---------------------------------------------------------------


def _home_areas(w: World) -> None:
    """娄星区 → 乐坪街道 → A社区 under the city."""
    w.county = AreaFactory.county()
    w.township = AreaFactory.township()
    w.village = AreaFactory.village()


def _far_county(w: World) -> None:
    """新化县 → 上渡街道 → 园松社区: another county, outside every local user of the world."""
    w.other_county = AreaFactory.county(code="431322", name="新化县")
    w.far_township = AreaFactory.township(code="431322001", name="上渡街道", parent=w.other_county)
    w.far_village = AreaFactory.village(code="431322001001", name="园松社区", parent=w.far_township)


def with_head_id(household: Household, id_number: str) -> Household:
    """The 户主 ID as typed on the household row (encrypted; pages mask it from the ciphertext)."""
    household.head_id_hash = personal_data.blind_index(id_number)
    household.head_id_encrypted = personal_data.encrypt(id_number)
    household.save(update_fields=["head_id_hash", "head_id_encrypted"])
    return household


def _workspace(w: World) -> None:
    _home_areas(w)
    w.village2 = AreaFactory.village(code="431302001002", name="B村", parent=w.township)
    w.other_township = AreaFactory.township(code="431302002", name="花山街道", parent=w.county)
    w.other_village = AreaFactory.village(code="431302002001", name="花山村", parent=w.other_township)
    _far_county(w)
    w.site = SiteFactory.create(village=w.village, code="S0001", name="幸福小区")
    MonitoringLineFactory.create(year=TWO_YEARS_AGO, line=LINE_FEN)
    MonitoringLineFactory.create(year=LAST_YEAR, line=LINE_FEN)

    # H00001: one unemployed willing worker and one employed → M3-2 of the township is 50 %, 还差 1 人.
    # Its income is below the line → on the 预警清单. The head's name tries to be a formula.
    w.household = with_head_id(
        HouseholdFactory.create(code="H00001", site=w.site, head_name='=HYPERLINK("http://x")', tap_water=True),
        HEAD_ID,
    )
    w.worker = PersonFactory.create(
        household=w.household,
        relation=Relation.HEAD,
        name="张三",
        labour=Labour.ORDINARY,
        wants_work=True,
        employment=Employment.UNEMPLOYED,
        employment_checked_on=TODAY,
        born=datetime.date(1985, 3, 9),
    )
    w.employed = PersonFactory.create(
        household=w.household,
        name="李四",
        labour=Labour.ORDINARY,
        wants_work=True,
        employment=Employment.LOCAL_FIRM,
        employment_checked_on=TODAY,
        born=datetime.date(1988, 1, 2),
    )
    IncomeFactory.create(household=w.household, year=LAST_YEAR, size=2, per_capita_income=500_000)

    # H00002 in B村: income fell by a third (15,000 → 10,000 yuan), above the line: the 30 % reason only.
    w.dropped = HouseholdFactory.create(code="H00002", village=w.village2, head_name="刘五", tap_water=True)
    PersonFactory.create(household=w.dropped, relation=Relation.HEAD, name="刘五", born=datetime.date(1960, 1, 1))
    IncomeFactory.create(household=w.dropped, year=TWO_YEARS_AGO, size=1, per_capita_income=1_500_000)
    IncomeFactory.create(household=w.dropped, year=LAST_YEAR, size=1, per_capita_income=1_000_000)

    # H00003: comfortable, no warning.
    w.comfortable = HouseholdFactory.create(code="H00003", village=w.village, head_name="陈七", tap_water=True)
    PersonFactory.create(household=w.comfortable, relation=Relation.HEAD, name="陈七", born=datetime.date(1970, 1, 1))
    IncomeFactory.create(household=w.comfortable, year=LAST_YEAR, size=1, per_capita_income=2_000_000)

    # The other township (same county) and the other county: below the line too, never in our lists.
    w.neighbour = HouseholdFactory.create(code="H05001", village=w.other_village, head_name="赵邻")
    IncomeFactory.create(household=w.neighbour, year=LAST_YEAR, size=1, per_capita_income=100_000)
    w.foreign = HouseholdFactory.create(code="H09001", village=w.far_village, head_name="钱外")
    IncomeFactory.create(household=w.foreign, year=LAST_YEAR, size=1, per_capita_income=100_000)

    w.overdue_action = FollowUpActionFactory.create(
        code="TZ0001", household=w.household, due_on=TODAY - datetime.timedelta(days=3), indicator="M3-2"
    )
    w.open_action = FollowUpActionFactory.create(
        code="TZ0002", household=w.comfortable, due_on=TODAY + datetime.timedelta(days=10)
    )
    # another township's
    FollowUpActionFactory.create(code="TZ0003", household=w.neighbour, due_on=TODAY - datetime.timedelta(days=1))

    w.township_user = UserFactory.create(username="township", role=Role.TOWNSHIP_STAFF, area=w.township)
    w.village_user = UserFactory.create(username="village", role=Role.VILLAGE_STAFF, area=w.village)
    w.other_township_user = UserFactory.create(username="huashan", role=Role.TOWNSHIP_STAFF, area=w.other_township)
    w.county_user = UserFactory.create(username="county", role=Role.COUNTY_OFFICIAL, area=w.county)
    w.other_county_user = UserFactory.create(username="xinhua", role=Role.COUNTY_OFFICIAL, area=w.other_county)
    w.bureau_user = UserFactory.create(username="bureau", role=Role.CITY_BUREAU, area=w.city, department="市人社局")
    compute(KEY)


def grow_workspace(w: World, count: int = 10) -> None:
    """Ten more households per village of the workspace township, each on the 预警清单 with a willing
    unemployed worker, a data-quality warning and an overdue action; then the running year again."""
    for index in range(count):
        for village in (w.village, w.village2):
            household = HouseholdFactory.create(
                code=f"HG{village.code[-1]}{index:03d}", village=village, head_name=f"户{index}"
            )
            for _adult in range(2):
                PersonFactory.create(household=household, labour=Labour.ORDINARY, wants_work=True)
            too_young = datetime.date(2015, 1, 1)
            PersonFactory.create(household=household, labour=Labour.ORDINARY, born=too_young)
            IncomeFactory.create(household=household, year=LAST_YEAR, size=3, per_capita_income=200_000)
            FollowUpActionFactory.create(
                code=f"TZG{household.code}", household=household, due_on=TODAY - datetime.timedelta(days=index + 1)
            )
    compute(KEY)


def _dashboards(w: World) -> None:
    _home_areas(w)
    _far_county(w)
    w.site = SiteFactory.create(village=w.village, code="S0001", name="幸福小区", party_org=True)
    w.other_site = SiteFactory.create(village=w.far_village, code="S0900", name="外县小区")
    w.household = HouseholdFactory.create(
        code="H00001", site=w.site, head_name='=HYPERLINK("http://x")', tap_water=False
    )
    w.worker = PersonFactory.create(
        household=w.household,
        relation=Relation.HEAD,
        name="张三",
        labour=Labour.ORDINARY,
        wants_work=True,
        employment=Employment.UNEMPLOYED,
        born=datetime.date(1985, 3, 9),
    )
    w.employed = PersonFactory.create(
        household=w.household,
        name="李四",
        labour=Labour.ORDINARY,
        wants_work=True,
        employment=Employment.LOCAL_FIRM,
        born=datetime.date(1988, 1, 2),
    )
    PersonFactory.create(
        household=w.household,
        name="王六",
        labour=Labour.SKILLED,
        wants_work=True,
        employment=Employment.MIGRANT,
        born=datetime.date(1992, 5, 6),
    )
    w.foreign_household = HouseholdFactory.create(code="H09001", site=w.other_site, village=w.far_village)
    PersonFactory.create(household=w.foreign_household, labour=Labour.ORDINARY, wants_work=True, name="王五")
    w.county_user = UserFactory.create(username="county", role=Role.COUNTY_OFFICIAL, area=w.county)
    w.township_user = UserFactory.create(username="township", role=Role.TOWNSHIP_STAFF, area=w.township)
    w.bureau_user = UserFactory.create(username="bureau", role=Role.CITY_BUREAU, area=w.city, department="市人社局")
    w.admin_user = UserFactory.create(username="cityadmin", role=Role.CITY_ADMIN, area=w.city, department="市易扶办")
    compute(PREVIOUS)
    compute(KEY)
