"""Area codes and blind indexes: plain indexes without the LIKE copies (``core.plain_indexes``).

And the history's ``user`` and ``import_job`` keep their index but lose the database constraint,
checked once per history row on PostgreSQL (see ``HistoryEntry``); both issue 22.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.plain_indexes import switch_to_plain_indexes

AREA = ("county_code", "township_code", "village_code")

# (table, column, new index name): the state operations below, spelled out for the database side.
INDEXES = [
    (f"households_{model}", column, f"{prefix}_{column}")
    for model, prefix, columns in [
        ("site", "site", AREA),
        ("household", "household", (*AREA, "head_id_hash")),
        ("person", "person", (*AREA, "id_number_hash")),
        ("grievance", "grievance", AREA),
        ("followupaction", "followup", AREA),
        ("monitoringdecision", "decision", AREA),
        ("transferrequest", "transfer", AREA),
        ("historyentry", "history", ("county_code", "township_code")),
    ]
    for column in columns
]


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_initial"),
        ("households", "0009_changefeed_places"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="followupaction",
                    name="county_code",
                    field=models.CharField(max_length=6, verbose_name="县市区代码"),
                ),
                migrations.AlterField(
                    model_name="followupaction",
                    name="township_code",
                    field=models.CharField(max_length=9, verbose_name="乡镇代码"),
                ),
                migrations.AlterField(
                    model_name="followupaction",
                    name="village_code",
                    field=models.CharField(max_length=12, verbose_name="村社区代码"),
                ),
                migrations.AlterField(
                    model_name="grievance",
                    name="county_code",
                    field=models.CharField(max_length=6, verbose_name="县市区代码"),
                ),
                migrations.AlterField(
                    model_name="grievance",
                    name="township_code",
                    field=models.CharField(max_length=9, verbose_name="乡镇代码"),
                ),
                migrations.AlterField(
                    model_name="grievance",
                    name="village_code",
                    field=models.CharField(max_length=12, verbose_name="村社区代码"),
                ),
                migrations.AlterField(
                    model_name="historyentry",
                    name="county_code",
                    field=models.CharField(blank=True, max_length=6),
                ),
                migrations.AlterField(
                    model_name="historyentry",
                    name="township_code",
                    field=models.CharField(blank=True, max_length=9),
                ),
                migrations.AlterField(
                    model_name="household",
                    name="county_code",
                    field=models.CharField(max_length=6, verbose_name="县市区代码"),
                ),
                migrations.AlterField(
                    model_name="household",
                    name="head_id_hash",
                    field=models.CharField(blank=True, max_length=64),
                ),
                migrations.AlterField(
                    model_name="household",
                    name="township_code",
                    field=models.CharField(max_length=9, verbose_name="乡镇代码"),
                ),
                migrations.AlterField(
                    model_name="household",
                    name="village_code",
                    field=models.CharField(max_length=12, verbose_name="村社区代码"),
                ),
                migrations.AlterField(
                    model_name="monitoringdecision",
                    name="county_code",
                    field=models.CharField(max_length=6, verbose_name="县市区代码"),
                ),
                migrations.AlterField(
                    model_name="monitoringdecision",
                    name="township_code",
                    field=models.CharField(max_length=9, verbose_name="乡镇代码"),
                ),
                migrations.AlterField(
                    model_name="monitoringdecision",
                    name="village_code",
                    field=models.CharField(max_length=12, verbose_name="村社区代码"),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="county_code",
                    field=models.CharField(max_length=6, verbose_name="县市区代码"),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="id_number_hash",
                    field=models.CharField(max_length=64),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="township_code",
                    field=models.CharField(max_length=9, verbose_name="乡镇代码"),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="village_code",
                    field=models.CharField(max_length=12, verbose_name="村社区代码"),
                ),
                migrations.AlterField(
                    model_name="site",
                    name="county_code",
                    field=models.CharField(max_length=6, verbose_name="县市区代码"),
                ),
                migrations.AlterField(
                    model_name="site",
                    name="township_code",
                    field=models.CharField(max_length=9, verbose_name="乡镇代码"),
                ),
                migrations.AlterField(
                    model_name="site",
                    name="village_code",
                    field=models.CharField(max_length=12, verbose_name="村社区代码"),
                ),
                migrations.AlterField(
                    model_name="transferrequest",
                    name="county_code",
                    field=models.CharField(max_length=6, verbose_name="县市区代码"),
                ),
                migrations.AlterField(
                    model_name="transferrequest",
                    name="township_code",
                    field=models.CharField(max_length=9, verbose_name="乡镇代码"),
                ),
                migrations.AlterField(
                    model_name="transferrequest",
                    name="village_code",
                    field=models.CharField(max_length=12, verbose_name="村社区代码"),
                ),
                migrations.AddIndex(
                    model_name="followupaction",
                    index=models.Index(fields=["county_code"], name="followup_county_code"),
                ),
                migrations.AddIndex(
                    model_name="followupaction",
                    index=models.Index(fields=["township_code"], name="followup_township_code"),
                ),
                migrations.AddIndex(
                    model_name="followupaction",
                    index=models.Index(fields=["village_code"], name="followup_village_code"),
                ),
                migrations.AddIndex(
                    model_name="grievance",
                    index=models.Index(fields=["county_code"], name="grievance_county_code"),
                ),
                migrations.AddIndex(
                    model_name="grievance",
                    index=models.Index(fields=["township_code"], name="grievance_township_code"),
                ),
                migrations.AddIndex(
                    model_name="grievance",
                    index=models.Index(fields=["village_code"], name="grievance_village_code"),
                ),
                migrations.AddIndex(
                    model_name="historyentry",
                    index=models.Index(fields=["county_code"], name="history_county_code"),
                ),
                migrations.AddIndex(
                    model_name="historyentry",
                    index=models.Index(fields=["township_code"], name="history_township_code"),
                ),
                migrations.AddIndex(
                    model_name="household",
                    index=models.Index(fields=["county_code"], name="household_county_code"),
                ),
                migrations.AddIndex(
                    model_name="household",
                    index=models.Index(fields=["township_code"], name="household_township_code"),
                ),
                migrations.AddIndex(
                    model_name="household",
                    index=models.Index(fields=["village_code"], name="household_village_code"),
                ),
                migrations.AddIndex(
                    model_name="household",
                    index=models.Index(fields=["head_id_hash"], name="household_head_id_hash"),
                ),
                migrations.AddIndex(
                    model_name="monitoringdecision",
                    index=models.Index(fields=["county_code"], name="decision_county_code"),
                ),
                migrations.AddIndex(
                    model_name="monitoringdecision",
                    index=models.Index(fields=["township_code"], name="decision_township_code"),
                ),
                migrations.AddIndex(
                    model_name="monitoringdecision",
                    index=models.Index(fields=["village_code"], name="decision_village_code"),
                ),
                migrations.AddIndex(
                    model_name="person",
                    index=models.Index(fields=["county_code"], name="person_county_code"),
                ),
                migrations.AddIndex(
                    model_name="person",
                    index=models.Index(fields=["township_code"], name="person_township_code"),
                ),
                migrations.AddIndex(
                    model_name="person",
                    index=models.Index(fields=["village_code"], name="person_village_code"),
                ),
                migrations.AddIndex(
                    model_name="person",
                    index=models.Index(fields=["id_number_hash"], name="person_id_number_hash"),
                ),
                migrations.AddIndex(
                    model_name="site",
                    index=models.Index(fields=["county_code"], name="site_county_code"),
                ),
                migrations.AddIndex(
                    model_name="site",
                    index=models.Index(fields=["township_code"], name="site_township_code"),
                ),
                migrations.AddIndex(
                    model_name="site",
                    index=models.Index(fields=["village_code"], name="site_village_code"),
                ),
                migrations.AddIndex(
                    model_name="transferrequest",
                    index=models.Index(fields=["county_code"], name="transfer_county_code"),
                ),
                migrations.AddIndex(
                    model_name="transferrequest",
                    index=models.Index(fields=["township_code"], name="transfer_township_code"),
                ),
                migrations.AddIndex(
                    model_name="transferrequest",
                    index=models.Index(fields=["village_code"], name="transfer_village_code"),
                ),
            ],
            database_operations=[switch_to_plain_indexes(INDEXES)],
        ),
        migrations.AlterField(
            model_name="historyentry",
            name="import_job",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="households.importjob",
            ),
        ),
        migrations.AlterField(
            model_name="historyentry",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
