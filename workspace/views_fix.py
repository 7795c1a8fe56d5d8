"""Fixing records from a 清零清单 row (issue 20): the one field that takes a record off the list
(``indicators.engine.rules.FIXES``), set for one row by htmx or for the ticked rows at once after a
confirmation naming the count. Writes go through ``households.services.records_fix`` (scoped, all or
nothing, history per record, one change-feed entry); the list page itself is the dashboards'
(``indicators.dashboards.views.indicator_list``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import require_write
from accounts.types import AuthedHttpRequest
from core.htmx import is_htmx
from households import services as household_services
from indicators.dashboards import panels as boards
from indicators.engine import rules

MAX_IDS = 500  # ten pages of the list: more is not a click on a page


def _ids(values: list[str]) -> list[int] | None:
    """The ticked rows' ids, or None when one is not a number (a tampered form) or there are too many."""
    if len(values) > MAX_IDS or not all(value.isdigit() for value in values):
        return None
    return sorted({int(value) for value in values})


@login_required
@require_POST
def list_fix(request: AuthedHttpRequest, code: str, unit: str) -> HttpResponse:
    """Apply the list's fix to the posted ``ids``. A row's own button (htmx) answers with the row as
    "已处理"; the bulk form needs ``confirm`` equal to the number of ids (the page's confirmation),
    else it answers with a confirmation page naming the count, so nothing is written unconfirmed."""
    actor = request.user
    listed = boards.list_value(actor=actor, code=code, unit=unit, period_key=request.POST.get("period"))
    fix = rules.FIXES.get(code)
    if fix is None:
        raise Http404
    require_write(actor, fix.write_kind)
    ids = _ids(request.POST.getlist("ids"))
    period_key = listed.value.period.key
    list_url = reverse("indicator_list", args=[code, unit]) + f"?period={period_key}"
    if ids is None:
        return HttpResponse(status=400)
    if not ids:
        messages.error(request, _("请先勾选要处理的记录。"))
        return redirect(list_url)
    if request.POST.get("confirm") != str(len(ids)):
        context = {
            "fix": fix,
            "ids": ids,
            "question": fix.confirm % {"count": len(ids)},
            "indicator": listed.value.indicator,
            "period_key": period_key,
            "list_url": list_url,
            "fix_url": request.path,
        }
        return render(request, "indicators/list_fix_confirm.html", context)
    value = timezone.localdate() if fix.today else True
    columns = request.POST.get("columns", "")
    context = {"columns": int(columns) if columns.isdigit() and 1 < int(columns) < 20 else 2}
    try:
        household_services.records_fix(actor=actor, record=fix.record, ids=ids, field=fix.field, value=value)
    except Http404:
        if not is_htmx(request):
            raise
        # The neutral answer, in the row: a cancelled, moved or foreign record alike (400 is swapped).
        return render(request, "indicators/list_fix_row.html", {**context, "error": True}, status=400)
    if is_htmx(request):
        return render(request, "indicators/list_fix_row.html", {**context, "name": request.POST.get("name", "")})
    # Rows that already held the value count as fixed too: the message names the rows ticked.
    messages.success(request, str(fix.done % {"count": len(ids)}))
    return redirect(list_url)
