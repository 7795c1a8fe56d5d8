"""Household events as pages (issue 20): transfer, transfer request and its decision, cancelling a
household or a person, correcting an ID number, changing the 户主.

Like the record forms of ``households.views``: the household comes through ``accounts.access`` (404
for missing and foreign alike, then 403 for a role that may not do the event), the choices through
``households.selectors``, the write through one ``households.services`` function, whose
ValidationError is put back beside the typed values.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.access import access_object, can_write, display_id_number, require_write, scope
from accounts.models import User
from accounts.personal_data import blind_index
from accounts.types import AuthedHttpRequest
from households import selectors, services
from households.choices import RecordStatus, Relation, TransferRequestStatus
from households.forms import apply_service_errors
from households.forms_events import (
    CancelForm,
    ChangeHeadForm,
    CorrectIdForm,
    TransferDecisionForm,
    TransferForm,
    TransferRequestForm,
)
from households.models import Household, Person
from households.validators import normalise_id_number


def _household(actor: User, code: str) -> Household:
    return access_object(Household.objects.select_related("village", "site"), actor, code=code)


def _event_page(request: AuthedHttpRequest, context: dict[str, Any]) -> HttpResponse:
    """Every event form: "back" leads to the household's file."""
    context.setdefault("back_url", reverse("household_detail", args=[context["household"].code]))
    return render(request, "households/event_form.html", context)


def _done(request: AuthedHttpRequest, household: Household, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("household_detail", code=household.code)


def _written(
    request: AuthedHttpRequest,
    form: Form,
    household: Household,
    write: Callable[[dict[str, Any]], object],
    message: str,
    field_map: dict[str, str] | None = None,
) -> HttpResponse | None:
    """A valid POST runs its one service write and returns to the household's file with ``message``;
    the service's refusal goes onto the form beside the typed values. None: show the form again."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        write(form.cleaned_data)
    except ValidationError as exc:
        apply_service_errors(form, exc, field_map)
        return None
    return _done(request, household, message)


@login_required
@require_http_methods(["GET", "POST"])
def household_transfer(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """Move a household to another village or site of the actor's area (township, county or city)."""
    actor = request.user
    household = _household(actor, code)
    require_write(actor, "transfer")
    targets = selectors.transfer_targets(actor=actor)
    initial = {"village": household.village.code, "site": household.site.code if household.site else ""}
    form = TransferForm(request.POST or None, initial=initial, villages=targets["villages"], sites=targets["sites"])
    written = _written(
        request,
        form,
        household,
        lambda data: services.household_transfer(
            actor=actor, household=household, village_code=data["village"], site_code=data["site"]
        ),
        _("已将该户迁至新的村（社区）或安置点。"),
    )
    if written is not None:
        return written
    context = {
        "title": _("迁移 · %(code)s %(head)s") % {"code": household.code, "head": household.head_name},
        "intro": _("现居：%(village)s；安置点：%(site)s。迁移后，成员、信访事项、帮扶台账随户迁入，记入变更记录。")
        % {"village": household.village.name, "site": household.site.name if household.site else _("分散安置")},
        "form": form,
        "household": household,
        "submit": _("确认迁移"),
    }
    return _event_page(request, context)


@login_required
@require_http_methods(["GET", "POST"])
def household_transfer_request(request: AuthedHttpRequest, code: str) -> HttpResponse:
    """A township asks the county official to move a household to a village of another township."""
    actor = request.user
    household = _household(actor, code)
    require_write(actor, "transfer_request")
    form = TransferRequestForm(request.POST or None, villages=selectors.transfer_request_villages(household=household))
    written = _written(
        request,
        form,
        household,
        lambda data: services.transfer_request_file(
            actor=actor, household=household, village_code=data["village"], reason=data["reason"]
        ),
        _("已提交迁移申请，等待县级审批。"),
    )
    if written is not None:
        return written
    context = {
        "title": _("申请跨乡镇迁移 · %(code)s %(head)s") % {"code": household.code, "head": household.head_name},
        "intro": _("迁往本县（市、区）其他乡镇（街道）的村（社区），由县级审批；批准后该户即迁出本乡镇。"),
        "form": form,
        "household": household,
        "submit": _("提交申请"),
    }
    return _event_page(request, context)


@login_required
@require_http_methods(["GET", "POST"])
def household_cancel(request: AuthedHttpRequest, code: str) -> HttpResponse:
    actor = request.user
    household = _household(actor, code)
    require_write(actor, "households")
    form = CancelForm(request.POST or None, household=True)
    written = _written(
        request,
        form,
        household,
        lambda data: services.household_cancel(
            actor=actor, household=household, cancelled_on=data["cancelled_on"], reason=data["cancel_reason"]
        ),
        _("已注销该户及其全部成员。"),
        {"reason": "cancel_reason"},
    )
    if written is not None:
        return written
    context = {
        "title": _("注销本户 · %(code)s %(head)s") % {"code": household.code, "head": household.head_name},
        "intro": _("注销后，本户及其状态为“正常”的成员一并注销，不再计入指标；注销日期和原因记入变更记录。"),
        "form": form,
        "household": household,
        "submit": _("确认注销"),
        "danger": True,
    }
    return _event_page(request, context)


def _member(actor: User, household: Household, pk: int) -> Person:
    return access_object(Person.objects.filter(household=household), actor, pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def person_cancel(request: AuthedHttpRequest, code: str, pk: int) -> HttpResponse:
    actor = request.user
    household = _household(actor, code)
    person = _member(actor, household, pk)
    require_write(actor, "persons")
    form = CancelForm(request.POST or None, household=False)
    written = _written(
        request,
        form,
        household,
        lambda data: services.person_cancel(
            actor=actor, person=person, cancelled_on=data["cancelled_on"], reason=data["cancel_reason"]
        ),
        _("已注销成员 %(name)s。") % {"name": person.name},
        {"reason": "cancel_reason"},
    )
    if written is not None:
        return written
    context = {
        "title": _("注销成员 %(name)s") % {"name": person.name},
        "subtitle": display_id_number(actor, person),
        "form": form,
        "household": household,
        "submit": _("确认注销"),
        "danger": True,
    }
    return _event_page(request, context)


@login_required
@require_http_methods(["GET", "POST"])
def person_correct_id(request: AuthedHttpRequest, code: str, pk: int) -> HttpResponse:
    """The old number (as the role may see it) beside the new one; the correction keeps both in the
    history as "changed" and moves the blind index (``services.person_correct_id_number``)."""
    actor = request.user
    household = _household(actor, code)
    person = _member(actor, household, pk)
    require_write(actor, "persons")
    form = CorrectIdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        typed = normalise_id_number(form.cleaned_data["id_number"])
        if blind_index(typed) == person.id_number_hash:
            form.add_error("id_number", _("新号码与原身份证号相同：请输入更正后的号码。"))
        else:
            try:
                services.person_correct_id_number(actor=actor, person=person, id_number=form.cleaned_data["id_number"])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                return _done(request, household, _("已更正 %(name)s 的身份证号。") % {"name": person.name})
    context = {
        "title": _("更正身份证号 · %(name)s") % {"name": person.name},
        "facts": [(_("原身份证号"), display_id_number(actor, person))],
        "form": form,
        "household": household,
        "submit": _("确认更正"),
    }
    return _event_page(request, context)


@login_required
@require_http_methods(["GET", "POST"])
def household_change_head(request: AuthedHttpRequest, code: str) -> HttpResponse:
    actor = request.user
    household = _household(actor, code)
    require_write(actor, "persons")
    members = list(scope(Person.objects.filter(household=household, status=RecordStatus.ACTIVE), actor))
    head = next((person for person in members if person.relation == Relation.HEAD), None)
    choices = [
        (person.pk, f"{person.name}（{person.get_relation_display()}）") for person in members if person is not head
    ]
    form = ChangeHeadForm(request.POST or None, members=choices, has_head=head is not None)
    if request.method == "POST" and form.is_valid():
        chosen = next(person for person in members if person.pk == form.cleaned_data["new_head"])
        try:
            services.household_change_head(
                actor=actor,
                household=household,
                new_head=chosen,
                old_head_relation=form.cleaned_data.get("old_head_relation", ""),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            others = [person for person in members if person is not head and person is not chosen]
            if others:
                # The spec (data.md) is silent on the others' relations, and only the clerk knows them
                # (a 子女 of the old head may be the new head's 子女 or 孙子女): kept, and named for review.
                messages.warning(
                    request,
                    _("其他成员的“与户主关系”仍按原户主填写，未自动更改，请逐一核对：%(members)s。")
                    % {"members": "、".join(f"{p.name}（{p.get_relation_display()}）" for p in others)},
                )
            return _done(request, household, _("已将 %(name)s 设为户主。") % {"name": chosen.name})
    context = {
        "title": _("更换户主 · %(code)s %(head)s") % {"code": household.code, "head": household.head_name},
        "facts": [(_("现户主"), head.name if head else _("无（原户主已注销）"))],
        "intro": _("更换后，其他成员的“与户主关系”不会自动更改，请在户档案中逐一核对。")
        if choices
        else _("本户没有其他状态为“正常”的成员，无法更换户主。"),
        "form": form,
        "household": household,
        "submit": _("确认更换"),
    }
    return _event_page(request, context)


# --- the county's list of transfer requests ----------------------------------------------------------

STATUS_FILTERS = [("", _("全部")), *TransferRequestStatus.choices]


@login_required
def transfer_request_list(request: AuthedHttpRequest) -> HttpResponse:
    """Transfer requests of the user's area: the county official decides the pending ones, a
    township follows its own."""
    actor = request.user
    status = request.GET.get("status", TransferRequestStatus.PENDING)
    if status not in TransferRequestStatus.values:
        status = ""
    context = {
        "requests": selectors.transfer_requests(actor=actor, status=status),
        "status": status,
        "statuses": STATUS_FILTERS,
        "can_decide": can_write(actor, "transfer_decide"),
        "limit": selectors.TRANSFER_REQUEST_LIMIT,
    }
    return render(request, "households/event_transfers.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def transfer_request_decide(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    actor = request.user
    transfer_request = selectors.access_transfer_request(actor, pk)
    require_write(actor, "transfer_decide")
    form = TransferDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.transfer_request_decide(
                actor=actor, request=transfer_request, approve=approve, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            household = transfer_request.household
            text = _("已批准 %(code)s 迁入 %(village)s。") if approve else _("已驳回 %(code)s 的迁移申请。")
            messages.success(request, text % {"code": household.code, "village": transfer_request.target_village.name})
            return redirect("transfer_request_list")
    return render(request, "households/event_decide.html", {"transfer_request": transfer_request, "form": form})
