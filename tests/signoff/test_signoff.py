"""Monthly roster sign-off (issue 21): 村 提交 → 乡镇初审 → 县级审定, 退回 with a reason, the snapshot,
审定后有修改 read from history, bulk approval after a confirmation, deadlines and flat query counts."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from deadlines.models import Deadline, Step
from households import services as registry
from households.choices import Employment, Relation
from households.models import Person
from signoff import selectors, services
from signoff.models import Action, SignoffStep, State, VillageMonth
from tests.factories import AreaFactory, HouseholdFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
MONTH = "2025-12"


@pytest.fixture
def w():  # type: ignore[no-untyped-def]
    """One county, two townships; the first has two villages (one without village staff)."""
    AreaFactory.city()
    county = AreaFactory.county()
    township = AreaFactory.township(parent=county)
    village = AreaFactory.village(parent=township)
    bare = AreaFactory.village(code="431302001002", name="B村", parent=township)
    other_township = AreaFactory.township(code="431302002", name="二乡", parent=county)
    far = AreaFactory.village(code="431302002001", name="C村", parent=other_township)
    household = HouseholdFactory(code="H00001", village=village, head_name="张三")
    head = PersonFactory(household=household, relation=Relation.HEAD, name="张三")
    child = PersonFactory(household=household, relation=Relation.CHILD, name="张小")
    HouseholdFactory(code="H00002", village=bare)

    class W:
        pass

    w = W()
    w.county, w.township, w.village, w.bare, w.far, w.head = county, township, village, bare, far, head
    w.child = child
    w.villager = UserFactory(role=Role.VILLAGE_STAFF, area=village)
    w.townsman = UserFactory(role=Role.TOWNSHIP_STAFF, area=township)
    w.official = UserFactory(role=Role.COUNTY_OFFICIAL, area=county)
    return w


def _approve(w, village) -> VillageMonth:  # type: ignore[no-untyped-def]
    services.submit(w.villager if village == w.village else w.townsman, village, MONTH, "")
    services.township_review(w.townsman, village, MONTH, Action.APPROVE)
    return services.county_review(w.official, village, MONTH, Action.APPROVE, "同意")


def test_the_three_steps_record_who_when_and_a_snapshot(w):
    vm = services.submit(w.villager, w.village, MONTH, "已核对")
    assert vm.state == State.SUBMITTED
    assert vm.submitted_at
    snap = vm.snapshot
    assert (snap.households_active, snap.persons_active, snap.persons_cancelled) == (1, 2, 0)
    assert len(snap.records_sha256) == 64
    assert selectors.snapshot_data(w.village.code, MONTH)["records_sha256"] == snap.records_sha256
    services.township_review(w.townsman, w.village, MONTH, Action.APPROVE)
    vm = services.county_review(w.official, w.village, MONTH, Action.APPROVE)
    assert vm.state == State.APPROVED
    assert vm.approved_at
    steps = list(SignoffStep.objects.filter(village_month=vm).values_list("action", "level", "user", "note"))
    assert steps == [
        ("submit", "village", w.villager.pk, "已核对"),
        ("approve", "township", w.townsman.pk, ""),
        ("approve", "county", w.official.pk, ""),
    ]


def test_a_write_changes_the_hash(w):
    before = selectors.snapshot_data(w.village.code, MONTH)["records_sha256"]
    registry.person_set_employment(actor=w.villager, person=w.head, employment=Employment.MIGRANT)
    assert selectors.snapshot_data(w.village.code, MONTH)["records_sha256"] != before


def test_return_needs_a_reason_and_goes_back_to_the_village(w):
    services.submit(w.villager, w.village, MONTH)
    with pytest.raises(ValidationError, match="退回原因"):
        services.township_review(w.townsman, w.village, MONTH, Action.RETURN, " ")
    vm = services.township_review(w.townsman, w.village, MONTH, Action.RETURN, "人数不符")
    assert vm.state == State.RETURNED
    assert services.submit(w.villager, w.village, MONTH).state == State.SUBMITTED


def test_roles_and_order(w):
    with pytest.raises(PermissionDenied):
        services.submit(w.official, w.village, MONTH)
    with pytest.raises(ValidationError, match="应由村"):
        services.submit(w.townsman, w.village, MONTH)  # the village has its own staff
    assert services.submit(w.townsman, w.bare, MONTH).state == State.SUBMITTED  # no village staff
    with pytest.raises(ValidationError):
        services.county_review(w.official, w.bare, MONTH, Action.APPROVE)  # not reviewed by the township
    with pytest.raises(PermissionDenied):
        services.township_review(w.villager, w.bare, MONTH, Action.APPROVE)
    with pytest.raises(ValidationError, match="重复"):
        services.submit(w.townsman, w.bare, MONTH)


def test_a_later_write_shows_as_modified_until_the_county_approves_again(w):
    vm = _approve(w, w.village)
    assert not selectors.needs_approval(vm)
    with pytest.raises(ValidationError):
        services.county_review(w.official, w.village, MONTH, Action.APPROVE)
    registry.person_set_employment(actor=w.villager, person=w.child, employment=Employment.MIGRANT)
    registry.person_set_employment(actor=w.villager, person=w.child, employment=Employment.LOCAL_FIRM)
    changed = selectors.changed_records(w.village.code, w.village.township_code, vm.approved_at)
    assert [(c.entity, c.label, c.household_code, c.writes) for c in changed] == [("person", "张小", "H00001", 2)]
    overview = selectors.overview(w.official, w.county, MONTH, timezone.localdate())
    row = next(r for r in overview.total.rows if r.village == w.village)
    assert row.changes == 1
    assert not row.approved_clean
    vm = services.county_review(w.official, w.village, MONTH, Action.APPROVE, "已复核")
    assert vm.state == State.APPROVED
    assert selectors.changed_records(w.village.code, w.village.township_code, vm.approved_at) == []
    assert vm.snapshot.records_sha256 == selectors.snapshot_data(w.village.code, MONTH)["records_sha256"]


def test_bulk_approval_confirms_then_approves_only_the_waiting(w, client):
    services.submit(w.villager, w.village, MONTH)
    services.submit(w.townsman, w.bare, MONTH)
    client.force_login(w.townsman)
    url = reverse("signoff_bulk")
    body = {"month": MONTH, "villages": [w.village.code, w.bare.code]}
    page = client.post(url, body)
    text = page.content.decode()
    assert page.status_code == 200
    assert "将审核通过以下 2 个村（社区）" in text
    assert "A社区" in text
    assert "B村" in text
    assert VillageMonth.objects.filter(state=State.TOWNSHIP_APPROVED).count() == 0
    done = client.post(url, {**body, "confirm": "1"})
    assert done.status_code == 302
    assert VillageMonth.objects.filter(state=State.TOWNSHIP_APPROVED).count() == 2
    foreign = client.post(url, {**body, "villages": [w.far.code], "confirm": "1"})
    unknown = client.post(url, {**body, "villages": ["431399001001"], "confirm": "1"})
    assert foreign.status_code == unknown.status_code == 200
    assert "村（社区）代码不存在" in foreign.content.decode()
    assert "C村" not in foreign.content.decode()


def test_deadlines_show_due_soon_and_overdue(w):
    Deadline.objects.update_or_create(step=Step.TOWNSHIP_REVIEW, defaults={"working_days": 5})
    vm = services.submit(w.villager, w.village, MONTH)
    submitted = datetime.datetime(2026, 2, 9, 10, tzinfo=datetime.UTC)  # Monday before 春节
    VillageMonth.objects.filter(pk=vm.pk).update(submitted_at=submitted)
    vm.refresh_from_db()
    calendar, days = selectors.work_calendar(), selectors.deadline_days()
    due = selectors.due_of(vm, calendar, days, datetime.date(2026, 2, 10))
    # 5 working days after Mon 9 Feb 2026: 10, 11, 12, 13 and the 调休 Saturday 14 February.
    assert (due.step, due.date, due.state) == ("初审", datetime.date(2026, 2, 14), "ok")
    assert selectors.due_of(vm, calendar, days, datetime.date(2026, 2, 13)).state == "due_soon"
    late = selectors.due_of(vm, calendar, days, datetime.date(2026, 2, 25))
    assert (late.state, late.late) == ("overdue", 2)  # 24 Feb and 25 Feb after 春节


def test_pages_and_query_counts_are_flat(w, client, django_assert_num_queries):
    _approve(w, w.village)
    client.force_login(w.official)
    url = f"{reverse('signoff_county', args=[w.county.code])}?month={MONTH}"
    with django_assert_num_queries(COUNTY_QUERIES):
        page = client.get(url)
    text = page.content.decode()
    assert "已审定 1/3" in text
    assert "A社区" in text
    assert "C村" in text
    # Thirty more villages, some submitted or approved: the same number of queries.
    for n in range(30):
        village = AreaFactory.village(code=f"431302002{n + 100:03d}", name=f"新{n}村", parent=w.far.parent)
        HouseholdFactory(code=f"HG{n:04d}", village=village)
        if n % 3 == 0:
            services.submit(None, village, MONTH)
    with django_assert_num_queries(COUNTY_QUERIES):
        assert client.get(url).status_code == 200
    registry.person_set_employment(actor=w.villager, person=w.child, employment=Employment.MIGRANT)
    with django_assert_num_queries(COUNTY_QUERIES):
        text = client.get(url).content.decode()
    assert "审定后有修改 (1)" in text
    village_url = f"{reverse('signoff_village', args=[w.village.code])}?month={MONTH}"
    with django_assert_num_queries(VILLAGE_QUERIES):
        text = client.get(village_url).content.decode()
    assert "审定后有修改 (1)" in text
    assert "张小" in text
    assert "县级审定通过" in text


# Session and user (2), the area, its villages, their months, the history since approval, the calendar,
# the deadline table (6), the session save (3: SESSION_SAVE_EVERY_REQUEST).
COUNTY_QUERIES = 11
VILLAGE_QUERIES = 12


def test_the_village_sees_its_own_month_only(w, client):
    client.force_login(w.villager)
    assert client.get(reverse("signoff_home")).status_code == 302
    own = client.get(f"{reverse('signoff_village', args=[w.village.code])}?month={MONTH}")
    assert own.status_code == 200
    assert "提交本月花名册" in own.content.decode()
    assert client.get(reverse("signoff_village", args=[w.bare.code])).status_code == 404
    assert client.get(reverse("signoff_township", args=[w.township.code])).status_code == 404
    assert client.post(reverse("signoff_submit", args=[w.village.code]), {"month": MONTH}).status_code == 302
    assert VillageMonth.objects.get(village=w.village).state == State.SUBMITTED
    assert Person.objects.count() == 2


def test_township_overview_and_city_progress(w, client, django_assert_num_queries):
    _approve(w, w.village)
    services.submit(w.townsman, w.bare, MONTH)
    client.force_login(w.townsman)
    url = f"{reverse('signoff_township', args=[w.township.code])}?month={MONTH}"
    with django_assert_num_queries(COUNTY_QUERIES):
        text = client.get(url).content.decode()
    assert "已审定 1/2" in text
    assert "C村" not in text  # the other township's village
    assert f'value="{w.bare.code}"' in text  # waiting for the township: a bulk checkbox
    assert f'value="{w.village.code}"' not in text
    bureau = UserFactory(role=Role.CITY_BUREAU, area=w.county.parent)
    client.force_login(bureau)
    assert client.get(reverse("signoff_home")).status_code == 302
    city = client.get(f"{reverse('signoff_city')}?month={MONTH}").content.decode()
    assert "已审定 1/3" in city
    assert "娄星区" in city
