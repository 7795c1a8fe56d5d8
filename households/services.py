"""Writes to the registry. Views, API, admin and tasks call these and nothing else.

Each service owns its transaction, validates with ``full_clean``, writes one history entry per
changed record and adds a change-feed row so the indicator engine recomputes after commit.
Imports use the batched writers of ``households.importing`` with the same validators.
"""

import datetime
import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import personal_data
from accounts.access import access_object, require_write, scope
from accounts.models import PersonalDataAccess, User
from accounts.services import UNMASK_PERMISSION
from areas.choices import AreaLevel
from areas.models import Area
from core.free_text import FREE_TEXT_FIELDS, redact_fields, redact_free_text
from core.text import normalise_text
from households.choices import (
    LABOUR_FORCE,
    ActionStatus,
    Channel,
    Employment,
    GrievanceStatus,
    HouseholdCancelReason,
    PersonCancelReason,
    RecordStatus,
    Relation,
    TransferRequestStatus,
)
from households.history import (
    Place,
    build_entry,
    changefeed_add,
    diff,
    history_record,
    history_record_many,
    snapshot,
)
from households.id_lookup import foreign_id_limit_reached, import_foreign_ids
from households.models import (
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Household,
    Income,
    MonitoringDecision,
    Person,
    Site,
    TransferRequest,
)
from households.selectors import area_reference, origin_reference, site_reference
from households.validators import (
    id_birth_date,
    id_sex,
    normalise_id_number,
    validate_chosen_action_code,
    validate_id_number,
    validate_phone,
    validate_record_code,
)

DUPLICATE_ID_MESSAGE = "该身份证号已在系统中登记，请联系县级管理员"


def _copy_area_codes(record: Any, village: Area) -> None:
    record.village_code = village.code
    record.township_code = village.township_code
    record.county_code = village.county_code


def record_code(code: Any, field: str = "code") -> str:
    """A new record's code, normalised and whitelisted (validators.validate_record_code)."""
    try:
        return validate_record_code(code)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def _save(
    *, instance: Any, before: dict[str, Any] | None, actor: User | None, channel: str, action: str | None = None
) -> Any:
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        if "person_unique_active_id_number" in str(exc) or "id_number_hash" in str(exc):
            raise ValidationError({"id_number": DUPLICATE_ID_MESSAGE}) from exc
        if "household_one_active_head" in str(exc):
            raise ValidationError({"relation": _("每户只能有一名状态为“正常”的户主。")}) from exc
        raise
    after = snapshot(instance)
    if before is None:
        history_record(
            instance=instance, action=action or HistoryEntry.Action.CREATE, channel=channel, user=actor, after=after
        )
    else:
        old, new = diff(before, after)
        if old or new:
            history_record(
                instance=instance,
                action=action or HistoryEntry.Action.UPDATE,
                channel=channel,
                user=actor,
                before=old,
                after=new,
            )
    return instance


def _assign(instance: Any, data: dict[str, Any], allowed: set[str]) -> None:
    for key, value in data.items():
        if key not in allowed:
            raise ValidationError({key: _("不能修改字段“%(field)s”。") % {"field": key}})
        setattr(instance, key, value)


HOUSEHOLD_FIELDS = {
    "head_name",
    "site",
    "origin",
    "relocation_year",
    "category",
    "monitoring",
    "monitoring_assisted",
    "housing_hazard",
    "tap_water",
    "seasonal_water_shortage",
    "industry_project",
    "dividend",
    "safety_net_eligible",
    "safety_net",
    "helper",
    "contact",
}
PERSON_FIELDS = {
    "name",
    "relation",
    "labour",
    "wants_work",
    "employment",
    "employment_checked_on",
    "work_place",
    "transport_subsidy",
    "wants_training",
    "trained_on",
    "schooling",
    "hardship_student",
    "student_aid",
    "medical_insurance",
    "family_doctor",
}


def _check_site(household: Household) -> None:
    site = household.site if household.site_id else None
    if site is not None and site.village_id != household.village_id:
        raise ValidationError({"site": _("安置点不在该户现居村（社区），请选择本村的安置点或留空（分散安置）。")})


@transaction.atomic
def household_register(
    *,
    actor: User | None,
    code: str,
    village_code: str,
    data: dict[str, Any],
    phone: str = "",
    channel: str = Channel.FORM,
) -> Household:
    require_write(actor, "households")
    code = record_code(code)
    village = area_reference(actor=actor, code=village_code, level=AreaLevel.VILLAGE, field="village")
    if Household.objects.filter(code=code).exists():
        raise ValidationError({"code": _("该户编号已在系统中登记，请联系县级管理员")})
    household = Household(code=code, village=village)
    _copy_area_codes(household, village)
    _assign(household, data, HOUSEHOLD_FIELDS)
    _set_phone(household, phone)
    _check_site(household)
    _save(instance=household, before=None, actor=actor, channel=channel)
    changefeed_add(places=[_place(household)])
    return household


def _set_phone(household: Household, phone: str) -> None:
    phone = validate_phone(phone) if phone else ""
    household.phone_encrypted = personal_data.encrypt(phone)
    household.phone_masked = personal_data.mask_phone(phone)


def _place(household: Household) -> Place:
    """Where a household's records count (the change feed's unit of recomputation)."""
    return (household.village_id, household.site_id)


def _person_place(person: Person) -> Place:
    """A person counts where their household is; one query unless the household is loaded."""
    if Person.household.is_cached(person):
        return _place(person.household)
    return cast(Place, tuple(Household.objects.values_list("village_id", "site_id").get(pk=person.household_id)))


@transaction.atomic
def household_update(
    *,
    actor: User | None,
    household: Household,
    data: dict[str, Any],
    phone: str | None = None,
    channel: str = Channel.FORM,
) -> Household:
    require_write(actor, "households")
    household = access_object(Household.objects.select_for_update(), actor, pk=household.pk)
    before = snapshot(household)
    was = _place(household)
    _assign(household, data, HOUSEHOLD_FIELDS)
    if phone is not None and phone != personal_data.decrypt(household.phone_encrypted):
        _set_phone(household, phone)
    _check_site(household)
    _save(instance=household, before=before, actor=actor, channel=channel)
    changefeed_add(places=[was, _place(household)])
    return household


# Members cancelled with their household get the household's reason in their own terms.
MEMBER_CANCEL_REASON: dict[str, str] = {
    HouseholdCancelReason.MOVED_AWAY: PersonCancelReason.MOVED_AWAY,
    HouseholdCancelReason.DISSOLVED: PersonCancelReason.OTHER,
}


def _cancel_fields(record: Household | Person, cancelled_on: datetime.date | None, reason: str) -> None:
    if record.status == RecordStatus.CANCELLED:
        raise ValidationError(_("该记录已注销，无需再次注销。"))
    record.status = RecordStatus.CANCELLED
    record.cancelled_on = cancelled_on or timezone.localdate()
    record.cancel_reason = reason


@transaction.atomic
def household_cancel(
    *,
    actor: User | None,
    household: Household,
    channel: str = Channel.FORM,
    cancelled_on: datetime.date | None = None,
    reason: str = "",
) -> Household:
    """Cancelling a household cancels its members in the same write (access.md), with the date
    (today when not given: the API) and the reason (issue 20), both kept in the history."""
    require_write(actor, "households")
    household = access_object(Household.objects.select_for_update(), actor, pk=household.pk)
    before = snapshot(household)
    _cancel_fields(household, cancelled_on, reason)
    _save(instance=household, before=before, actor=actor, channel=channel, action=HistoryEntry.Action.CANCEL)
    for person in household.members.filter(status=RecordStatus.ACTIVE):
        person_before = snapshot(person)
        _cancel_fields(person, household.cancelled_on, MEMBER_CANCEL_REASON.get(reason, ""))
        _save(instance=person, before=person_before, actor=actor, channel=channel, action=HistoryEntry.Action.CANCEL)
    changefeed_add(places=[_place(household)])
    return household


@transaction.atomic
def person_cancel(
    *,
    actor: User | None,
    person: Person,
    cancelled_on: datetime.date,
    reason: str,
    channel: str = Channel.FORM,
) -> Person:
    """Cancel one member (死亡/迁出/其他) with its date and reason. A 户主 goes last: while other
    members are active the household first gets a new 户主 (``household_change_head``)."""
    require_write(actor, "persons")
    if reason not in PersonCancelReason.values:  # the API and imports as well as the page give one
        raise ValidationError({"cancel_reason": _("请选择注销原因：死亡、迁出或其他。")})
    person = access_object(Person.objects.select_for_update(), actor, pk=person.pk)
    if person.relation == Relation.HEAD and person.status == RecordStatus.ACTIVE:
        others = Person.objects.filter(household_id=person.household_id, status=RecordStatus.ACTIVE)
        if others.exclude(pk=person.pk).exists():
            raise ValidationError(_("该成员是户主：请先通过“更换户主”指定新的户主，再注销。"))
    before = snapshot(person)
    _cancel_fields(person, cancelled_on, reason)
    _save(instance=person, before=before, actor=actor, channel=channel, action=HistoryEntry.Action.CANCEL)
    if person.relation == Relation.HEAD:
        _head_id_follows(actor=actor, household_id=person.household_id, channel=channel)
    changefeed_add(places=[_person_place(person)])
    return person


@transaction.atomic
def household_change_head(
    *, actor: User | None, household: Household, new_head: Person, old_head_relation: str, channel: str = Channel.FORM
) -> Household:
    """Make another active member the 户主: the old 户主 takes ``old_head_relation`` (chosen by the
    clerk), the household's 户主姓名 and 户主身份证号 follow the new one; one history entry per record."""
    require_write(actor, "persons")
    household = access_object(Household.objects.select_for_update(), actor, pk=household.pk)
    members = Person.objects.select_for_update().filter(household=household, status=RecordStatus.ACTIVE)
    chosen = members.filter(pk=new_head.pk).first()
    if chosen is None:
        raise ValidationError({"new_head": _("请选择本户一名状态为“正常”的成员。")})
    if chosen.relation == Relation.HEAD:
        raise ValidationError({"new_head": _("该成员已是户主，请选择另一名成员。")})
    old_head = members.filter(relation=Relation.HEAD).first()
    if old_head is not None:
        if old_head_relation not in Relation.values or old_head_relation == Relation.HEAD:
            raise ValidationError({"old_head_relation": _("请选择原户主与新户主的关系。")})
        before = snapshot(old_head)
        old_head.relation = old_head_relation
        _save(instance=old_head, before=before, actor=actor, channel=channel)
    before = snapshot(chosen)
    chosen.relation = Relation.HEAD
    _save(instance=chosen, before=before, actor=actor, channel=channel)
    before = snapshot(household)
    household.head_name = chosen.name
    _save(instance=household, before=before, actor=actor, channel=channel)
    _head_id_follows(actor=actor, household_id=household.pk, channel=channel)
    changefeed_add(places=[_place(household)])
    return household


@transaction.atomic
def household_transfer(
    *,
    actor: User | None,
    household: Household,
    village_code: str,
    site_code: str = "",
    channel: str = Channel.FORM,
) -> Household:
    """Move a household to another village (and optionally a site of it), or to another site of its
    village: one recorded change. The actor's area bounds the target (``scope``): a township moves
    households between its villages, a county between its townships, the city administrator anywhere.

    Everything filed under the household moves with it in the same transaction — members, petitions,
    follow-up actions, monitoring decisions — so the old village's staff no longer reach them and the
    new village's do (issue 17 finding 8). Set-based: one UPDATE per table, however many records."""
    require_write(actor, "transfer")
    household = access_object(Household.objects.select_for_update(), actor, pk=household.pk)
    village = area_reference(actor=actor, code=village_code, level=AreaLevel.VILLAGE, field="village")
    site = None
    if site_code:
        site = scope(Site.objects.filter(village=village), actor).filter(code=site_code).first()
        if site is None:
            raise ValidationError({"site": _("安置点不在迁入村（社区），请选择该村的安置点或留空（分散安置）。")})
    moves_village = village.pk != household.village_id
    if not moves_village and (site.pk if site else None) == household.site_id:
        raise ValidationError({"village": _("该户已在此村（社区）和安置点，请选择新的村（社区）或安置点。")})
    before = snapshot(household)
    places = [_place(household)]
    household.village = village
    household.site = site
    _copy_area_codes(household, village)
    _save(instance=household, before=before, actor=actor, channel=channel, action=HistoryEntry.Action.TRANSFER)
    places.append(_place(household))
    if moves_village:
        places += _transfer_linked_records(actor=actor, household=household, village=village, channel=channel)
    changefeed_add(places=places)
    return household


def _transfer_linked_records(*, actor: User | None, household: Household, village: Area, channel: str) -> list[Place]:
    """Move the records filed under ``household`` to ``village``. Petitions and actions lose a site of
    the old village (like the household); each moved petition, action and decision gets a transfer
    entry in the history, written in one batch. Returns the moved petitions' old places (they count
    where they are filed)."""
    codes = {"village_code": village.code, "township_code": village.township_code, "county_code": village.county_code}
    now = timezone.now()
    household.members.update(**codes, updated_at=now)
    entries = []
    places: list[Place] = []
    for model, extra in (
        (Grievance, {"village": village, "site": None, "updated_at": now}),
        (FollowUpAction, {"site": None, "updated_at": now}),
        (MonitoringDecision, {}),
    ):
        linked = model.objects.filter(household=household)
        names = [name for name in ("pk", "code", "village_code", "site_id") if name == "pk" or hasattr(model, name)]
        filed = ["village_id"] if model is Grievance else []
        moved = list(linked.exclude(village_code=village.code).values(*names, *filed))
        if model is Grievance:
            places += [(row["village_id"], row["site_id"]) for row in moved]
        linked.update(**codes, **extra)
        for row in moved:
            old: dict[str, Any] = {"village_code": row["village_code"]}
            new: dict[str, Any] = {"village_code": village.code}
            if row.get("site_id"):
                old["site"], new["site"] = row["site_id"], None
            record = model(pk=row["pk"], **codes, **({"code": row["code"]} if "code" in row else {}))
            entries.append(
                build_entry(
                    instance=record,
                    action=HistoryEntry.Action.TRANSFER,
                    channel=channel,
                    user=actor,
                    before=old,
                    after=new,
                )
            )
    history_record_many(entries)
    return places


@transaction.atomic
def transfer_request_file(
    *, actor: User | None, household: Household, village_code: str, reason: str
) -> TransferRequest:
    """A township asks its county to move one of its households to a village of another township of
    the county (issue 20); the county official decides it (``transfer_request_decide``)."""
    require_write(actor, "transfer_request")
    household = access_object(Household.objects.select_for_update(), actor, pk=household.pk)
    if household.status != RecordStatus.ACTIVE:
        raise ValidationError(_("已注销的户不能迁移。"))
    village = Area.objects.filter(code=normalise_text(village_code), level=AreaLevel.VILLAGE).first()
    if village is None or village.county_code != household.county_code:
        raise ValidationError({"village": _("请选择本县（市、区）其他乡镇（街道）的村（社区）。")})
    if village.township_code == household.township_code:
        raise ValidationError({"village": _("本乡镇（街道）内的迁移无需申请，请直接办理迁移。")})
    reason = redact_free_text(reason.strip())
    if not reason:
        raise ValidationError({"reason": _("请填写申请理由。")})
    if TransferRequest.objects.filter(household=household, status=TransferRequestStatus.PENDING).exists():
        raise ValidationError(_("该户已有待审批的迁移申请，请等待县级审批。"))
    request = TransferRequest(household=household, target_village=village, reason=reason, requested_by=actor)
    _copy_area_codes(request, household.village)
    request.save()
    return request


@transaction.atomic
def transfer_request_decide(
    *, actor: User | None, request: TransferRequest, approve: bool, note: str = ""
) -> TransferRequest:
    """Approve (the household is transferred: ``household_transfer``, history and change feed) or
    reject (a reason is required) a pending request of the actor's area."""
    require_write(actor, "transfer_decide")
    request = access_object(
        TransferRequest.objects.select_for_update().select_related("household", "target_village"), actor, pk=request.pk
    )
    if request.status != TransferRequestStatus.PENDING:
        raise ValidationError(_("该申请已审批，不能重复审批。"))
    note = redact_free_text(note.strip())
    if not approve and not note:
        raise ValidationError({"note": _("驳回时请填写驳回理由。")})
    if approve:
        household_transfer(actor=actor, household=request.household, village_code=request.target_village.code)
    request.status = TransferRequestStatus.APPROVED if approve else TransferRequestStatus.REJECTED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return request


def _set_id_number(person: Person, id_number: str) -> None:
    """``id_number`` passed ``validate_id_number``, which refuses one whose birth date is not a real
    date: hence the cast of ``id_birth_date``."""
    person.id_number_hash = personal_data.blind_index(id_number)
    person.id_number_encrypted = personal_data.encrypt(id_number)
    person.birth_date = cast(datetime.date, id_birth_date(id_number))
    person.sex = id_sex(id_number)


# Numbers a person service found registered outside the actor's area, collected for the outermost
# counting call (``counts_foreign_ids``): its transaction has rolled back when it logs them.
_foreign_clashes: ContextVar[list[tuple[User, int]] | None] = ContextVar("foreign_id_clashes", default=None)
Service = TypeVar("Service", bound=Callable[..., Any])


def counts_foreign_ids(service: Service) -> Service:
    """The neutral "already registered" answer of a form or API write counts like an import's (issue
    17 finding 12): each number found outside the user's area is logged, and past the daily limit
    the write is refused without saying whether the number exists. Put it outside every transaction
    of the write (the services here; an API view that wraps them in its own), so the log row
    survives the rollback of the refused write."""

    @functools.wraps(service)
    def counted(*args: Any, **kwargs: Any) -> Any:
        if _foreign_clashes.get() is not None:
            return service(*args, **kwargs)  # an outer call counts
        token = _foreign_clashes.set([])
        try:
            return service(*args, **kwargs)
        except ValidationError as exc:
            clashes = _foreign_clashes.get() or []
            if not clashes:
                raise
            actor = clashes[0][0]
            holders = [holder for _actor, holder in clashes]
            refusal = import_foreign_ids(
                actor=actor, person_ids=holders, new_to_area=len(holders), label=kwargs.get("channel", Channel.FORM)
            )
            if refusal:  # the same words as for a number that exists nowhere (``_check_duplicate_id``)
                raise _neutral_replaced(exc, _limit_message()) from exc
            raise
        finally:
            _foreign_clashes.reset(token)

    # ``functools.wraps``: ``counted`` takes and returns what ``service`` does.
    return cast(Service, counted)


def _neutral_replaced(exc: ValidationError, text: str) -> ValidationError:
    """``exc`` with the neutral "already registered" message replaced by ``text``, under the same keys
    (``id_number``, or ``members-<i>-id_number`` on the household page)."""
    if not hasattr(exc, "error_dict"):
        return ValidationError(text)
    return ValidationError(
        {
            field: [text if m == DUPLICATE_ID_MESSAGE else m for m in messages]
            for field, messages in exc.message_dict.items()
        }
    )


def _limit_message() -> str:
    return _("您今日查到辖区外已登记身份证号的次数已达上限，暂不能登记辖区外的新身份证号。请联系县级管理员核实。")


def _check_duplicate_id(person: Person, actor: User | None, *, new_number: bool = True) -> None:
    """One active person per number. A number found outside the actor's area is noted for
    ``counts_foreign_ids``; once the daily limit is reached every number new to the area is
    refused alike, so the answer no longer depends on the number existing elsewhere."""
    if person.status != RecordStatus.ACTIVE:
        return
    clash = Person.objects.filter(id_number_hash=person.id_number_hash, status=RecordStatus.ACTIVE)
    if person.pk:
        clash = clash.exclude(pk=person.pk)
    holder = clash.values_list("pk", flat=True).first()
    if holder is not None and actor is not None and not scope(Person.objects.filter(pk=holder), actor).exists():
        clashes = _foreign_clashes.get()
        if clashes is not None:
            clashes.append((actor, holder))
    if holder is not None:
        raise ValidationError({"id_number": DUPLICATE_ID_MESSAGE})
    if new_number and foreign_id_limit_reached(actor):
        raise ValidationError({"id_number": _limit_message()})


def _labour_date_message(labour: str, checked_on: datetime.date | None) -> str:
    if labour in LABOUR_FORCE and not checked_on:
        return _("有劳动能力的人员必须填写就业信息更新日期。")
    return ""


def _check_labour_date(person: Person) -> None:
    message = _labour_date_message(person.labour, person.employment_checked_on)
    if message:
        raise ValidationError({"employment_checked_on": message})


# --- One pass of validation (issue 20) ---------------------------------------------------------
# A page checks, before it writes, everything the services would refuse on the fields that did
# parse, so one submit lists every problem: field rules (the form), the ID check, references and
# scope (here). Nothing is written; the writes keep their own checks (the API, a race).

Errors = dict[str, list[str]]


def _collect(errors: Errors, exc: ValidationError, field: str) -> None:
    found = exc.message_dict if hasattr(exc, "error_dict") else {field: exc.messages}
    for key, messages in found.items():
        errors.setdefault(field if key == "__all__" else key, []).extend(messages)


@counts_foreign_ids
def _id_number_free(*, actor: User | None, id_number: str, channel: str) -> None:
    """The write's duplicate check on a number before the write: counted and throttled like the
    write's (issue 17 finding 12), so checking first is no uncounted probe."""
    person = Person(id_number_hash=personal_data.blind_index(id_number), status=RecordStatus.ACTIVE)
    _check_duplicate_id(person, actor)


def person_errors(
    *,
    actor: User | None,
    values: dict[str, Any],
    household: Household | None = None,
    id_number: str | None = None,
    person: Person | None = None,
    channel: str = Channel.FORM,
) -> Errors:
    """What ``person_create``/``person_update`` would refuse in the typed ``values`` (only the fields
    that parsed: a rule whose input did not parse is skipped, that field has its own error): the ID
    number (format, check digit, Excel truncation, already registered), the labour-date rule, a
    second 户主. ``household`` None: a household not yet registered."""
    errors: Errors = {}
    if id_number:
        try:
            number = validate_id_number(id_number)
        except ValidationError as exc:
            errors["id_number"] = list(exc.messages)
        else:
            try:
                _id_number_free(actor=actor, id_number=number, channel=channel)
            except ValidationError as exc:
                _collect(errors, exc, "id_number")
    if "labour" in values and "employment_checked_on" in values:
        message = _labour_date_message(values["labour"], values["employment_checked_on"])
        if message:
            errors["employment_checked_on"] = [message]
    status = values.get("status") or (person.status if person else RecordStatus.ACTIVE)
    if household is not None and values.get("relation") == Relation.HEAD and status == RecordStatus.ACTIVE:
        heads = Person.objects.filter(household=household, relation=Relation.HEAD, status=RecordStatus.ACTIVE)
        if person is not None:
            heads = heads.exclude(pk=person.pk)
        if heads.exists():
            errors["relation"] = [_("每户只能有一名状态为“正常”的户主。")]
    return errors


def household_errors(
    *,
    actor: User | None,
    code: str | None = None,
    village_code: str | None = None,
    village: Area | None = None,
    site_code: str | None = None,
    origin_code: str | None = None,
) -> tuple[Errors, dict[str, Any]]:
    """What ``household_register``/``household_update`` would refuse in the typed codes that parsed
    (``None``: not typed or did not parse), and the references found (``site``, ``origin``) for the
    write: a 户编号 already taken, a village missing or outside the area, a site or origin unknown
    there, a site of another village."""
    errors: Errors = {}
    references: dict[str, Any] = {}
    if code and Household.objects.filter(code=code).exists():
        errors["code"] = [_("该户编号已在系统中登记，请联系县级管理员")]
    if village_code:
        try:
            village = area_reference(actor=actor, code=village_code, level=AreaLevel.VILLAGE, field="village")
        except ValidationError as exc:
            _collect(errors, exc, "village")
    if site_code is not None:
        references["site"] = None
        if site_code:
            try:
                site = site_reference(actor, site_code)
            except ValidationError as exc:
                _collect(errors, exc, "site")
            else:
                references["site"] = site
                if village is not None and site.village_id != village.pk:
                    errors["site"] = [_("安置点不在该户现居村（社区），请选择本村的安置点或留空（分散安置）。")]
    if origin_code is not None:
        references["origin"] = None
        if origin_code:
            try:
                references["origin"] = origin_reference(actor, origin_code)
            except ValidationError as exc:
                _collect(errors, exc, "origin")
    return errors, references


def household_register_errors(
    *,
    actor: User | None,
    household: dict[str, Any],
    members: list[tuple[str | None, dict[str, Any]]],
    channel: str = Channel.FORM,
) -> tuple[Errors, dict[str, Any]]:
    """``household_errors`` and each member's ``person_errors`` for ``household_register_with_members``,
    a member's keyed ``members-<index>-<field>`` as that write raises them; a number typed for two
    members, or a second 户主, is refused on the later member."""
    errors, references = household_errors(actor=actor, **household)
    seen: dict[str, int] = {}
    head_seen = False
    for index, (id_number, values) in enumerate(members):
        found = person_errors(actor=actor, values=values, id_number=id_number, channel=channel)
        if values.get("relation") == Relation.HEAD:
            if head_seen:
                found["relation"] = [_("每户只能有一名状态为“正常”的户主。")]
            head_seen = True
        number = normalise_id_number(id_number or "")
        if number and "id_number" not in found:
            if number in seen:
                found["id_number"] = [
                    _("与第 %(number)s 名成员的身份证号相同，请核对。") % {"number": seen[number] + 1}
                ]
            seen.setdefault(number, index)
        for field, messages in found.items():
            errors[f"members-{index}-{field}"] = messages
    return errors, references


def _head_id_follows(*, actor: User | None, household_id: int, channel: str) -> None:
    """The household row's 户主身份证号 is its active 户主's (blind index and ciphertext copied), or
    blank without one: called in the transaction of every service write that adds, changes or
    cancels a 户主, with a history entry on the household when it changes."""
    household = Household.objects.select_for_update().get(pk=household_id)
    head = (
        Person.objects.filter(household_id=household_id, relation=Relation.HEAD, status=RecordStatus.ACTIVE)
        .values_list("id_number_hash", "id_number_encrypted")
        .first()
    ) or ("", "")
    if household.head_id_hash == head[0] and bool(household.head_id_encrypted) == bool(head[1]):
        return
    before = snapshot(household)
    household.head_id_hash, household.head_id_encrypted = head
    _save(instance=household, before=before, actor=actor, channel=channel)


@counts_foreign_ids
@transaction.atomic
def person_create(
    *, actor: User | None, household: Household, id_number: str, data: dict[str, Any], channel: str = Channel.FORM
) -> Person:
    require_write(actor, "persons")
    household = access_object(Household.objects.all(), actor, pk=household.pk)
    try:
        id_number = validate_id_number(id_number)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from exc
    person = Person(household=household)
    _copy_area_codes(person, household.village)
    _set_id_number(person, id_number)
    _assign(person, data, PERSON_FIELDS)
    _check_duplicate_id(person, actor)
    _check_labour_date(person)
    _save(instance=person, before=None, actor=actor, channel=channel)
    if person.relation == Relation.HEAD:
        _head_id_follows(actor=actor, household_id=household.pk, channel=channel)
    changefeed_add(places=[_place(household)])
    return person


@counts_foreign_ids
@transaction.atomic
def person_update(*, actor: User | None, person: Person, data: dict[str, Any], channel: str = Channel.FORM) -> Person:
    require_write(actor, "persons")
    person = access_object(Person.objects.select_for_update(), actor, pk=person.pk)
    before = snapshot(person)
    status = data.pop("status", None)
    _assign(person, data, PERSON_FIELDS)
    if status is not None:
        if status == RecordStatus.ACTIVE and person.status == RecordStatus.CANCELLED:
            person.cancelled_on, person.cancel_reason = None, ""  # restored: no longer cancelled
        person.status = status
        _check_duplicate_id(person, actor, new_number=False)
    _check_labour_date(person)
    _save(instance=person, before=before, actor=actor, channel=channel)
    if Relation.HEAD in (before["relation"], person.relation):
        _head_id_follows(actor=actor, household_id=person.household_id, channel=channel)
    changefeed_add(places=[_person_place(person)])
    return person


def person_set_employment(
    *,
    actor: User | None,
    person: Person,
    employment: str,
    checked_on: datetime.date | None = None,
    channel: str = Channel.FORM,
) -> Person:
    """The most frequent task: new employment status, checked today."""
    if employment not in Employment.values:
        raise ValidationError({"employment": _("请选择列表中的就业状态。")})
    return person_update(
        actor=actor,
        person=person,
        data={"employment": employment, "employment_checked_on": checked_on or timezone.localdate()},
        channel=channel,
    )


@counts_foreign_ids
@transaction.atomic
def person_correct_id_number(
    *, actor: User | None, person: Person, id_number: str, channel: str = Channel.FORM
) -> Person:
    """A mistyped ID number is corrected by a dedicated, recorded action (data.md)."""
    require_write(actor, "persons")
    person = access_object(Person.objects.select_for_update(), actor, pk=person.pk)
    try:
        id_number = validate_id_number(id_number)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from exc
    before = snapshot(person)
    _set_id_number(person, id_number)
    _check_duplicate_id(person, actor)
    _save(instance=person, before=before, actor=actor, channel=channel, action=HistoryEntry.Action.CORRECT_ID)
    if person.relation == Relation.HEAD:
        _head_id_follows(actor=actor, household_id=person.household_id, channel=channel)
    changefeed_add(places=[_person_place(person)])
    return person


@transaction.atomic
def income_set(
    *,
    actor: User | None,
    household: Household,
    year: int,
    size: int,
    per_capita_income_fen: int,
    channel: str = Channel.FORM,
) -> Income:
    require_write(actor, "incomes")
    household = access_object(Household.objects.all(), actor, pk=household.pk)
    this_year = timezone.localdate().year
    if not 2016 <= year <= this_year:
        raise ValidationError({"year": _("年度应在 2016 至 %(year)s 之间。") % {"year": this_year}})
    income = Income.objects.filter(household=household, year=year).first()
    before = snapshot(income) if income else None
    income = income or Income(household=household, year=year)
    income.size = size
    income.per_capita_income = per_capita_income_fen
    _save(instance=income, before=before, actor=actor, channel=channel)
    changefeed_add(family="incomes", data_year=year, places=[_place(household)])
    return income


def income_add(
    *,
    actor: User | None,
    household: Household,
    year: int,
    size: int,
    per_capita_income_fen: int,
    channel: str = Channel.FORM,
) -> Income:
    """A new year's income: unlike ``income_set`` (which the imports and the API use to add or
    replace), a year already registered is refused, so a typed row never silently overwrites one.
    Not atomic itself: ``income_set`` owns the transaction and the unique (household, year)
    constraint settles a race."""
    if Income.objects.filter(household=household, year=year).exists():
        raise ValidationError({"year": _("%(year)s 年度的收入已登记，请在户档案中点“修改”。") % {"year": year}})
    return income_set(
        actor=actor,
        household=household,
        year=year,
        size=size,
        per_capita_income_fen=per_capita_income_fen,
        channel=channel,
    )


def _grievance_rules(grievance: Grievance) -> None:
    if grievance.status == GrievanceStatus.RESOLVED and not grievance.resolved_on:
        raise ValidationError({"resolved_on": _("已办结的事项必须填写办结日期。")})
    if grievance.resolved_on and grievance.resolved_on < grievance.received_on:
        raise ValidationError({"resolved_on": _("办结日期不能早于受理日期。")})
    for related in (grievance.site, grievance.household):
        if related is not None and related.village_id != grievance.village_id:
            raise ValidationError({"village": _("所在村社区必须与安置点或户的所在村社区一致。")})


CLOSING_FIELDS = {"status", "resolved_on", "resolved_in_village", "handling"}
GRIEVANCE_FIELDS = {
    "site",
    "household",
    "received_on",
    "topic",
    "content",
    "handling",
    "status",
    "resolved_on",
    "resolved_in_village",
}


@transaction.atomic
def grievance_save(
    *, actor: User | None, code: str, village_code: str, data: dict[str, Any], channel: str = Channel.FORM
) -> Grievance:
    """Create or update a petition by its code."""
    code = record_code(code)
    existing = Grievance.objects.select_for_update().filter(code=code).first()
    if existing is not None:
        existing = access_object(Grievance.objects.all(), actor, pk=existing.pk)
        closing = data.get("status") == GrievanceStatus.RESOLVED and existing.status != GrievanceStatus.RESOLVED
        if closing and actor is not None and actor.role == "county_official":
            # A county official may close a petition (access.md), not rewrite what was raised.
            data = {key: value for key, value in data.items() if key in CLOSING_FIELDS}
            village_code = existing.village.code
        else:
            require_write(actor, "grievances")
    else:
        require_write(actor, "grievances")
    village = area_reference(actor=actor, code=village_code, level=AreaLevel.VILLAGE, field="village")
    grievance = existing or Grievance(code=code)
    before = snapshot(existing) if existing else None
    places: list[Place] = [(existing.village_id, existing.site_id)] if existing else []
    grievance.village = village
    _copy_area_codes(grievance, village)
    _assign(grievance, data, GRIEVANCE_FIELDS)
    redact_fields(grievance, FREE_TEXT_FIELDS["households.Grievance"])
    _grievance_rules(grievance)
    _save(instance=grievance, before=before, actor=actor, channel=channel)
    changefeed_add(places=[*places, (grievance.village_id, grievance.site_id)])
    return grievance


ACTION_FIELDS = {"kind", "indicator", "description", "owner", "due_on", "status", "done_on", "visit_note", "person"}


ACTION_NUMBER_SEQUENCE = "households_action_number"


def _next_action_number() -> int:
    """The next automatic 台账 number, city-wide, from the database: a SEQUENCE on PostgreSQL; on
    SQLite the one-row counter table of migration 0005 (SQLite serialises writers, so the UPDATE …
    RETURNING is atomic). Neither is derived from the codes users typed, so none can be squatted."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT nextval('{ACTION_NUMBER_SEQUENCE}')")  # noqa: S608  (a constant name)
        else:
            cursor.execute(f"UPDATE {ACTION_NUMBER_SEQUENCE} SET value = value + 1 WHERE id = 1 RETURNING value")  # noqa: S608  (constant)
        return int(cursor.fetchone()[0])


def _next_action_code() -> str:
    """``TZ<yyyymmdd><number, 6+ digits>``; a code typed before user codes were barred from this
    pattern is skipped over."""
    prefix = f"TZ{timezone.localdate():%Y%m%d}"
    while True:
        code = f"{prefix}{_next_action_number():06d}"
        if not FollowUpAction.objects.filter(code=code).exists():
            return code


@transaction.atomic
def action_create(
    *,
    actor: User | None,
    data: dict[str, Any],
    household: Household | None = None,
    site: Site | None = None,
    channel: str = Channel.FORM,
) -> FollowUpAction:
    """Assign follow-up work to a household (or person of it) or to a site."""
    require_write(actor, "actions")
    if household is not None:
        household = access_object(Household.objects.select_related("village"), actor, pk=household.pk)
    if site is not None:
        site = access_object(Site.objects.select_related("village"), actor, pk=site.pk)
    place = household or site
    if place is None:
        raise ValidationError({"household": _("请指定户编号或安置点编码。")})
    chosen = data.pop("code", None)
    try:
        code = validate_chosen_action_code(chosen) if chosen else _next_action_code()
    except ValidationError as exc:
        raise ValidationError({"code": exc.messages}) from exc
    if chosen and FollowUpAction.objects.filter(code=code).exists():
        raise ValidationError({"code": _("该台账编号已在系统中登记，请换一个编号或留空由系统生成。")})
    action = FollowUpAction(code=code, household=household, site=site)
    _copy_area_codes(action, place.village)
    _assign(action, data, ACTION_FIELDS)
    redact_fields(action, FREE_TEXT_FIELDS["households.FollowUpAction"])
    _action_rules(action)
    return _save(instance=action, before=None, actor=actor, channel=channel)


def _action_rules(action: FollowUpAction) -> None:
    if action.status == ActionStatus.DONE and not action.done_on:
        raise ValidationError({"done_on": _("已完成的台账必须填写完成日期。")})
    person = action.person if action.person_id else None
    if person is not None and person.household_id != action.household_id:
        raise ValidationError({"person": _("该成员不属于此户。")})


@transaction.atomic
def action_update(
    *, actor: User | None, action: FollowUpAction, data: dict[str, Any], channel: str = Channel.FORM
) -> FollowUpAction:
    require_write(actor, "actions")
    action = access_object(FollowUpAction.objects.select_for_update(), actor, pk=action.pk)
    before = snapshot(action)
    _assign(action, data, ACTION_FIELDS)
    redact_fields(action, FREE_TEXT_FIELDS["households.FollowUpAction"])
    if action.status == ActionStatus.DONE and not action.done_on:
        action.done_on = timezone.localdate()
    _action_rules(action)
    return _save(instance=action, before=before, actor=actor, channel=channel)


SITE_FIELDS = {field.name for field in Site._meta.concrete_fields} - {
    "id",
    "code",
    "village",
    "county_code",
    "township_code",
    "village_code",
}


@transaction.atomic
def site_save(
    *, actor: User | None, code: str, village_code: str, data: dict[str, Any], channel: str = Channel.FORM
) -> Site:
    require_write(actor, "sites")
    code = record_code(code)
    existing = Site.objects.select_for_update().filter(code=code).first()
    if existing is not None:
        existing = access_object(Site.objects.all(), actor, pk=existing.pk)
    village = area_reference(actor=actor, code=village_code, level=AreaLevel.VILLAGE, field="village")
    site = existing or Site(code=code)
    before = snapshot(existing) if existing else None
    places: list[Place] = [(existing.village_id, existing.pk)] if existing else []
    site.village = village
    _copy_area_codes(site, village)
    _assign(site, data, SITE_FIELDS)
    _save(instance=site, before=before, actor=actor, channel=channel)
    changefeed_add(places=[*places, (site.village_id, site.pk)])
    return site


__all__ = [
    "Relation",
    "area_reference",
    "household_register",
    "household_update",
    "household_cancel",
    "household_transfer",
    "person_create",
    "person_update",
    "person_set_employment",
    "person_correct_id_number",
    "income_set",
    "grievance_save",
    "action_create",
    "action_update",
    "site_save",
]


# ---------------------------------------------------------------------------------------------
# Township workspace pages (households/views.py). Self-contained: uses only the services above.
# ---------------------------------------------------------------------------------------------


@counts_foreign_ids
@transaction.atomic
def household_register_with_members(
    *,
    actor: User | None,
    code: str,
    village_code: str,
    data: dict[str, Any],
    members: list[tuple[str, dict[str, Any]]],
    phone: str = "",
    channel: str = Channel.FORM,
) -> Household:
    """Register a household and its first members (``(id_number, person data)`` pairs) in one
    transaction: all or nothing. A member's errors are raised keyed ``members-<index>-<field>``,
    ``index`` being its position in ``members`` (the prefix of the page's member formset)."""
    household = household_register(
        actor=actor, code=code, village_code=village_code, data=data, phone=phone, channel=channel
    )
    for index, (id_number, member_data) in enumerate(members):
        try:
            person_create(
                actor=actor, household=household, id_number=id_number, data=dict(member_data), channel=channel
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            raise ValidationError({f"members-{index}-{field}": messages for field, messages in errors.items()}) from exc
    return household


def grievance_next_code() -> str:
    """A free 事项编号 for a petition typed in the portal without one: ``XF<yyyymmdd><nnnn>``."""
    prefix = f"XF{timezone.localdate():%Y%m%d}"
    number = Grievance.objects.filter(code__startswith=prefix).count() + 1
    while Grievance.objects.filter(code=f"{prefix}{number:04d}").exists():
        number += 1
    return f"{prefix}{number:04d}"


def grievance_new_code(typed: str) -> str:
    """The code of a petition typed in the portal: the one typed, else ``grievance_next_code``. A
    code already taken is refused without saying where it is used (access.md)."""
    code = typed.strip() or grievance_next_code()
    if Grievance.objects.filter(code=code).exists():
        raise ValidationError({"code": _("该事项编号已在系统中登记，请换一个编号或留空自动生成。")})
    return code


# ---------------------------------------------------------------------------------------------
# Monitoring decisions (data.md, 监测认定): clearing an early warning of the 预警清单.
# ---------------------------------------------------------------------------------------------

from households.choices import MONITORED, MonitoringDecisionKind  # noqa: E402


@transaction.atomic
def monitoring_decide(
    *,
    actor: User | None,
    household: Household,
    decision: str,
    category: str = "",
    note: str = "",
    decided_on: datetime.date | None = None,
    channel: str = Channel.FORM,
    write_kind: str = "monitoring",
) -> MonitoringDecision:
    """Record a monitoring decision on ``household`` (inside the actor's area, else 404).

    纳入监测 needs one of the monitored categories and sets it as the household's ``monitoring``
    (history entry for the household); 核实排除 leaves the household as it is — the warning stays
    cleared until a newer income row or employment change raises it again (indicators.md). Either
    way the decision itself gets a history entry and a change-feed row (dashboards count warnings
    and M7-2 reads ``monitoring``). Raises ``ValidationError`` keyed by field. ``write_kind``: the
    county's 县级审定 of a monitoring case (issue 21) decides with its own kind.
    """
    require_write(actor, write_kind)
    household = access_object(Household.objects.select_for_update(), actor, pk=household.pk)
    if decision not in MonitoringDecisionKind.values:
        raise ValidationError({"decision": _("请选择认定结果：纳入监测或核实排除。")})
    category = (category or "").strip()
    if decision == MonitoringDecisionKind.INCLUDE:
        if category not in MONITORED:
            raise ValidationError({"category": _("纳入监测时必须选择监测对象类别。")})
    else:
        category = ""
    record = MonitoringDecision(
        household=household,
        decided_on=decided_on or timezone.localdate(),
        decision=decision,
        category=category,
        note=redact_free_text((note or "").strip()),
        decided_by=actor if getattr(actor, "pk", None) else None,
        county_code=household.county_code,
        township_code=household.township_code,
        village_code=household.village_code,
    )
    _save(instance=record, before=None, actor=actor, channel=channel)
    if decision == MonitoringDecisionKind.INCLUDE and household.monitoring != category:
        before = snapshot(household)
        household.monitoring = category
        _save(instance=household, before=before, actor=actor, channel=channel)
    changefeed_add(places=[_place(household)])
    return record


@transaction.atomic
def personal_data_unmask(*, actor: User, person: Person, ip_address: str | None) -> dict[str, str]:
    """Plain ID number (and the household phone) of ONE record, logged; 403 without the permission."""
    if not actor.has_perm(UNMASK_PERMISSION):
        raise PermissionDenied("您没有查看完整个人信息的权限。")
    person = access_object(Person.objects.select_related("household"), actor, pk=person.pk)
    PersonalDataAccess.objects.create(
        user=actor, entity="person", object_id=person.pk, object_label=person.name, ip_address=ip_address
    )
    return {
        "id_number": personal_data.decrypt(person.id_number_encrypted),
        "phone": personal_data.decrypt(person.household.phone_encrypted),
    }


# ---------------------------------------------------------------------------------------------
# Fixes from the 清零清单 (issue 20): one field set on many records at once, from a list's rows.
# ---------------------------------------------------------------------------------------------

# The fields a list row may set, per record (indicators.engine.rules.FIXES names which list sets which).
FIXABLE_FIELDS: dict[str, frozenset[str]] = {
    "person": frozenset({"employment_checked_on", "family_doctor", "medical_insurance"}),
    "household": frozenset({"tap_water"}),
}


@transaction.atomic
def records_fix(
    *, actor: User | None, record: str, ids: list[int], field: str, value: Any, channel: str = Channel.FORM
) -> int:
    """Set ``field`` to ``value`` on the active persons or households ``ids`` of the actor's area, in one
    UPDATE, with one history entry per changed record (one batch) and ONE change-feed entry for the lot.

    All or nothing: an id outside the area, cancelled or missing refuses the whole batch with the
    neutral 404 (nothing tells a foreign record from a missing one). Records that already hold the
    value are left alone and get no history. Returns how many records changed."""
    if field not in FIXABLE_FIELDS.get(record, frozenset()):
        raise ValueError(f"{record}.{field} is not fixed from a list")
    model: type[Person] | type[Household] = Person if record == "person" else Household
    require_write(actor, "persons" if record == "person" else "households")
    wanted = set(ids)
    active = (
        Person.objects.filter(status=RecordStatus.ACTIVE, household__status=RecordStatus.ACTIVE)
        if model is Person
        else Household.objects.filter(status=RecordStatus.ACTIVE)
    )
    names = ["pk", field, "county_code", "township_code", *(["code"] if model is Household else [])]
    place = ["household__village_id", "household__site_id"] if model is Person else ["village_id", "site_id"]
    rows = list(scope(active, actor).filter(pk__in=wanted).select_for_update(of=("self",)).values(*names, *place))
    if not wanted or len(rows) != len(wanted):
        raise Http404
    changed = [row for row in rows if row[field] != value]
    if not changed:
        return 0
    model.objects.filter(pk__in=[row["pk"] for row in changed]).update(**{field: value, "updated_at": timezone.now()})

    def plain(data: Any) -> Any:
        return data.isoformat() if isinstance(data, datetime.date) else data

    entries = [
        build_entry(
            instance=model(**{key: row[key] for key in names if key != field}),
            action=HistoryEntry.Action.UPDATE,
            channel=channel,
            user=actor,
            before={field: plain(row[field])},
            after={field: plain(value)},
        )
        for row in changed
    ]
    history_record_many(entries)
    changefeed_add(places={(row[place[0]], row[place[1]]) for row in changed})
    return len(changed)
