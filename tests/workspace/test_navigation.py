"""Every role finds its features from the main navigation (in Chinese)."""

import pytest

from accounts.models import Role
from areas.choices import AreaLevel
from tests.factories import AreaFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def areas():
    city = AreaFactory.create(code="431300", name="娄底市", level=AreaLevel.CITY)
    county = AreaFactory.create(code="431302", name="娄星区", level=AreaLevel.COUNTY, parent=city, county_code="431302")
    township = AreaFactory.create(
        code="431302001",
        name="乐坪街道",
        level=AreaLevel.TOWNSHIP,
        parent=county,
        county_code="431302",
        township_code="431302001",
    )
    return {"city": city, "county": county, "township": township}


@pytest.mark.parametrize(
    ("role", "area", "department", "present", "absent"),
    [
        (
            Role.TOWNSHIP_STAFF,
            "township",
            "",
            ["待办", "搬迁户", "数据导入", "/warnings/431302001/", "指标看板"],
            ["用户管理"],
        ),
        (Role.COUNTY_OFFICIAL, "county", "", ["指标看板", "年度考核", "用户管理", "变更记录", "/warnings/431302/"], []),
        (Role.CITY_BUREAU, "city", "市人社局", ["指标看板", "年度考核"], ["数据导入", "用户管理", "/warnings/"]),
        (Role.CITY_BUREAU, "city", "市财政局", ["数据导入"], ["用户管理"]),
        (Role.CITY_ADMIN, "city", "", ["数据导入", "用户管理", "变更记录", "年度考核"], ["/warnings/"]),
    ],
)
def test_main_navigation_per_role(client, areas, role, area, department, present, absent):
    user = UserFactory.create(username="u", role=role, area=areas[area], department=department)
    client.force_login(user)
    body = client.get("/households/").content.decode()
    nav = body[body.index('class="mainnav"') : body.index("</nav>", body.index('class="mainnav"'))]
    for text in present:
        assert text in nav, text
    for text in absent:
        assert text not in nav, text
