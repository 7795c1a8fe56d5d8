"""Load the catalogue of indicators.md (data migration; re-loadable with ``catalogue_load``)."""

from django.db import migrations


def load(apps, schema_editor):
    from indicators.catalogue import catalogue_load

    catalogue_load(apps.get_model("indicators", "Measure"), apps.get_model("indicators", "Indicator"))


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0002_dimension_weight_published_scope"),
    ]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
