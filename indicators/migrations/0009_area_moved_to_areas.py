"""Values and county finance now name areas.Area; the columns are untouched (state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0008_value_area_brin"),
        ("areas", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="countyfinance",
                    name="county",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="areas.area",
                        verbose_name="县市区",
                    ),
                ),
                migrations.AlterField(
                    model_name="indicatorvalue",
                    name="area",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="areas.area",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
