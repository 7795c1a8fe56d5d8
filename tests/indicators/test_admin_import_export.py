"""The indicators admin's django-import-export (issue 18): the assessment configuration as one row per
indicator and year, previewed, then written whole by ``assessment_config_update`` with a history entry
per changed row; city statistics through the recording path and the change feed."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role, User
from households.models import ChangeFeed, HistoryEntry
from indicators.assessment.scoring import assessment_config_seed, config_for_year
from indicators.models import AssessmentConfigItem, CityStatistic, MonitoringLine
from tests.factories import AreaFactory

pytestmark = pytest.mark.django_db

CSV_FORMAT = "1"  # FilesMixin.import_formats = [XLSX, CSV]
CONFIG_URL = "/admin/indicators/assessmentconfig/"
CONFIG_HEADERS = ["年度", "指标代码", "考核维度", "分值"]


def csv_file(headers: list[str], rows: list[list[object]]) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return SimpleUploadedFile("考核配置.csv", out.getvalue().encode("utf-8-sig"), content_type="text/csv")


def preview(client, url: str, upload: SimpleUploadedFile):  # type: ignore[no-untyped-def]
    return client.post(f"{url}import/", {"format": CSV_FORMAT, "import_file": upload, "resource": "0"})


def confirm(client, url: str, response):  # type: ignore[no-untyped-def]
    data = {name: value for name, value in response.context["confirm_form"].initial.items() if value is not None}
    return client.post(f"{url}process_import/", data)


@pytest.fixture
def city_admin(client) -> User:  # type: ignore[no-untyped-def]
    user = User.objects.create_user(
        "cityadmin", password="x", role=Role.CITY_ADMIN, area=AreaFactory.city(), is_staff=True
    )
    client.force_login(user)
    return user


def points(year: int) -> dict[str, Decimal]:
    return dict(AssessmentConfigItem.objects.filter(config__year=year).values_list("indicator__code", "points"))


def test_assessment_configuration_import_previews_then_writes_a_history_entry_per_changed_row(client, city_admin):
    assessment_config_seed(year=2025)
    saved = points(2025)
    first, second, third = config_for_year(2025).items[:3]
    rows = [
        [2025, first.code, first.dimension, saved[first.code] - 1],
        [2025, second.code, second.dimension, saved[second.code] + 1],
        [2025, third.code, third.dimension, saved[third.code]],  # unchanged
    ]
    response = preview(client, CONFIG_URL, csv_file(CONFIG_HEADERS, rows))
    assert response.status_code == 200
    result = response.context["result"]
    assert [row.import_type for row in result.rows] == ["update", "update", "skip"]
    assert response.context["confirm_form"] is not None
    assert points(2025) == saved  # the preview wrote nothing

    response = confirm(client, CONFIG_URL, response)
    assert response.status_code == 302
    after = points(2025)
    assert after[first.code] == saved[first.code] - 1
    assert after[second.code] == saved[second.code] + 1
    assert sum(after.values()) == 100
    entries = HistoryEntry.objects.filter(entity="assessmentconfigitem").order_by("object_code")
    assert sorted(entry.object_code for entry in entries) == sorted([f"2025/{first.code}", f"2025/{second.code}"])
    assert {(entry.channel, entry.user_id, entry.action) for entry in entries} == {("admin", city_admin.pk, "update")}
    assert {entry.object_code: entry.after for entry in entries}[f"2025/{first.code}"] == {
        "points": str(saved[first.code] - 1)
    }


def test_an_invalid_configuration_is_shown_in_the_preview_and_nothing_is_written(client, city_admin):
    assessment_config_seed(year=2025)
    saved = points(2025)
    first, second = config_for_year(2025).items[:2]
    over = [[2025, first.code, first.dimension, saved[first.code] + 1]]  # the year adds up to 101
    response = preview(client, CONFIG_URL, csv_file(CONFIG_HEADERS, over))
    assert response.context.get("confirm_form") is None
    [invalid] = response.context["result"].invalid_rows
    assert "各指标分值合计须为 100 分，当前合计 101 分。" in invalid.non_field_specific_errors[0]

    bad = [[2025, first.code, "其他", saved[first.code]], [2025, "M9-99", second.dimension, 1]]
    response = preview(client, CONFIG_URL, csv_file(CONFIG_HEADERS, bad))
    errors = [row.field_specific_errors for row in response.context["result"].invalid_rows]
    assert errors == [
        {"考核维度": [f"{first.code} 须放在八个考核维度之一中。"]},
        {"指标代码": ["未知指标 M9-99。"]},
    ]
    assert points(2025) == saved
    assert not HistoryEntry.objects.exists()


def test_the_configuration_exports_one_row_per_indicator_and_year(client, city_admin):
    assessment_config_seed(year=2025)
    page = client.get(f"{CONFIG_URL}export/")
    ticked = {
        name: "on"
        for name, field in page.context["form"].fields.items()
        if getattr(field, "is_selectable_field", False)
    }
    response = client.post(f"{CONFIG_URL}export/", {"format": CSV_FORMAT, "resource": "0", **ticked})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["年度", "指标代码", "指标名称", "考核维度", "分值"]
    assert len(rows) == 1 + len(points(2025))
    assert "filename*=utf-8''" in response["Content-Disposition"]


def test_city_statistics_import_feeds_the_engine_once_per_year(client, city_admin):
    CityStatistic.objects.create(year=2024, city_income_growth=Decimal("6.1"))
    url = "/admin/indicators/citystatistic/"
    rows = [[2024, "6.1"], [2025, "5.8%"]]
    response = preview(client, url, csv_file(["年度", "全市居民人均可支配收入增长率"], rows))
    assert [row.import_type for row in response.context["result"].rows] == ["skip", "new"]
    response = confirm(client, url, response)
    assert response.status_code == 302
    assert CityStatistic.objects.get(year=2025).city_income_growth == Decimal("5.8")
    assert HistoryEntry.objects.filter(entity="citystatistic").count() == 1
    feed = ChangeFeed.objects.filter(family=ChangeFeed.Family.CITYSTATS)
    assert list(feed.values_list("data_year", flat=True)) == [2025]


def test_monitoring_lines_are_typed_and_exported_in_yuan(client, city_admin):
    url = "/admin/indicators/monitoringline/"
    response = preview(client, url, csv_file(["年度", "监测收入线（元）"], [[2025, "7,000.50"]]))
    feed_before = ChangeFeed.objects.count()
    assert confirm(client, url, response).status_code == 302
    assert MonitoringLine.objects.get(year=2025).line == 700050
    entry = HistoryEntry.objects.get(entity="monitoringline")
    assert (entry.object_code, entry.action, entry.channel) == ("2025", "create", "admin")
    assert ChangeFeed.objects.count() == feed_before + 1
    page = client.get(f"{url}export/")
    ticked = {n: "on" for n, f in page.context["form"].fields.items() if getattr(f, "is_selectable_field", False)}
    response = client.post(f"{url}export/", {"format": CSV_FORMAT, "resource": "0", **ticked})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["年度", "监测收入线（元）"], ["2025", "7000.50"]]
