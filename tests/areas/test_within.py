"""areas.selectors.within: the one subtree filter over the denormalised area path."""

import pytest
from django.db.models import Q

from areas.models import Area
from areas.selectors import within
from households.models import Household
from tests.factories import AreaFactory, HouseholdFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    city = AreaFactory.city()
    county = AreaFactory.county(parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    village = AreaFactory.village(code="431302001001", parent=township)
    other_township = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    other_village = AreaFactory.village(code="431302002001", name="B村", parent=other_township)
    return {"city": city, "county": county, "township": township, "village": village, "other": other_village}


def test_records_are_matched_by_the_path_field_of_the_areas_level(tree):
    assert within(tree["county"]) == Q(county_code="431302")
    assert within(tree["township"], "household__") == Q(household__township_code="431302001")
    assert within(tree["village"]) == Q(village_code="431302001001")
    assert within(tree["city"]) == Q()
    assert within(None) == Q()


def test_a_subtree_of_records(tree):
    mine = HouseholdFactory.create(code="H1", village=tree["village"])
    HouseholdFactory.create(code="H2", village=tree["other"])
    assert list(Household.objects.filter(within(tree["township"]))) == [mine]
    assert Household.objects.filter(within(tree["county"])).count() == 2
    assert Household.objects.filter(within(tree["city"])).count() == 2


def test_areas_include_the_area_itself(tree):
    """An area carries its parents' path, not its own code: the area itself is matched by code."""

    def codes(area: Area) -> list[str]:
        return list(Area.objects.filter(within(area, areas=True)).order_by("code").values_list("code", flat=True))

    assert codes(tree["township"]) == ["431302001", "431302001001"]
    assert codes(tree["village"]) == ["431302001001"]
    assert codes(tree["county"]) == ["431302", "431302001", "431302001001", "431302002", "431302002001"]
    assert len(codes(tree["city"])) == 6
