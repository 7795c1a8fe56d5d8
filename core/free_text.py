"""No free text keeps a full ID number or phone number (access.md: they never sit in plain text
anywhere else).

Notes, petition contents and action descriptions are typed by people, and people paste ID numbers
and phone numbers into them; the old village's staff then read a member's full ID in an action
(issue 17 finding 8). Every service and import that writes free text passes it through
``redact_free_text``:

- an 18-character ID number (ASCII or full-width digits) is replaced whole by ``[身份证号已隐去]``.
  Not even the 前6后4 form is kept: beside the person's stored birth date it would rebuild the number;
- a mainland mobile (``13812345678``, ``138 1234 5678``, ``138-1234-5678``) or a landline with its
  area code (``0738-1234567``, ``(0738)1234567``) is masked as the phone field is shown to masked
  roles (``mask_phone``: ``138****5678``). A phone on its own identifies nobody's birth date, so its
  ends may stay, as they do on every page.

Dates (``20261204``), amounts (``13000.00``) and longer digit runs (bank cards) stay as typed.
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

# Not inside a longer run of digits or letters, nor a decimal's other half (``13812345678.50``).
_NOT_BEFORE = r"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])(?<!\d)(?<!\d[.．])"
_NOT_AFTER = r"(?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])(?!\d)(?![.．]\d)"
# A mobile (ASCII or full-width digits): 1[3-9] and 9 more digits, optionally grouped 3-4-4 by spaces or dashes.
MOBILE_IN_TEXT = re.compile(_NOT_BEFORE + r"[1１][3-9３-９]\d(?:[ -]?\d{4}){2}" + _NOT_AFTER)
# A landline with its area code (0 and 2-3 digits, in brackets or before a dash or space): 7-8 digits.
LANDLINE_IN_TEXT = re.compile(
    _NOT_BEFORE
    + r"(?:[(（](?P<bracketed>[0０]\d{2,3})[)）] ?|(?P<area>[0０]\d{2,3})(?P<sep>[ -]?))(?P<local>\d{7,8})"
    + _NOT_AFTER
)
# What the stored-text sweep asks the database for (a superset, ASCII only; Python then decides).
PHONE_SQL = r"1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}|0[0-9]{2,3}[- )）]{0,2}[0-9]{7,8}"


REDACTED = "[身份证号已隐去]"


def mask_phone(phone: str) -> str:
    """``138****5678`` for mobiles; landlines keep their first 3 and last 4 digits likewise. THE
    phone mask: the phone field (``accounts.personal_data``) and free text both use it."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def _masked_mobile(match: re.Match[str]) -> str:
    # As the phone field stores it: the digits alone (the form drops spaces; a mobile has no dash).
    return mask_phone(re.sub(r"[ -]", "", match.group()))


def _masked_landline(match: re.Match[str]) -> str:
    # As the phone field stores it: ``0738-1234567`` when the area code was set apart, else the digits.
    area = match["bracketed"] or match["area"]
    apart = match["bracketed"] or match["sep"]
    return mask_phone(f"{area}-{match['local']}" if apart else f"{area}{match['local']}")


def redact_free_text(text: str) -> str:
    """``text`` with every ID number replaced by ``REDACTED`` and every phone number masked."""
    if not text:
        return text
    text = ID_NUMBER_IN_TEXT.sub(REDACTED, text)
    text = MOBILE_IN_TEXT.sub(_masked_mobile, text)
    return LANDLINE_IN_TEXT.sub(_masked_landline, text)


# The importer's cells (households/importing/cells.py) still call it by its old name.
redact_id_numbers = redact_free_text


def redact_fields(instance: Any, fields: tuple[str, ...]) -> None:
    """Mask the ID and phone numbers in the named text fields of an unsaved record."""
    for name in fields:
        value = getattr(instance, name, "")
        if isinstance(value, str) and value:
            setattr(instance, name, redact_free_text(value))


# The free-text fields of the registry that people type into.
FREE_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "households.Grievance": ("content", "handling"),
    "households.FollowUpAction": ("description", "visit_note", "owner"),
    "households.MonitoringDecision": ("note",),
}
# Every stored text a person typed, for ``manage.py redact_free_text`` (the services and the
# importer pass each of them through ``redact_free_text`` when they write it).
SWEPT_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    **FREE_TEXT_FIELDS,
    "households.TransferRequest": ("reason", "decision_note"),
    "monitoring.CaseStep": ("note",),
    "monitoring.Objection": ("text",),
    "signoff.SignoffStep": ("note",),
}


@transaction.atomic
def redact_stored_free_text(apps: Apps = django_apps, texts: dict[str, tuple[str, ...]] | None = None) -> int:
    """Sweep the stored texts once (migration 0006 and ``manage.py redact_free_text``): only rows the
    database finds with an 18-digit run or a phone-like run are read and rewritten. Returns the
    number of rows changed.

    ``apps``: a migration passes its historical registry; ``texts`` defaults to the registry's
    ``FREE_TEXT_FIELDS`` (what migration 0006 knew), the command passes ``SWEPT_TEXT_FIELDS``."""
    changed = 0
    for label, fields in (texts or FREE_TEXT_FIELDS).items():
        model = apps.get_model(label)
        suspects = Q()
        for name in fields:
            suspects |= Q(**{f"{name}__regex": ID_NUMBER_SQL}) | Q(**{f"{name}__regex": PHONE_SQL})
        rows = []
        for record in model.objects.filter(suspects).only("pk", *fields):
            before = [getattr(record, name) for name in fields]
            redact_fields(record, fields)
            if before != [getattr(record, name) for name in fields]:
                rows.append(record)
        model.objects.bulk_update(rows, list(fields), batch_size=1000)
        changed += len(rows)
    return changed


__all__ = [
    "FREE_TEXT_FIELDS",
    "REDACTED",
    "SWEPT_TEXT_FIELDS",
    "mask_phone",
    "redact_fields",
    "redact_free_text",
    "redact_id_numbers",
    "redact_stored_free_text",
]
