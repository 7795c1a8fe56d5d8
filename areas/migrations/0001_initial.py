"""Area moves from households to its own app with its table (households_area): state only."""

import django.db.models.deletion
from django.db import migrations, models


def content_type_moved(apps, schema_editor):
    """The content type (and so the permissions and admin log entries) follows the model."""
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="areas", model="area").exists():
        content_type.objects.filter(app_label="households", model="area").update(app_label="areas")


def content_type_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="areas", model="area").update(app_label="households")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('households', '0006_redact_free_text'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                    migrations.CreateModel(
                    name='Area',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=12, unique=True, verbose_name='区划代码')),
                        ('name', models.CharField(max_length=100, verbose_name='名称')),
                        ('level', models.CharField(choices=[('市', '市'), ('县', '县'), ('乡镇', '乡镇'), ('村', '村')], max_length=4, verbose_name='级别')),
                        ('has_industrial_park', models.BooleanField(default=False, verbose_name='后扶产业园')),
                        ('county_code', models.CharField(blank=True, db_index=True, max_length=6)),
                        ('township_code', models.CharField(blank=True, db_index=True, max_length=9)),
                        ('is_demo', models.BooleanField(default=False, verbose_name='演示数据')),
                        ('parent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='children', to='areas.area', verbose_name='上级')),
                    ],
                    options={
                        'verbose_name': '区划',
                        'verbose_name_plural': '区划',
                        'db_table': 'households_area',
                        'ordering': ['code'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_moved, content_type_back),
    ]
