"""Django admin: for the city administrator and superusers only (access.md). Every save is recorded
in the history with channel "admin"; deletions are disabled (no hard deletes)."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin, ImportExportMixin

from accounts.access import can_write, masked_snapshot
from accounts.admin import ActorAdmin, id_shown, shown_in_full
from accounts.models import User
from areas.models import Area
from core.free_text import redact_free_text
from core.http import attachment
from households import services
from households.choices import Channel, TransferRequestStatus
from households.history import changefeed_add, diff, history_record, snapshot
from households.models import (
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
    TransferRequest,
)
from households.resources import (
    ActionExportResource,
    AreaResource,
    GrievanceExportResource,
    HouseholdExportResource,
    IncomeExportResource,
    PersonExportResource,
    SafeCSV,
    SafeXLSX,
    SiteResource,
)
from households.validators import age_on


def _admin_actor(request: HttpRequest) -> User:
    """The user of an admin request: the admin site lets only an active staff user in."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class RecordedAdmin(ActorAdmin):
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


class ServiceAdmin(RecordedAdmin):
    """Registry records are written only through ``households.services`` (issue 17 finding 19): area
    codes, rules, history and change feed exactly as in the portal. Only ``service_fields`` are
    editable; links and area fields are read-only (moving a household is the portal's 迁移, which moves
    its linked records too), and records are created in the portal or by import, not here."""

    write_kind = ""
    service_fields: frozenset[str] = frozenset()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj) and bool(self.service_fields)
        user = request.user  # a portal user: the admin site lets no anonymous visitor in
        return allowed and isinstance(user, User) and can_write(user, self.write_kind)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        shown = list(super().get_readonly_fields(request, obj))
        hidden = set(self.exclude or ()) | set(shown) | set(self.service_fields)
        locked = [
            field.name
            for field in self.model._meta.concrete_fields
            if field.editable and not field.primary_key and field.name not in hidden
        ]
        return [*shown, *locked]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in self.service_fields}
        try:
            self.service_save(_admin_actor(request), obj, data)
        except (ValidationError, PermissionDenied) as exc:
            request._service_refused = True  # type: ignore[attr-defined]  # read back by response_change
            self.message_user(request, "；".join(getattr(exc, "messages", None) or [str(exc)]), messages.ERROR)

    def service_save(self, actor: User, obj: Any, data: dict[str, Any]) -> None:
        """Each admin names its service; one without (decisions) keeps its records read-only."""
        raise PermissionDenied(_("此类记录在管理后台只读，请在平台页面中办理。"))

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        if getattr(request, "_service_refused", False):
            return HttpResponseRedirect(request.path)  # the form again, with the service's message
        return super().response_change(request, obj)


class FilesMixin:
    """The admin's import and export files: xlsx, or CSV in UTF-8 with a BOM (what Excel and WPS
    open as Chinese), saved under a Chinese name such as ``安置点-2026-12-04.xlsx``."""

    import_formats = export_formats = [SafeXLSX, SafeCSV]
    from_encoding = to_encoding = "utf-8-sig"
    model: Any

    def get_export_filename(self, request: HttpRequest, queryset: Any, file_format: Any) -> str:
        name = f"{self.model._meta.verbose_name_plural}-{timezone.localdate():%Y-%m-%d}.{file_format.get_extension()}"
        request._export_file_name = name  # type: ignore[attr-defined]  # read back by export_action
        return name

    def export_action(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = super().export_action(request)  # type: ignore[misc]  # untyped mixin
        name = getattr(request, "_export_file_name", None)
        if name is not None and response.has_header("Content-Disposition"):
            # The library quotes the name as is; browsers read a Chinese one only in RFC 6266 form.
            attachment(response, name)
        return response


class RecordedImportMixin(FilesMixin, ImportExportMixin):
    """Import with the library's preview (a rolled-back dry run) and confirm, for a reference table
    whose resource writes through a service or the recording path (``households.resources``). The
    confirm step is all-or-nothing: any invalid row rolls the whole file back."""

    import_template_name = "admin/import_export/portal_import.html"

    def has_import_permission(self, request: HttpRequest) -> bool:
        user = request.user  # a portal user: the admin site lets no anonymous visitor in
        return isinstance(user, User) and can_write(user, self.resource_classes[0].write_kind)  # type: ignore[attr-defined]  # our resources

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        data_kwargs: dict[str, Any] = super().get_import_data_kwargs(**kwargs)
        data_kwargs["rollback_on_validation_errors"] = True
        return data_kwargs

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        if result.has_errors() or result.has_validation_errors():
            # The file changed under the preview (or the data did): nothing was written.
            self.message_user(
                request, _("导入未完成：文件中有无效的行，未写入任何数据。请重新上传并核对预览。"), messages.ERROR
            )
            info = (self.model._meta.app_label, self.model._meta.model_name)
            return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))
        return super().process_result(result, request)  # type: ignore[misc]  # untyped mixin


class MaskedExportMixin(FilesMixin, ExportMixin):
    """Export-only for a registry changelist: the resource masks ID numbers and phones for the viewer."""

    export_related: tuple[str, ...] = ()

    def get_export_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {"viewer": request.user}

    def get_export_queryset(self, request: HttpRequest) -> Any:
        return super().get_export_queryset(request).select_related(*self.export_related)  # type: ignore[misc]  # untyped mixin


@admin.register(Area)
class AreaAdmin(RecordedImportMixin, RecordedAdmin):
    list_display = ("code", "name", "level", "parent", "has_industrial_park", "is_demo")
    list_filter = ("level", "has_industrial_park", "is_demo")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    resource_classes = [AreaResource]
    # An area's place in the tree is what every record's area codes copy: never edited here (issue 17
    # finding 19); areas are created and moved by the areas import, which derives the codes.
    readonly_fields = ("code", "level", "parent", "county_code", "township_code")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Site)
class SiteAdmin(RecordedImportMixin, ServiceAdmin):
    list_display = ("code", "name", "village", "kind", "party_org", "one_stop_centre")
    list_filter = ("kind", "county_code", "party_org", "self_gov_org", "property_management")
    search_fields = ("code", "name")
    raw_id_fields = ("village",)
    readonly_fields = ("county_code", "township_code", "village_code")
    write_kind, service_fields = "sites", frozenset(services.SITE_FIELDS)
    resource_classes = [SiteResource]

    def service_save(self, actor: User, obj: Any, data: dict[str, Any]) -> None:
        village_code = Area.objects.values_list("code", flat=True).get(pk=obj.village_id)
        services.site_save(actor=actor, code=obj.code, village_code=village_code, data=data, channel=Channel.ADMIN)


@admin.register(Household)
class HouseholdAdmin(MaskedExportMixin, ServiceAdmin):
    resource_classes, export_related = [HouseholdExportResource], ("village", "site", "origin")
    list_display = ("code", "head_name", "village", "site", "category", "status", "monitoring")
    list_filter = ("category", "status", "monitoring", "housing_hazard", "county_code")
    search_fields = ("code", "head_name")
    raw_id_fields = ("village", "site", "origin")
    readonly_fields = ("county_code", "township_code", "village_code", "head_id_shown", "phone_masked")
    exclude = ("head_id_hash", "head_id_encrypted", "phone_encrypted")
    write_kind, service_fields = "households", frozenset(services.HOUSEHOLD_FIELDS)

    def service_save(self, actor: User, obj: Any, data: dict[str, Any]) -> None:
        services.household_update(actor=actor, household=obj, data=data, channel=Channel.ADMIN)

    @admin.display(description=_("户主身份证号"))
    def head_id_shown(self, household: Household) -> str:
        return id_shown(household, "head_id_encrypted")


@admin.register(Person)
class PersonAdmin(MaskedExportMixin, ServiceAdmin):
    resource_classes, export_related = [PersonExportResource], ("household",)
    list_display = ("name", "id_number_shown", "household", "relation", "status", "labour", "employment")
    list_filter = ("status", "relation", "labour", "employment", "schooling", "county_code")
    search_fields = ("name", "household__code")
    raw_id_fields = ("household",)
    readonly_fields = ("id_number_shown", "sex", "birth_shown", "county_code", "township_code", "village_code")
    exclude = ("id_number_hash", "id_number_encrypted", "birth_date")
    write_kind, service_fields = "persons", frozenset(services.PERSON_FIELDS | {"status"})

    def service_save(self, actor: User, obj: Any, data: dict[str, Any]) -> None:
        services.person_update(actor=actor, person=obj, data=data, channel=Channel.ADMIN)

    @admin.display(description=_("身份证号"))
    def id_number_shown(self, person: Person) -> str:
        return id_shown(person, "id_number_encrypted")

    @admin.display(description=_("出生日期（年龄）"))
    def birth_shown(self, person: Person) -> str:
        """The birth date for unmasked viewers; masked ones get the age only (access.md)."""
        if shown_in_full(person):
            return person.birth_date.isoformat()
        return str(age_on(person.birth_date, timezone.localdate()))


@admin.register(Income)
class IncomeAdmin(MaskedExportMixin, ServiceAdmin):
    resource_classes, export_related = [IncomeExportResource], ("household",)
    list_display = ("household", "year", "size", "per_capita_income")
    list_filter = ("year",)
    search_fields = ("household__code",)
    raw_id_fields = ("household",)
    write_kind, service_fields = "incomes", frozenset({"size", "per_capita_income"})

    def service_save(self, actor: User, obj: Any, data: dict[str, Any]) -> None:
        services.income_set(
            actor=actor,
            household=obj.household,
            year=obj.year,
            size=obj.size,
            per_capita_income_fen=obj.per_capita_income,
            channel=Channel.ADMIN,
        )


@admin.register(Grievance)
class GrievanceAdmin(MaskedExportMixin, ServiceAdmin):
    resource_classes, export_related = [GrievanceExportResource], ("village", "site", "household")
    list_display = ("code", "village", "received_on", "topic", "status", "resolved_on", "resolved_in_village")
    list_filter = ("status", "topic", "resolved_in_village", "county_code")
    search_fields = ("code", "content")
    raw_id_fields = ("village", "site", "household")
    write_kind, service_fields = "grievances", frozenset(services.GRIEVANCE_FIELDS - {"site", "household"})

    def service_save(self, actor: User, obj: Any, data: dict[str, Any]) -> None:
        village_code = Area.objects.values_list("code", flat=True).get(pk=obj.village_id)
        services.grievance_save(actor=actor, code=obj.code, village_code=village_code, data=data, channel=Channel.ADMIN)


@admin.register(FollowUpAction)
class FollowUpActionAdmin(MaskedExportMixin, ServiceAdmin):
    resource_classes, export_related = [ActionExportResource], ("household", "site", "person")
    list_display = ("code", "household", "site", "kind", "indicator", "owner", "due_on", "status")
    list_filter = ("status", "kind", "indicator", "county_code")
    search_fields = ("code", "owner", "description")
    raw_id_fields = ("household", "site", "person")
    write_kind, service_fields = "actions", frozenset(services.ACTION_FIELDS - {"person"})

    def service_save(self, actor: User, obj: Any, data: dict[str, Any]) -> None:
        services.action_update(actor=actor, action=obj, data=data, channel=Channel.ADMIN)


@admin.register(MonitoringDecision)
class MonitoringDecisionAdmin(ServiceAdmin):
    """Decisions are records of what was decided: read-only here (no ``service_fields``)."""

    list_display = ("household", "decided_on", "decision", "category", "decided_by")
    list_filter = ("decision",)
    raw_id_fields = ("household",)


class ReadOnlyAdmin(ActorAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TransferRequest)
class TransferRequestAdmin(ReadOnlyAdmin):
    """A township's transfer requests (issue 20), read-only: a request changes only through
    ``services.transfer_request_decide`` (the household moves with its history and change feed). The
    one action here approves pending ones through it; a rejection needs its reason, written on the
    portal's 迁移审批 page (``/transfers/``). The household is named by code and head's name (no ID
    number), and the texts are shown redacted again, as the monitoring admin does."""

    list_display = (
        "requested_at",
        "household_shown",
        "from_village",
        "target_village",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", "county_code")
    search_fields = ("household__code",)
    list_select_related = ("household", "target_village", "requested_by", "decided_by")
    date_hierarchy = "requested_at"
    fields = (
        "household_shown",
        ("county_code", "township_code", "village_code", "target_village"),
        "reason_shown",
        ("status", "requested_by", "requested_at"),
        ("decided_by", "decided_at"),
        "decision_note_shown",
    )
    readonly_fields = (
        "household_shown",
        *("county_code", "township_code", "village_code", "target_village", "reason_shown", "status"),
        *("requested_by", "requested_at", "decided_by", "decided_at", "decision_note_shown"),
    )
    actions = ["approve"]

    @admin.display(description=_("户"), ordering="household__code")
    def household_shown(self, transfer: TransferRequest) -> str:
        return f"{transfer.household.code} {transfer.household.head_name}"

    @admin.display(description=_("迁出村（社区）"), ordering="village_code")
    def from_village(self, transfer: TransferRequest) -> str:
        return transfer.village_code

    @admin.display(description=_("申请理由"))
    def reason_shown(self, transfer: TransferRequest) -> str:
        return redact_free_text(transfer.reason)

    @admin.display(description=_("审批意见"))
    def decision_note_shown(self, transfer: TransferRequest) -> str:
        return redact_free_text(transfer.decision_note)

    @admin.action(description=_("批准所选的待审批申请（驳回请在平台“迁移审批”页面填写理由）"))
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        actor = _admin_actor(request)
        approved = 0
        for pending in queryset.filter(status=TransferRequestStatus.PENDING).order_by("pk"):
            try:
                services.transfer_request_decide(actor=actor, request=pending, approve=True)
            except (ValidationError, PermissionDenied) as exc:
                refusal = "；".join(getattr(exc, "messages", None) or [str(exc)])
                self.message_user(request, f"{pending.household.code}：{refusal}", messages.ERROR)
            else:
                approved += 1
        self.message_user(request, _("已批准 %(count)d 条迁移申请。") % {"count": approved}, messages.SUCCESS)


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "entity", "object_code", "action", "channel", "user", "import_job")
    list_filter = ("entity", "action", "channel")
    search_fields = ("object_code",)
    exclude = ("before", "after")
    readonly_fields = ("before_shown", "after_shown")

    @admin.display(description=_("修改前"))
    def before_shown(self, entry: HistoryEntry) -> dict[str, Any]:
        return entry.before if shown_in_full(entry) else masked_snapshot(entry.before)

    @admin.display(description=_("修改后"))
    def after_shown(self, entry: HistoryEntry) -> dict[str, Any]:
        return entry.after if shown_in_full(entry) else masked_snapshot(entry.after)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "file_name", "status", "created_count", "updated_count", "created_by")
    list_filter = ("kind", "status")


@admin.register(ChangeFeed)
class ChangeFeedAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "family", "data_year", "consumed_at")
