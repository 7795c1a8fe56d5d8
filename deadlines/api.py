"""REST API v1 of the deadline table (issue 21, docs/working-days.md): how many working days each step
may take, the administrator's value over the default. The same table for every user (it is no
record of an area), so it is read without ``scope``, like the indicator catalogue."""

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from accounts.access import access_object
from accounts.viewsets import ReadViewSet
from deadlines.models import DEFAULT_WORKING_DAYS, Deadline
from deadlines.selectors import deadlines


class DeadlineSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="get_step_display", read_only=True, help_text="环节名称")
    default_working_days = serializers.SerializerMethodField(help_text="未调整时的默认时限（工作日）")

    class Meta:
        model = Deadline
        fields = ["step", "name", "working_days", "default_working_days", "note"]

    def get_default_working_days(self, deadline: Deadline) -> int | None:
        return DEFAULT_WORKING_DAYS.get(deadline.step)


class DeadlineViewSet(ReadViewSet):
    """办理时限: one row per step, addressed by its key (``deadlines/home_visit/``)."""

    output_serializer = DeadlineSerializer
    lookup_field = "step"

    def scoped_queryset(self) -> QuerySet:
        return deadlines()

    def get_object(self) -> Any:
        return access_object(self.scoped_queryset(), None, step=self.kwargs["step"])
