"""django-import-export against the in-house importer (not a test; issue 18): the same 20,000-row
households .xlsx, validated (dry run) and then imported, by ``households.importing.run_import`` and by a
django-import-export ModelResource that writes like the admin's resources (per row: the village, site
and origin looked up by code, the ID number and phone encrypted, ``full_clean``, save, history entry).

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python bench/import_export_bench.py   # migrates first

Bench data lives in county 439901 (bench/import_bench.py's) and is removed before each run.
"""

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from import_export.fields import Field  # noqa: E402
from import_export.formats.base_formats import XLSX  # noqa: E402
from import_export.widgets import ForeignKeyWidget  # noqa: E402

from accounts import personal_data  # noqa: E402
from areas.models import Area  # noqa: E402
from bench.import_bench import build, reset  # noqa: E402
from households.importing import run_import  # noqa: E402
from households.importing.kinds import HouseholdsKind  # noqa: E402
from households.models import HistoryEntry, Household, Site  # noqa: E402
from households.resources import RecordedResource, kind_columns  # noqa: E402

HOUSEHOLDS, VILLAGES, COUNTY = 20000, 100, "439901"
COLUMNS = kind_columns(HouseholdsKind)


class HouseholdResource(RecordedResource):
    write_kind = "households"
    template = {name: column for name, column in COLUMNS.items() if name not in ("village", "site", "origin")}
    village = Field("village", COLUMNS["village"].header, ForeignKeyWidget(Area, "code"))
    site = Field("site", COLUMNS["site"].header, ForeignKeyWidget(Site, "code"))
    origin = Field("origin", COLUMNS["origin"].header, ForeignKeyWidget(Area, "code"))
    head_id = Field(column_name=COLUMNS["head_id"].header)
    phone = Field(column_name=COLUMNS["phone"].header)

    class Meta(RecordedResource.Meta):
        model = Household
        fields = tuple(COLUMNS)
        import_id_fields = ("code",)

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        """The values full_clean needs: the village's area codes, the ID number and phone encrypted."""
        super().import_instance(instance, row, **kwargs)
        if instance.village_id:
            village = instance.village
            instance.county_code, instance.township_code = village.county_code, village.township_code
            instance.village_code = village.code
        head_id, phone = str(row[COLUMNS["head_id"].header] or ""), str(row[COLUMNS["phone"].header] or "")
        instance.head_id_hash = personal_data.blind_index(head_id) if head_id else ""
        instance.head_id_encrypted = personal_data.encrypt(head_id)
        instance.phone_encrypted = personal_data.encrypt(phone)
        instance.phone_masked = personal_data.mask_phone(phone)


def clear() -> None:
    Household.objects.filter(county_code=COUNTY).delete()
    HistoryEntry.objects.filter(county_code=COUNTY).delete()


def in_house(path: Path) -> tuple[float, float]:
    start = time.perf_counter()
    checked = run_import("households", path, dry_run=True)
    dry = time.perf_counter() - start
    assert checked.ok, checked.errors[:3]
    start = time.perf_counter()
    result = run_import("households", path)
    assert result.ok, result.summary()
    assert result.created == HOUSEHOLDS, result.summary()
    return dry, time.perf_counter() - start


def library(path: Path) -> tuple[float, float]:
    timings = []
    for dry_run in (True, False):
        start = time.perf_counter()
        dataset = XLSX().create_dataset(path.read_bytes())
        result = HouseholdResource().import_data(dataset, dry_run=dry_run, use_transactions=True, user=None)
        timings.append(time.perf_counter() - start)
        assert not result.has_errors(), result.row_errors()[:1]
        assert not result.has_validation_errors(), result.invalid_rows[0].error_dict
    assert Household.objects.filter(county_code=COUNTY).count() == HOUSEHOLDS
    return timings[0], timings[1]


def main() -> None:
    call_command("migrate", verbosity=0)
    reset(VILLAGES)
    clear()
    with tempfile.TemporaryDirectory() as tmp:
        path, _persons = build(Path(tmp), HOUSEHOLDS, HOUSEHOLDS, VILLAGES)
        ours = in_house(path)
        history_ours = HistoryEntry.objects.filter(county_code=COUNTY).count()
        clear()
        theirs = library(path)
        history = (history_ours, HistoryEntry.objects.filter(county_code=COUNTY).count())
    clear()
    print(f"database: {connection.vendor}; {HOUSEHOLDS} households rows (.xlsx), same file for both")
    for label, (dry, real) in (("in-house run_import", ours), ("django-import-export", theirs)):
        print(f"{label:<22} dry run {dry:7.2f} s ({HOUSEHOLDS / dry:6.0f} rows/s)   import {real:7.2f} s "
              f"({HOUSEHOLDS / real:6.0f} rows/s)")  # fmt: skip
    print(f"history entries written: in-house {history[0]}, django-import-export {history[1]}")
    print(
        f"ratio (django-import-export / in-house): dry run {theirs[0] / ours[0]:.1f}x, "
        f"import {theirs[1] / ours[1]:.1f}x"
    )


if __name__ == "__main__":
    main()
