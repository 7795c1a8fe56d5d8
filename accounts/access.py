"""The ONE place that decides what a user may see and change (access.md).

Every queryset a user can reach starts from ``scope(queryset, actor)``; single records come from
``access_<entity>(actor, key)``, which raises ``Http404`` for "missing" and "not yours" alike so
nothing outside the user's area can be guessed. ``actor=None`` is the system (whole city).
"""

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from accounts.models import MASKED_ROLES, Role, User
from accounts.personal_data import mask_id_number, mask_phone, plain_of
from areas.models import Area
from areas.selectors import PATH_FIELDS, within

M = TypeVar("M", bound=Model)

# What each role may write (access.md, Roles). Kinds use the template names of data.md.
REGISTRY_KINDS = frozenset({"households", "persons", "incomes", "grievances", "actions", "monitoring"})
# The monthly sign-off (issue 21): the village submits (the township for a village without staff),
# the township reviews (初审), the county approves (审定).
ROLE_WRITES: dict[str, frozenset[str]] = {
    Role.VILLAGE_STAFF: REGISTRY_KINDS | {"signoff_submit"},
    # A township moves a household between its own villages ("transfer", limited by ``scope``) and
    # asks the county to move one to another township ("transfer_request"), which the county official
    # (or the city administrator) approves: "transfer_decide" (issue 20).
    Role.TOWNSHIP_STAFF: REGISTRY_KINDS
    | {"sites", "areas", "transfer", "transfer_request", "signoff_submit", "signoff_township"}
    | {"monitoring_township"},  # issue 21: 乡镇初审 of a monitoring case
    Role.COUNTY_OFFICIAL: frozenset(
        {"finance", "township_attributes", "grievance_close", "actions", "transfer", "transfer_decide"}
        | {"signoff_county", "monitoring_county"}  # issue 21: 县级审定 of a monitoring case
    ),
    Role.CITY_BUREAU: frozenset(),
    Role.CITY_ADMIN: frozenset(
        {"areas", "users", "assessment", "citystats", "commendations", "monitoring_line", "periods", "transfer"}
        | {"transfer_decide"}
    ),
}


def _scope_filter(model: type[Model], actor: User | None) -> Q | None:
    """The filter restricting ``model`` to the actor's subtree, or None for the whole city."""
    if actor is None or actor.is_superuser or actor.role in (Role.CITY_BUREAU, Role.CITY_ADMIN):
        return None
    area = actor.area
    if area is None:
        return Q(pk__in=[])  # a user without an area sees nothing
    if model is Area:
        return within(area, areas=True) if area.level in PATH_FIELDS else None
    if model is User:
        if area.level == "县":
            return within(area, "area__", areas=True)
        return Q(pk=actor.pk)  # staff below the county see only themselves
    village_scope = getattr(model, "village_scope", None)
    if village_scope is not None and area.level == "村":
        # A model kept per township that a village may partly see says how (indicator values).
        return village_scope(area.code)
    field_names = {field.name for field in model._meta.get_fields()}
    if "county" in field_names and "county_code" not in field_names and area.level != "市":
        # County-level rows (后扶资金) name their county: a county sees its own, levels below none.
        return Q(county__code=area.code) if area.level == "县" else Q(pk__in=[])
    if PATH_FIELDS.get(area.level) in field_names:
        return within(area)
    if area.level == "村" and "township_code" in field_names:
        # Records kept per township (history): village staff see none of them.
        return Q(pk__in=[])
    if area.level == "市":
        return None
    raise TypeError(f"{model.__name__} cannot be scoped: it has no area code field for level {area.level}")


def scope(queryset: QuerySet[M], actor: User | None) -> QuerySet[M]:
    """Restrict ``queryset`` to what ``actor`` may see."""
    condition = _scope_filter(queryset.model, actor)
    return queryset if condition is None else queryset.filter(condition)


def access_object(queryset: QuerySet[M], actor: User | None, **lookup: object) -> M:
    """One record inside the actor's area, or 404 (never 403) when missing or foreign."""
    try:
        return scope(queryset, actor).get(**lookup)
    except ObjectDoesNotExist as exc:  # ``get`` raises only the model's own ``DoesNotExist`` here
        raise Http404 from exc


def access_area(actor: User | None, code: str) -> Area:
    return access_object(Area.objects.all(), actor, code=code)


def can_write(actor: User | None, kind: str) -> bool:
    if actor is None or actor.is_superuser:
        return True
    if kind == "finance" and actor.role == Role.CITY_BUREAU:
        return actor.department == "市财政局"
    return kind in ROLE_WRITES.get(actor.role, frozenset())


def require_write(actor: User | None, kind: str) -> None:
    """403 for a record inside the area that the role may not change (access.md, Answers)."""
    if not can_write(actor, kind):
        raise PermissionDenied("您的角色无权修改此类记录。")


def sees_personal_data(actor: User | None) -> bool:
    """Village and township staff see full personal data; the other roles see it masked."""
    return actor is None or (not actor.is_superuser and actor.role not in MASKED_ROLES)


def display_id_number(actor: User | None, record: Model, field: str = "id_number_encrypted") -> str:
    """THE masking function for ID numbers: the number as this actor may see it, derived from the
    record's ciphertext (no masked copy is stored: beside the birth date it rebuilt the ID, issue 17)."""
    plaintext = plain_of(record, field)
    return plaintext if sees_personal_data(actor) else mask_id_number(plaintext)


BIRTH_KEYS = frozenset({"birth_date"})


def display_snapshot(actor: User | None, data: dict[str, Any]) -> dict[str, Any]:
    """A history snapshot as this actor may see it: the birth date is the hidden part of a masked ID
    number, so masked roles never get it beside one (access.md; issue 17 finding 2)."""
    return data if sees_personal_data(actor) else masked_snapshot(data)


def masked_snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """A snapshot without the birth date (snapshots hold no ID number at all: households.history)."""
    if not isinstance(data, dict):
        return data
    return {key: value for key, value in data.items() if key not in BIRTH_KEYS}


def display_phone(actor: User | None, masked: str, plaintext: str | None = None) -> str:
    if plaintext and sees_personal_data(actor):
        return plaintext
    return masked or mask_phone(plaintext or "")
