"""factory_boy factories for the areas, the users, the registry and the indicator inputs.

Records carry their denormalised area codes (county/township/village) like the services write them;
persons get a valid ID number whose birth date and sex are the stored ``birth_date`` and ``sex``,
with the blind index, ciphertext and mask of ``households.personal_data``.
"""

import datetime
import itertools
from typing import Any

import factory

from accounts import personal_data
from accounts.models import Role, User
from areas.choices import AreaLevel
from areas.models import Area
from households.choices import (
    ActionKind,
    HouseholdCategory,
    Labour,
    Relation,
    SiteKind,
)
from households.models import (
    FollowUpAction,
    Grievance,
    Household,
    Income,
    Person,
    Site,
)
from households.validators import id_birth_date, id_check_digit, id_sex
from indicators.engine.runs import compute_run_create, compute_run_execute
from indicators.models import CityStatistic, ComputeRun, CountyFinance, IndicatorValue, MonitoringLine

_serial = itertools.count(1)
PASSWORD = "pw-Loudi-2026"


def make_id(first17: str) -> str:
    """The 18-digit ID number of the 17 digits ``first17`` (its GB 11643 check digit appended)."""
    return first17 + id_check_digit(first17)


def make_id_number(birth_date: datetime.date, *, region: str = "431302", sequence: int | None = None) -> str:
    """A valid 18-digit ID number born on ``birth_date`` (check digit per GB 11643)."""
    sequence = next(_serial) % 1000 if sequence is None else sequence
    return make_id(f"{region}{birth_date:%Y%m%d}{sequence:03d}")


def area_path(area: Area) -> dict[str, str]:
    """The denormalised codes of a record placed in village ``area``."""
    return {"county_code": area.county_code, "township_code": area.township_code, "village_code": area.code}


class AreaFactory(factory.django.DjangoModelFactory[Area]):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    code = "431300"
    name = "娄底市"
    level = AreaLevel.CITY
    parent = None

    @classmethod
    def city(cls) -> Area:
        return cls.create(code="431300", name="娄底市", level=AreaLevel.CITY)

    @classmethod
    def county(cls, code: str = "431302", name: str = "娄星区", parent: Area | None = None) -> Area:
        return cls.create(code=code, name=name, level=AreaLevel.COUNTY, parent=parent or cls.city(), county_code=code)

    @classmethod
    def township(
        cls, code: str = "431302001", name: str = "乐坪街道", parent: Area | None = None, **kw: object
    ) -> Area:
        parent = parent or cls.county(code=code[:6])
        return cls.create(
            code=code,
            name=name,
            level=AreaLevel.TOWNSHIP,
            parent=parent,
            county_code=code[:6],
            township_code=code,
            **kw,
        )

    @classmethod
    def village(cls, code: str = "431302001001", name: str = "A社区", parent: Area | None = None) -> Area:
        parent = parent or cls.township(code=code[:9])
        return cls.create(
            code=code, name=name, level=AreaLevel.VILLAGE, parent=parent, county_code=code[:6], township_code=code[:9]
        )


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A user through ``create_user`` (hashed password, so a test may log in with ``PASSWORD``)."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password = PASSWORD
    role = Role.TOWNSHIP_STAFF
    area = factory.LazyFunction(AreaFactory.township)
    department = ""

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return model_class.objects.create_user(*args, **kwargs)


class SiteFactory(factory.django.DjangoModelFactory[Site]):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: f"S{n:04d}")
    name = factory.LazyAttribute(lambda o: f"{o.code}小区")
    village = factory.LazyFunction(AreaFactory.village)
    kind = SiteKind.URBAN
    county_code = factory.LazyAttribute(lambda o: o.village.county_code)
    township_code = factory.LazyAttribute(lambda o: o.village.township_code)
    village_code = factory.LazyAttribute(lambda o: o.village.code)


class HouseholdFactory(factory.django.DjangoModelFactory[Household]):
    class Meta:
        model = Household

    code = factory.Sequence(lambda n: f"H{n:05d}")
    head_name = "户主"
    village = factory.LazyAttribute(lambda o: o.site.village if o.site else AreaFactory.village())
    site = None
    category = HouseholdCategory.REGISTERED_POOR
    county_code = factory.LazyAttribute(lambda o: o.village.county_code)
    township_code = factory.LazyAttribute(lambda o: o.village.township_code)
    village_code = factory.LazyAttribute(lambda o: o.village.code)


class FollowUpActionFactory(factory.django.DjangoModelFactory[FollowUpAction]):
    class Meta:
        model = FollowUpAction

    code = factory.Sequence(lambda n: f"TZ{n:05d}")
    household = factory.SubFactory(HouseholdFactory)
    kind = ActionKind.EMPLOYMENT
    description = "走访"
    owner = "王干部"
    due_on = None
    county_code = factory.LazyAttribute(lambda o: o.household.county_code)
    township_code = factory.LazyAttribute(lambda o: o.household.township_code)
    village_code = factory.LazyAttribute(lambda o: o.household.village_code)


def person_identity(birth_date: datetime.date) -> dict[str, object]:
    """ID number fields (hash, ciphertext) and the sex and birth date read from it."""
    id_number = make_id_number(birth_date)
    assert id_birth_date(id_number) == birth_date
    return {
        "id_number_hash": personal_data.blind_index(id_number),
        "id_number_encrypted": personal_data.encrypt(id_number),
        "sex": id_sex(id_number),
        "birth_date": birth_date,
    }


class PersonFactory(factory.django.DjangoModelFactory[Person]):
    class Meta:
        model = Person
        exclude = ("identity",)

    class Params:
        born = datetime.date(1990, 6, 15)

    identity = factory.LazyAttribute(lambda o: person_identity(o.born))
    id_number_hash = factory.LazyAttribute(lambda o: o.identity["id_number_hash"])
    id_number_encrypted = factory.LazyAttribute(lambda o: o.identity["id_number_encrypted"])
    sex = factory.LazyAttribute(lambda o: o.identity["sex"])
    birth_date = factory.LazyAttribute(lambda o: o.identity["birth_date"])
    name = factory.Sequence(lambda n: f"成员{n}")
    household = factory.SubFactory(HouseholdFactory)
    relation = Relation.CHILD
    labour = Labour.NONE
    county_code = factory.LazyAttribute(lambda o: o.household.county_code)
    township_code = factory.LazyAttribute(lambda o: o.household.township_code)
    village_code = factory.LazyAttribute(lambda o: o.household.village_code)


def persons_bulk(household: Household, count: int, **fields: object) -> list[Person]:
    """``count`` persons in one INSERT (threshold tests build hundreds); ID fields are cheap fakes
    shaped like the real ones (the engine never reads them)."""
    born = fields.pop("born", datetime.date(1990, 6, 15))
    base = next(_serial) * 10_000
    defaults = {
        # One real ciphertext (pages decrypt it to mask it), so the bulk INSERT stays cheap.
        "id_number_encrypted": personal_data.encrypt("431302199006150000"),
        "household": household,
        "relation": Relation.CHILD,
        "sex": "男",
        "birth_date": born,
        "labour": Labour.NONE,
        "county_code": household.county_code,
        "township_code": household.township_code,
        "village_code": household.village_code,
    }
    persons = [
        Person(**{**defaults, **fields}, id_number_hash=f"bulk{base + index:060d}", name=f"成员{base + index}")
        for index in range(count)
    ]
    return Person.objects.bulk_create(persons)


class IncomeFactory(factory.django.DjangoModelFactory[Income]):
    class Meta:
        model = Income

    household = factory.SubFactory(HouseholdFactory)
    year = 2025
    size = 1
    per_capita_income = 1_000_000


class GrievanceFactory(factory.django.DjangoModelFactory[Grievance]):
    class Meta:
        model = Grievance

    code = factory.Sequence(lambda n: f"G{n:05d}")
    village = factory.LazyFunction(AreaFactory.village)
    received_on = datetime.date(2025, 3, 1)
    status = "办理中"
    county_code = factory.LazyAttribute(lambda o: o.village.county_code)
    township_code = factory.LazyAttribute(lambda o: o.village.township_code)
    village_code = factory.LazyAttribute(lambda o: o.village.code)


class CountyFinanceFactory(factory.django.DjangoModelFactory[CountyFinance]):
    class Meta:
        model = CountyFinance

    county = factory.LazyFunction(AreaFactory.county)
    year = 2025
    asset_proceeds = 10_000
    proceeds_to_households = 8_000
    linkage_funds = 100_000
    linkage_to_relocation = 10_000


class CityStatisticFactory(factory.django.DjangoModelFactory[CityStatistic]):
    class Meta:
        model = CityStatistic
        django_get_or_create = ("year",)

    year = 2025
    city_income_growth = "6.1"


class MonitoringLineFactory(factory.django.DjangoModelFactory[MonitoringLine]):
    class Meta:
        model = MonitoringLine
        django_get_or_create = ("year",)

    year = 2025
    line = 730_000


# --- helpers for engine tests ---------------------------------------------------------------------


def compute(key: str = "2025", *, as_of: datetime.date | None = None, today: datetime.date | None = None) -> ComputeRun:
    """Run the engine for ``key`` in-process and return the finished ComputeRun."""
    run = compute_run_create(period_key=key, as_of=as_of, today=today)
    return compute_run_execute(run_id=run.pk)


def stored(key: str = "2025") -> dict[tuple[str, str, str], IndicatorValue]:
    """The stored values of period ``key`` by (level, unit code, indicator code)."""
    values = IndicatorValue.objects.filter(period__key=key).select_related("indicator")
    return {(value.level, value.unit_code, value.indicator.code): value for value in values}


def cells(value: IndicatorValue) -> tuple[object, object, object, object]:
    """(numerator, denominator, value as text or None, met) of one stored value."""
    text = None if value.value is None else format(value.value.normalize(), "f")
    return value.numerator, value.denominator, text, value.met
