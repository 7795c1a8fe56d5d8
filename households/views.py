"""The township workspace: to-do home, household list, household file (一户一档), record forms and
the quick employment update.

Views are thin: records come through ``accounts.access`` (404 for missing and foreign alike, then
403 for a role that may not write), reads through ``households.selectors``, writes through
``households.services``. A service's ValidationError is put back beside the form's fields.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import (
    access_object,
    can_write,
    display_id_number,
    display_snapshot,
    require_write,
    scope,
    sees_personal_data,
)
from accounts.models import Role, User
from accounts.personal_data import decrypt, mask_id_number
from accounts.types import AuthedHttpRequest
from core.htmx import is_htmx
from core.money import fen_to_yuan, yuan_to_fen
from households import id_lookup, selectors, services
from households.choices import (
    LABOUR_FORCE,
    ActionStatus,
    Employment,
    HouseholdCategory,
    Monitoring,
    RecordStatus,
    Relation,
)
from households.forms import (
    ActionForm,
    EmploymentQuickForm,
    GrievanceForm,
    HouseholdForm,
    IncomeForm,
    MemberFormSet,
    PersonForm,
    apply_service_errors,
)
from households.models import (
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Household,
    Income,
    Person,
    Site,
)
from households.validators import normalise_id_number, validate_id_number

PAGE_SIZE = 50
# The blind index of the ID number last searched for; kept in the session so that the number
# itself never appears in a URL (and so in no access log).
ID_SEARCH_SESSION_KEY = "household_id_search"


def _permissions(actor: User) -> dict[str, bool]:
    return {
        "can_write_households": can_write(actor, "households"),
        "can_write_persons": can_write(actor, "persons"),
        "can_write_incomes": can_write(actor, "incomes"),
        "can_write_grievances": can_write(actor, "grievances"),
        "can_close_grievances": can_write(actor, "grievances") or can_write(actor, "grievance_close"),
        "can_write_actions": can_write(actor, "actions"),
        # The household events of issue 20 (households/views_events.py).
        "can_transfer": can_write(actor, "transfer"),
        "can_request_transfer": can_write(actor, "transfer_request"),
        "can_decide_transfers": can_write(actor, "transfer_decide"),
        "full_personal_data": sees_personal_data(actor),
    }


# --- household list ------------------------------------------------------------------------------


def _search_redirect(request: AuthedHttpRequest, source: Any) -> HttpResponse:
    """Turn a search into a GET URL; a full ID number is replaced by a session-held blind index."""
    params = {name: source.get(name, "").strip() for name in selectors.HOUSEHOLD_FILTERS}
    params = {name: value for name, value in params.items() if value}
    text = source.get("q", "").strip()
    if selectors.looks_like_id_number(text):
        # Checked, counted and logged once per search (issue 17 finding 4): not on every page turn.
        digest, refused = "", ""
        try:
            digest = id_lookup.full_id_search(
                actor=request.user, id_number=text, channel="户列表", ip_address=request.META.get("REMOTE_ADDR")
            )
        except id_lookup.IdLookupRefused as exc:
            refused = exc.message
        request.session[ID_SEARCH_SESSION_KEY] = {
            "hash": digest,
            "masked": mask_id_number(normalise_id_number(text)),
            "refused": refused,
        }
        params["id_search"] = "1"
    elif text:
        params["q"] = text
    url = reverse("household_list")
    return redirect(f"{url}?{urlencode(params)}" if params else url)


def _import_kinds() -> list[tuple[str, str]]:
    """The data.md templates a workspace user may download (links to the import pages)."""
    return [
        ("sites", _("安置点")),
        ("households", _("搬迁户")),
        ("persons", _("家庭成员")),
        ("incomes", _("收入")),
        ("grievances", _("信访舆情")),
        ("actions", _("帮扶台账")),
    ]


@login_required
@require_http_methods(["GET", "POST"])
def household_list(request: AuthedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _search_redirect(request, request.POST)
    if selectors.looks_like_id_number(request.GET.get("q", "")):
        return _search_redirect(request, request.GET)  # strip a typed-in ID number from the URL
    filters: dict[str, str] = {name: request.GET.get(name, "").strip() for name in selectors.HOUSEHOLD_FILTERS}
    filters["q"] = request.GET.get("q", "").strip()
    id_search = request.session.get(ID_SEARCH_SESSION_KEY) if request.GET.get("id_search") else None
    if id_search:
        filters["id_hash"] = id_search["hash"]
    households = selectors.household_list(actor=request.user, filters=filters)
    if id_search and id_search.get("refused"):
        households = households.none()  # the same empty answer whether or not the number exists
    page = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {name: value for name, value in filters.items() if value and name != "id_hash"}
    if id_search:
        query["id_search"] = "1"
    context = {
        "page": page,
        "filters": filters,
        "id_search_masked": id_search["masked"] if id_search else "",
        "id_search_refused": id_search.get("refused", "") if id_search else "",
        "page_query": urlencode(query),
        "choices": selectors.filter_choices(actor=request.user),
        "categories": HouseholdCategory.choices,
        "monitorings": Monitoring.choices,
        "statuses": RecordStatus.choices,
        "employment_choices": Employment.choices,
        "import_kinds": [(kind, label) for kind, label in _import_kinds() if can_write(request.user, kind)],
        "back": request.get_full_path(),
        **_permissions(request.user),
    }
    return render(request, "households/household_list.html", context)


# --- household file ------------------------------------------------------------------------------


@login_required
def household_detail(request: AuthedHttpRequest, code: str) -> HttpResponse:
    actor = request.user
    record = selectors.household_file(actor=actor, code=code)
    today = timezone.localdate()
    for person in record.members:
        person.shown = selectors.person_display(actor, person, today)  # type: ignore[attr-defined]  # shown by the template
        labour_force = person.status == RecordStatus.ACTIVE and person.labour in LABOUR_FORCE
        person.in_labour_force = labour_force  # type: ignore[attr-defined]  # shown by the template
    for income in record.incomes:
        income.yuan = fen_to_yuan(income.per_capita_income)  # type: ignore[attr-defined]  # shown by the template
    names = {("person", person.pk): person.name for person in record.members}
    names.update({("income", income.pk): str(income.year) for income in record.incomes})
    for entry in record.history:
        entry.label = _history_label(entry, names)  # type: ignore[attr-defined]  # shown by the template
        entry.changes = _history_changes(actor, entry)  # type: ignore[attr-defined]  # shown by the template
    context = {
        "record": record,
        "household": record.household,
        "shown": selectors.household_display(actor, record.household),
        "dividend_yuan": fen_to_yuan(record.household.dividend),
        "employment_choices": Employment.choices,
        "today": today,
        "back": request.get_full_path(),
        **_permissions(actor),
    }
    return render(request, "households/household_detail.html", context)


HISTORY_MODELS: dict[str, Any] = {
    "household": Household,
    "person": Person,
    "income": Income,
    "grievance": Grievance,
    "followupaction": FollowUpAction,
}
# Snapshot keys that stand for an ID number (households.history.ID_KEYS): "set or changed" only.
ID_LABELS = {"id_number": _("身份证号"), "head_id": _("户主身份证号")}


def _history_label(entry: Any, names: dict[tuple[str, int], str]) -> str:
    model = HISTORY_MODELS.get(entry.entity)
    kind = str(model._meta.verbose_name) if model else entry.entity
    return f"{kind} {entry.object_code or names.get((entry.entity, entry.object_id), '')}".strip()


# Area paths and the owning household are implied by the page.
HISTORY_QUIET_FIELDS = frozenset({"county_code", "township_code", "village_code", "household"})


def _history_value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def _history_changes(actor: User, entry: Any) -> list[tuple[str, str, str]]:
    """(field label, before, after) of one history entry, as this actor may see them."""
    model = HISTORY_MODELS.get(entry.entity)
    # The one masking function: no birth date for masked roles (issue 17 finding 2).
    shown_before, shown_after = display_snapshot(actor, entry.before), display_snapshot(actor, entry.after)
    changes = []
    for key, value in shown_after.items():
        if key in HISTORY_QUIET_FIELDS or (not shown_before and value in ("", None, False)):
            continue
        try:
            label = str(ID_LABELS.get(key) or model._meta.get_field(key).verbose_name) if model else key
        except FieldDoesNotExist:  # a field since removed from the model
            label = key
        before = _history_value(shown_before.get(key)) if shown_before else ""
        changes.append((label, before, _history_value(value)))
    return changes


# --- quick employment update ---------------------------------------------------------------------


@login_required
@require_POST
def person_employment(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One click: a new employment status, checked today. htmx gets the re-rendered control back."""
    person = selectors.access_person(request.user, pk)
    require_write(request.user, "persons")
    form = EmploymentQuickForm(request.POST)
    error = ""
    updated = False
    if form.is_valid():
        try:
            person = services.person_set_employment(
                actor=request.user, person=person, employment=form.cleaned_data["employment"]
            )
            updated = True
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(map(str, form.errors.get("employment", [])))
    if is_htmx(request):
        context = {
            "person": person,
            "employment_choices": Employment.choices,
            "can_write_persons": True,
            "back": request.POST.get("next", ""),
            "updated": updated,
            "error": error,
        }
        return render(request, "households/_employment_control.html", context)
    if updated:
        messages.success(
            request,
            _("已将 %(name)s 的就业状态更新为“%(status)s”。")
            % {
                "name": person.name,
                "status": person.get_employment_display(),
            },
        )
    else:
        messages.error(request, error)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("household_detail", args=[person.household.code])
    return redirect(target)


@login_required
@require_POST
def validate_id(request: AuthedHttpRequest) -> HttpResponse:
    """Live ID validation: the message for the typed number (its format, check digit and birth date)."""
    require_write(request.user, "persons")
    value = next((request.POST.get(key, "") for key in request.POST if key.endswith("id_number")), "")
    context: dict[str, Any] = {"message": "", "ok": False}
    if value.strip():
        try:
            validate_id_number(value)
            context["ok"] = True
        except ValidationError as exc:
            context["message"] = " ".join(exc.messages)
    return render(request, "households/_id_check.html", context)


# --- forms ---------------------------------------------------------------------------------------


def _form_page(request: AuthedHttpRequest, context: dict[str, Any]) -> HttpResponse:
    """Every record form of a household: "back" leads to its file, the button says 保存 unless told."""
    context.setdefault("submit", _("保存"))
    if context.get("household") is not None:
        context.setdefault("back_url", reverse("household_detail", args=[context["household"].code]))
    return render(request, "households/form_page.html", context)


def _scoped_household(actor: User, code: str) -> Household:
    return access_object(Household.objects.select_related("village", "site", "origin"), actor, code=code)


def _parsed(form: Any, name: str) -> Any:
    """A field's cleaned value, or None when it did not parse (it has its own error then)."""
    return form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None


@login_required
@require_http_methods(["GET", "POST"])
def household_create(request: AuthedHttpRequest) -> HttpResponse:
    actor = request.user
    require_write(actor, "households")
    choices = selectors.filter_choices(actor=actor)
    form = HouseholdForm(
        request.POST or None,
        initial=_household_new_initial(request, choices["villages"]),
        villages=choices["villages"],
        sites=choices["sites"],
    )
    if form.initial.get("code"):
        form.fields["code"].help_text = _("已按本村已有户编号顺延填入下一个编号，可修改。")
    members = MemberFormSet(request.POST or None, prefix="members", initial=[{"relation": Relation.HEAD}])
    if request.method == "POST":
        # One pass (issue 20): the services' checks run on every field that parsed, beside the
        # form's own errors; the write only when there are none.
        valid = form.is_valid()
        valid = members.is_valid() and valid
        typed = [member for member in members.forms if member.has_changed()]
        errors, references = services.household_register_errors(
            actor=actor,
            household={
                "code": (_parsed(form, "code") or "").strip() or None,
                "village_code": _parsed(form, "village"),
                "site_code": _parsed(form, "site"),
                "origin_code": _parsed(form, "origin"),
            },
            members=[(_parsed(member, "id_number"), dict(member.cleaned_data)) for member in typed],
        )
        if errors:
            _apply_register_errors(form, typed, ValidationError(errors))
        elif valid:
            try:
                household = services.household_register_with_members(
                    actor=actor,
                    code=form.cleaned_data["code"].strip(),
                    village_code=form.cleaned_data["village"],
                    data={**form.service_data(), **references},
                    phone=form.cleaned_data["phone"],
                    members=[(member.cleaned_data["id_number"], member.service_data()) for member in typed],
                )
            except ValidationError as exc:
                _apply_register_errors(form, typed, exc)
            else:
                messages.success(request, _("已登记搬迁户 %(code)s。") % {"code": household.code})
                return redirect("household_detail", code=household.code)
    context = {
        "title": _("登记搬迁户"),
        "form": form,
        "members": members,
        "back_url": reverse("household_list"),
        "submit": _("保存"),
    }
    return render(request, "households/household_form.html", context)


def _household_new_initial(request: AuthedHttpRequest, villages: list[tuple[str, str]]) -> dict[str, Any]:
    """A new household's village (the user's only one, or ``?village=``) and the next free 户编号 there."""
    if request.method != "GET":
        return {}
    codes = [code for code, _name in villages]
    village = codes[0] if len(codes) == 1 else request.GET.get("village", "")
    if village not in codes:
        return {}
    return {"village": village, "code": selectors.household_next_code(village_code=village)}


def _apply_register_errors(form: HouseholdForm, typed: list[PersonForm], error: ValidationError) -> None:
    """Household errors beside the household's fields; ``members-<i>-<field>`` beside that member's."""
    own: dict[str, list[str]] = {}
    for key, messages_ in (error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}).items():
        prefix, _sep, rest = key.partition("-")
        index, _sep, field = rest.partition("-")
        if prefix == "members" and index.isdigit() and int(index) < len(typed):
            member = typed[int(index)]
            for message in messages_:
                member.add_error(field if field in member.fields else None, message)
        else:
            own[key] = messages_
    if own:
        apply_service_errors(form, ValidationError(own))


def _household_initial(household: Household) -> dict[str, Any]:
    return {
        "head_name": household.head_name,
        "site": household.site.code if household.site else "",
        "origin": household.origin.code if household.origin else "",
        "relocation_year": household.relocation_year,
        "category": household.category,
        "monitoring": household.monitoring,
        "monitoring_assisted": household.monitoring_assisted,
        "housing_hazard": household.housing_hazard,
        "tap_water": household.tap_water,
        "seasonal_water_shortage": household.seasonal_water_shortage,
        "industry_project": household.industry_project,
        "dividend": fen_to_yuan(household.dividend),
        "safety_net_eligible": household.safety_net_eligible,
        "safety_net": household.safety_net,
        "helper": household.helper,
        "contact": household.contact,
        # Only writers reach this form, and they are the unmasked roles.
        "phone": decrypt(household.phone_encrypted),
    }


@login_required
@require_http_methods(["GET", "POST"])
def household_edit(request: AuthedHttpRequest, code: str) -> HttpResponse:
    actor = request.user
    household = _scoped_household(actor, code)
    require_write(actor, "households")
    sites = list(scope(Site.objects.filter(village=household.village), actor).values_list("code", "name"))
    form = HouseholdForm(
        request.POST or None, initial=_household_initial(household), villages=[], sites=sites, editing=True
    )
    references: dict[str, Any] = {}
    if request.method == "POST":
        form.is_valid()
        errors, references = services.household_errors(
            actor=actor, village=household.village, site_code=_parsed(form, "site"), origin_code=_parsed(form, "origin")
        )
        if errors:
            apply_service_errors(form, ValidationError(errors))
    if request.method == "POST" and form.is_valid():
        try:
            services.household_update(
                actor=actor,
                household=household,
                data={**form.service_data(), **references},
                phone=form.cleaned_data["phone"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已保存搬迁户 %(code)s。") % {"code": household.code})
            return redirect("household_detail", code=household.code)
    context = {
        "title": _("修改搬迁户 %(code)s") % {"code": household.code},
        "form": form,
        "household": household,
    }
    return _form_page(request, context)


def _person_initial(person: Person) -> dict[str, Any]:
    names: tuple[str, ...] = ("name", "relation", "status", "labour", "wants_work", "employment")
    names += ("employment_checked_on", "work_place", "transport_subsidy", "wants_training", "trained_on", "schooling")
    names += ("hardship_student", "student_aid", "medical_insurance", "family_doctor")
    return {name: getattr(person, name) for name in names}


@login_required
@require_http_methods(["GET", "POST"])
def person_create(request: AuthedHttpRequest, code: str) -> HttpResponse:
    actor = request.user
    household = _scoped_household(actor, code)
    require_write(actor, "persons")
    form = PersonForm(request.POST or None, initial={"employment_checked_on": timezone.localdate()})
    if request.method == "POST":
        form.is_valid()
        errors = services.person_errors(
            actor=actor, household=household, values=dict(form.cleaned_data), id_number=_parsed(form, "id_number")
        )
        if errors:
            apply_service_errors(form, ValidationError(errors))
    if request.method == "POST" and form.is_valid():
        try:
            services.person_create(
                actor=actor, household=household, id_number=form.cleaned_data["id_number"], data=form.service_data()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已添加成员 %(name)s。") % {"name": form.cleaned_data["name"]})
            return redirect("household_detail", code=household.code)
    context = {
        "title": _("添加家庭成员 · %(code)s %(head)s") % {"code": household.code, "head": household.head_name},
        "form": form,
        "household": household,
    }
    return _form_page(request, context)


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: AuthedHttpRequest, code: str, pk: int) -> HttpResponse:
    actor = request.user
    household = _scoped_household(actor, code)
    person = access_object(Person.objects.filter(household=household), actor, pk=pk)
    require_write(actor, "persons")
    form = PersonForm(request.POST or None, initial=_person_initial(person), editing=True)
    if request.method == "POST":
        form.is_valid()
        errors = services.person_errors(actor=actor, household=household, values=dict(form.cleaned_data), person=person)
        if errors:
            apply_service_errors(form, ValidationError(errors))
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(actor=actor, person=person, data=form.service_data())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已保存成员 %(name)s。") % {"name": form.cleaned_data["name"]})
            return redirect("household_detail", code=household.code)
    context = {
        "title": _("修改家庭成员 %(name)s") % {"name": person.name},
        "subtitle": display_id_number(request.user, person),
        "form": form,
        "household": household,
    }
    return _form_page(request, context)


@login_required
@require_http_methods(["GET", "POST"])
def income_edit(request: AuthedHttpRequest, code: str, year: int | None = None) -> HttpResponse:
    """Add (``year`` None) or change one year's income of a household; money typed in yuan, kept in fen."""
    actor = request.user
    household = _scoped_household(actor, code)
    require_write(actor, "incomes")
    income = None
    if year is not None:
        income = Income.objects.filter(household=household, year=year).first()
        if income is None:
            raise Http404
    initial = (
        {"year": income.year, "size": income.size, "per_capita_income": fen_to_yuan(income.per_capita_income)}
        if income
        else {"year": timezone.localdate().year - 1}
    )
    form = IncomeForm(request.POST or None, initial=initial, editing=income is not None)
    if request.method == "POST" and form.is_valid():
        chosen_year = form.cleaned_data["year"]
        write = services.income_add if income is None else services.income_set
        try:
            write(
                actor=actor,
                household=household,
                year=chosen_year,
                size=form.cleaned_data["size"],
                per_capita_income_fen=yuan_to_fen(form.cleaned_data["per_capita_income"]),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已保存 %(year)s 年度收入。") % {"year": chosen_year})
            return redirect("household_detail", code=household.code)
    context = {
        "title": (_("修改收入") if income else _("添加收入")) + f" · {household.code} {household.head_name}",
        "form": form,
        "household": household,
    }
    return _form_page(request, context)


@login_required
@require_http_methods(["GET", "POST"])
def grievance_edit(request: AuthedHttpRequest, code: str, grievance_code: str | None = None) -> HttpResponse:
    """Create (``grievance_code`` None) or update a petition of a household. County officials may
    only close one (the service decides)."""
    actor = request.user
    household = _scoped_household(actor, code)
    grievance = None
    if grievance_code is not None:
        grievance = access_object(
            Grievance.objects.select_related("site").filter(household=household), actor, code=grievance_code
        )
        if not (can_write(actor, "grievances") or can_write(actor, "grievance_close")):
            raise PermissionDenied(_("您的角色无权修改此类记录。"))
    else:
        require_write(actor, "grievances")
    sites = list(scope(Site.objects.filter(village=household.village), actor).values_list("code", "name"))
    initial: dict[str, Any] = {"received_on": timezone.localdate()}
    if grievance is not None:
        initial = {
            name: getattr(grievance, name)
            for name in ("received_on", "topic", "content", "handling", "status", "resolved_on", "resolved_in_village")
        }
        initial["site"] = grievance.site.code if grievance.site else ""
    elif household.site:
        initial["site"] = household.site.code
    form = GrievanceForm(request.POST or None, initial=initial, sites=sites, editing=grievance is not None)
    if request.method == "POST" and form.is_valid():
        try:
            new_code = grievance.code if grievance else services.grievance_new_code(form.cleaned_data["code"])
            site_code = form.cleaned_data["site"]
            site = selectors.site_reference(actor, site_code) if site_code else None
            data = {**form.service_data(), "household": household, "site": site}
            services.grievance_save(actor=actor, code=new_code, village_code=household.village.code, data=data)
        except ValidationError as exc:
            apply_service_errors(form, exc, field_map={"village": "site"})
        else:
            messages.success(request, _("已保存信访舆情事项 %(code)s。") % {"code": new_code})
            return redirect("household_detail", code=household.code)
    context = {
        "title": (_("修改信访舆情事项 %(code)s") % {"code": grievance.code}) if grievance else _("登记信访舆情事项"),
        "subtitle": f"{household.code} {household.head_name}",
        "form": form,
        "household": household,
    }
    return _form_page(request, context)


def _member_choices(actor: User, household: Household) -> list[tuple[int, str]]:
    members = scope(Person.objects.filter(household=household, status=RecordStatus.ACTIVE), actor)
    return [(pk, f"{name}（{relation}）") for pk, name, relation in members.values_list("pk", "name", "relation")]


@login_required
@require_http_methods(["GET", "POST"])
def action_edit(request: AuthedHttpRequest, code: str, action_code: str | None = None) -> HttpResponse:
    """Create (``action_code`` None) or update a follow-up action of a household."""
    actor = request.user
    household = _scoped_household(actor, code)
    action = None
    if action_code is not None:
        action = access_object(
            FollowUpAction.objects.select_related("person").filter(household=household), actor, code=action_code
        )
    require_write(actor, "actions")
    initial: dict[str, Any] = {}
    if action is not None:
        initial = {
            name: getattr(action, name)
            for name in ("kind", "indicator", "description", "owner", "due_on", "status", "done_on", "visit_note")
        }
        initial["person"] = str(action.person_id or "")
    form = ActionForm(request.POST or None, initial=initial, members=_member_choices(actor, household))
    if request.method == "POST" and form.is_valid():
        try:
            member = form.cleaned_data["person"]
            person = selectors.member_reference(actor, household, pk=member) if member else None
            data = {**form.service_data(), "person": person}
            if action is None:
                action = services.action_create(actor=actor, data=data, household=household)
            else:
                action = services.action_update(actor=actor, action=action, data=data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已保存帮扶台账 %(code)s。") % {"code": action.code})
            return redirect("household_detail", code=household.code)
    context = {
        "title": (_("修改帮扶台账 %(code)s") % {"code": action.code}) if action else _("新增帮扶台账"),
        "subtitle": f"{household.code} {household.head_name}",
        "form": form,
        "household": household,
    }
    return _form_page(request, context)


@login_required
@require_POST
def action_close(request: AuthedHttpRequest, code: str, action_code: str) -> HttpResponse:
    """Mark a follow-up action done today."""
    actor = request.user
    household = _scoped_household(actor, code)
    action = access_object(FollowUpAction.objects.filter(household=household), actor, code=action_code)
    require_write(actor, "actions")
    try:
        services.action_update(
            actor=actor, action=action, data={"status": ActionStatus.DONE, "done_on": timezone.localdate()}
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("帮扶台账 %(code)s 已办结。") % {"code": action.code})
    return redirect("household_detail", code=household.code)


@login_required
def history_list(request: AuthedHttpRequest) -> HttpResponse:
    """The change history: city administrator everything, county officials their county (access.md)."""
    if not (request.user.is_superuser or request.user.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICIAL)):
        raise PermissionDenied
    entries = scope(HistoryEntry.objects.select_related("user", "import_job"), request.user)
    entity = request.GET.get("entity")
    if entity:
        entries = entries.filter(entity=entity)
    page = Paginator(entries.order_by("-at", "-id"), 50).get_page(request.GET.get("page"))
    for entry in page:  # masked roles never see a birth date here (issue 17 finding 2)
        entry.before_shown = display_snapshot(request.user, entry.before)  # type: ignore[attr-defined]  # shown by the template
        entry.after_shown = display_snapshot(request.user, entry.after)  # type: ignore[attr-defined]  # shown by the template
    return render(request, "accounts/history_list.html", {"page": page})


@login_required
@require_POST
def person_unmask(request: AuthedHttpRequest, pk: int) -> JsonResponse:
    person = access_object(Person.objects.all(), request.user, pk=pk)
    plain = services.personal_data_unmask(actor=request.user, person=person, ip_address=request.META.get("REMOTE_ADDR"))
    response = JsonResponse(plain)
    response["Cache-Control"] = "no-store"
    return response
