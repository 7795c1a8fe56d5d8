"""Sign-off progress shown on pages of the layers below (issue 21): 已审定 X/Y per unit on the county,
township and city dashboards, and each county's December sign-off on the year's assessment page with a
warning before publishing. indicators never imports signoff: ``SignoffConfig.ready`` registers these
providers in ``indicators.dashboards.panels.DASHBOARD_PANELS`` and ``scoring.PUBLISH_NOTES``. Each
costs one grouped query (``selectors.progress``) whatever the number of units or villages."""

import hashlib

from django.core.cache import caches
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.models import User
from areas.choices import AreaLevel
from areas.models import Area
from indicators.assessment.scoring import PublishNote
from signoff import selectors

PANEL_SECONDS = 10 * 60
# The sign-off page of an area of each level (the city's has no code).
_PAGES: dict[str, str] = {
    AreaLevel.COUNTY: "signoff_county",
    AreaLevel.TOWNSHIP: "signoff_township",
    AreaLevel.VILLAGE: "signoff_village",
}
_UNIT_HEADERS: dict[str, Promise] = {
    AreaLevel.COUNTY: gettext_lazy("县市区"),
    AreaLevel.TOWNSHIP: gettext_lazy("乡镇（街道）"),
    AreaLevel.VILLAGE: gettext_lazy("村（社区）"),
}


def _url(level: str, code: str, month: str) -> str:
    page = reverse(_PAGES[level], args=[code]) if level in _PAGES else reverse("signoff_city")
    return f"{page}?month={month}"


def _month_label(month: str) -> str:
    year, number = month.split("-")
    return _("%(year)s年%(month)s月") % {"year": year, "month": int(number)}


def _rows(units: list[selectors.Progress], month: str) -> list[tuple[selectors.Progress, str]]:
    return [(unit, _url(unit.level, unit.code, month)) for unit in units]


def dashboard_progress(actor: User, area: Area | None, month: str) -> str:
    """已审定 X/Y of ``area`` (None: the city) for ``month`` and per unit below it, each linked to its
    sign-off page. Nothing for a user who sees no village."""
    units = selectors.progress(actor, area, month)
    if not units:
        return ""
    level = area.level if area is not None else AreaLevel.CITY
    # The markup is a function of these counts alone (with the month, the area and the language), so
    # it is kept per process by them: rendering its table was a third of a cached county board's time.
    shown = [
        (unit.code, unit.name, unit.level, unit.total, sorted(unit.counts.items()), unit.modified) for unit in units
    ]
    inputs = (get_language(), month, level, area.code if area else "", area.name if area else "", shown)
    key = "signoff-progress:" + hashlib.blake2b(repr(inputs).encode(), digest_size=16).hexdigest()
    html = caches["local"].get(key)
    if html is None:
        total = selectors.progress_total(area, units)
        html = render_to_string(
            "signoff/_dashboard_progress.html",
            {
                "month": month,
                "month_label": _month_label(month),
                "total": total,
                "total_url": _url(level, total.code, month),
                # A village's board shows its own figure only.
                "rows": _rows(units, month) if level != AreaLevel.VILLAGE else [],
                "unit_header": _UNIT_HEADERS[units[0].level],
            },
        )
        caches["local"].set(key, html, PANEL_SECONDS)
    return html


def _behind(county: selectors.Progress) -> str:
    if county.modified:
        return _("%(name)s（%(done)s/%(total)s，审定后有修改 %(modified)s）") % {
            "name": county.name,
            "done": county.approved,
            "total": county.total,
            "modified": county.modified,
        }
    return f"{county.name}（{county.approved}/{county.total}）"


def assessment_december(actor: User, year: int) -> PublishNote:
    """Each county's December sign-off of ``year`` and, while any village is not 已审定 (审定后有修改
    included: its county has not approved what changed), a warning naming the counties concerned
    (publishing stays allowed)."""
    month = f"{year:04d}-12"
    counties = selectors.progress(actor, None, month)
    if not counties:
        return PublishNote()
    behind = [county for county in counties if not county.complete]
    warnings = []
    if behind:
        warnings.append(
            _("%(month)s 仍有村（社区）的花名册未审定：%(counties)s。仍可发布，请确认后再发布。")
            % {
                "month": _month_label(month),
                "counties": "、".join(_behind(county) for county in behind),
            }
        )
    html = render_to_string(
        "signoff/_assessment_december.html",
        {
            "year": year,
            "month": month,
            "month_label": _month_label(month),
            "rows": _rows(counties, month),
            "total": selectors.progress_total(None, counties),
        },
    )
    return PublishNote(html=html, warnings=warnings)
