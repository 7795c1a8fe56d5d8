"""Reads for the township workspace. Every queryset starts from ``accounts.access.scope`` and each
list is fetched in a fixed number of queries, however many rows there are (style rule 7)."""

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import personal_data
from accounts.access import access_object, display_id_number, display_phone, scope, sees_personal_data
from accounts.models import User
from areas.choices import AreaLevel
from areas.models import Area
from core.api import unknown_code
from core.text import normalise_text
from households.choices import LABOUR_FORCE, RecordStatus
from households.models import (
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Household,
    Income,
    Person,
    Site,
    TransferRequest,
)
from households.validators import age_on, normalise_id_number, out_of_area_message

ID_NUMBER_RE = re.compile(r"^\d{17}[\dX]$")
HOUSEHOLD_FILTERS = ("village", "site", "category", "monitoring", "status")


def access_household(actor: User | None, code: str) -> Household:
    return access_object(Household.objects.all(), actor, code=code)


def access_person(actor: User | None, pk: int) -> Person:
    return access_object(Person.objects.select_related("household"), actor, pk=pk)


def access_site(actor: User | None, code: str) -> Site:
    return access_object(Site.objects.all(), actor, code=code)


# --- references: a code typed by a user, resolved inside the actor's area ---------------------------
# Unknown and out-of-area codes get the same answer (access.md): a ValidationError on the form field
# or API field that named the code, never a 404 that would tell the code exists elsewhere.


def household_reference(actor: User | None, code: str, field: str = "household") -> Household:
    household = scope(Household.objects.select_related("village"), actor).filter(code=code).first()
    if household is None:
        raise unknown_code(field, _("户编号"), code)
    return household


def site_reference(actor: User | None, code: str) -> Site:
    site = scope(Site.objects.select_related("village"), actor).filter(code=code).first()
    if site is None:
        raise unknown_code("site", _("安置点编码"), code)
    return site


def origin_reference(actor: User | None, code: str) -> Area:
    """A household's place of origin: any area below the city."""
    origin = scope(Area.objects.exclude(level=AreaLevel.CITY), actor).filter(code=code.strip()).first()
    if origin is None:
        raise unknown_code("origin", _("区划代码"), code)
    return origin


# Village and township codes are public administrative divisions: one outside the user's area is
# named as such (issue 20), unlike a household, site or person outside it.
AREA_LEVELS_NAMED_OUTSIDE = frozenset({AreaLevel.VILLAGE, AreaLevel.TOWNSHIP})


def area_reference(*, actor: User | None, code: str, level: str, field: str) -> Area:
    """An area of one level (a record's village); the message names the level that was expected,
    or, for a village or township outside the actor's area, that area (one more query, on refusal)."""
    try:
        return scope(Area.objects.all(), actor).get(code=normalise_text(code), level=level)
    except Area.DoesNotExist as exc:
        area = actor.area if actor is not None and level in AREA_LEVELS_NAMED_OUTSIDE else None
        if area is not None and Area.objects.filter(code=normalise_text(code), level=level).exists():
            message = out_of_area_message(level=level, code=code, area_name=area.name)
            raise ValidationError({field: message}) from exc
        raise ValidationError(
            {field: _("区划代码“%(code)s”不存在或不是%(level)s级，请核对。") % {"code": code, "level": level}}
        ) from exc


def member_reference(
    actor: User | None, household: Household | None, *, id_number: str = "", pk: int | str | None = None
) -> Person:
    """A member of ``household``, by ID number (through the blind index: the API) or by id (the
    page's member choice); the newest active one when an ID number was re-registered."""
    members = scope(Person.objects.filter(household=household), actor) if household is not None else None
    person = None
    if members is not None and id_number:
        digest = personal_data.blind_index(normalise_id_number(id_number))
        person = members.filter(id_number_hash=digest).order_by("-status", "-id").first()
    elif members is not None and pk is not None:
        person = members.filter(pk=pk).first()
    if person is None:
        raise ValidationError({"person": _("该成员不属于此户。")})
    return person


def looks_like_id_number(text: str) -> bool:
    return bool(ID_NUMBER_RE.match(normalise_id_number(text or "")))


def household_list(*, actor: User | None, filters: Mapping[str, Any]) -> QuerySet[Household]:
    """Households the actor may see, filtered and ordered by code, each with ``member_count``
    (active members) and ``labour_members`` (active members of working capacity, for the quick
    employment control). Two queries when evaluated: households, then their labour members.

    ``filters`` keys: ``q`` (户编号 or a name, as text), ``id_hash`` (the blind index of an ID
    number — callers hash it, so the plaintext never travels further), ``village``, ``site``
    (codes), ``category``, ``monitoring``, ``status``.
    """
    households = scope(Household.objects.select_related("village", "site"), actor)
    text = (filters.get("q") or "").strip()
    if text:
        member_names = scope(Person.objects.filter(name__icontains=text), actor).values("household_id")
        households = households.filter(Q(code__icontains=text) | Q(head_name__icontains=text) | Q(pk__in=member_names))
    id_hash = filters.get("id_hash") or ""
    if id_hash:
        holders = scope(Person.objects.filter(id_number_hash=id_hash), actor).values("household_id")
        households = households.filter(Q(head_id_hash=id_hash) | Q(pk__in=holders))
    if filters.get("village"):
        households = households.filter(village__code=filters["village"])
    if filters.get("site"):
        households = households.filter(site__code=filters["site"])
    for name in ("category", "monitoring", "status"):
        if filters.get(name):
            households = households.filter(**{name: filters[name]})
    labour_members = scope(
        Person.objects.filter(status=RecordStatus.ACTIVE, labour__in=LABOUR_FORCE).order_by("id"), actor
    )
    return (
        households.annotate(member_count=Count("members", filter=Q(members__status=RecordStatus.ACTIVE)))
        .prefetch_related(Prefetch("members", queryset=labour_members, to_attr="labour_members"))
        .order_by("code")
    )


def filter_choices(*, actor: User | None) -> dict[str, list[tuple[str, str]]]:
    """Villages and sites the actor may filter by (two queries)."""
    villages = scope(Area.objects.filter(level=AreaLevel.VILLAGE), actor).order_by("code").values_list("code", "name")
    sites = scope(Site.objects.all(), actor).order_by("code").values_list("code", "name")
    return {"villages": list(villages), "sites": list(sites)}


TRAILING_NUMBER_RE = re.compile(r"^(.*?)([0-9]+)$")
NEW_CODE_DIGITS = 3


def household_next_code(*, village_code: str) -> str:
    """The 户编号 the household form suggests for a new household of the village (one query).

    The templates fix only the format (validators.validate_record_code), so the suggestion follows the
    village's own codes: the prefix and running-number width of its latest household — the village or
    township code when the code starts with one (the demo numbers ``<township code><6 digits>``), else
    the letters before the trailing digits (``H01`` → ``H02``) — and the next number after the highest
    one taken with that prefix in the township or under its code (a transferred household keeps its
    code). A village without households starts at ``<village code>001``. The register service still
    refuses a code taken meanwhile or elsewhere."""
    township_code = village_code[:9]
    rows = list(
        Household.objects.filter(Q(township_code=township_code) | Q(code__startswith=township_code)).values_list(
            "pk", "code", "village_code"
        )
    )
    own = [(pk, code) for pk, code, village in rows if village == village_code]
    prefix, width = village_code, NEW_CODE_DIGITS
    if own:
        latest = max(own)[1]
        area_prefix = next((code for code in (village_code, township_code) if latest.startswith(code)), None)
        match = TRAILING_NUMBER_RE.match(latest[len(area_prefix) :] if area_prefix else latest)
        if match is not None:
            prefix = (area_prefix or "") + match.group(1)
            width = len(match.group(2))
    numbers = [
        int(code[len(prefix) :])
        for _pk, code, _village in rows
        if code.startswith(prefix) and len(code) - len(prefix) >= width and code[len(prefix) :].isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1:0{width}d}"


@dataclass
class HouseholdFile:
    """Everything of 一户一档, each list loaded in one query."""

    household: Household
    members: list[Person]
    incomes: list[Income]
    grievances: list[Grievance]
    actions: list[FollowUpAction]
    history: list[HistoryEntry]
    extra: dict[str, Any] = field(default_factory=dict)


HISTORY_LIMIT = 200


def household_file(*, actor: User | None, code: str) -> HouseholdFile:
    """One household with members, incomes, petitions, follow-up actions and the change history of
    all of them (latest first, at most ``HISTORY_LIMIT``), and in ``extra`` its transfer requests;
    404 when missing or outside the area. Seven queries: the household and one per list."""
    household = access_object(Household.objects.select_related("village", "site", "origin"), actor, code=code)
    members = list(scope(Person.objects.filter(household=household), actor).order_by("-status", "id"))
    incomes = list(Income.objects.filter(household=household).order_by("-year"))
    grievances = list(
        scope(Grievance.objects.filter(household=household), actor).select_related("site").order_by("-received_on")
    )
    actions = list(
        scope(FollowUpAction.objects.filter(household=household), actor)
        .select_related("person")
        .order_by("status", "due_on", "code")
    )
    objects = (
        Q(entity="household", object_id=household.pk)
        | Q(entity="person", object_id__in=[person.pk for person in members])
        | Q(entity="income", object_id__in=[income.pk for income in incomes])
        | Q(entity="grievance", object_id__in=[grievance.pk for grievance in grievances])
        | Q(entity="followupaction", object_id__in=[action.pk for action in actions])
    )
    history = list(scope(HistoryEntry.objects.filter(objects), actor).select_related("user")[:HISTORY_LIMIT])
    return HouseholdFile(
        household=household,
        members=members,
        incomes=incomes,
        grievances=grievances,
        actions=actions,
        history=history,
        extra={"transfer_requests": household_transfer_requests(actor=actor, household=household)},
    )


def person_display(actor: User | None, person: Person, today: datetime.date | None = None) -> dict[str, Any]:
    """The ID number and birth date (or age) of a person as this actor may see them (access.md):
    full roles get the decrypted ID and birth date; masked roles the masked ID and the age only."""
    full = sees_personal_data(actor)
    return {
        "id_number": display_id_number(actor, person),
        "birth_date": person.birth_date if full else None,
        "age": age_on(person.birth_date, today or timezone.localdate()),
    }


def household_display(actor: User | None, household: Household) -> dict[str, str]:
    full = sees_personal_data(actor)
    phone = personal_data.decrypt(household.phone_encrypted) if full else None
    return {
        "phone": display_phone(actor, household.phone_masked, phone),
        "head_id": display_id_number(actor, household, "head_id_encrypted"),
    }


def open_actions(*, actor: User | None, today: datetime.date | None = None) -> dict[str, Any]:
    """Open and overdue follow-up actions of the actor's area, for the to-do home (three queries)."""
    today = today or timezone.localdate()
    open_qs = scope(FollowUpAction.objects.exclude(status="已完成"), actor)
    counts = open_qs.aggregate(open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
    overdue = list(open_qs.filter(due_on__lt=today).select_related("household", "site").order_by("due_on", "code")[:20])
    return {"open": counts["open"], "overdue": counts["overdue"], "overdue_rows": overdue}


# --- household events (issue 20) -------------------------------------------------------------------


def transfer_targets(*, actor: User | None) -> dict[str, list[tuple[str, str]]]:
    """The villages and sites a household can be transferred to by ``actor``: those of its area
    (two queries). The service checks the choice again (``services.household_transfer``)."""
    villages = scope(Area.objects.filter(level=AreaLevel.VILLAGE), actor).order_by("code")
    sites = scope(Site.objects.all(), actor).order_by("code")
    return {
        "villages": [(code, f"{name}（{code}）") for code, name in villages.values_list("code", "name")],
        "sites": [
            (code, f"{name}（{code}，{village}）")
            for code, name, village in sites.values_list("code", "name", "village__name")
        ],
    }


def transfer_request_villages(*, household: Household) -> list[tuple[str, str]]:
    """Villages of the household's county outside its township, named with their township: the
    targets of a transfer request (one query). Read outside the requesting township's area on
    purpose: area names are public, and the county official who decides sees them all."""
    villages = (
        Area.objects.filter(level=AreaLevel.VILLAGE, county_code=household.county_code)
        .exclude(township_code=household.township_code)
        .order_by("code")
        .values_list("code", "name", "parent__name")
    )
    return [(code, f"{township} · {name}（{code}）") for code, name, township in villages]


TRANSFER_REQUEST_LIMIT = 200


def transfer_requests(*, actor: User | None, status: str = "") -> list[TransferRequest]:
    """Transfer requests of the actor's area, newest first, at most ``TRANSFER_REQUEST_LIMIT``, with
    their household, villages and users (one query): the county's pending requests for the county
    official, a township's own requests for its staff."""
    requests = scope(TransferRequest.objects.all(), actor).select_related(
        "household", "household__village", "target_village", "target_village__parent", "requested_by", "decided_by"
    )
    if status:
        requests = requests.filter(status=status)
    return list(requests.order_by("-requested_at", "-id")[:TRANSFER_REQUEST_LIMIT])


def access_transfer_request(actor: User | None, pk: int) -> TransferRequest:
    related = ("household", "household__village", "target_village", "target_village__parent", "requested_by")
    return access_object(TransferRequest.objects.select_related(*related), actor, pk=pk)


def household_transfer_requests(*, actor: User | None, household: Household) -> list[TransferRequest]:
    """The household's transfer requests the actor may see, newest first (one query): the requesting
    township follows its request's status on the household file."""
    requests = scope(TransferRequest.objects.filter(household=household), actor).select_related("target_village")
    return list(requests.order_by("-requested_at", "-id")[:20])
