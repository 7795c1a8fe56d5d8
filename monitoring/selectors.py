"""Reads of the monitoring-identification procedure (issue 21): the case list of an area (one page,
a fixed number of queries), one case with its steps and objections, and a village's 公示 rows, which
carry no personal data beyond the head's name (no ID number, phone, birth date, health or disability:
PIPL and the national rule)."""

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.access import scope
from accounts.models import User
from areas.models import Area
from areas.selectors import within
from deadlines.models import Step
from deadlines.workdays import WorkCalendar
from monitoring.models import CLOSED_STATES, OPEN_STATES, Case, CaseState, CaseStep, Objection

FILTERS = ("open", "closed", "all")


@dataclass(frozen=True)
class Due:
    step: str
    date: datetime.date
    state: str
    late: int


def due_of(case: Case, calendar: WorkCalendar, today: datetime.date) -> Due | None:
    """The deadline the open case runs against: the home visit's while it waits for one, else the
    whole identification's; 临期/逾期 in working days."""
    if case.state not in OPEN_STATES:
        return None
    if case.state == CaseState.HOME_VISIT:
        step, date = str(Step.HOME_VISIT.label), case.visit_due_on
    else:
        step, date = str(Step.IDENTIFICATION.label), case.due_on
    return Due(step, date, calendar.state(date, today), calendar.working_days_late(date, today))


def cases(actor: User, area: Area, which: str = "open") -> QuerySet[Case]:
    """The cases of ``area`` the actor may see, newest first, with what a row shows (one query)."""
    queryset = scope(Case.objects.all(), actor).filter(within(area))
    if which == "open":
        queryset = queryset.filter(state__in=OPEN_STATES)
    elif which == "closed":
        queryset = queryset.filter(state__in=CLOSED_STATES)
    return queryset.select_related("household", "publicity").order_by("-opened_on", "-pk")


def steps(case: Case) -> list[CaseStep]:
    return list(case.steps.select_related("user").order_by("at", "pk"))


def objections(case: Case) -> list[Objection]:
    return list(case.objections.select_related("recorded_by").order_by("received_on", "pk"))


@dataclass(frozen=True)
class PublicityRow:
    name: str
    household_code: str
    category: str
    start_on: datetime.date
    end_on: datetime.date
    place: str
    phone: str


def publicity_rows(actor: User, village: Area, today: datetime.date) -> list[PublicityRow]:
    """The village's 公示: the cases whose 公示 is running or has not yet been passed on (公示中), in
    the order the 公示 started. Only public fields are read (``values_list``): nothing personal beyond
    the head's name can reach the page or the PDF."""
    rows = scope(Case.objects.all(), actor).filter(within(village), publicity__isnull=False).exclude(
        state__in=CLOSED_STATES
    ).filter(publicity__end_on__gte=today) | scope(Case.objects.all(), actor).filter(
        within(village), state=CaseState.PUBLICITY
    )
    return [
        PublicityRow(*values)
        for values in rows.order_by("publicity__start_on", "household__code").values_list(
            "household__head_name",
            "household__code",
            "category",
            "publicity__start_on",
            "publicity__end_on",
            "publicity__place",
            "publicity__phone",
        )
    ]
