"""The cached parts of the dashboards, and their warming after every finished run (issue 22).

A part depends only on stored values (and the data-quality and early-warning figures taken at the
same run): it is rendered once per finished run, because a new run changes its key. It holds no
personal data and nothing that depends on who asks (lists behind its links are scoped when opened),
so every user allowed to open the dashboard may be served the same part.

Building the county part is the costly step of a dashboard (seconds on a large county). So that no
official's first load after a recompute pays for it, ``dashboards_warm`` builds every county's part
into the shared cache as soon as a run finishes, on the worker (``tasks.warm_dashboards_task``).
"""

import dataclasses
import datetime
import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache, caches
from django.core.cache.utils import make_template_fragment_key
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language

from areas.choices import AreaLevel
from areas.models import Area
from areas.selectors import within
from indicators.dashboards import panels as boards
from indicators.models import IndicatorValue, Level, Met, Period

FRAGMENT_SECONDS = 6 * 3600


def period_context(period: Period, periods: list[Period]) -> dict[str, Any]:
    """What every dashboard shows of its period: the chooser and the freshness stamp."""
    return {
        "period": period,
        "period_label": boards.period_label(period),
        "period_choices": boards.period_choices(periods),
        "fresh": boards.freshness(period),
        "chart_locale": "EN" if (get_language() or "").startswith("en") else "ZH",
    }


def fragment_key(key_parts: tuple[Any, ...], fresh: boards.Freshness) -> str | None:
    """The cache key of a part built from the period's latest finished run (None without one). It
    carries the run's id and finish time, so a recompute is visible on the next request in every
    process: that makes a per-process copy safe."""
    if fresh.last_run_id is None or fresh.computed_at is None:
        return None
    parts = (*key_parts, fresh.last_run_id, f"{fresh.computed_at.timestamp():.6f}")
    return "dashboard:" + ":".join(str(part) for part in parts)


def fragment(key: str | None, build: Any) -> dict[str, Any]:
    """``build()`` once per key (every time without one). A hit in the per-process cache costs no
    query and no unpickling of the large part from the shared cache (the database cache by default)."""
    if key is None:
        return build()
    local = caches["local"]
    found = local.get(key)
    if found is None:
        found = cache.get(key)
        if found is None:
            found = build()
            cache.set(key, found, FRAGMENT_SECONDS)
        local.set(key, found, FRAGMENT_SECONDS)
    return found


# --- the whole county page below the site header (issue 22) -------------------------------------

PANELS_STAMP_KEY = "dashboard:panels-stamp"
COUNTY_PAGE_FRAGMENT = "dashboard-county-page"


def panels_stamp() -> str:
    """The version of what the registered panels (``boards.DASHBOARD_PANELS``) show, from the shared
    cache: one read instead of the panels' own queries. A missing stamp (never set, evicted) becomes a
    new one, so a lost stamp costs a rebuild, never a stale page."""
    stamp = cache.get(PANELS_STAMP_KEY)
    if stamp is None:
        cache.add(PANELS_STAMP_KEY, uuid.uuid4().hex, None)
        stamp = cache.get(PANELS_STAMP_KEY) or ""
    return stamp


def panels_changed() -> None:
    """What a registered panel shows has changed (signoff calls this on every state transition): every
    cached page is rebuilt on its next load. After the commit, so that no reader caches the old state
    under the new stamp."""
    transaction.on_commit(lambda: cache.set(PANELS_STAMP_KEY, uuid.uuid4().hex, None))


def county_page_key(
    county: Area,
    context: dict[str, Any],
    *,
    part_key: str | None,
    viewer: str,
    actions: dict[str, dict[str, int]],
    counties: list[Area],
    today: datetime.date,
) -> str | None:
    """The key of the county page's rendered body (period chooser, freshness stamp, panels, board and
    follow-up table): every input it is rendered from, each read fresh on the request, except the
    panels' figures, which stand in as ``panels_stamp()``. None (not cached) without a finished run.

    ``viewer`` is what scoping depends on (the city, or the user's area); ``today`` moves the month a
    year's panels report and what is overdue."""
    if part_key is None:
        return None
    fresh = context["fresh"]
    inputs = (
        part_key,
        county.code,
        county.name,
        viewer,
        today.isoformat(),
        context["period"].key,
        [(choice.key, choice.label, choice.frozen) for choice in context["period_choices"]],
        (fresh.recalculating, fresh.frozen, str(fresh.computed_at), str(fresh.reference_date)),
        sorted(actions.items()),
        [(c.code, c.name) for c in counties],
        panels_stamp(),
    )
    return repr(inputs)


def county_page(key: str | None) -> str | None:
    """The county page body rendered for ``key`` by this process (the template's ``{% cache %}``
    stores it), else None."""
    if key is None:
        return None
    return caches["local"].get(make_template_fragment_key(COUNTY_PAGE_FRAGMENT, [key]))


# The page as sent, per reader: the header names the user, so the whole HTML is kept per user and
# address for a page key. The CSRF tokens in it are this placeholder, replaced on every answer by a
# fresh masking of the reader's own secret (what ``{% csrf_token %}`` would have printed).
CSRF_PLACEHOLDER = "csrf-token-placeholder-of-the-cached-page"
CSRF_PLACEHOLDER_BYTES = CSRF_PLACEHOLDER.encode()


def county_html_key(page_key: str | None, request: HttpRequest) -> str | None:
    """The key of the whole county page as ``request``'s reader gets it, or None (not cached: no page
    key, or messages waiting to be shown once). Everything ``base.html`` shows of the user is in it."""
    if page_key is None or len(get_messages(request)):
        return None
    user = request.user
    area = getattr(user, "area", None)
    shell = (
        user.pk,
        str(user),
        getattr(user, "role", ""),
        getattr(user, "department", ""),
        user.is_superuser,
        (area.code, area.name, area.level) if area is not None else None,
        get_language(),
        request.get_full_path(),
    )
    return "dashboard-county-html:" + hashlib.blake2b(repr((page_key, shell)).encode(), digest_size=16).hexdigest()


def county_html_get(key: str | None) -> bytes | None:
    """The page as encoded bytes: unpickling them from the per-process cache is a copy, where a
    quarter of a megabyte of text would be decoded and encoded again on every answer."""
    return caches["local"].get(key) if key is not None else None


def county_html_set(key: str | None, html: bytes) -> None:
    if key is not None:
        caches["local"].set(key, html, FRAGMENT_SECONDS)


def trend_default(board: boards.Board) -> str:
    """The first unmet indicator, else M3-2 (the headline employment rate)."""
    for group in board.groups:
        for row in group.rows:
            if row.value.met == Met.FALSE:
                return row.indicator.code
    return "M3-2"


def county_part_key(county: Area, context: dict[str, Any]) -> str | None:
    return fragment_key(("county", county.code, context["period"].pk, get_language()), context["fresh"])


def county_part_build(county: Area, context: dict[str, Any]) -> dict[str, Any]:
    """The county board's body (scorecard, heatmap, breakdown, trend) and its figures, rendered
    without a request: nothing in it depends on who asks."""
    period, fresh = context["period"], context["fresh"]
    townships = list(Area.objects.filter(within(county), level=AreaLevel.TOWNSHIP).order_by("code"))
    indicators = boards.indicators_all()
    children = [
        (Level.TOWNSHIP, boards.ChildColumn(t.code, t.name, "乡镇", reverse("dashboard_township", args=[t.code])))
        for t in townships
    ]
    board = boards.board_build(
        indicators=indicators,
        values=boards.county_values(period, county.code),
        period=period,
        unit_level=Level.COUNTY,
        unit_code=county.code,
        unit_name=county.name,
        children=children,
    )
    reference = fresh.reference_date or timezone.localdate()
    quality = boards.quality_by_township(reference_date=reference, area=county)
    warnings = boards.early_warnings_by_township(area=county)
    side = [{"township": t, "quality": quality.get(t.code), "warnings": warnings.get(t.code, 0)} for t in townships]
    body = {
        **context,
        "board": board,
        "indicators": indicators,
        "heatmap": board.heatmap(indicators),
        "trend": boards.trend(level=Level.COUNTY, unit_code=county.code, period=period, indicators=indicators),
        "trend_default": trend_default(board),
        "side": side,
    }
    return {
        "html": render_to_string("indicators/dashboard_county_body.html", body),
        "met": board.met,
        "judged": board.judged,
        "warnings": sum(warnings.values()),
        # The follow-up table below lists the same townships (renamed ones show with the next run).
        "townships": [(t.code, t.name) for t in townships],
    }


def _warmed_key(period_id: int) -> str:
    return f"dashboard:warmed:{period_id}"


def dashboards_warm(period_id: int, *, changed_only: bool = False) -> int:
    """Build every county part of the period's latest finished run into the shared cache, in the
    site's language (the one nearly every official reads); returns how many it built. A part already
    there (a web process was faster) is left alone.

    ``changed_only`` (after recomputations of changed units): only the counties with a county or
    township value rewritten since the run warmed last are built again; the others' parts of that run
    are carried over to the new key (a steady stream of edits would otherwise rebuild every county
    after every sweep)."""
    period = Period.objects.filter(pk=period_id).first()
    if period is None:
        return 0
    built = 0
    with translation.override(settings.LANGUAGE_CODE):
        context = period_context(period, boards.periods_all())
        fresh = context["fresh"]
        if fresh.last_run_id is None:
            return 0
        before, changed = None, set()
        warmed = cache.get(_warmed_key(period_id)) if changed_only else None
        if warmed is not None and warmed[0] != fresh.last_run_id:
            before = dataclasses.replace(fresh, last_run_id=warmed[0], computed_at=warmed[1])
            rewritten = IndicatorValue.objects.filter(
                period_id=period_id, run_id__gt=warmed[0], level__in=(Level.COUNTY, Level.TOWNSHIP)
            )
            changed = set(rewritten.values_list("county_code", flat=True).distinct())
        for county in Area.objects.filter(level=AreaLevel.COUNTY).order_by("code"):
            key = county_part_key(county, context)
            if key is None or cache.get(key) is not None:
                continue
            if before is not None and county.code not in changed:
                carried = cache.get(county_part_key(county, {**context, "fresh": before}) or "")
                if carried is not None:
                    cache.set(key, carried, FRAGMENT_SECONDS)
                    continue
            cache.set(key, county_part_build(county, context), FRAGMENT_SECONDS)
            built += 1
        cache.set(_warmed_key(period_id), (fresh.last_run_id, fresh.computed_at), FRAGMENT_SECONDS)
    return built
