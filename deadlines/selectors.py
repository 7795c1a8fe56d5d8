"""Reads of the deadline table and the calendar overrides (issue 21), for the API and the city's
export: one query each, in the order of the procedure."""

from django.db.models import Case, IntegerField, QuerySet, Value, When

from deadlines.models import CalendarDay, Deadline, Step


def deadlines() -> QuerySet[Deadline]:
    """The table in the order of the procedure (入户核实 first), not alphabetically by key."""
    position = Case(
        *(When(step=step, then=Value(index)) for index, step in enumerate(Step.values)),
        default=Value(len(Step.values)),
        output_field=IntegerField(),
    )
    return Deadline.objects.annotate(position=position).order_by("position", "step")


def calendar_days() -> QuerySet[CalendarDay]:
    """The administrator's working-day overrides, by date."""
    return CalendarDay.objects.order_by("date")
