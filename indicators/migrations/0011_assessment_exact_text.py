"""Exact assessment fractions as text: the sum of many p/q outgrew 80 characters on PostgreSQL."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0010_assessment_report_files"),
    ]

    operations = [
        migrations.AlterField(
            model_name="assessmentresult",
            name="applicable_exact",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="assessmentresult",
            name="base_exact",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="assessmentresult",
            name="bonus_exact",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="assessmentresult",
            name="earned_exact",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="assessmentresult",
            name="total_exact",
            field=models.TextField(blank=True),
        ),
    ]
