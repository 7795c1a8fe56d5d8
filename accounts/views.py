"""User administration."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts import services
from accounts.access import access_object, can_write, scope
from accounts.forms import UserForm
from accounts.models import Role, User
from accounts.selectors import id_probe_flags
from accounts.types import AuthedHttpRequest


def _require_user_admin_reader(actor: User) -> None:
    if not (actor.is_superuser or actor.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICIAL)):
        raise PermissionDenied


@login_required
def user_list(request: AuthedHttpRequest) -> HttpResponse:
    _require_user_admin_reader(request.user)
    users = scope(User.objects.select_related("area"), request.user).order_by("username")
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "can_edit": can_write(request.user, "users"),
        "id_probe_flags": id_probe_flags(actor=request.user),
    }
    return render(request, "accounts/user_list.html", context)


@login_required
def user_edit(request: AuthedHttpRequest, pk: int | None = None) -> HttpResponse:
    _require_user_admin_reader(request.user)
    user = access_object(User.objects.select_related("area"), request.user, pk=pk) if pk else None
    if not can_write(request.user, "users"):
        raise PermissionDenied
    initial = {}
    if user is not None:
        initial = {
            "username": user.username,
            "full_name": user.first_name,
            "role": user.role,
            "area_code": user.area.code if user.area else "",
            "department": user.department,
            "is_active": user.is_active,
        }
    form = UserForm(request.POST or None, initial=initial, editing=user is not None)
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data, "username": user.username if user else form.cleaned_data["username"]}
        try:
            services.user_save(actor=request.user, data=data, user=user)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return redirect("user_list")
    return render(request, "accounts/user_form.html", {"form": form, "edited": user})
