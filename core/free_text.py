"""No free text keeps a full ID number (access.md: ID numbers never sit in plain text anywhere else).

Notes, petition contents and action descriptions are typed by people, and people paste ID numbers
into them; the old village's staff then read a member's full ID in an action (issue 17 finding 8).
Every service and import that writes free text passes it through ``redact_id_numbers``: an
18-character ID number (ASCII or full-width digits) is replaced whole by ``[身份证号已隐去]``. Not
even the 前6后4 form is kept: beside the person's stored birth date it would rebuild the number.
"""

import re
from typing import Any

from django.apps import apps as django_apps
from django.apps.registry import Apps
from django.db import transaction
from django.db.models import Q

# 17 digits and a digit or X, not inside a longer run of letters or digits. ``\d`` matches every
# Unicode decimal digit, so full-width and Arabic-Indic look-alikes are caught too.
ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])\d{17}[\dXxＸｘ](?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])")
# The same shape for the database's regex lookup (ASCII only: what a sweep can find set-based).
ID_NUMBER_SQL = r"[0-9]{17}[0-9Xx]"


REDACTED = "[身份证号已隐去]"


def redact_id_numbers(text: str) -> str:
    """``text`` with every ID number in it replaced by ``REDACTED``."""
    if not text:
        return text
    return ID_NUMBER_IN_TEXT.sub(REDACTED, text)


def redact_fields(instance: Any, fields: tuple[str, ...]) -> None:
    """Mask the ID numbers in the named text fields of an unsaved record."""
    for name in fields:
        value = getattr(instance, name, "")
        if isinstance(value, str) and value:
            setattr(instance, name, redact_id_numbers(value))


# The free-text fields of the registry that people type into.
FREE_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "households.Grievance": ("content", "handling"),
    "households.FollowUpAction": ("description", "visit_note", "owner"),
    "households.MonitoringDecision": ("note",),
}


@transaction.atomic
def redact_stored_free_text(apps: Apps = django_apps) -> int:
    """Sweep the stored texts once (migration 0006 and ``manage.py redact_free_text``): only rows the
    database finds with an 18-digit run are read and rewritten. Returns the number of rows changed.

    ``apps``: a migration passes its historical registry."""
    changed = 0
    for label, fields in FREE_TEXT_FIELDS.items():
        model = apps.get_model(label)
        suspects = Q()
        for name in fields:
            suspects |= Q(**{f"{name}__regex": ID_NUMBER_SQL})
        rows = []
        for record in model.objects.filter(suspects).only("pk", *fields):
            before = [getattr(record, name) for name in fields]
            redact_fields(record, fields)
            if before != [getattr(record, name) for name in fields]:
                rows.append(record)
        model.objects.bulk_update(rows, list(fields), batch_size=1000)
        changed += len(rows)
    return changed


__all__ = ["FREE_TEXT_FIELDS", "REDACTED", "redact_fields", "redact_id_numbers", "redact_stored_free_text"]
