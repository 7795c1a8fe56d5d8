"""Area codes: plain indexes without the LIKE copies (``core.plain_indexes``, issue 22)."""

from django.db import migrations, models

from core.plain_indexes import switch_to_plain_indexes

INDEXES = [
    *[
        ("signoff_villagemonth", column, f"villagemonth_{column}")
        for column in ("county_code", "township_code", "village_code")
    ],
]


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_initial"),
        ("signoff", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="villagemonth",
                    name="county_code",
                    field=models.CharField(max_length=6, verbose_name="县市区代码"),
                ),
                migrations.AlterField(
                    model_name="villagemonth",
                    name="township_code",
                    field=models.CharField(max_length=9, verbose_name="乡镇代码"),
                ),
                migrations.AlterField(
                    model_name="villagemonth",
                    name="village_code",
                    field=models.CharField(max_length=12, verbose_name="村社区代码"),
                ),
                migrations.AddIndex(
                    model_name="villagemonth",
                    index=models.Index(fields=["county_code"], name="villagemonth_county_code"),
                ),
                migrations.AddIndex(
                    model_name="villagemonth",
                    index=models.Index(fields=["township_code"], name="villagemonth_township_code"),
                ),
                migrations.AddIndex(
                    model_name="villagemonth",
                    index=models.Index(fields=["village_code"], name="villagemonth_village_code"),
                ),
            ],
            database_operations=[switch_to_plain_indexes(INDEXES)],
        ),
    ]
