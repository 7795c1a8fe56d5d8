"""households.selectors references and the two checks moved out of the record pages into services:
a code typed by a user is resolved inside the actor's area, unknown and foreign alike (access.md)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import personal_data
from accounts.models import Role
from households import selectors, services
from households.models import Grievance, Income
from tests.factories import AreaFactory, GrievanceFactory, HouseholdFactory, PersonFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    city = AreaFactory.city()
    county = AreaFactory.county(parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    village = AreaFactory.village(code="431302001001", parent=township)
    other_township = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    other_village = AreaFactory.village(code="431302002001", name="B村", parent=other_township)
    household = HouseholdFactory.create(code="H01", village=village)
    return {
        "staff": UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=township),
        "village": village,
        "household": household,
        "head": PersonFactory.create(household=household, name="张一"),
        "site": SiteFactory.create(village=village, code="S01"),
        "foreign_household": HouseholdFactory.create(code="H02", village=other_village),
        "foreign_site": SiteFactory.create(village=other_village, code="S02"),
        "other_village": other_village,
    }


def _message(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


def test_household_and_site_in_the_area_resolve_and_foreign_ones_read_as_unknown(world):
    staff = world["staff"]
    assert selectors.household_reference(staff, "H01") == world["household"]
    assert selectors.site_reference(staff, "S01") == world["site"]
    answers = []
    for code in ("H02", "NOPE"):
        with pytest.raises(ValidationError) as error:
            selectors.household_reference(staff, code, field="household_code")
        answers.append(_message(error)["household_code"][0].replace(code, "X"))
    assert answers == ["户编号“X”不存在，请核对。"] * 2
    with pytest.raises(ValidationError) as error:
        selectors.site_reference(staff, "S02")
    assert _message(error) == {"site": ["安置点编码“S02”不存在，请核对。"]}


def test_origin_is_any_area_below_the_city_inside_the_scope(world):
    staff = world["staff"]
    assert selectors.origin_reference(staff, " 431302001001 ") == world["village"]
    with pytest.raises(ValidationError) as error:
        selectors.origin_reference(staff, "431302002001")
    assert _message(error) == {"origin": ["区划代码“431302002001”不存在，请核对。"]}


def test_area_reference_names_the_expected_level(world):
    staff = world["staff"]
    assert selectors.area_reference(actor=staff, code="431302001001", level="村", field="village") == world["village"]
    with pytest.raises(ValidationError) as error:
        selectors.area_reference(actor=staff, code="431302001", level="村", field="village")
    assert _message(error) == {"village": ["区划代码“431302001”不存在或不是村级，请核对。"]}


def test_member_by_id_or_by_pk_only_of_that_household(world):
    staff, head = world["staff"], world["head"]
    id_number = personal_data.decrypt(head.id_number_encrypted)
    assert selectors.member_reference(staff, world["household"], id_number=id_number) == head
    assert selectors.member_reference(staff, world["household"], pk=str(head.pk)) == head
    for household, key in ((world["foreign_household"], {"pk": head.pk}), (None, {"id_number": id_number})):
        with pytest.raises(ValidationError) as error:
            selectors.member_reference(staff, household, **key)
        assert _message(error) == {"person": ["该成员不属于此户。"]}


def test_income_add_refuses_a_registered_year_on_the_year_field(world):
    staff, household = world["staff"], world["household"]
    services.income_add(actor=staff, household=household, year=2025, size=2, per_capita_income_fen=100)
    with pytest.raises(ValidationError) as error:
        services.income_add(actor=staff, household=household, year=2025, size=2, per_capita_income_fen=200)
    assert _message(error) == {"year": ["2025 年度的收入已登记，请在户档案中点“修改”。"]}
    services.income_set(actor=staff, household=household, year=2025, size=2, per_capita_income_fen=300)
    assert Income.objects.get(household=household, year=2025).per_capita_income == 300


def test_grievance_new_code_is_the_typed_one_or_the_next_free_and_never_a_taken_one(world):
    prefix = f"XF{timezone.localdate():%Y%m%d}"
    assert services.grievance_new_code(" MY-01 ") == "MY-01"
    assert services.grievance_new_code("") == f"{prefix}0001"
    GrievanceFactory.create(code=f"{prefix}0001", village=world["other_village"])
    assert services.grievance_new_code("") == f"{prefix}0002"
    with pytest.raises(ValidationError) as error:
        services.grievance_new_code(f"{prefix}0001")  # taken in another township: said neutrally
    assert _message(error) == {"code": ["该事项编号已在系统中登记，请换一个编号或留空自动生成。"]}
    assert Grievance.objects.count() == 1
