from django.db import migrations

# Issue 21's defaults, in working days; the administrator edits them afterwards. Written out here
# rather than imported from the models, so later edits to the defaults do not rewrite history.
DEFAULTS = {
    "home_visit": (2, "入户核实：参照安徽省 2 个工作日"),
    "identification": (15, "监测对象识别全程：国家要求 15 个工作日内完成"),
    "publicity": (5, "村级公示不少于 5 个工作日"),
    "township_review": (5, "乡镇初审：村提交后 5 个工作日"),
    "county_review": (5, "县级审定：乡镇初审后 5 个工作日"),
}


def add_defaults(apps, schema_editor):
    Deadline = apps.get_model("deadlines", "Deadline")
    for step, (days, note) in DEFAULTS.items():
        Deadline.objects.get_or_create(step=step, defaults={"working_days": days, "note": note})


class Migration(migrations.Migration):
    dependencies = [("deadlines", "0001_initial")]
    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
