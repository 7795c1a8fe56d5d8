"""Admin of the monitoring-identification procedure (issue 21), for the city administrator: cases with
their steps and objections, and the 公示. All read-only, like ``MonitoringDecisionAdmin``: a case moves
only through ``monitoring.services`` (roles, deadlines, the 公示 rule, the decision's history), and its
steps are its history. No page here shows an ID number or a phone: a case holds none (the household is
named by its code and head's name; notes were redacted when written and are redacted again on display).
The 公示's phone is the village committee's, printed on the public 公示 itself."""

from typing import Any

from django.contrib import admin
from django.db.models import Count
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.free_text import redact_free_text
from households.admin import ReadOnlyAdmin
from monitoring.models import Case, CaseStep, Objection, Publicity


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CaseStepInline(ReadOnlyInline):
    model = CaseStep
    fields = ("at", "step", "action", "user", "note_shown")
    readonly_fields = fields
    ordering = ("at", "id")
    verbose_name_plural = _("办理记录（只读）")

    @admin.display(description=_("说明"))
    def note_shown(self, step: CaseStep) -> str:
        return redact_free_text(step.note)


class ObjectionInline(ReadOnlyInline):
    model = Objection
    fields = ("received_on", "text_shown", "recorded_by", "created_at")
    readonly_fields = fields

    @admin.display(description=_("异议内容"))
    def text_shown(self, objection: Objection) -> str:
        return redact_free_text(objection.text)


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "household_shown",
        "village_code",
        "source",
        "category",
        "state",
        "returned",
        "opened_on",
        "due_on",
        "closed_on",
    )
    list_filter = ("state", "source", "category", "returned", "county_code")
    search_fields = ("household__code", "village_code")
    list_select_related = ("household",)
    date_hierarchy = "opened_on"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "household_shown",
                    ("county_code", "township_code", "village_code"),
                    ("source", "category", "state", "returned"),
                    ("opened_on", "visit_due_on", "due_on", "closed_on"),
                    "publicity",
                    "decision",
                    "opened_by",
                )
            },
        ),
    )
    readonly_fields = (
        "household_shown",
        *("county_code", "township_code", "village_code", "source", "category", "state", "returned"),
        *("opened_on", "visit_due_on", "due_on", "closed_on", "publicity", "decision", "opened_by"),
    )
    inlines = (CaseStepInline, ObjectionInline)

    @admin.display(description=_("户"), ordering="household__code")
    def household_shown(self, case: Case) -> str:
        return f"{case.household.code} {case.household.head_name}"


@admin.register(Publicity)
class PublicityAdmin(ReadOnlyAdmin):
    list_display = ("village", "start_on", "end_on", "place", "phone", "case_count", "created_by", "created_at")
    list_filter = ("county_code", "start_on")
    search_fields = ("village__code", "village__name")
    list_select_related = ("village", "created_by")
    date_hierarchy = "start_on"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(cases_count=Count("cases"))

    @admin.display(description=_("识别件数"), ordering="cases_count")
    def case_count(self, publicity: Any) -> int:
        return int(getattr(publicity, "cases_count", 0))


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ("case", "received_on", "text_shown", "recorded_by", "created_at")
    list_filter = ("received_on",)
    search_fields = ("case__household__code",)
    list_select_related = ("case", "recorded_by")
    fields = ("case", "received_on", "text_shown", "recorded_by", "created_at")
    readonly_fields = fields

    @admin.display(description=_("异议内容"))
    def text_shown(self, objection: Objection) -> str:
        return redact_free_text(objection.text)
