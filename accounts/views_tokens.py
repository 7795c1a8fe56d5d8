"""API token pages (issue 17, finding 5): each user lists, creates and revokes their own tokens under
the account menu; the city administrator sees and revokes those of any user in their area."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import tokens
from accounts.access import access_object, can_write
from accounts.models import ApiToken, Role, User
from accounts.types import AuthedHttpRequest


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("令牌名称"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("写明用途，例如“月度导出脚本”，便于日后辨认和撤销。"),
    )


def _page(request: HttpRequest, owner: User) -> Page[ApiToken]:
    return Paginator(ApiToken.objects.filter(user=owner).order_by("-created", "-id"), 50).get_page(
        request.GET.get("page")
    )


@login_required
def token_list(request: AuthedHttpRequest) -> HttpResponse:
    """The user's own tokens; POST creates one and shows its key on this answer only."""
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        token, new_key = tokens.token_create(user=request.user, name=form.cleaned_data["name"])
        form = TokenForm()
    response = render(
        request,
        "accounts/token_list.html",
        {"page": _page(request, request.user), "form": form, "new_key": new_key, "owner": request.user},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def user_tokens(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One user's tokens, for the user administrator (city administrator, superusers)."""
    if not (request.user.is_superuser or request.user.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICIAL)):
        raise PermissionDenied
    owner = access_object(User.objects.select_related("area"), request.user, pk=pk)
    if not can_write(request.user, "users"):
        raise PermissionDenied
    return render(request, "accounts/token_list.html", {"page": _page(request, owner), "form": None, "owner": owner})


@login_required
@require_POST
def token_revoke(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Revoke one token: the owner's, or, for the user administrator, any in their area (404 else)."""
    try:
        token = tokens.token_revoke(actor=request.user, pk=pk)
    except ApiToken.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, _("令牌 %(prefix)s… 已撤销，使用它的程序需要重新获取令牌。") % {"prefix": token.prefix})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("token_list")
    return redirect(target)
