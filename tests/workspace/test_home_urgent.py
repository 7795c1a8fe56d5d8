"""The home's three most urgent items (issue 20, phone width): overdue follow-up actions first, then the
open early warnings, then the unmet indicator farthest from its target — read from what the home
already loads, so the page's query count is unchanged."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from tests.world import build_world
from workspace import selectors as workspace
from workspace.selectors import IndicatorTodo, UnmetRow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _urgent(html: str) -> list[tuple[str, str]]:
    section = re.search(r"data-home-urgent>(.*?)</section>", html, re.S)
    assert section is not None
    return re.findall(r'<li data-urgent="(\w+)"><a class="urgent-what" href="([^"]*)"', section.group(1))


def test_township_home_leads_with_overdue_action_then_warnings_then_farthest_indicator(client):
    world = build_world("workspace")
    client.force_login(world.township_user)
    html = client.get(reverse("home")).content.decode()
    items = _urgent(html)
    assert [kind for kind, _url in items] == ["overdue", "warnings", "indicator"]
    assert items[0][1] == f"/households/{world.household.code}/#actions"  # TZ0001, the overdue one
    assert items[1][1] == f"/warnings/{world.township.code}/"
    assert items[2][1].startswith("/lists/")
    assert html.index("data-home-urgent") < html.index("data-home-kpis")  # first on the page
    assert "已逾期" in html[html.index("data-home-urgent") : html.index("data-home-kpis")]


def _row(code: str, score: float | None) -> UnmetRow:
    return UnmetRow(code=code, name=code, text="", target="100%", gap="还差 1 人", url=f"/lists/{code}/", score=score)


def _action(code: str, due_on: datetime.date | None) -> SimpleNamespace:
    household = SimpleNamespace(code="H1", head_name="张三")
    return SimpleNamespace(
        code=code,
        household_id=1,
        household=household,
        site_id=None,
        site=None,
        due_on=due_on,
        owner="王干部",
        get_kind_display=lambda: "就业帮扶",
    )


def test_urgent_items_order_and_limit():
    today = datetime.date(2026, 9, 1)
    todo = {
        "rows": [
            _action("TZ1", datetime.date(2026, 8, 1)),  # overdue 31 days
            _action("TZ2", datetime.date(2026, 9, 10)),  # due soon, not overdue
        ]
    }
    indicators = IndicatorTodo(period=None, unmet=[_row("M3-2", 93.2), _row("M3-6", 37.5), _row("M1-6", 50.0)])
    items = workspace.urgent_items(
        todo=todo, warnings_count=0, warnings_url="/warnings/x/", indicators=indicators, today=today
    )
    # No warnings: the overdue action, then the two unmet indicators farthest from their targets.
    assert [(item.kind, item.url) for item in items] == [
        ("overdue", "/households/H1/#actions"),
        ("indicator", "/lists/M3-6/"),
        ("indicator", "/lists/M1-6/"),
    ]
    assert "已逾期 31 天" in items[0].why
    # Nothing unmet and no warnings: the action due next fills the list.
    items = workspace.urgent_items(
        todo=todo, warnings_count=2, warnings_url="/warnings/x/", indicators=IndicatorTodo(period=None), today=today
    )
    assert [item.kind for item in items] == ["overdue", "warnings", "due"]
    assert items[1].what == "2 户防返贫预警待处置"
