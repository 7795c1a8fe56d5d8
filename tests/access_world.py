"""A small two-county world for the access tests: in each county a township, a village, a site and a
household with its head, an income, a petition, a follow-up action and a finance row; a user of every
role on each side and the city roles; indicator values computed and the year's assessment published.

Side "A" (娄星区) is the inside of every local test user; side "B" (双峰县) is the outside. Every name
and code of side B is unique in the world, so a test can search a response body for it.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from accounts.models import Department, Role, User
from areas.choices import AreaLevel
from areas.models import Area
from households import services
from households.choices import Labour, Relation
from households.models import (
    FollowUpAction,
    Grievance,
    Household,
    Income,
    Person,
    Site,
)
from households.validators import id_check_digit
from indicators.finance import finance_save
from indicators.models import CountyFinance

YEAR = 2025
PASSWORD = "pw-Loudi-2026"


def make_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


# Plain personal data of the two heads (tests assert they never appear where they must not).
ID_A = make_id("43130219800101001")
ID_B = make_id("43132119750505003")
PHONE_A = "13812345678"
PHONE_B = "13998765432"


@dataclass
class Side:
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


@dataclass
class World:
    city: Area
    a: Side
    b: Side
    bureau: User
    finance_bureau: User
    admin: User

    def user(self, role_key: str) -> User:
        return {"bureau": self.bureau, "finance": self.finance_bureau, "admin": self.admin}.get(role_key) or (
            self.a.users[role_key]
        )


def _area(code: str, name: str, level: str, parent: Area | None = None) -> Area:
    return Area.objects.create(
        code=code,
        name=name,
        level=level,
        parent=parent,
        county_code=code[:6] if level != AreaLevel.CITY else "",
        township_code=code[:9] if level in (AreaLevel.TOWNSHIP, AreaLevel.VILLAGE) else "",
    )


def _user(username: str, role: str, area: Area, department: str = "") -> User:
    return User.objects.create_user(username, password=PASSWORD, role=role, area=area, department=department)


def _side(city: Area, tag: str, county_code: str, names: dict[str, str], id_number: str, phone: str) -> Side:
    county = _area(county_code, names["county"], AreaLevel.COUNTY, city)
    township = _area(f"{county_code}001", names["township"], AreaLevel.TOWNSHIP, county)
    village = _area(f"{county_code}001001", names["village"], AreaLevel.VILLAGE, township)
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
        "village": _user(f"cun{tag}", Role.VILLAGE_STAFF, village),
        "township": _user(f"zhen{tag}", Role.TOWNSHIP_STAFF, township),
        "county": _user(f"xian{tag}", Role.COUNTY_OFFICIAL, county),
    }
    return side


def build_world(*, assess: bool = True) -> World:
    """Build the world through the services (so history and change feed exist) and compute it."""
    city = _area("431300", "娄底市", AreaLevel.CITY)
    a = _side(
        city,
        "A",
        "431302",
        {"county": "娄星区", "township": "乐坪街道", "village": "幸福社区", "site": "幸福小区", "head": "张三丰"},
        ID_A,
        PHONE_A,
    )
    b = _side(
        city,
        "B",
        "431321",
        {"county": "双峰县", "township": "永丰外镇", "village": "远山外村", "site": "远山外苑", "head": "欧阳外户"},
        ID_B,
        PHONE_B,
    )
    world = World(
        city=city,
        a=a,
        b=b,
        bureau=_user("renshe", Role.CITY_BUREAU, city, Department.HUMAN_RESOURCES),
        finance_bureau=_user("caizheng", Role.CITY_BUREAU, city, Department.FINANCE),
        admin=_user("yifuban", Role.CITY_ADMIN, city, Department.RELOCATION_OFFICE),
    )
    if assess:
        from indicators.assessment import scoring as assessment
        from tests.factories import compute

        compute(str(YEAR), as_of=datetime.date(YEAR, 12, 31), today=datetime.date(YEAR + 1, 1, 15))
        run = assessment.assessment_run_create(year=YEAR)
        assessment.assessment_run_execute(run_id=run.pk)
        assessment.assessment_publish(year=YEAR)
    return world


ROLE_KEYS = ("village", "township", "county", "bureau", "finance", "admin")
LOCAL_ROLES = ("village", "township", "county")

__all__ = ["ID_A", "ID_B", "PHONE_A", "PHONE_B", "ROLE_KEYS", "LOCAL_ROLES", "World", "build_world", "Any"]
