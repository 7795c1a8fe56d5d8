"""Change history for every write path (data.md, History).

Services call ``history_record`` for single writes and ``history_record_many`` for batches
(imports, bulk updates), so bulk writes are never missed. Snapshots hold no ID number, not even a
masked one (beside the birth date it rebuilt the ID, issue 17): only that it was set or changed.
"""

import datetime
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, cast

from django.db import models, transaction

from accounts.models import User
from households.choices import Channel
from households.models import MEMBER_COUNT_FIELDS, ChangeFeed, HistoryEntry, ImportJob

# Fields never copied into a snapshot: ciphertexts and blind indexes (the phone's masked form is kept).
SECRET_FIELDS = frozenset(
    {
        "id_number_hash",
        "id_number_encrypted",
        "head_id_hash",
        "head_id_encrypted",
        "phone_encrypted",
        "updated_at",
        "created_at",
        "import_digest",  # the import's row fingerprint: not user data (households.importing)
    }
)


# Blind indexes that stand for an ID number in a snapshot: compared while diffing, then stored only
# as ID_CHANGED ("set or changed"), never as the number or a fragment of it.
ID_KEYS = {"id_number_hash": "id_number", "head_id_hash": "head_id"}
ID_CHANGED = "已变更"


def redact_ids(data: dict[str, Any]) -> dict[str, Any]:
    """A snapshot as stored: ID keys say only whether a number was there (and so changed)."""
    return {key: (ID_CHANGED if value else "") if key in ID_KEYS.values() else value for key, value in data.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return getattr(value, "code", value.pk)
    return value


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Field values of a record as JSON-friendly data; foreign keys as the related record's code."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in ID_KEYS:
            data[ID_KEYS[field.name]] = getattr(instance, field.attname)
            continue
        if field.name in SECRET_FIELDS or field.name in MEMBER_COUNT_FIELDS or field.primary_key:
            continue
        if isinstance(field, models.ForeignKey):
            data[field.name] = getattr(instance, f"{field.name}_id")
        else:
            data[field.name] = _plain(getattr(instance, field.attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, before and after."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def build_entry(
    *,
    instance: models.Model,
    action: str,
    channel: str,
    user: User | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    import_job: ImportJob | None = None,
) -> HistoryEntry:
    return HistoryEntry(
        # Set on every model class by its metaclass (``None`` only before the class is built).
        entity=cast(str, instance._meta.model_name),
        object_id=instance.pk,
        object_code=str(getattr(instance, "code", "") or ""),
        action=action,
        channel=channel,
        user=user if getattr(user, "pk", None) else None,
        import_job=import_job,
        county_code=getattr(instance, "county_code", "") or "",
        township_code=getattr(instance, "township_code", "") or "",
        before=redact_ids(before or {}),
        after=redact_ids(after or {}),
    )


def history_record(**kwargs: Any) -> HistoryEntry:
    entry = build_entry(**kwargs)
    entry.save()
    return entry


def history_record_many(entries: Iterable[HistoryEntry], *, batch_size: int = 2000) -> None:
    HistoryEntry.objects.bulk_create(entries, batch_size=batch_size)


# Called once after the commit of a transaction that added change-feed rows. The indicator engine
# registers its "queue a recompute" here (indicators/apps.py), so households never imports it.
CHANGE_LISTENERS: list[Callable[[], None]] = []


def _notify_listeners() -> None:
    for listener in CHANGE_LISTENERS:
        listener()


Place = tuple[int | None, int | None]  # a record's (village id, site id)


def changefeed_add(
    *,
    family: str = ChangeFeed.Family.RECORDS,
    data_year: int | None = None,
    places: Iterable[Place] | None = None,
) -> None:
    """Tell the indicator engine, inside the caller's transaction, that its inputs changed.

    ``places``: the (village, site) of every record the write touched, before and after it (a
    transfer names both villages); the engine then recomputes only those units and their ancestors.
    Without them it recomputes everything. The row is the durable record (a sweep catches it even if
    the broker is down); the on-commit notification only makes the recompute start sooner.
    """
    villages: list[int] | None = None
    sites: list[int] | None = None
    if places is not None:
        found = list(places)
        villages = sorted({village for village, _site in found if village is not None})
        sites = sorted({site for _village, site in found if site is not None})
    ChangeFeed.objects.create(family=family, data_year=data_year, villages=villages, sites=sites)
    connection = transaction.get_connection()
    if not any(entry[1] is _notify_listeners for entry in connection.run_on_commit):
        transaction.on_commit(_notify_listeners, robust=True)  # once per transaction, however many rows


__all__ = [
    "Channel",
    "ID_CHANGED",
    "ID_KEYS",
    "redact_ids",
    "snapshot",
    "diff",
    "build_entry",
    "history_record",
    "history_record_many",
    "changefeed_add",
]
