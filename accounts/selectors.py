"""Reads about users and their use of personal data."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from accounts.models import PersonalDataAccess, Role, User

# The access-log entity of an ID number an import reported as registered outside the user's area.
IMPORT_ENTITY = "区外身份证号（导入）"
IMPORT_WINDOW = datetime.timedelta(hours=24)


@dataclass(frozen=True)
class ProbeFlag:
    user: User
    count: int
    last_at: datetime.datetime


def id_probe_flags(*, actor: User | None) -> list[ProbeFlag]:
    """Users who, in the last 24 hours, had imports report at least ``IMPORT_FOREIGN_ID_FLAG`` ID numbers
    registered outside their area: the city administrator's notice (two queries). Empty for anyone else."""
    if actor is None or not (actor.is_superuser or actor.role == Role.CITY_ADMIN):
        return []
    rows = (
        PersonalDataAccess.objects.filter(entity=IMPORT_ENTITY, at__gte=timezone.now() - IMPORT_WINDOW)
        .values("user_id")
        .annotate(count=Count("id"), last_at=Max("at"))
        .filter(count__gte=settings.IMPORT_FOREIGN_ID_FLAG)
        .order_by("-count", "user_id")
    )
    counts: dict[int, Any] = {row["user_id"]: row for row in rows}
    users = User.objects.in_bulk(list(counts))
    return [ProbeFlag(users[pk], counts[pk]["count"], counts[pk]["last_at"]) for pk in counts if pk in users]
