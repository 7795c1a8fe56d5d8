"""The one assign-follow-up flow (workspace.services) and the list helpers it reads from the
dashboards (indicators.dashboards.panels: the list's value, its row targets, the default kind)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from households.choices import ActionKind
from households.models import FollowUpAction
from indicators.dashboards import panels
from indicators.models import Indicator
from indicators.selectors.values import list_kind
from tests.world import KEY, TODAY, build_world
from workspace import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world("workspace")


def test_list_kind_follows_the_engines_rule_sets():
    kinds = {code: list_kind(code, TODAY) for code in ("M3-2", "M3-3", "M3-5", "M1-1", "M1-6", "M2-4", "M9-1")}
    assert kinds == {
        "M3-2": "person",
        "M3-3": "household",
        "M3-5": "shortfall",
        "M1-1": "site",
        "M1-6": "petition",
        "M2-4": "township",
        "M9-1": "finance",
    }


def test_default_kind_by_indicator_longest_prefix_first():
    assert panels.default_action_kind("M7-2") == ActionKind.MONITORING
    assert panels.default_action_kind("M7-1") == ActionKind.SAFETY_NET
    assert panels.default_action_kind("M8-2") == ActionKind.WATER
    assert panels.default_action_kind("M9-1") == ActionKind.OTHER
    assert panels.parse_target("person:12") == ("person", "12")


def test_list_value_is_reached_through_the_scope(world):
    listed = panels.list_value(actor=world.township_user, code="M3-2", unit=world.township.code, period_key=KEY)
    assert (listed.value.indicator.code, listed.area, listed.site) == ("M3-2", world.township, None)
    with pytest.raises(Http404):
        panels.list_value(actor=world.township_user, code="M3-2", unit=world.far_township.code, period_key=KEY)
    with pytest.raises(Http404):
        panels.list_value(actor=world.township_user, code="M3-2", unit=world.township.code, period_key="1999")


def test_list_targets_inside_the_area_and_none_for_foreign_or_unknown_ones(world):
    actor = world.township_user
    assert panels.list_target(actor, "household:H00001") == (world.household, None, None)
    assert panels.list_target(actor, f"person:{world.worker.pk}") == (world.household, None, world.worker)
    assert panels.list_target(actor, "site:S0001") == (None, world.site, None)
    for target in (f"household:{world.foreign.code}", "household:NOPE", "person:x", "site:NOPE", "grievance:1"):
        assert panels.list_target(actor, target) is None


def test_assign_from_a_list_tags_the_indicator_and_names_the_person(world):
    indicator = Indicator.objects.get(code="M3-2")
    due = TODAY + datetime.timedelta(days=7)
    action = services.assign_follow_up(
        actor=world.township_user,
        indicator=indicator,
        household=world.household,
        person=world.worker,
        kind=ActionKind.EMPLOYMENT,
        owner="赵干部",
        due_on=due,
    )
    assert (action.indicator, action.person, action.owner, action.due_on) == ("M3-2", world.worker, "赵干部", due)
    assert action.description == f"清零清单 M3-2 {indicator.name}：张三"
    on_site = services.assign_follow_up(
        actor=world.township_user, indicator=indicator, site=world.site, kind="其他", owner="钱", due_on=due
    )
    assert on_site.description == f"清零清单 M3-2 {indicator.name}：幸福小区"
    assert selectors.open_actions_at(actor=world.township_user, household_id=None, site_id=world.site.pk) == [on_site]


def test_assign_from_the_warnings_list_is_about_the_household(world):
    action = services.assign_follow_up(
        actor=world.township_user, household=world.dropped, kind=ActionKind.MONITORING, owner="王", due_on=TODAY
    )
    assert (action.indicator, action.description) == ("", "预警清单：H00002 刘五")
    open_ones = selectors.open_actions_at(actor=world.township_user, household_id=world.household.pk, site_id=None)
    assert [found.code for found in open_ones] == ["TZ0001"]


def test_a_role_that_may_not_write_actions_is_refused(world):
    with pytest.raises(PermissionDenied):
        services.assign_follow_up(
            actor=world.bureau_user, household=world.household, kind="其他", owner="x", due_on=TODAY
        )
    assert not FollowUpAction.objects.filter(owner="x").exists()
