from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from deadlines.models import CalendarDay, Deadline
from deadlines.workdays import year_known
from households.admin import RecordedAdmin
from households.choices import Channel
from households.history import diff, history_record, snapshot


class CalendarAdmin(RecordedAdmin):
    """Saves are recorded in the history like every admin write, but add no change-feed row: the
    calendar feeds no indicator, so it must not queue a recompute."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        obj.save()
        after = snapshot(obj)
        if before is None:
            history_record(instance=obj, action="create", channel=Channel.ADMIN, user=request.user, after=after)
            return
        old, new = diff(before, after)
        if old or new:
            history_record(
                instance=obj, action="update", channel=Channel.ADMIN, user=request.user, before=old, after=new
            )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        next_year = timezone.localdate().year + 1
        if not year_known(next_year):
            messages.warning(
                request,
                _(
                    "%(year)s 年的节假日安排尚未录入：在录入国务院办公厅通知中的放假日和调休上班日之前，"
                    "该年只按周六、周日休息计算工作日。"
                )
                % {"year": next_year},
            )
        return super().changelist_view(request, extra_context)


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarAdmin):
    list_display = ("date", "is_workday", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "date"


@admin.register(Deadline)
class DeadlineAdmin(CalendarAdmin):
    list_display = ("step", "working_days", "note")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row per step, created by the migration
