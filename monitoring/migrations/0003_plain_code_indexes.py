"""Area codes: plain indexes without the LIKE copies (``core.plain_indexes``, issue 22)."""

from django.conf import settings
from django.db import migrations, models

from core.plain_indexes import switch_to_plain_indexes

INDEXES = [
    *[
        ("monitoring_publicity", column, f"publicity_{column}")
        for column in ("county_code", "township_code", "village_code")
    ],
    *[("monitoring_case", column, f"case_{column}") for column in ("county_code", "township_code", "village_code")],
]


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_initial"),
        ("households", "0010_plain_code_indexes"),
        ("monitoring", "0002_decisions_to_cases"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="county_code",
                    field=models.CharField(max_length=6, verbose_name="县市区代码"),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="township_code",
                    field=models.CharField(max_length=9, verbose_name="乡镇代码"),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="village_code",
                    field=models.CharField(max_length=12, verbose_name="村社区代码"),
                ),
                migrations.AlterField(
                    model_name="publicity",
                    name="county_code",
                    field=models.CharField(max_length=6, verbose_name="县市区代码"),
                ),
                migrations.AlterField(
                    model_name="publicity",
                    name="township_code",
                    field=models.CharField(max_length=9, verbose_name="乡镇代码"),
                ),
                migrations.AlterField(
                    model_name="publicity",
                    name="village_code",
                    field=models.CharField(max_length=12, verbose_name="村社区代码"),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(fields=["county_code"], name="case_county_code"),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(fields=["township_code"], name="case_township_code"),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(fields=["village_code"], name="case_village_code"),
                ),
                migrations.AddIndex(
                    model_name="publicity",
                    index=models.Index(fields=["county_code"], name="publicity_county_code"),
                ),
                migrations.AddIndex(
                    model_name="publicity",
                    index=models.Index(fields=["township_code"], name="publicity_township_code"),
                ),
                migrations.AddIndex(
                    model_name="publicity",
                    index=models.Index(fields=["village_code"], name="publicity_village_code"),
                ),
            ],
            database_operations=[switch_to_plain_indexes(INDEXES)],
        ),
    ]
