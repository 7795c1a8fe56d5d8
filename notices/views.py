"""The 消息中心 pages: the user's own notices (paginated), mark one or all as read, and the unread
count that the header loads with htmx after the page, so no page pays a query for it."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.types import AuthedHttpRequest
from notices import selectors, services

PAGE_SIZE = 20


def _back(request: AuthedHttpRequest) -> str:
    page = request.POST.get("page", "")
    return reverse("notice_list") + (f"?page={page}" if page.isdigit() else "")


@login_required
@require_GET
def notice_list(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.notices_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notices/list.html", {"page": page, "notices": list(page.object_list)})


@login_required
@require_POST
def notice_read(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Marks one of the user's own notices read (another user's answers 404) and opens its link
    when asked to (``open``)."""
    notice = get_object_or_404(selectors.notices_of(request.user), pk=pk)
    services.mark_read(notice)
    if request.POST.get("open") and notice.link.startswith("/"):
        return redirect(notice.link)
    return redirect(_back(request))


@login_required
@require_POST
def notice_read_all(request: AuthedHttpRequest) -> HttpResponse:
    services.mark_all_read(request.user)
    return redirect(_back(request))


@login_required
@require_GET
def notice_count(request: AuthedHttpRequest) -> HttpResponse:
    """The header's 消息 link text with the unread count (an htmx fragment, one count query)."""
    return render(request, "notices/_count.html", {"unread": selectors.unread_count(request.user)})
