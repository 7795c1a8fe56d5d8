"""Issue 20's household events: the date and reason of a cancelled household or person, and the
township's transfer requests that the county official decides.

Adding the person columns makes SQLite rebuild ``households_person``, which drops its member-count
triggers (0003): they are dropped before and created again after, from 0003's own statements (PostgreSQL keeps them).
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import households.validators

MEMBER_COUNTS = importlib.import_module("households.migrations.0003_household_member_counts")


def _drop_sqlite_triggers(schema_editor) -> None:  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        for statement in MEMBER_COUNTS.SQLITE_REVERSE:
            cursor.execute(statement.replace("DROP TRIGGER", "DROP TRIGGER IF EXISTS"))


def _create_sqlite_triggers(schema_editor) -> None:  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(MEMBER_COUNTS.BACKFILL)
        for statement in MEMBER_COUNTS.SQLITE:
            cursor.execute(statement)


def drop_sqlite_triggers(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """The rebuilds below rename the household and person tables, which SQLite refuses while a
    trigger names them."""
    if schema_editor.connection.vendor == "sqlite":
        _drop_sqlite_triggers(schema_editor)


def create_sqlite_triggers(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        _drop_sqlite_triggers(schema_editor)
        _create_sqlite_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_initial"),
        ("households", "0007_area_moved_to_areas"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers),
        migrations.AddField(
            model_name="household",
            name="cancel_reason",
            field=models.CharField(
                blank=True,
                choices=[("迁出", "迁出"), ("自然消亡", "自然消亡")],
                default="",
                max_length=4,
                verbose_name="注销原因",
            ),
        ),
        migrations.AddField(
            model_name="household",
            name="cancelled_on",
            field=models.DateField(
                blank=True, null=True, validators=[households.validators.validate_past_date], verbose_name="注销日期"
            ),
        ),
        migrations.AddField(
            model_name="person",
            name="cancel_reason",
            field=models.CharField(
                blank=True,
                choices=[("死亡", "死亡"), ("迁出", "迁出"), ("其他", "其他")],
                default="",
                max_length=4,
                verbose_name="注销原因",
            ),
        ),
        migrations.AddField(
            model_name="person",
            name="cancelled_on",
            field=models.DateField(
                blank=True, null=True, validators=[households.validators.validate_past_date], verbose_name="注销日期"
            ),
        ),
        migrations.CreateModel(
            name="TransferRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("county_code", models.CharField(db_index=True, max_length=6, verbose_name="县市区代码")),
                ("township_code", models.CharField(db_index=True, max_length=9, verbose_name="乡镇代码")),
                ("village_code", models.CharField(db_index=True, max_length=12, verbose_name="村社区代码")),
                ("reason", models.TextField(verbose_name="申请理由")),
                (
                    "status",
                    models.CharField(
                        choices=[("待审批", "待审批"), ("已批准", "已批准"), ("已驳回", "已驳回")],
                        default="待审批",
                        max_length=4,
                        verbose_name="审批状态",
                    ),
                ),
                ("requested_at", models.DateTimeField(auto_now_add=True, verbose_name="申请时间")),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="审批时间")),
                ("decision_note", models.TextField(blank=True, verbose_name="审批意见")),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="审批人",
                    ),
                ),
                (
                    "household",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transfer_requests",
                        to="households.household",
                        verbose_name="户",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="申请人",
                    ),
                ),
                (
                    "target_village",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="areas.area",
                        verbose_name="迁入村（社区）",
                    ),
                ),
            ],
            options={
                "verbose_name": "迁移申请",
                "verbose_name_plural": "迁移申请",
                "ordering": ["-requested_at", "-id"],
                "indexes": [models.Index(fields=["county_code", "status"], name="households__county__1243f6_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "待审批")),
                        fields=("household",),
                        name="transfer_request_one_pending",
                        violation_error_message="该户已有待审批的迁移申请。",
                    )
                ],
            },
        ),
        migrations.RunPython(create_sqlite_triggers, drop_sqlite_triggers),
    ]
