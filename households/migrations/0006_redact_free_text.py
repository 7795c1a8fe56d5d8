"""Drop the ID numbers people pasted into notes, petition contents and action texts before the
services and imports began to (issue 17 finding 8). Rows without an 18-digit run are not read."""

from django.db import migrations

from core.free_text import redact_stored_free_text


def redact(apps, schema_editor):  # noqa: ANN001 - migration signature
    redact_stored_free_text(apps)


class Migration(migrations.Migration):
    dependencies = [("households", "0005_codes_whitelist")]

    operations = [migrations.RunPython(redact, migrations.RunPython.noop)]
