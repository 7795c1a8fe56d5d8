"""Dashboards for county officials, townships and city bureaus, the site view, and the drill-down
清零清单 pages (issue 7; the lists are also the township workspace's, issue 6).

Views are thin: the area or site comes through ``accounts.access`` (404 for missing and foreign
alike), numbers through ``indicators.dashboards`` (stored values only). Assigning follow-up from a
list row is the workspace's one flow (``workspace.views.list_assign``); this page only links to it.
Personal data in lists and exports passes ``display_id_number``.
"""

import datetime
import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Field, QuerySet
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import access_area, can_write, scope
from accounts.models import Department, Role, User
from accounts.types import AuthedHttpRequest
from areas.choices import AreaLevel
from areas.models import Area
from areas.selectors import within
from core.http import attachment
from core.spreadsheet import SafeWorkbook, xlsx_write
from households.choices import ActionKind
from households.models import FollowUpAction, Site
from households.selectors import access_site
from indicators.assessment.scoring import assessment_readable, assessment_summary
from indicators.dashboards import panels as boards
from indicators.dashboards import parts
from indicators.dashboards.workbook import wide_data, wide_filename, wide_workbook
from indicators.engine import rules
from indicators.models import IndicatorValue, Kind, Level, Met, Period
from indicators.selectors.export import export_rows, rows_to_csv

LIST_PAGE_SIZE = 50
_AREA = User._meta.get_field("area")
CITY_ROLES = (Role.CITY_BUREAU, Role.CITY_ADMIN)


def _is_city(actor: User) -> bool:
    return actor.is_superuser or actor.role in CITY_ROLES


def _period_chosen(request: AuthedHttpRequest) -> tuple[Period, list[Period]]:
    """The chosen period (404 for a key that is not stored) and every stored period."""
    periods = boards.periods_all()
    period = boards.period_choose(periods, request.GET.get("period"))
    if period is None:
        raise Http404
    return period, periods


def _period_context(request: AuthedHttpRequest) -> dict[str, Any]:
    """The chosen period, the chooser and the freshness stamp."""
    return parts.period_context(*_period_chosen(request))


# --- landing -------------------------------------------------------------------------------------


@login_required
def dashboard_home(request: AuthedHttpRequest) -> HttpResponse:
    """Each role lands on its own dashboard: a city bureau on its department's view."""
    actor = request.user
    query = f"?period={request.GET['period']}" if request.GET.get("period") else ""
    if actor.role == Role.CITY_BUREAU and actor.department:
        return redirect(reverse("dashboard_department", args=[actor.department]) + query)
    if _is_city(actor):
        return redirect(reverse("dashboard_city") + query)
    area = actor.area
    if area is None:
        raise Http404
    if area.level == AreaLevel.COUNTY:
        return redirect(reverse("dashboard_county", args=[area.code]) + query)
    if area.level in (AreaLevel.TOWNSHIP, AreaLevel.VILLAGE):
        # Village staff get their own village's board (the township page anchored on the village).
        return redirect(reverse("dashboard_township", args=[area.code]) + query)
    return redirect("home")


# --- county --------------------------------------------------------------------------------------


@login_required
def dashboard_county(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """The county board. Below the site header the page is a function of the period, the freshness
    stamp, the finished run, the follow-up counts and the panels' stamp (``parts.county_page_key``):
    those are read on every request (3 queries and a cache read), the rest is rendered once per process
    and key, and the whole HTML once per reader too (issue 22)."""
    actor = request.user
    own = actor.area if _AREA.is_cached(actor) else None  # loaded with the user (accounts.backends)
    # The actor's own area is inside its scope by definition: no lookup. Any other goes through scope.
    county = own if own is not None and own.code == code else access_area(actor, code)
    if county.level != AreaLevel.COUNTY:
        raise Http404
    context = _period_context(request)
    part_key = parts.county_part_key(county, context)
    actions = boards.county_actions_by_township(actor=actor, county=county)
    is_city = _is_city(actor)
    counties = boards.counties_all() if is_city else []
    page_key = parts.county_page_key(
        county,
        context,
        part_key=part_key,
        viewer="city" if is_city else f"area:{actor.area_id}",
        actions=actions,
        counties=counties,
        today=timezone.localdate(),
    )
    if set(request.GET) - {"period"}:
        page_key = None  # the period form carries other parameters along: not worth a cache entry each
    html_key = parts.county_html_key(page_key, request)
    html = parts.county_html_get(html_key)
    if html is None:
        context.update(
            {
                "county": county,
                "counties": counties,
                "page": parts.county_page(page_key),
                "page_key": page_key,
                "page_seconds": parts.FRAGMENT_SECONDS if page_key else 0,
                "csrf_token": parts.CSRF_PLACEHOLDER,
            }
        )
        if context["page"] is None:
            part = parts.fragment(part_key, lambda: parts.county_part_build(county, context))
            empty = {"open": 0, "overdue": 0}
            action_rows = [(name, actions.get(code, empty)) for code, name in part["townships"]]
            context.update(
                {
                    "part": part,
                    # Not in the part: sign-off moves without a recompute (its stamp is in the page's key).
                    "panels": boards.dashboard_panels(actor, county, context["period"]),
                    "action_rows": action_rows,
                    "totals": {
                        "open": sum(row["open"] for _name, row in action_rows),
                        "overdue": sum(row["overdue"] for _name, row in action_rows),
                    },
                }
            )
        html = render_to_string("indicators/dashboard_county.html", context, request).encode()
        parts.county_html_set(html_key, html)
    return HttpResponse(html.replace(parts.CSRF_PLACEHOLDER_BYTES, get_token(request).encode()))


# --- township ------------------------------------------------------------------------------------


@login_required
def dashboard_township(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """A township's board over its villages and sites; for a village code the same page anchored on
    the village (its own values over its sites): the board village staff reach from 指标看板."""
    actor = request.user
    township = access_area(actor, code)
    if township.level not in (AreaLevel.TOWNSHIP, AreaLevel.VILLAGE):
        raise Http404
    is_village = township.level == AreaLevel.VILLAGE
    context = _period_context(request)
    period, fresh = context["period"], context["fresh"]
    indicators = boards.indicators_all()
    if is_village:
        villages = []
        sites = list(Site.objects.filter(village=township).order_by("code"))
        values = boards.village_values(period, township, [s.code for s in sites])
        unit_level = Level.VILLAGE
    else:
        villages = list(Area.objects.filter(within(township), level=AreaLevel.VILLAGE).order_by("code"))
        sites = list(Site.objects.filter(within(township)).order_by("code"))
        values = boards.township_values(period, township.code)
        unit_level = Level.TOWNSHIP
    children = [(Level.VILLAGE, boards.ChildColumn(v.code, v.name, "村")) for v in villages]
    children += [
        (Level.SITE, boards.ChildColumn(s.code, s.name, "安置点", reverse("site_view", args=[s.code]))) for s in sites
    ]
    board = boards.board_build(
        indicators=indicators,
        values=values,
        period=period,
        unit_level=unit_level,
        unit_code=township.code,
        unit_name=township.name,
        children=children,
    )
    reference = fresh.reference_date or timezone.localdate()
    # Both are keyed by township code; for a village they count the village's records only.
    quality = boards.quality_by_township(reference_date=reference, area=township).get(township.township_code)
    actions = boards.actions_by_unit(actions=scope(FollowUpAction.objects.filter(within(township)), actor))
    for kind_key, child in [("v", child) for _l, child in children if child.kind == "村"] + [
        ("s", child) for _l, child in children if child.kind == "安置点"
    ]:
        child.actions = actions.get(f"{kind_key}:{child.code}", {"open": 0, "overdue": 0})
    context.update(
        {
            "township": township,
            "board": board,
            "indicators": indicators,
            "judged_indicators": [indicator for indicator in indicators if indicator.kind != Kind.INFO],
            "heatmap": board.heatmap(indicators),
            "trend": boards.trend(level=unit_level, unit_code=township.code, period=period, indicators=indicators),
            "trend_default": parts.trend_default(board),
            "quality": quality,
            "warnings": boards.early_warnings_by_township(area=township).get(township.township_code, 0),
            "panels": boards.dashboard_panels(actor, township, period),
            "is_village": is_village,
            "county_url": reverse("dashboard_county", args=[township.county_code]),
            "township_url": reverse("dashboard_township", args=[township.township_code]) if is_village else "",
            "may_see_township": actor.is_superuser or actor.role != Role.VILLAGE_STAFF,
            "may_see_county": actor.is_superuser or actor.role in (*CITY_ROLES, Role.COUNTY_OFFICIAL),
        }
    )
    return render(request, "indicators/dashboard_township.html", context)


# --- city and departments ------------------------------------------------------------------------


def _require_city(actor: User) -> None:
    # The city's numbers are outside every lower area: answer like a missing page (access.md).
    if not _is_city(actor):
        raise Http404


def _city_context(request: AuthedHttpRequest, leads: str | None = None, *, led_first: bool = False) -> dict[str, Any]:
    """The city board; with ``leads`` the indicators that unit leads only, or (``led_first``) all of
    them with its own first."""
    context = _period_context(request)
    period = context["period"]
    indicators = boards.indicators_all()
    if leads is not None:
        led = [indicator for indicator in indicators if indicator.lead == leads]
        indicators = (boards.led_first(indicators, leads) if led else []) if led_first else led
    counties = boards.counties_all()
    city = Area.objects.filter(level=AreaLevel.CITY).order_by("code").first()
    values = boards.city_values(period)
    board = boards.board_build(
        indicators=indicators,
        values=values,
        period=period,
        unit_level=Level.CITY,
        unit_code=city.code if city else "",
        unit_name=city.name if city else _("全市"),
        children=boards.county_children(period, counties),
    )
    tallies = []
    for index, county in enumerate(counties):
        judged = met = 0
        for indicator in indicators:
            item = board.breakdown[indicator.code][index]
            if item.met in (Met.TRUE, Met.FALSE):
                judged += 1
                met += item.met == Met.TRUE
        tallies.append((county.code, county.name, judged, met))
    context.update(
        {
            "board": board,
            "indicators": indicators,
            "judged_indicators": [indicator for indicator in indicators if indicator.kind != Kind.INFO],
            "heatmap": board.heatmap(indicators),
            "ranking": boards.ranking(tallies),
            "counties": counties,
            "departments": sorted({indicator.lead for indicator in boards.indicators_all()} & set(Department.values))
            if leads is None
            else [],
        }
    )
    return context


def _assessment_link(context: dict[str, Any], year: int | None) -> None:
    """Link the assessment of ``year`` (one with a run the reader may open), else the list of years:
    never a year without an assessment, which would answer 404."""
    context["assessment_year"] = year
    context["assessment_url"] = (
        reverse("assessment_detail", args=[year]) if year is not None else reverse("assessment_years")
    )


@login_required
def dashboard_city(request: AuthedHttpRequest) -> HttpResponse:
    _require_city(request.user)
    context = _city_context(request)
    # The stored annual assessment of the period's year (else the latest earlier one), as scored by
    # its run; the city roles may read a draft, which the page marks as such.
    summary = assessment_summary(year=int(context["period"].key[:4]))
    if summary is not None and not assessment_readable(request.user, published=summary["published"]):
        summary = None
    context["assessment"] = summary
    context["panels"] = boards.dashboard_panels(request.user, None, context["period"])
    _assessment_link(context, summary["year"] if summary else None)
    return render(request, "indicators/dashboard_city.html", context)


@login_required
def dashboard_department(request: AuthedHttpRequest, name: str) -> HttpResponse:
    """The indicators ``name`` leads; ``?show=all`` every indicator, its own first (the filter)."""
    actor = request.user
    _require_city(actor)
    show_all = request.GET.get("show") == "all"
    context = _city_context(request, leads=name, led_first=show_all)
    if not context["indicators"]:
        raise Http404
    context["department"] = name
    context["show_all"] = show_all
    context["led_count"] = sum(indicator.lead == name for indicator in context["indicators"])
    context["all_departments"] = sorted({indicator.lead for indicator in boards.indicators_all()})
    year = int(context["period"].key[:4])
    drafts = assessment_readable(actor, published=False)
    _assessment_link(context, boards.assessment_year_linked(year, drafts=drafts))
    return render(request, "indicators/dashboard_department.html", context)


@login_required
def dashboard_export(request: AuthedHttpRequest) -> HttpResponse:
    """Stored values of one period and level inside the user's area: by default (and ``format=xlsx``)
    the wide Chinese workbook for people (``workbook.py``); ``format=csv`` the machine format of
    ``export_indicators`` (interfaces.md), unchanged."""
    actor = request.user
    period, _periods = _period_chosen(request)  # a file has no freshness stamp: one query fewer
    level = request.GET.get("level", Level.COUNTY)
    if level not in Level.values:
        raise Http404
    if request.GET.get("format") != "csv":
        data = wide_data(actor=actor, period=period, level=level, indicators=boards.indicators_all())
        response = HttpResponse(
            wide_workbook(data), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        attachment(response, wide_filename(period, level), fallback=f"indicators-{period.key}-{level}.xlsx")
        return response
    units: QuerySet[Any] | None = None
    if not _is_city(actor):  # the codes the actor sees, filtered in the values' query
        if level == Level.SITE:
            units = scope(Site.objects.all(), actor).values("code")
        else:
            units = scope(Area.objects.all(), actor).values("code")
    rows = export_rows(period=period, level=level, units=units)
    response = HttpResponse(rows_to_csv(rows).encode(), content_type="text/csv; charset=utf-8")
    attachment(response, f"指标值机读格式-{period.key}-{level}.csv", fallback=f"indicators_{period.key}_{level}.csv")
    return response


# --- site ----------------------------------------------------------------------------------------

FACILITY_FIELDS = (
    "party_org", "self_gov_org", "one_stop_centre", "first_secretary", "work_team", "governance_centre",
    "public_assistance", "convenience_store", "social_orgs", "industry_plan", "industry_base",
    "property_management", "complete_community", "smart_community", "kindergarten", "medical_facility",
    "cultural_venue", "public_transport", "ceremony_hall_needed", "ceremony_hall", "tool_storage_needed",
    "tool_storage",
)  # fmt: skip


@login_required
def site_view(request: AuthedHttpRequest, code: str) -> HttpResponse:
    actor = request.user
    site = access_site(actor, code)
    context = _period_context(request)
    period = context["period"]
    indicators = boards.indicators_all()
    board = boards.board_build(
        indicators=indicators,
        values=boards.site_values(period, site.code),
        period=period,
        unit_level=Level.SITE,
        unit_code=site.code,
        unit_name=site.name,
        children=[],
    )
    population = boards.site_population(site)
    facilities = [
        (field.verbose_name, getattr(site, name))
        for name in FACILITY_FIELDS
        if isinstance(field := Site._meta.get_field(name), Field)  # all of them: columns of Site
    ]
    context.update(
        {
            "site": site,
            "village": Area.objects.filter(pk=site.village_id).values_list("name", flat=True).first(),
            "board": board,
            "population": population,
            "size_class": "800+" if population >= 800 else ("500+" if population >= 500 else ""),
            "facilities": facilities,
            "township_url": reverse("dashboard_township", args=[site.township_code]),
        }
    )
    return render(request, "indicators/site.html", context)


# --- the 清零清单 ----------------------------------------------------------------------------------


LIST_TITLES = {"M5-1": gettext_lazy("净入园清单（3–5 岁未在园）")}


@login_required
def indicator_list(request: AuthedHttpRequest, code: str, unit: str) -> HttpResponse:
    actor = request.user
    listed = boards.list_value(actor=actor, code=code, unit=unit, period_key=request.GET.get("period"))
    value, area, site = listed.value, listed.area, listed.site
    indicator = value.indicator
    records = boards.list_records(actor=actor, value=value)
    if request.GET.get("format") == "xlsx":
        return _list_xlsx(actor, value, list(records), area, site)
    page = Paginator(records, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    page_records = list(page.object_list)
    table = boards.list_table(
        actor=actor,
        code=code,
        records=page_records,
        reference_date=value.reference_date,
        villages=boards.village_names(page_records),
    )
    may_assign = can_write(actor, "actions") and table.record in ("household", "person", "site", "petition")
    if may_assign:
        boards.list_page_extras(actor=actor, rows=table.rows)
    # A fix from the row (issue 20): for the writers of the records the list holds; no query.
    fix = rules.FIXES.get(code)
    if fix is not None and (table.record != fix.record or not can_write(actor, fix.write_kind)):
        fix = None
    if value.period.closed_at is not None:
        fix = None  # a closed period's list is frozen: a fix made today would not take a row off it
    unit_name = site.name if site else (area.name if area else "")  # one of them is set
    period = value.period
    fresh = boards.freshness(period)
    context = {
        "value": value,
        "indicator": indicator,
        "shown": boards.shown(value, indicator, period.key),
        "unit_code": unit,
        "unit_name": unit_name,
        "area": area,
        "site": site,
        "period": period,
        "period_label": boards.period_label(period),
        "period_choices": boards.period_choices(listed.periods),
        "fresh": fresh,
        "page": page,
        "table": table,
        "may_assign": may_assign,
        "kinds": ActionKind.choices,
        "default_kind": boards.default_action_kind(code),
        "default_due": timezone.localdate() + datetime.timedelta(days=30),
        "list_title": LIST_TITLES.get(code, _("清零清单")),
        "back_url": _back_url(actor, area, site, period.key),
        "xlsx_url": f"{request.path}?period={period.key}&format=xlsx",
        "assign_url": reverse("indicator_list_assign", args=[code, unit]),
        "fix": fix,
        "fix_url": reverse("indicator_list_fix", args=[code, unit]),
        "fix_confirm": str(fix.confirm) if fix is not None else "",
        "columns": len(table.headers) + (1 if may_assign else 0) + (2 if fix is not None else 0),
    }
    return render(request, "indicators/list.html", context)


def _back_url(actor: User | None, area: Area | None, site: Site | None, period_key: str) -> str:
    if site is not None:
        return reverse("site_view", args=[site.code]) + f"?period={period_key}"
    if area is None:
        return ""
    if area.level == AreaLevel.COUNTY:
        return reverse("dashboard_county", args=[area.code]) + f"?period={period_key}"
    if area.level == AreaLevel.TOWNSHIP:
        return reverse("dashboard_township", args=[area.code]) + f"?period={period_key}"
    if area.level == AreaLevel.CITY:
        return reverse("dashboard_city") + f"?period={period_key}"
    return reverse("dashboard_township", args=[area.township_code]) + f"?period={period_key}"


def _list_xlsx(
    actor: User | None, value: IndicatorValue, records: list[Any], area: Area | None, site: Site | None
) -> HttpResponse:
    """The whole list as .xlsx, masked like the page. Every cell goes through
    ``core.spreadsheet.xlsx_write``: a text starting with = + - @, tab or CR stays text, never a formula."""
    table = boards.list_table(
        actor=actor,
        code=value.indicator.code,
        records=records,
        reference_date=value.reference_date,
        villages=boards.village_names(records),
    )
    buffer = io.BytesIO()
    workbook = SafeWorkbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(value.indicator.code)
    bold = workbook.add_format({"bold": True})
    unit_name = site.name if site else (area.name if area else "")  # one of them is set
    title = f"{value.indicator.code} {value.indicator.name} · {unit_name} · {value.period.key}"
    xlsx_write(sheet, 0, 0, title, bold)
    xlsx_write(sheet, 1, 0, f"{_('参考日期')} {value.reference_date.isoformat()} · {len(table.rows)} {_('条')}")
    for column, header in enumerate(table.headers):
        xlsx_write(sheet, 3, column, str(header), bold)
    for row_index, row in enumerate(table.rows, start=4):
        for column, cell in enumerate(row.cells):
            if isinstance(cell, bool):
                cell = _("是") if cell else _("否")
            xlsx_write(sheet, row_index, column, cell)
    sheet.set_column(0, len(table.headers) - 1, 18)
    workbook.close()
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    codes = f"{value.indicator.code}-{value.unit_code}-{value.period.key}"
    attachment(response, f"清零清单-{codes}-{unit_name}.xlsx", fallback=f"zero-list-{codes}.xlsx")
    return response
