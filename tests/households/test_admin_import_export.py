"""The admin's django-import-export (issue 18): sites imported with a preview and written through the
service (a history entry per changed row, none for an unchanged one, all-or-nothing on an invalid row);
the registry changelists exported masked for the city administrator."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import personal_data
from accounts.models import Role, User
from accounts.personal_data import plain_of
from households.models import ChangeFeed, HistoryEntry, Site
from tests.factories import AreaFactory, HouseholdFactory, PersonFactory, SiteFactory

pytestmark = pytest.mark.django_db

CSV_FORMAT = "1"  # FilesMixin.import_formats = [XLSX, CSV]
SITE_HEADERS = ["安置点编码", "安置点名称", "所在村社区代码", "安置方式", "基层党组织"]


def csv_file(headers: list[str], rows: list[list[str]], name: str = "安置点.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode("utf-8-sig"), content_type="text/csv")


def admin_user(*, superuser: bool) -> User:
    return User.objects.create_user(
        "admin", password="x", role=Role.CITY_ADMIN, area=AreaFactory.city(), is_staff=True, is_superuser=superuser
    )


def preview(client, url: str, upload: SimpleUploadedFile):  # type: ignore[no-untyped-def]
    return client.post(f"{url}import/", {"format": CSV_FORMAT, "import_file": upload, "resource": "0"})


def confirm(client, url: str, response):  # type: ignore[no-untyped-def]
    data = {name: value for name, value in response.context["confirm_form"].initial.items() if value is not None}
    return client.post(f"{url}process_import/", data)


def export(client, url: str):  # type: ignore[no-untyped-def]
    """The export page's form as the admin sends it: CSV, every column ticked."""
    form = client.get(f"{url}export/").context["form"]
    ticked = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
    return client.post(f"{url}export/", {"format": CSV_FORMAT, "resource": "0", **ticked})


@pytest.fixture
def sites_world(client):  # type: ignore[no-untyped-def]
    village = AreaFactory.village()
    other = AreaFactory.village(code="431302001002", name="B村")
    kept = SiteFactory(code="S-KEPT", name="不变小区", village=village, kind="城镇集中安置")
    changed = SiteFactory(code="S-CHANGED", name="旧名小区", village=village, kind="城镇集中安置")
    user = admin_user(superuser=True)
    client.force_login(user)
    return {"village": village, "other": other, "kept": kept, "changed": changed, "user": user}


def test_site_import_previews_then_writes_through_the_service(client, sites_world):
    url = "/admin/households/site/"
    rows = [
        ["S-KEPT", "不变小区", "431302001001", "城镇集中安置", "否"],
        ["S-CHANGED", "新名小区", "431302001002", "城镇集中安置", "是"],
        ["S-NEW", "新建小区", "431302001001", "农村集中安置", "否"],
    ]
    response = preview(client, url, csv_file(SITE_HEADERS, rows))
    assert response.status_code == 200
    assert "新建小区" in response.content.decode()
    result = response.context["result"]
    assert [row.import_type for row in result.rows] == ["skip", "update", "new"]  # the unchanged row: skipped
    assert response.context["confirm_form"] is not None
    assert not Site.objects.filter(code="S-NEW").exists()  # the preview is a rolled-back dry run
    assert not HistoryEntry.objects.exists()

    feed_before = ChangeFeed.objects.count()
    response = confirm(client, url, response)
    assert response.status_code == 302

    changed = Site.objects.get(code="S-CHANGED")
    assert (changed.name, changed.village_code, changed.party_org) == ("新名小区", "431302001002", True)
    assert changed.township_code == "431302001"  # the service copied the new village's codes
    new = Site.objects.get(code="S-NEW")
    assert new.county_code == "431302"
    entries = HistoryEntry.objects.filter(entity="site").order_by("object_code")
    assert [(entry.object_code, entry.action) for entry in entries] == [("S-CHANGED", "update"), ("S-NEW", "create")]
    assert {(entry.channel, entry.user_id) for entry in entries} == {("admin", sites_world["user"].pk)}
    assert entries[0].after["name"] == "新名小区"
    assert ChangeFeed.objects.count() > feed_before  # the engine sees the import


def test_an_invalid_site_row_is_shown_in_the_preview_and_nothing_is_written(client, sites_world):
    url = "/admin/households/site/"
    rows = [
        ["S-CHANGED", "新名小区", "431302001001", "城镇集中安置", "否"],
        ["S-BAD", "坏行小区", "431302009999", "城镇集中安置", "也许"],
    ]
    response = preview(client, url, csv_file(SITE_HEADERS, rows))
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context.get("confirm_form") is None
    assert "请填写“是”或“否”" in page  # the in-house importer's message, on its column
    result = response.context["result"]
    [invalid] = result.invalid_rows
    assert "基层党组织" in invalid.field_specific_errors
    assert Site.objects.get(code="S-CHANGED").name == "旧名小区"
    assert not Site.objects.filter(code="S-BAD").exists()
    assert not HistoryEntry.objects.exists()


def test_an_unknown_village_is_the_services_message_on_its_column(client, sites_world):
    rows = [["S-NEW", "新建小区", "431302009999", "城镇集中安置", "否"]]
    response = preview(client, "/admin/households/site/", csv_file(SITE_HEADERS, rows))
    [invalid] = response.context["result"].invalid_rows
    assert "不存在" in invalid.field_specific_errors["所在村社区代码"][0]
    assert not Site.objects.filter(code="S-NEW").exists()


def test_area_import_renames_but_never_creates_or_moves(client, sites_world):
    headers = ["区划代码", "名称", "级别", "上级代码", "后扶产业园"]
    rows = [["431302001001", "A社区（新）", "村", "431302001", "是"]]
    response = preview(client, "/admin/areas/area/", csv_file(headers, rows, "区划.csv"))
    feed_before = ChangeFeed.objects.count()
    response = confirm(client, "/admin/areas/area/", response)
    assert response.status_code == 302
    assert ChangeFeed.objects.count() == feed_before + 1  # once per import
    village = sites_world["village"]
    village.refresh_from_db()
    assert (village.name, village.has_industrial_park) == ("A社区（新）", True)
    entry = HistoryEntry.objects.get(entity="area")
    assert entry.after == {"name": "A社区（新）", "has_industrial_park": True}

    moved = [
        ["431302001001", "A社区（新）", "村", "431302002", "是"],  # another parent
        ["431302001009", "新村", "村", "431302001", "否"],  # not registered
    ]
    response = preview(client, "/admin/areas/area/", csv_file(headers, moved, "区划.csv"))
    assert len(response.context["result"].invalid_rows) == 2
    assert response.context.get("confirm_form") is None


def test_registry_export_is_masked_for_the_city_administrator(client):
    head_id = "431302199006150011"
    household = HouseholdFactory(
        code="H-1",
        head_name='=HYPERLINK("x")',
        head_id_encrypted=personal_data.encrypt(head_id),
        phone_encrypted=personal_data.encrypt("13800001234"),
        phone_masked=personal_data.mask_phone("13800001234"),
    )
    person = PersonFactory(household=household, name="张三")
    full_id = plain_of(person, "id_number_encrypted")
    client.force_login(admin_user(superuser=False))
    response = export(client, "/admin/households/person/")
    assert response.status_code == 200
    assert "filename*=utf-8''" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))[:2]
    assert header[:3] == ["身份证号", "姓名", "户编号"]
    assert full_id not in text
    assert row[0] == full_id[:6] + "********" + full_id[-4:]

    response = export(client, "/admin/households/household/")
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text  # neutralised against formula injection
    assert head_id not in text
    assert "13800001234" not in text
    assert personal_data.mask_phone("13800001234") in text
    assert head_id[:6] + "********" + head_id[-4:] in text
