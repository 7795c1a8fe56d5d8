"""The registry's references now name areas.Area; the table is untouched (state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0006_redact_free_text"),
        ("areas", "0001_initial"),
        # Every migration that still names households.Area runs before its state is removed.
        ("accounts", "0005_area_moved_to_areas"),
        ("indicators", "0009_area_moved_to_areas"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="household",
                    name="origin",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="areas.area",
                        verbose_name="迁出地",
                    ),
                ),
                migrations.AlterField(
                    model_name="site",
                    name="village",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sites",
                        to="areas.area",
                        verbose_name="所在村社区",
                    ),
                ),
                migrations.AlterField(
                    model_name="household",
                    name="village",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="households",
                        to="areas.area",
                        verbose_name="现居村社区",
                    ),
                ),
                migrations.AlterField(
                    model_name="grievance",
                    name="village",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="areas.area",
                        verbose_name="所在村社区",
                    ),
                ),
                migrations.DeleteModel(
                    name="Area",
                ),
            ],
            database_operations=[],
        ),
    ]
