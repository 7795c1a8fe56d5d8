"""Lookups that could confirm a full ID number (issue 17, findings 4 and 12).

A masked role knows ``431322********9467`` and the age; the hidden digits are a birth date and a
check digit, so a few dozen candidates cover them. Any answer that differs between "this number
exists" and "it does not" rebuilds the number. So:

* a search by full ID number (household list, API filter, an action's member) is answered only for
  roles that see ID numbers (village and township staff, whose search is scoped to their village or
  township) and for users holding the "view personal data" permission (who could unmask the record
  anyway). Other roles get the same refusal whether or not the number exists;
* every full-ID search is logged like an unmask (``PersonalDataAccess``, entity ``身份证号查询``) and
  counted: above ``ID_SEARCH_PER_HOUR`` per user the search is refused;
* an import that reports an ID number registered outside the user's area (the neutral message of
  access.md) logs one row per reported person (entity ``区外身份证号（导入）``); above
  ``IMPORT_FOREIGN_ID_LIMIT`` per user and day the file is refused as a whole without saying which
  numbers exist, and from ``IMPORT_FOREIGN_ID_FLAG`` on the user is listed to the city administrator.

The counters are the log rows themselves: one table, shared by the web server and the worker, and
the record an auditor reads is exactly what the throttle counted.
"""

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import personal_data
from accounts.access import scope, sees_personal_data
from accounts.models import PersonalDataAccess, User
from accounts.selectors import IMPORT_ENTITY, IMPORT_WINDOW
from accounts.services import UNMASK_PERMISSION
from households.models import Person
from households.validators import normalise_id_number

logger = logging.getLogger(__name__)

SEARCH_ENTITY = "身份证号查询"
SEARCH_WINDOW = datetime.timedelta(hours=1)


class IdLookupRefused(PermissionDenied):
    """A full-ID search the user may not make, or one above the hourly limit (``throttled``)."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.throttled = throttled


def may_search_full_id(actor: User | None) -> bool:
    """Roles that see ID numbers, and holders of the unmask permission (each search logged)."""
    return sees_personal_data(actor) or (actor is not None and actor.has_perm(UNMASK_PERMISSION))


def _refused_message() -> str:
    return _(
        "按完整身份证号查询仅限村、乡镇工作人员或有“查看完整个人信息”权限的用户。"
        "请改按户编号或姓名查询；确需核实身份证号的，请联系所在村、乡镇工作人员。"
    )


def _throttled_message(limit: int) -> str:
    return _("按身份证号查询过于频繁：每位用户每小时最多 %(limit)s 次。请一小时后再试，或改按户编号、姓名查询。") % {
        "limit": limit
    }


def _recent(actor: User, entity: str, window: datetime.timedelta) -> int:
    return PersonalDataAccess.objects.filter(user=actor, entity=entity, at__gte=timezone.now() - window).count()


def full_id_search(*, actor: User, id_number: str, channel: str, ip_address: str | None) -> str:
    """Check, count and log one lookup by a full ID number; return the blind index to search by.

    The same queries run and the same log row is written whether or not the number exists, and the
    refusals come before any result, so neither the answer nor its timing says "exists". Raises
    ``IdLookupRefused`` for a role that may not search by ID and above the hourly limit.
    """
    digest = personal_data.blind_index(normalise_id_number(id_number))
    holder = (
        scope(Person.objects.filter(id_number_hash=digest), actor)
        .order_by("-status", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    allowed = may_search_full_id(actor)
    limit = settings.ID_SEARCH_PER_HOUR
    over = _recent(actor, SEARCH_ENTITY, SEARCH_WINDOW) >= limit
    outcome = "拒绝：角色不可按身份证号查询" if not allowed else "拒绝：超过每小时上限" if over else "已查询"
    PersonalDataAccess.objects.create(
        user=actor, entity=SEARCH_ENTITY, object_id=holder or 0, object_label=f"{channel}（{outcome}）"[:100],
        ip_address=ip_address,
    )  # fmt: skip
    if not allowed:
        raise IdLookupRefused(_refused_message())
    if over:
        raise IdLookupRefused(_throttled_message(limit), throttled=True)
    return digest


def import_foreign_ids(*, actor: User | None, person_ids: Iterable[int], new_to_area: int, label: str) -> str:
    """Log the persons an import would report as registered outside the user's area, and decide.

    Returns '' when the rows may be reported (the neutral message, one per row), else the message
    refusing the whole file. Above the daily limit every file holding a number not registered in the
    user's area is refused, whether or not it exists elsewhere, so a probe learns nothing more.
    """
    reported = sorted(set(person_ids))
    if actor is None or actor.is_superuser or (not reported and not new_to_area):
        return ""
    limit, flag = settings.IMPORT_FOREIGN_ID_LIMIT, settings.IMPORT_FOREIGN_ID_FLAG
    recent = _recent(actor, IMPORT_ENTITY, IMPORT_WINDOW)
    refused = recent + len(reported) > limit or (recent >= limit and new_to_area > 0)
    outcome = "超过上限，整表拒绝，未逐行报告" if refused else "已报告"
    PersonalDataAccess.objects.bulk_create(
        PersonalDataAccess(user=actor, entity=IMPORT_ENTITY, object_id=pk, object_label=f"{label}（{outcome}）"[:100])
        for pk in reported
    )
    total = recent + len(reported)
    if reported and total >= flag:
        # The city administrator's user list shows this user (id_probe_flags); the log marks it too.
        logger.warning("ID_PROBE_FLAG user=%s foreign_ids_24h=%s limit=%s refused=%s", actor.pk, total, limit, refused)
    if not refused:
        return ""
    return _(
        "本文件中有身份证号不属于您辖区内已登记的人员，且您 24 小时内导入时查到辖区外已登记身份证号的次数"
        "已达上限（%(limit)s 个）。为保护个人信息，本文件不予校验，也不逐行说明哪些号码已登记。"
        "请联系县级管理员核实这些人员后再导入。"
    ) % {"limit": limit}


def foreign_id_limit_reached(actor: User | None) -> bool:
    """The user reached today's limit of numbers reported as registered outside their area: from
    now on every number new to their area is refused, found elsewhere or not."""
    if actor is None or actor.is_superuser:
        return False
    return _recent(actor, IMPORT_ENTITY, IMPORT_WINDOW) >= settings.IMPORT_FOREIGN_ID_LIMIT
