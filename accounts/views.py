"""User administration, the change history, and one-record unmasking."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from households.models import HistoryEntry, Person

from . import services
from .access import access_object, can_write, display_snapshot, scope
from .forms import UserForm
from .models import Role, User


def _require_user_admin_reader(actor: User) -> None:
    if not (actor.is_superuser or actor.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICIAL)):
        raise PermissionDenied


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    _require_user_admin_reader(request.user)
    users = scope(User.objects.select_related("area"), request.user).order_by("username")
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    from households.id_lookup import id_probe_flags  # the city admin's notice of ID probes (issue 17)

    context = {
        "page": page,
        "can_edit": can_write(request.user, "users"),
        "id_probe_flags": id_probe_flags(actor=request.user),
    }
    return render(request, "accounts/user_list.html", context)


@login_required
def user_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
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


@login_required
def history_list(request: HttpRequest) -> HttpResponse:
    """The change history: city administrator everything, county officials their county (access.md)."""
    if not (request.user.is_superuser or request.user.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICIAL)):
        raise PermissionDenied
    entries = scope(HistoryEntry.objects.select_related("user", "import_job"), request.user)
    entity = request.GET.get("entity")
    if entity:
        entries = entries.filter(entity=entity)
    page = Paginator(entries.order_by("-at", "-id"), 50).get_page(request.GET.get("page"))
    for entry in page:  # masked roles never see a birth date here (issue 17 finding 2)
        entry.before_shown = display_snapshot(request.user, entry.before)
        entry.after_shown = display_snapshot(request.user, entry.after)
    return render(request, "accounts/history_list.html", {"page": page})


@login_required
@require_POST
def person_unmask(request: HttpRequest, pk: int) -> JsonResponse:
    person = access_object(Person.objects.all(), request.user, pk=pk)
    plain = services.personal_data_unmask(actor=request.user, person=person, ip_address=request.META.get("REMOTE_ADDR"))
    response = JsonResponse(plain)
    response["Cache-Control"] = "no-store"
    return response
