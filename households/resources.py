"""django-import-export resources of the admin (issue 18).

Reference tables are imported with the library's preview and confirm, and every row is written through
a service or the recording path of ``households.history``: one history entry per created or changed
row (channel "admin", the admin user), none for an unchanged one, and one change-feed row per import.
Cells are read by the in-house importer's parsers, so a file means the same here as in the portal.
The registry changelists are export-only, masked for the viewer by ``accounts.access``. Files are
written by ``SafeXLSX`` and ``SafeCSV`` (``core.spreadsheet``: no cell is ever a live formula).
"""

import io
from typing import Any, ClassVar

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Model
from django.utils.translation import gettext as _
from import_export import resources, widgets
from import_export.fields import Field
from import_export.formats.base_formats import CSV, XLSX
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from accounts.access import display_phone, require_write
from accounts.admin import id_shown
from accounts.models import User
from accounts.personal_data import plain_of
from areas.models import Area
from areas.validators import PARENT_LEVEL, normalise_area_code
from core.spreadsheet import csv_text, openpyxl_append
from households import services
from households.choices import Channel
from households.history import build_entry, changefeed_add, diff, snapshot
from households.importing.base import Column, export_text
from households.importing.cells import CellError, text_of
from households.importing.kinds import (
    ActionsKind,
    AreasKind,
    GrievancesKind,
    HouseholdsKind,
    IncomesKind,
    PersonsKind,
    SitesKind,
)
from households.models import ChangeFeed, HistoryEntry, Site


def spreadsheet_safe(value: Any) -> Any:
    """core/spreadsheet.py's CSV rule for an exported cell: a text that a spreadsheet program would run
    as a formula gets a leading ``'`` (the library's own escaping drops ``=`` only, and not ``+ - @``);
    a plain number written as text (``-5``) stays a number."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return csv_text(value)
    return value


class SafeCSV(CSV):
    """The admin's CSV: formula-like cells get the leading ``'`` (``spreadsheet_safe``)."""

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> Any:
        safe = tablib.Dataset(headers=dataset.headers, title=dataset.title)
        for row in dataset:
            safe.append([spreadsheet_safe(cell) for cell in row])
        return super().export_data(safe, **kwargs)


class SafeXLSX(XLSX):
    """The admin's xlsx, written through ``core.spreadsheet.openpyxl_append``: a formula-like text is a
    string cell with its text unchanged (tablib would store it as a live formula, or drop its ``=``)."""

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = (dataset.title or _("导出"))[:31]
        if dataset.headers:
            openpyxl_append(sheet, list(dataset.headers))
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            sheet.freeze_panes = "A2"
        for row in dataset:
            # openpyxl refuses control characters; the library's export replaces them the same way.
            cells = [
                ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", c) if isinstance(c, str) else c for c in row
            ]
            openpyxl_append(sheet, cells)
        for index, column in enumerate(sheet.iter_cols(values_only=True), start=1):
            width = max((len(str(value)) for value in column if value is not None), default=8)
            sheet.column_dimensions[get_column_letter(index)].width = min(max(10, width * 2 + 2), 60)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


class CellWidget(widgets.Widget):
    """A cell read by an in-house template column's parser: the same formats and Chinese messages as
    the portal's import (是/否, codes padded to 12 digits, yuan with two decimals …)."""

    def __init__(self, column: Column, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.column = column

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if value is None or text_of(value) == "":
            if self.column.required:
                raise ValueError(_("必填：请填写“%(header)s”。") % {"header": self.column.header})
            return self.column.default
        try:
            return self.column.parse(value)
        except CellError as error:
            raise ValueError(str(error)) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return export_text(value)


def column_field(column: Column, attribute: str | None = None, **options: Any) -> Field:
    """A resource field with the template's Chinese header and parser."""
    return Field(attribute=attribute or column.field, column_name=column.header, widget=CellWidget(column), **options)


def kind_columns(kind: Any) -> dict[str, Column]:
    return {column.field: column for column in kind.columns}


class SafeExportResource(resources.ModelResource):
    """Model fields named in ``template`` get the in-house template's header and parser."""

    template: ClassVar[dict[str, Column]] = {}
    column_attributes: ClassVar[dict[str, str]] = {}  # template field → model attribute, when they differ

    @classmethod
    def field_from_django_field(cls, field_name: str, django_field: Any, readonly: bool) -> Field:
        column = cls.template.get(field_name)
        if column is None:
            return super().field_from_django_field(field_name, django_field, readonly)
        return column_field(column, attribute=cls.column_attributes.get(field_name), readonly=readonly)

    def export_field(self, field: Field, instance: Any, **kwargs: Any) -> Any:
        widget = field.widget
        if isinstance(widget, CellWidget) and widget.column.getter is not None:
            return widget.column.export(instance, True)  # e.g. fen written as yuan
        return super().export_field(field, instance, **kwargs)


class RecordedResource(SafeExportResource):
    """Admin import of a reference table. ``write_kind`` is checked with ``accounts.access`` (the admin
    is open to the city administrator and superusers only); a row is written by ``write``: a service
    where one exists, otherwise the recording path below. The whole file is one transaction: the
    preview is a rolled-back dry run, and the confirm step rolls back on any invalid row."""

    write_kind: ClassVar[str] = ""
    change_family: ClassVar[str | None] = ChangeFeed.Family.RECORDS
    year_field: ClassVar[str] = ""  # one change-feed row per data year (citystats), as the importer does
    error_columns: ClassVar[dict[str, str]] = {}  # a service's error keys → the column they are shown on

    class Meta:
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actor: User | None = None
        self.written: list[Model] = []

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self.actor = kwargs.get("user")
        self.written = []
        require_write(self.actor, self.write_kind)

    def import_row(self, row: Any, instance_loader: Any, **kwargs: Any) -> Any:
        row_result = super().import_row(row, instance_loader, **kwargs)
        if row_result.validation_error is not None:
            row_result.validation_error = self.labelled(row_result.validation_error)
        return row_result

    def labelled(self, error: ValidationError) -> ValidationError:
        """Errors keyed by the file's Chinese column headers (the preview prints the keys)."""
        labels = {field.attribute: field.column_name for field in self.fields.values() if field.attribute}
        labels.update(self.error_columns)
        found = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        messages: dict[str, list[str]] = {}
        for key, texts in found.items():
            messages.setdefault(labels.get(key, NON_FIELD_ERRORS), []).extend(texts)
        return ValidationError(messages)

    def save_instance(self, instance: Any, is_create: bool, row: Any, **kwargs: Any) -> None:
        try:
            self.write(instance, is_create)
        except PermissionDenied as error:
            raise ValidationError(str(error)) from error
        self.written.append(instance)

    def write(self, instance: Any, is_create: bool) -> None:
        """The recording path of a table without a service (RecordedAdmin.save_model, once per row)."""
        before = None if is_create else snapshot(type(instance).objects.get(pk=instance.pk))
        instance.save()
        after = snapshot(instance)
        old, new = diff(before, after) if before is not None else ({}, after)
        if before is not None and not (old or new):
            return
        entry = build_entry(
            instance=instance,
            action=HistoryEntry.Action.CREATE if before is None else HistoryEntry.Action.UPDATE,
            channel=Channel.ADMIN,
            user=self.actor,
            before=old,
            after=new,
        )
        entry.object_code = self.object_code(instance)[:60]
        entry.save()

    def object_code(self, instance: Any) -> str:
        return str(getattr(instance, "code", "") or "")

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        """One change-feed row per import (per data year for yearly inputs), so the engine recomputes."""
        if not self.written or self.change_family is None:
            return
        if self.year_field:
            for year in sorted({getattr(instance, self.year_field) for instance in self.written}):
                changefeed_add(family=self.change_family, data_year=year)
        else:
            changefeed_add(family=self.change_family)


# -- areas ------------------------------------------------------------------------------------

AREA_COLUMNS = kind_columns(AreasKind)


def area_moved() -> str:
    return _("新增区划，或更改区划的级别、上级，请使用平台的区划导入（它核对代码并推导县、乡代码）。")


class AreaResource(RecordedResource):
    """Names and 后扶产业园 of existing areas. An area's code, level and parent are what every record's
    area codes copy: they are created and moved only by the portal's areas import (issue 17 finding 19),
    so an unknown code or a changed level or parent is an invalid row here."""

    write_kind = "areas"
    error_columns: ClassVar[dict[str, str]] = {"level": "级别", "parent": "上级代码"}
    template = AREA_COLUMNS
    level = Field(column_name=AREA_COLUMNS["level"].header, dehydrate_method="level_text")
    parent = Field(column_name=AREA_COLUMNS["parent"].header, dehydrate_method="parent_code")

    class Meta(RecordedResource.Meta):
        model = Area
        fields = ("code", "name", "level", "parent", "has_industrial_park")
        import_id_fields = ("code",)

    def get_queryset(self) -> Any:
        return Area.objects.select_related("parent")

    def level_text(self, area: Area) -> str:
        return area.level

    def parent_code(self, area: Area) -> str:
        return area.parent.code if area.parent is not None else ""

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        level = text_of(row.get("级别") or "")
        row["区划代码"] = normalise_area_code(text_of(row.get("区划代码") or ""), level)
        parent = text_of(row.get("上级代码") or "")
        if parent and PARENT_LEVEL.get(level):
            row["上级代码"] = normalise_area_code(parent, PARENT_LEVEL[level])

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        if instance.pk is None:
            raise ValidationError({"code": _("区划“%(code)s”未登记。") % {"code": row["区划代码"]} + area_moved()})
        if text_of(row.get("级别") or "") != instance.level:
            raise ValidationError({"level": _("区划的级别不能在此更改。") + area_moved()})
        if text_of(row.get("上级代码") or "") != self.parent_code(instance):
            raise ValidationError({"parent": _("区划的上级不能在此更改。") + area_moved()})
        super().import_instance(instance, row, **kwargs)


# -- sites ------------------------------------------------------------------------------------

SITE_COLUMNS = kind_columns(SitesKind)


class SiteResource(RecordedResource):
    """Sites through ``services.site_save`` (its role and scope checks, the village resolved by code,
    the area codes copied, ``full_clean``, history). The service adds its own change-feed row."""

    write_kind = "sites"
    template = SITE_COLUMNS
    column_attributes: ClassVar[dict[str, str]] = {"village": "village_code"}
    change_family = None
    error_columns: ClassVar[dict[str, str]] = {"village": SITE_COLUMNS["village"].header}

    class Meta(RecordedResource.Meta):
        model = Site
        fields = tuple(column.field for column in SitesKind.columns)
        import_id_fields = ("code",)
        clean_model_instances = False  # the service cleans the record it builds (village, area codes)

    def get_queryset(self) -> Any:
        return Site.objects.select_related("village")

    def write(self, instance: Any, is_create: bool) -> None:
        data = {name: getattr(instance, name) for name in services.SITE_FIELDS}
        site = services.site_save(
            actor=self.actor, code=instance.code, village_code=instance.village_code, data=data, channel=Channel.ADMIN
        )
        instance.pk = site.pk


# -- registry exports (export-only, masked) ---------------------------------------------------

ENCRYPTED = {"head_id": "head_id_encrypted", "id_number": "id_number_encrypted", "person": "id_number_encrypted"}


class MaskedExportResource(SafeExportResource):
    """A registry changelist exported with the in-house template's columns, for the viewer: ID numbers
    through ``display_id_number`` (via ``accounts.admin.id_shown``) and phones through ``display_phone``,
    never the ciphertext, and never the plaintext for a masked role such as the city administrator."""

    kind: ClassVar[Any]

    def __init__(self, viewer: User | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.viewer = viewer  # None (the export form's field list) masks like a masked role
        self.columns = {column.header: column for column in self.kind.columns}

    def export_field(self, field: Field, instance: Any, **kwargs: Any) -> Any:
        column = self.columns[field.column_name]
        if column.secret == "id":  # noqa: S105 - the kind of personal data, not a password
            record = instance.person if column.field == "person" else instance
            value = self.id_number(record, ENCRYPTED[column.field]) if record is not None else ""
        elif column.secret == "phone":  # noqa: S105 - the kind of personal data, not a password
            plaintext = plain_of(instance, "phone_encrypted")
            shown = display_phone(self.viewer, instance.phone_masked, plaintext) if self.viewer is not None else ""
            value = shown or instance.phone_masked
        else:
            value = column.export(instance, True)
        return value

    def id_number(self, record: Any, encrypted: str) -> str:
        record._viewer = self.viewer
        return id_shown(record, encrypted)


def secret_field(kind: Any, name: str) -> Field:
    return Field(column_name=kind_columns(kind)[name].header, readonly=True)


def template_fields(kind: Any) -> tuple[str, ...]:
    return tuple(column.field for column in kind.columns)


class HouseholdExportResource(MaskedExportResource):
    kind = HouseholdsKind
    template = kind_columns(HouseholdsKind)
    head_id = secret_field(HouseholdsKind, "head_id")
    phone = secret_field(HouseholdsKind, "phone")

    class Meta:
        model = HouseholdsKind.model
        fields = export_order = template_fields(HouseholdsKind)


class PersonExportResource(MaskedExportResource):
    kind = PersonsKind
    template = kind_columns(PersonsKind)
    id_number = secret_field(PersonsKind, "id_number")

    class Meta:
        model = PersonsKind.model
        fields = export_order = template_fields(PersonsKind)


class IncomeExportResource(MaskedExportResource):
    kind = IncomesKind
    template = kind_columns(IncomesKind)

    class Meta:
        model = IncomesKind.model
        fields = export_order = template_fields(IncomesKind)


class GrievanceExportResource(MaskedExportResource):
    kind = GrievancesKind
    template = kind_columns(GrievancesKind)

    class Meta:
        model = GrievancesKind.model
        fields = export_order = template_fields(GrievancesKind)


class ActionExportResource(MaskedExportResource):
    kind = ActionsKind
    template = kind_columns(ActionsKind)

    class Meta:
        model = ActionsKind.model
        fields = export_order = template_fields(ActionsKind)
