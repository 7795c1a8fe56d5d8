"""Writes of the township workspace: the one "assign follow-up" (派发帮扶) flow, shared by the
清零清单 rows of the dashboards and the 预警清单. The action itself is created by
``households.services.action_create`` (scope, history, change feed); this module only says what the
action is about."""

import datetime

from django.utils.translation import gettext as _

from accounts.models import User
from households import services as household_services
from households.models import FollowUpAction, Household, Person, Site
from indicators.models import Indicator


def follow_up_text(
    *,
    indicator: Indicator | None,
    household: Household | None,
    site: Site | None = None,
    person: Person | None = None,
) -> str:
    """The description of an assigned action: the list it came from and whom it is about."""
    if indicator is None:  # from the 预警清单, always about a household
        code, name = (household.code, household.head_name) if household is not None else ("", "")
        return _("预警清单：%(code)s %(name)s") % {"code": code, "name": name}
    who = person.name if person else (household.head_name if household else (site.name if site else ""))
    return _("清零清单 %(code)s %(name)s：%(who)s") % {"code": indicator.code, "name": indicator.name, "who": who}


def assign_follow_up(
    *,
    actor: User | None,
    kind: str,
    owner: str,
    due_on: datetime.date,
    indicator: Indicator | None = None,
    household: Household | None = None,
    site: Site | None = None,
    person: Person | None = None,
) -> FollowUpAction:
    """A follow-up action (owner, due date, kind) on a list row's household, person or site, tagged
    with the indicator of a 清零清单 (none for the 预警清单). Raises ``ValidationError`` and
    ``PermissionDenied`` as ``action_create`` does."""
    data = {
        "kind": kind,
        "indicator": indicator.code if indicator is not None else "",
        "owner": owner,
        "due_on": due_on,
        "description": follow_up_text(indicator=indicator, household=household, site=site, person=person),
        "person": person,
    }
    return household_services.action_create(actor=actor, data=data, household=household, site=site)
