"""Every role finds its features from the main navigation (in Chinese); error pages keep it."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django.views import defaults

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
    village = AreaFactory.create(
        code="431302001001",
        name="乐坪村",
        level=AreaLevel.VILLAGE,
        parent=township,
        county_code="431302",
        township_code="431302001",
    )
    return {"city": city, "county": county, "township": township, "village": village}


@pytest.mark.parametrize(
    ("role", "area", "department", "present", "absent"),
    [
        (
            Role.TOWNSHIP_STAFF,
            "township",
            "",
            ["待办", "搬迁户", "数据导入", "/warnings/431302001/", "指标看板"],
            ["用户管理", "接口文档"],
        ),
        (Role.VILLAGE_STAFF, "village", "", ["待办", "搬迁户", "/warnings/431302001001/", "指标看板"], ["接口文档"]),
        (
            Role.COUNTY_OFFICIAL,
            "county",
            "",
            ["指标看板", "年度考核", "用户管理", "变更记录", "/warnings/431302/", "接口文档"],
            [],
        ),
        (
            Role.CITY_BUREAU,
            "city",
            "市人社局",
            ["指标看板", "年度考核", "接口文档"],
            ["数据导入", "用户管理", "/warnings/"],
        ),
        (Role.CITY_BUREAU, "city", "市财政局", ["数据导入"], ["用户管理"]),
        (Role.CITY_ADMIN, "city", "", ["数据导入", "用户管理", "变更记录", "年度考核", "接口文档"], ["/warnings/"]),
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
    # 接口文档 is on every page: in the main navigation for the roles that use the API, else the footer.
    footer = body[body.index('class="sitefooter"') :] if 'class="sitefooter"' in body else ""
    assert ("/api/v1/docs/" in nav) != ("/api/v1/docs/" in footer)


def _main_navigation(body: str) -> str:
    return body[body.index('class="mainnav"') : body.index("</nav>", body.index('class="mainnav"'))]


@override_settings(DEBUG=False)
def test_404_and_403_pages_are_chinese_with_the_navigation_and_a_way_back(client, areas):
    user = UserFactory.create(username="v", role=Role.VILLAGE_STAFF, area=areas["village"])
    client.force_login(user)
    missing = client.get("/households/HX-none/")
    # The user administration of another user's tokens: a page this role may never open.
    refused = client.get(reverse("user_tokens", args=[user.pk]))
    for response, status, title in ((missing, 404, "页面不存在（404）"), (refused, 403, "无权操作（403）")):
        assert response.status_code == status
        body = response.content.decode()
        assert title in body
        assert '<html lang="zh-hans">' in body
        assert reverse("household_list") in _main_navigation(body)
        assert "返回上一页" in body
        assert "data-back" in body
        assert "回到首页" in body
        assert "Not Found" not in body
        assert "Forbidden" not in body


@override_settings(DEBUG=False)
def test_error_pages_in_english_through_the_language_choice(client, areas):
    user = UserFactory.create(username="v", role=Role.VILLAGE_STAFF, area=areas["village"])
    client.force_login(user)
    client.cookies["django_language"] = "en"
    body = client.get("/households/HX-none/").content.decode()
    assert '<html lang="en">' in body
    assert "页面不存在（404）" not in body


def test_500_page_renders_without_context_or_database(rf, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = defaults.server_error(rf.get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "系统出错（500）" in body
    assert "返回上一页" in body
    assert "回到首页" in body


def test_village_staff_reach_their_village_board_from_home_and_navigation(client, areas):
    user = UserFactory.create(username="v", role=Role.VILLAGE_STAFF, area=areas["village"])
    client.force_login(user)
    board = reverse("dashboard_township", args=["431302001001"])
    assert client.get(reverse("dashboard_home")).url == board
    assert f'href="{board}"' in client.get(reverse("home")).content.decode()
