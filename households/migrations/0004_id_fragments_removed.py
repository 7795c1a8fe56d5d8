"""No fragment of an ID number at rest (issue 17, findings 2-3; access.md, Personal data).

``id_number_masked`` / ``head_id_masked`` (first 6 + last 4) beside ``birth_date`` rebuilt every ID:
the columns go, and pages derive the masked form from the ciphertext. History snapshots that copied
them now only record that the ID was set or changed; ID fragments and full IDs left in history
values, import error rows, the unmask log's labels and the admin's log are blanked the same way.
"""

import re

from django.db import migrations

# Kept literally here: a migration must not import code that later changes.
ID_CHANGED = "已变更"
FULLY_MASKED = "*" * 18
ID_KEYS = {"id_number_masked": "id_number", "head_id_masked": "head_id"}
# A masked ID keeping digits at either end (``431302********1234``), and a full 18-character ID
# (checked by its birth date and check digit, so a long household code is not mistaken for one).
FRAGMENT = re.compile(r"(?<![0-9A-Za-z*])\d{0,6}\*{6,}[\dXx]{0,4}(?![0-9A-Za-z*])")
FULL_ID = re.compile(
    r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CODE_KEYS = frozenset({"code", "household", "site", "village", "origin", "indicator"})
BATCH = 2000


def _full_id(match):  # type: ignore[no-untyped-def]
    text = match.group(0)
    check = "10X98765432"[sum(int(digit) * weight for digit, weight in zip(text, WEIGHTS, strict=False)) % 11]
    return FULLY_MASKED if text[-1].upper() == check else text


def scrub_text(value):  # type: ignore[no-untyped-def]
    """Any ID or ID fragment inside a string (or nested JSON) replaced by asterisks."""
    if isinstance(value, str):
        return FULL_ID.sub(_full_id, FRAGMENT.sub(FULLY_MASKED, value))
    if isinstance(value, list):
        return [scrub_text(item) for item in value]
    if isinstance(value, dict):
        return {key: scrub_text(item) for key, item in value.items()}
    return value


def scrub_snapshot(data):  # type: ignore[no-untyped-def]
    """A history snapshot without ID fragments: the masked keys become an "ID changed" marker."""
    if not isinstance(data, dict):
        return data
    cleaned = {}
    for key, value in data.items():
        if key in ID_KEYS:
            cleaned[ID_KEYS[key]] = ID_CHANGED if value else ""
        elif key in CODE_KEYS:
            cleaned[key] = value
        else:
            cleaned[key] = scrub_text(value)
    return cleaned


def scrub_code(value):  # type: ignore[no-untyped-def]
    """An entry's code that was a masked ID (imported persons) becomes empty."""
    return "" if FRAGMENT.fullmatch(value or "") else value


def _rewrite(model, cleaners) -> None:  # type: ignore[no-untyped-def]
    fields = list(cleaners)
    changed = []
    for row in model.objects.only("pk", *fields).order_by("pk").iterator(chunk_size=BATCH):
        dirty = False
        for name, clean in cleaners.items():
            old = getattr(row, name)
            new = clean(old)
            if new != old:
                setattr(row, name, new)
                dirty = True
        if dirty:
            changed.append(row)
        if len(changed) >= BATCH:
            model.objects.bulk_update(changed, fields)
            changed = []
    if changed:
        model.objects.bulk_update(changed, fields)


def scrub(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    history = {"before": scrub_snapshot, "after": scrub_snapshot, "object_code": scrub_code}
    _rewrite(apps.get_model("households", "HistoryEntry"), history)
    _rewrite(apps.get_model("households", "ImportJob"), {"errors": scrub_text, "warnings": scrub_text})
    _rewrite(apps.get_model("accounts", "PersonalDataAccess"), {"object_label": scrub_text})
    # The admin's log kept ``str(person)``, which carried the masked ID.
    _rewrite(apps.get_model("admin", "LogEntry"), {"object_repr": scrub_text, "change_message": scrub_text})


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0003_household_member_counts"),
        ("accounts", "0003_personal_data_access"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        # Rewrite first: irreversible, the fragments are not put back on the way down.
        migrations.RunPython(scrub, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="person", name="id_number_masked"),
        migrations.RemoveField(model_name="household", name="head_id_masked"),
    ]
