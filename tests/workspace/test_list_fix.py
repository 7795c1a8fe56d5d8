"""Fixing records from a 清零清单 (issue 20): each row says why it is listed, with the record's value;
township and village staff fix one row inline (htmx) or the ticked rows at once after a confirmation
naming the count. One UPDATE, history per record, one change-feed entry; an id outside the area refuses
the whole batch with the neutral 404; roles that may not write get 403; query counts exact and flat."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from households import services
from households.choices import Labour
from households.models import ChangeFeed, HistoryEntry, Household, Person
from indicators.models import Period
from tests.factories import HouseholdFactory, PersonFactory, UserFactory, persons_bulk
from tests.world import World, build_world

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
KEY = str(TODAY.year)
# The 清零清单 of persons as before the fix controls (tests/indicators/test_dashboards.py's
# PERSON_LIST_QUERIES): the controls add none. Exact, and flat as the rows grow.
LIST_QUERIES = 13
# The bulk POST: session, user, the unit, periods, value; in one savepoint the rows (locked), ONE
# UPDATE, ONE history batch, ONE change-feed row; then the message saved in the session (savepoint,
# UPDATE, release). Flat from 3 rows to 30.
BULK_QUERIES = 14
# The confirmation page (no script): session, user, the unit, periods, value, and the session saved
# with the form's CSRF token (savepoint, UPDATE, release); it reads no record.
CONFIRM_QUERIES = 8


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world() -> World:
    w = build_world("dashboards")
    w.village_user = UserFactory.create(username="village", role=Role.VILLAGE_STAFF, area=w.village)
    return w


def _list_url(code: str, unit: str) -> str:
    return reverse("indicator_list", args=[code, unit]) + f"?period={KEY}"


def _fix_url(code: str, unit: str) -> str:
    return reverse("indicator_list_fix", args=[code, unit])


def _workers(w: World) -> list[Person]:
    return list(Person.objects.filter(household=w.household).order_by("pk"))


# --- the list page --------------------------------------------------------------------------------


def test_each_row_says_why_with_the_value_and_offers_the_fix(client, world):
    checked = TODAY - datetime.timedelta(days=120)
    Person.objects.filter(pk=world.worker.pk).update(employment_checked_on=checked)
    client.force_login(world.township_user)
    response = client.get(_list_url("M3-1", world.township.code))
    html = response.content.decode()
    assert f"就业信息 {checked.isoformat()} 核实，已超过 90 天" in html
    assert "未登记就业信息更新日期" in html  # the two others were never checked
    assert 'class="list-table responsive cards"' in html
    assert html.count("data-fix-pick") == 3
    assert html.count("data-fix-row") == 3
    assert "确认就业（今天）" in html
    assert 'data-confirm="将为 %(count)s 人确认今日就业信息，确定吗？"' in html
    assert "data-fix-all" in html
    assert re.search(r'<td data-label="姓名" class="card-title">', html)
    assert re.search(r'<td data-label="原因" class="card-status">', html)


@pytest.mark.parametrize("role", ["county_user", "bureau_user"])
def test_readers_get_no_fix_controls(client, world, role):
    client.force_login(getattr(world, role))
    html = client.get(_list_url("M3-1", world.county.code)).content.decode()
    assert "data-fix-pick" not in html
    assert "确认就业（今天）" not in html


def test_a_closed_periods_list_offers_no_fix(client, world):
    """Its values are frozen at its reference date: a fix made today would not take a row off it."""
    Period.objects.filter(key=KEY).update(closed_at=timezone.now())
    client.force_login(world.township_user)
    html = client.get(_list_url("M3-1", world.township.code)).content.decode()
    assert "未登记就业信息更新日期" in html  # the rows and their reasons stay
    assert "data-fix-pick" not in html
    assert "确认就业（今天）" not in html


def test_a_list_without_a_fix_has_no_controls_and_refuses_the_post(client, world):
    client.force_login(world.township_user)
    html = client.get(_list_url("M3-2", world.township.code)).content.decode()
    assert "data-fix-pick" not in html
    response = client.post(_fix_url("M3-2", world.township.code), {"ids": [world.worker.pk], "confirm": "1"})
    assert response.status_code == 404


def test_list_page_with_the_fix_controls_has_exact_flat_queries(client, django_assert_num_queries, world):
    client.force_login(world.township_user)
    url = _list_url("M3-1", world.township.code)
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(url).status_code == 200
    for number in range(10):
        household = HouseholdFactory.create(code=f"HG{number:04d}", village=world.village)
        persons_bulk(household, 5, labour=Labour.ORDINARY)
    with django_assert_num_queries(LIST_QUERIES):
        html = client.get(url).content.decode()
    assert html.count("data-fix-pick") == 50  # a full page


# --- inline --------------------------------------------------------------------------------------


def test_inline_fix_turns_the_row_into_done(client, world):
    client.force_login(world.township_user)
    feed = ChangeFeed.objects.count()
    body = {"ids": [world.worker.pk], "confirm": "1", "period": KEY, "name": "张三", "columns": "9"}
    response = client.post(_fix_url("M3-1", world.township.code), body, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "已处理" in html
    assert "张三" in html
    assert 'colspan="8"' in html
    world.worker.refresh_from_db()
    assert world.worker.employment_checked_on == TODAY
    entry = HistoryEntry.objects.filter(entity="person", object_id=world.worker.pk).latest("pk")
    assert (entry.before, entry.after) == (
        {"employment_checked_on": None},
        {"employment_checked_on": TODAY.isoformat()},
    )
    assert (entry.user, entry.channel, entry.township_code) == (world.township_user, "form", world.township.code)
    assert ChangeFeed.objects.count() == feed + 1
    # Off the list now.
    html = client.get(_list_url("M3-1", world.township.code)).content.decode()
    assert "data-fix-row" in html
    assert html.count("data-fix-pick") == 2


@pytest.mark.parametrize(("code", "field"), [("M6-2", "family_doctor"), ("M6-3", "medical_insurance")])
def test_inline_fix_of_the_person_flags(client, world, code, field):
    client.force_login(world.village_user)
    body = {"ids": [world.worker.pk], "confirm": "1", "name": "张三", "columns": "9"}
    response = client.post(_fix_url(code, world.village.code), body, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert getattr(Person.objects.get(pk=world.worker.pk), field) is True


def test_inline_fix_of_tap_water_on_a_household(client, world):
    client.force_login(world.township_user)
    html = client.get(_list_url("M8-1", world.township.code)).content.decode()
    assert "记录自来水" in html
    assert "未通自来水" in html
    body = {"ids": [world.household.pk], "confirm": "1", "name": "H00001", "columns": "8"}
    response = client.post(_fix_url("M8-1", world.township.code), body, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Household.objects.get(pk=world.household.pk).tap_water is True
    entry = HistoryEntry.objects.filter(entity="household", object_id=world.household.pk).latest("pk")
    assert (entry.object_code, entry.before, entry.after) == ("H00001", {"tap_water": False}, {"tap_water": True})


def test_inline_fix_of_a_foreign_or_gone_record_answers_in_the_row(client, world):
    client.force_login(world.township_user)
    foreign = Person.objects.get(household=world.foreign_household)
    answers = []
    for pk in (foreign.pk, 99_999_999):
        body = {"ids": [pk], "confirm": "1", "name": "x", "columns": "9"}
        response = client.post(_fix_url("M3-1", world.township.code), body, HTTP_HX_REQUEST="true")
        assert response.status_code == 400
        answers.append(re.sub(r'value="[^"]*"', "", response.content.decode()))
    assert answers[0] == answers[1]
    assert "找不到所选记录" in answers[0]
    assert Person.objects.get(pk=foreign.pk).employment_checked_on is None


# --- bulk ---------------------------------------------------------------------------------------


def test_bulk_fix_asks_first_naming_the_count_and_writes_nothing(client, world):
    client.force_login(world.township_user)
    ids = [person.pk for person in _workers(world)]
    history = HistoryEntry.objects.count()
    response = client.post(_fix_url("M3-1", world.township.code), {"ids": ids, "period": KEY})
    assert response.status_code == 200
    html = response.content.decode()
    assert "将为 3 人确认今日就业信息，确定吗？" in html
    assert html.count('name="ids"') == 3
    assert 'name="confirm" value="3"' in html
    # A confirmation for another count is no confirmation.
    response = client.post(_fix_url("M3-1", world.township.code), {"ids": ids, "confirm": "2"})
    assert "将为 3 人确认今日就业信息，确定吗？" in response.content.decode()
    assert HistoryEntry.objects.count() == history
    assert not Person.objects.filter(pk__in=ids, employment_checked_on__isnull=False).exists()


def test_bulk_fix_writes_history_per_record_and_one_change_feed_entry(client, world):
    client.force_login(world.township_user)
    ids = [person.pk for person in _workers(world)]
    feed = ChangeFeed.objects.count()
    response = client.post(_fix_url("M3-1", world.township.code), {"ids": ids, "confirm": "3", "period": KEY})
    assert response.status_code == 302
    assert response["Location"] == _list_url("M3-1", world.township.code)
    assert Person.objects.filter(pk__in=ids, employment_checked_on=TODAY).count() == 3
    entries = HistoryEntry.objects.filter(entity="person", object_id__in=ids, action=HistoryEntry.Action.UPDATE)
    assert sorted(entries.values_list("object_id", flat=True)) == ids
    assert ChangeFeed.objects.count() == feed + 1
    page = client.get(response["Location"])
    assert "已为 3 人确认今日就业信息。" in page.content.decode()
    assert page.context["page"].paginator.count == 0


def test_bulk_fix_skips_records_already_fixed(world):
    PersonFactory.create(household=world.household, labour=Labour.ORDINARY, employment_checked_on=TODAY)
    ids = [person.pk for person in _workers(world)]
    history = HistoryEntry.objects.count()
    changed = services.records_fix(
        actor=world.township_user, record="person", ids=ids, field="employment_checked_on", value=TODAY
    )
    assert changed == 3
    assert HistoryEntry.objects.count() == history + 3


def test_an_out_of_area_id_refuses_the_whole_batch(client, world):
    client.force_login(world.township_user)
    foreign = Person.objects.get(household=world.foreign_household)
    ids = [person.pk for person in _workers(world)]
    feed, history = ChangeFeed.objects.count(), HistoryEntry.objects.count()
    response = client.post(_fix_url("M3-1", world.township.code), {"ids": [*ids, foreign.pk], "confirm": "4"})
    missing = client.post(_fix_url("M3-1", world.township.code), {"ids": [*ids, 99_999_999], "confirm": "4"})
    assert response.status_code == missing.status_code == 404
    assert (ChangeFeed.objects.count(), HistoryEntry.objects.count()) == (feed, history)
    assert not Person.objects.filter(employment_checked_on=TODAY).exists()


def test_a_village_user_cannot_fix_the_neighbouring_village(client, world):
    from tests.factories import AreaFactory

    other = AreaFactory.village(code="431302001002", name="B村", parent=world.township)
    household = HouseholdFactory.create(code="H00077", village=other)
    neighbour = PersonFactory.create(household=household, labour=Labour.ORDINARY)
    client.force_login(world.village_user)
    response = client.post(_fix_url("M3-1", world.village.code), {"ids": [neighbour.pk], "confirm": "1"})
    assert response.status_code == 404
    assert Person.objects.get(pk=neighbour.pk).employment_checked_on is None


@pytest.mark.parametrize("role", ["county_user", "bureau_user", "admin_user"])
def test_roles_that_may_not_write_persons_get_403(client, world, role):
    client.force_login(getattr(world, role))
    response = client.post(_fix_url("M3-1", world.township.code), {"ids": [world.worker.pk], "confirm": "1"})
    assert response.status_code == 403
    assert Person.objects.get(pk=world.worker.pk).employment_checked_on is None


def test_tampered_ids_answer_400(client, world):
    client.force_login(world.township_user)
    response = client.post(_fix_url("M3-1", world.township.code), {"ids": ["1 OR 1=1"], "confirm": "1"})
    assert response.status_code == 400
    empty = client.post(_fix_url("M3-1", world.township.code), {"confirm": "0"})
    assert empty.status_code == 302


def test_bulk_post_has_exact_flat_queries(client, django_assert_num_queries, world):
    client.force_login(world.township_user)
    url = _fix_url("M3-1", world.township.code)
    ids = [person.pk for person in _workers(world)]
    with django_assert_num_queries(BULK_QUERIES):
        assert client.post(url, {"ids": ids, "confirm": "3", "period": KEY}).status_code == 302
    many = []
    for number in range(6):
        household = HouseholdFactory.create(code=f"HB{number:04d}", village=world.village)
        many += [person.pk for person in persons_bulk(household, 5, labour=Labour.ORDINARY)]
    with django_assert_num_queries(BULK_QUERIES):
        response = client.post(url, {"ids": many, "confirm": str(len(many)), "period": KEY})
    assert response.status_code == 302
    assert Person.objects.filter(pk__in=many, employment_checked_on=TODAY).count() == 30


# --- every row says why ---------------------------------------------------------------------------


def test_every_listed_indicator_has_a_reason_and_every_fix_a_field_the_service_sets():
    from indicators.catalogue import CATALOGUE
    from indicators.engine import rules

    listed = {entry.code for entry in CATALOGUE if entry.kind != "info"}
    assert listed - set(rules.REASONS) == {"M3-5"}  # its reason comes with its list (income growth)
    for code, fix in rules.FIXES.items():
        assert fix.field in services.FIXABLE_FIELDS[fix.record], code
        assert "%(count)s" in str(fix.confirm), code


def test_confirmation_page_has_exact_flat_queries(client, django_assert_num_queries, world):
    client.force_login(world.township_user)
    url = _fix_url("M3-1", world.township.code)
    ids = [person.pk for person in _workers(world)]
    with django_assert_num_queries(CONFIRM_QUERIES):
        assert client.post(url, {"ids": ids, "period": KEY}).status_code == 200
    household = HouseholdFactory.create(code="HC0001", village=world.village)
    many = ids + [person.pk for person in persons_bulk(household, 30, labour=Labour.ORDINARY)]
    with django_assert_num_queries(CONFIRM_QUERIES):
        response = client.post(url, {"ids": many, "period": KEY})
    assert "将为 33 人确认今日就业信息，确定吗？" in response.content.decode()
