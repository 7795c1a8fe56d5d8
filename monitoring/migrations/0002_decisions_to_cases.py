"""The one-click monitoring decisions made before issue 21 become closed cases: 纳入监测 → 已纳入监测,
核实排除 → 已核实排除, each with one 县级审定 step carrying the decision's date, user and note."""

import datetime

from django.db import migrations


def forwards(apps, schema_editor):
    Decision = apps.get_model("households", "MonitoringDecision")
    Case = apps.get_model("monitoring", "Case")
    CaseStep = apps.get_model("monitoring", "CaseStep")
    taken = set(Case.objects.exclude(decision=None).values_list("decision_id", flat=True))
    for decision in Decision.objects.order_by("pk").iterator(chunk_size=2000):
        if decision.pk in taken:
            continue
        case = Case.objects.create(
            household_id=decision.household_id,
            source="部门预警",
            category=decision.category,
            state="已纳入监测" if decision.decision == "纳入监测" else "已核实排除",
            opened_on=decision.decided_on,
            visit_due_on=decision.decided_on,
            due_on=decision.decided_on,
            closed_on=decision.decided_on,
            decision_id=decision.pk,
            opened_by_id=decision.decided_by_id,
            county_code=decision.county_code,
            township_code=decision.township_code,
            village_code=decision.village_code,
        )
        at = decision.created_at or datetime.datetime.combine(decision.decided_on, datetime.time(12), datetime.UTC)
        CaseStep.objects.create(
            case=case, step="县级审定", action="done", user_id=decision.decided_by_id, at=at, note=decision.note
        )


def backwards(apps, schema_editor):
    apps.get_model("monitoring", "Case").objects.exclude(decision=None).filter(
        state__in=["已纳入监测", "已核实排除"], publicity=None
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_initial"),
        ("households", "0008_events"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
