"""Django admin: for the city administrator and superusers only (access.md). Every save is recorded
in the history with channel "admin"; deletions are disabled (no hard deletes)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .choices import Channel
from .history import changefeed_add, diff, history_record, snapshot
from .models import (
    Area,
    ChangeFeed,
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Household,
    ImportJob,
    Income,
    MonitoringDecision,
    Person,
    Site,
)


def admin_allowed(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_superuser or getattr(user, "role", "") == "city_admin"))


admin.site.has_permission = admin_allowed  # type: ignore[method-assign]
admin.site.site_header = "娄底市易地扶贫搬迁后续扶持工作平台 · 管理后台"
admin.site.site_title = "管理后台"


class RecordedAdmin(admin.ModelAdmin):
    """Records every admin save in the history, and never deletes."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        after = snapshot(obj)
        if before is None:
            history_record(instance=obj, action="create", channel=Channel.ADMIN, user=request.user, after=after)
        else:
            old, new = diff(before, after)
            if old or new:
                history_record(
                    instance=obj, action="update", channel=Channel.ADMIN, user=request.user, before=old, after=new
                )
        changefeed_add()


@admin.register(Area)
class AreaAdmin(RecordedAdmin):
    list_display = ("code", "name", "level", "parent", "has_industrial_park", "is_demo")
    list_filter = ("level", "has_industrial_park", "is_demo")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


@admin.register(Site)
class SiteAdmin(RecordedAdmin):
    list_display = ("code", "name", "village", "kind", "party_org", "one_stop_centre")
    list_filter = ("kind", "county_code", "party_org", "self_gov_org", "property_management")
    search_fields = ("code", "name")
    raw_id_fields = ("village",)
    readonly_fields = ("county_code", "township_code", "village_code")


@admin.register(Household)
class HouseholdAdmin(RecordedAdmin):
    list_display = ("code", "head_name", "village", "site", "category", "status", "monitoring")
    list_filter = ("category", "status", "monitoring", "housing_hazard", "county_code")
    search_fields = ("code", "head_name")
    raw_id_fields = ("village", "site", "origin")
    readonly_fields = ("county_code", "township_code", "village_code", "head_id_masked", "phone_masked")
    exclude = ("head_id_hash", "head_id_encrypted", "phone_encrypted")


@admin.register(Person)
class PersonAdmin(RecordedAdmin):
    list_display = ("name", "id_number_masked", "household", "relation", "status", "labour", "employment")
    list_filter = ("status", "relation", "labour", "employment", "schooling", "county_code")
    search_fields = ("name", "household__code")
    raw_id_fields = ("household",)
    readonly_fields = ("id_number_masked", "sex", "birth_date", "county_code", "township_code", "village_code")
    exclude = ("id_number_hash", "id_number_encrypted")


@admin.register(Income)
class IncomeAdmin(RecordedAdmin):
    list_display = ("household", "year", "size", "per_capita_income")
    list_filter = ("year",)
    search_fields = ("household__code",)
    raw_id_fields = ("household",)


@admin.register(Grievance)
class GrievanceAdmin(RecordedAdmin):
    list_display = ("code", "village", "received_on", "topic", "status", "resolved_on", "resolved_in_village")
    list_filter = ("status", "topic", "resolved_in_village", "county_code")
    search_fields = ("code", "content")
    raw_id_fields = ("village", "site", "household")


@admin.register(FollowUpAction)
class FollowUpActionAdmin(RecordedAdmin):
    list_display = ("code", "household", "site", "kind", "indicator", "owner", "due_on", "status")
    list_filter = ("status", "kind", "indicator", "county_code")
    search_fields = ("code", "owner", "description")
    raw_id_fields = ("household", "site", "person")


@admin.register(MonitoringDecision)
class MonitoringDecisionAdmin(RecordedAdmin):
    list_display = ("household", "decided_on", "decision", "category", "decided_by")
    list_filter = ("decision",)
    raw_id_fields = ("household",)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "entity", "object_code", "action", "channel", "user", "import_job")
    list_filter = ("entity", "action", "channel")
    search_fields = ("object_code",)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "file_name", "status", "created_count", "updated_count", "created_by")
    list_filter = ("kind", "status")


@admin.register(ChangeFeed)
class ChangeFeedAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "family", "data_year", "consumed_at")
