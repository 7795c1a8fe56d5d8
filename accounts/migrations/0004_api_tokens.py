"""API tokens kept as a hash, with expiry and revocation (issue 17, finding 5).

The tokens of ``rest_framework.authtoken`` (plain keys that never expired, handed out without the
second factor) are revoked, not carried over: their table is dropped with its keys, and their
owners ask for a new token (``POST /api/v1/auth/token/``, with the TOTP code if they bound a device).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.migrations.recorder import MigrationRecorder

OLD_TABLE = "authtoken_token"


def drop_plain_tokens(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Drop the old plain-key table, if this database has it, and forget its migrations (so the app
    could be installed again cleanly)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if OLD_TABLE in tables:
        schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(OLD_TABLE)}")
    MigrationRecorder(connection).migration_qs.filter(app="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_personal_data_access")]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, verbose_name="名称")),
                ("key_hash", models.CharField(max_length=64, unique=True, verbose_name="令牌摘要")),
                ("prefix", models.CharField(max_length=8, verbose_name="令牌前缀")),
                ("created", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("expires", models.DateTimeField(verbose_name="到期时间")),
                ("last_used", models.DateTimeField(blank=True, null=True, verbose_name="最近使用")),
                ("revoked", models.DateTimeField(blank=True, null=True, verbose_name="撤销时间")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="用户",
                    ),
                ),
            ],
            options={"verbose_name": "API 令牌", "verbose_name_plural": "API 令牌", "ordering": ["-created", "-id"]},
        ),
        migrations.RunPython(drop_plain_tokens, migrations.RunPython.noop, elidable=True),
    ]
