"""Village staff read the stored values of their own village and its sites (access.md: reads = subtree)."""

import datetime

import pytest
from django.utils import timezone

from accounts.access import scope
from accounts.models import Role
from areas.choices import AreaLevel
from households.models import Site
from indicators.engine.periods import period_get_or_create
from indicators.models import Indicator, IndicatorValue
from tests.factories import AreaFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_village_staff_see_their_village_and_site_values_only():
    county = AreaFactory.create(code="431302", name="娄星区", level=AreaLevel.COUNTY, county_code="431302")
    township = AreaFactory.create(
        code="431302001",
        name="乐坪街道",
        level=AreaLevel.TOWNSHIP,
        parent=county,
        county_code="431302",
        township_code="431302001",
    )
    mine, other = (
        AreaFactory.create(
            code=f"43130200100{n}",
            name=f"村{n}",
            level=AreaLevel.VILLAGE,
            parent=township,
            county_code="431302",
            township_code="431302001",
        )
        for n in (1, 2)
    )
    site = Site.objects.create(
        code="S1",
        name="小区",
        village=mine,
        kind="城镇集中安置",
        county_code="431302",
        township_code="431302001",
        village_code=mine.code,
    )
    period = period_get_or_create(key="2025")
    indicator = Indicator.objects.get(code="M1-1")
    common = {
        "period": period,
        "indicator": indicator,
        "met": "na",
        "reference_date": datetime.date(2025, 12, 31),
        "computed_at": timezone.now(),
        "county_code": "431302",
        "township_code": "431302001",
    }
    IndicatorValue.objects.create(level="village", area=mine, unit_code=mine.code, **common)
    IndicatorValue.objects.create(level="village", area=other, unit_code=other.code, **common)
    IndicatorValue.objects.create(level="site", site=site, unit_code="S1", **common)
    IndicatorValue.objects.create(level="township", area=township, unit_code=township.code, **common)
    staff = UserFactory.create(username="cun", role=Role.VILLAGE_STAFF, area=mine)
    seen = set(scope(IndicatorValue.objects.all(), staff).values_list("unit_code", flat=True))
    assert seen == {mine.code, "S1"}
