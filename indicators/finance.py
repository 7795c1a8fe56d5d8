"""Writes of county finance (后扶资金, data.md) outside imports: the API and, later, the pages.

Same pattern as ``households.services``: one transaction, scope and role checked through
``accounts.access``, ``full_clean`` before saving, one history entry per changed row (visible to the
county: the entry carries its code) and a change-feed row so M9-1/M9-2 are recomputed after commit.
"""

from collections.abc import Mapping
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import require_write
from accounts.models import User
from areas.choices import AreaLevel
from households.choices import Channel
from households.history import build_entry, changefeed_add, diff, snapshot
from households.models import ChangeFeed, HistoryEntry
from households.selectors import area_reference
from indicators.models import CountyFinance

T = TypeVar("T")

FIRST_YEAR = 2016
AMOUNTS = ("asset_proceeds", "proceeds_to_households", "linkage_funds", "linkage_to_relocation")


def _check(finance: CountyFinance) -> None:
    this_year = timezone.localdate().year
    if not FIRST_YEAR <= finance.year <= this_year:
        raise ValidationError(
            {"year": _("年度应在 %(first)s 至 %(year)s 之间。") % {"first": FIRST_YEAR, "year": this_year}}
        )
    errors: dict[str, str] = {}
    for name in AMOUNTS:
        if getattr(finance, name) is None or getattr(finance, name) < 0:
            errors[name] = _("金额不能为负数。")
    if not errors and finance.proceeds_to_households > finance.asset_proceeds:
        errors["proceeds_to_households"] = _("收益用于搬迁户后扶的金额不能大于盘活资产收益。")
    if not errors and finance.linkage_to_relocation > finance.linkage_funds:
        errors["linkage_to_relocation"] = _("衔接资金用于搬迁后扶的金额不能大于衔接资金总额。")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def finance_save(
    *, actor: User | None, county_code: str, year: int, amounts: dict[str, int], channel: str = Channel.FORM
) -> CountyFinance:
    """Create or update the (county, year) row; ``amounts`` in fen, missing ones kept (or 0 when new).

    403 for a role that may not write finance; an unknown county or one outside the actor's area is a
    400 with the unknown-code message (``area_reference``)."""
    require_write(actor, "finance")
    county = area_reference(actor=actor, code=county_code, level=AreaLevel.COUNTY, field="county")
    finance = CountyFinance.objects.select_for_update().filter(county=county, year=year).first()
    before = snapshot(finance) if finance is not None else None
    if finance is None:
        finance = CountyFinance(county=county, year=year, **dict.fromkeys(AMOUNTS, 0))
    for name, value in amounts.items():
        if name not in AMOUNTS:
            raise ValidationError({name: _("不能修改字段“%(field)s”。") % {"field": name}})
        setattr(finance, name, value)
    _check(finance)
    finance.full_clean(validate_unique=False)
    finance.save()
    after = snapshot(finance)
    old, new = diff(before, after) if before is not None else ({}, after)
    if before is None or old or new:
        entry: HistoryEntry = build_entry(
            instance=finance,
            action=HistoryEntry.Action.CREATE if before is None else HistoryEntry.Action.UPDATE,
            channel=channel,
            user=actor,
            before=old,
            after=new,
        )
        # CountyFinance has no area-code columns: the county's code makes the entry visible to it.
        entry.county_code = county.code
        entry.object_code = f"{county.code}/{year}"
        entry.save()
        changefeed_add(family=ChangeFeed.Family.FINANCE, data_year=year)
    return finance


def finance_amounts(data: Mapping[str, T]) -> dict[str, T]:
    """The amount fields present in ``data``, in its unit (the API's serializers give yuan)."""
    return {name: data[name] for name in AMOUNTS if name in data}
