"""The dashboards' sign-off progress counts 审定后有修改 apart (issue 21 follow-up): a village approved
and then written to is no longer 已审定 there, as on the sign-off overview, until the county approves
again; still one query, and the December warning on the assessment page names it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from households import services as registry
from signoff import selectors
from signoff.models import State, VillageMonth
from signoff.panels import assessment_december, dashboard_progress
from tests.signoff.test_progress_panels import (  # noqa: F401  (fixtures)
    KEY,
    MONTH,
    _html,
    _month,
    _panel,
    _states,
    _unit,
    empty_cache,
    w,
)

pytestmark = pytest.mark.django_db


def _approve_then_edit(w, month: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """w.village approved now; then one of its households is edited."""
    VillageMonth.objects.filter(village=w.village, month=month).update(approved_at=timezone.now())
    assert w.household.village_code == w.village.code
    registry.household_update(actor=None, household=w.household, data={"helper": "新帮扶人"})


def test_an_approved_village_edited_since_counts_apart_in_one_query(w, django_assert_num_queries):  # noqa: F811
    _states(w, MONTH)
    VillageMonth.objects.filter(village=w.village, month=MONTH).update(approved_at=timezone.now())
    first = selectors.progress(w.county_user, w.county, MONTH)[0]
    assert (first.approved, first.modified) == (1, 0)  # approved after every write so far
    registry.household_update(actor=None, household=w.household, data={"helper": "新帮扶人"})
    with django_assert_num_queries(1):
        first, second = selectors.progress(w.county_user, w.county, MONTH)
    assert (first.approved, first.modified, first.waiting, first.returned, first.pending) == (0, 1, 2, 1, 1)
    assert not first.complete
    assert (second.approved, second.modified) == (1, 0)  # 花山村: no write since
    total = selectors.progress_total(w.county, [first, second])
    assert (total.approved, total.modified, total.total) == (1, 1, 6)
    city = selectors.progress(w.admin_user, None, MONTH)
    assert [(c.code, c.approved, c.modified) for c in city] == [(w.county.code, 1, 1), (w.other_county.code, 1, 0)]


def test_the_dashboard_panel_shows_the_modified_villages(client, w):  # noqa: F811
    _states(w, MONTH)
    _approve_then_edit(w, MONTH)
    panel = dashboard_progress(w.county_user, w.county, MONTH)
    assert "已审定 1/6" in panel
    assert "审定后有修改 1" in panel
    row = _unit(panel, w.township.code)
    assert "0/5" in row
    assert 'data-label="审定后有修改">1</td>' in row
    client.force_login(w.county_user)
    url = reverse("dashboard_county", args=[w.county.code]) + f"?period={KEY}"
    shown = _panel(_html(client, url))
    assert "已审定 1/6" in shown
    assert "审定后有修改 1" in shown


def test_the_december_warning_names_the_modified_village(w):  # noqa: F811
    december = f"{KEY}-12"
    for village in [*w.villages, w.far_village]:
        _month(village, december, State.APPROVED)
    assert not assessment_december(w.admin_user, int(KEY)).warnings  # all approved, none edited since
    _approve_then_edit(w, december)
    note = assessment_december(w.admin_user, int(KEY))
    assert len(note.warnings) == 1
    assert "娄星区（5/6，审定后有修改 1）" in note.warnings[0]
    assert "审定后有修改 1" in note.html
