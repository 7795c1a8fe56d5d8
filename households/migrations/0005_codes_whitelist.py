"""Codes that cannot break a page, and automatic 台账 numbers nobody can squat (issue 17, findings 9, 10,
14, 18).

1. Field validators: record codes (户编号, 安置点编码, 事项编号, 台账编号) are ASCII letters, digits, "-"
   and "_"; casework dates and household sizes within sane bounds; an action's 指标代码 from the
   catalogue. (State only: validators are not in the schema.)
2. Stored codes are repaired. Each code outside the whitelist is normalised (NFKC, invisible
   characters removed, every decimal digit to ASCII); if that is still not allowed, each run of other
   characters becomes "-" (``G/1`` → ``G-1``); if that is empty or already taken, the record gets
   ``<prefix>-FIX-<id>``. Every change is a history entry (channel "system") with the old and new code.
   An area code written with non-ASCII digits is normalised the same way, with the area paths
   (county/township/village codes) copied onto records; one that cannot be repaired is left as it is
   (an area code has no safe substitute) and reported on stdout.
3. The counter of automatic 台账 numbers: a SEQUENCE on PostgreSQL, a one-row table on SQLite.
"""

import re
import unicodedata

from django.db import migrations, models

import households.validators

# Kept literally here: a migration must not import code that later changes.
RECORD_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", re.ASCII)
AREA_DIGITS = {"市": 6, "县": 6, "乡镇": 9, "村": 12}
PREFIXES = {"site": "S", "household": "H", "grievance": "XF", "followupaction": "TZ"}
SEQUENCE = "households_action_number"


def _normalise(value):  # type: ignore[no-untyped-def]
    text = unicodedata.normalize("NFKC", str(value))
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        kept.append(str(unicodedata.digit(char)) if category == "Nd" else char)
    return "".join(kept).strip()


def _repaired(code, taken, prefix, pk):  # type: ignore[no-untyped-def]
    candidate = _normalise(code)
    if not RECORD_CODE.fullmatch(candidate):
        candidate = re.sub(r"[^A-Za-z0-9_-]+", "-", candidate, flags=re.ASCII).strip("-_")[:40]
    if not RECORD_CODE.fullmatch(candidate) or candidate in taken:
        candidate = f"{prefix}-FIX-{pk}"
        suffix = 1
        while candidate in taken:
            candidate = f"{prefix}-FIX-{pk}-{suffix}"
            suffix += 1
    return candidate


def repair_record_codes(apps, schema_editor):  # type: ignore[no-untyped-def]
    history = apps.get_model("households", "HistoryEntry")
    entries = []
    for model_name, prefix in PREFIXES.items():
        model = apps.get_model("households", model_name)
        rows = list(model.objects.values_list("id", "code", "county_code", "township_code"))
        taken = {code for _pk, code, _county, _township in rows}
        for pk, code, county, township in rows:
            if RECORD_CODE.fullmatch(code):
                continue
            new = _repaired(code, taken, prefix, pk)
            taken.add(new)
            model.objects.filter(pk=pk).update(code=new)
            entries.append(
                history(
                    entity=model_name,
                    object_id=pk,
                    object_code=new,
                    action="update",
                    channel="system",
                    county_code=county or "",
                    township_code=township or "",
                    before={"code": code},
                    after={"code": new},
                )
            )
    repair_area_codes(apps, entries)
    history.objects.bulk_create(entries, batch_size=2000)


def repair_area_codes(apps, entries):  # type: ignore[no-untyped-def]
    area_model = apps.get_model("households", "Area")
    history = apps.get_model("households", "HistoryEntry")
    codes = set(area_model.objects.values_list("code", flat=True))
    bad = [area for area in area_model.objects.all() if not re.fullmatch(r"[0-9]+", area.code, flags=re.ASCII)]
    path_models = [
        model
        for model in apps.get_app_config("households").get_models()
        if {"county_code", "township_code"} <= {field.name for field in model._meta.get_fields()}
    ]
    for area in bad:
        new = _normalise(area.code)
        if not re.fullmatch(r"[0-9]+", new, flags=re.ASCII) or len(new) != AREA_DIGITS.get(area.level) or new in codes:
            print(f"\n  区划代码 {area.code!r}（id {area.pk}）无法自动修复，请由市级管理员更正。")
            continue
        old = area.code
        codes.add(new)
        area_model.objects.filter(pk=area.pk).update(code=new)
        for model in path_models:
            names = {field.name for field in model._meta.get_fields()}
            for column in ("county_code", "township_code", "village_code"):
                if column in names:
                    model.objects.filter(**{column: old}).update(**{column: new})
        entries.append(
            history(
                entity="area",
                object_id=area.pk,
                object_code=new,
                action="update",
                channel="system",
                before={"code": old},
                after={"code": new},
            )
        )


def create_action_counter(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} START 1")
    else:
        schema_editor.execute(f"CREATE TABLE IF NOT EXISTS {SEQUENCE} (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
        schema_editor.execute(f"INSERT OR IGNORE INTO {SEQUENCE} (id, value) VALUES (1, 0)")


def drop_action_counter(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
    else:
        schema_editor.execute(f"DROP TABLE IF EXISTS {SEQUENCE}")


def _code(label):  # type: ignore[no-untyped-def]
    return models.CharField(
        max_length=40, unique=True, validators=[households.validators.validate_record_code], verbose_name=label
    )


def _past(label, **options):  # type: ignore[no-untyped-def]
    return models.DateField(validators=[households.validators.validate_past_date], verbose_name=label, **options)


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0004_id_fragments_removed"),
    ]

    operations = [
        migrations.AlterField(model_name="followupaction", name="code", field=_code("台账编号")),
        migrations.AlterField(
            model_name="followupaction", name="done_on", field=_past("完成日期", blank=True, null=True)
        ),
        migrations.AlterField(
            model_name="followupaction",
            name="due_on",
            field=models.DateField(
                blank=True, null=True, validators=[households.validators.validate_due_date], verbose_name="期限"
            ),
        ),
        migrations.AlterField(
            model_name="followupaction",
            name="indicator",
            field=models.CharField(
                blank=True,
                max_length=8,
                # Django discards a validator's return value; the stubs type one ``-> None``.
                validators=[households.validators.validate_indicator_code],  # type: ignore[list-item]
                verbose_name="指标代码",
            ),
        ),
        migrations.AlterField(model_name="grievance", name="code", field=_code("事项编号")),
        migrations.AlterField(model_name="grievance", name="received_on", field=_past("受理日期")),
        migrations.AlterField(
            model_name="grievance", name="resolved_on", field=_past("办结日期", blank=True, null=True)
        ),
        migrations.AlterField(model_name="household", name="code", field=_code("户编号")),
        migrations.AlterField(
            model_name="income",
            name="size",
            field=models.PositiveSmallIntegerField(
                validators=[households.validators.validate_household_size], verbose_name="家庭人口数"
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="employment_checked_on",
            field=_past("就业信息更新日期", blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="person", name="trained_on", field=_past("最近培训日期", blank=True, null=True)
        ),
        migrations.AlterField(model_name="site", name="code", field=_code("安置点编码")),
        migrations.RunPython(repair_record_codes, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_action_counter, drop_action_counter, elidable=False),
    ]
