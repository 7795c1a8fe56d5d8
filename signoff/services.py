"""Writes of the monthly sign-off (issue 21): 村 提交 → 乡镇初审 → 县级审定, each step with who, when
and a note; 退回 needs a reason. The registry stays editable throughout: a write after the county's
approval only shows as 审定后有修改 (read from history) until the county approves again.

Who may act: ``accounts.access`` (the caller has already found the village through ``access_area``,
so it lies in the actor's area); the role's write kind decides the step."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import require_write
from accounts.models import Role, User
from areas.choices import AreaLevel
from areas.models import Area
from core.free_text import redact_free_text
from indicators.dashboards.parts import panels_changed
from signoff import selectors
from signoff.models import Action, Level, SignoffStep, Snapshot, State, VillageMonth


def _month_row(village: Area, month: str) -> VillageMonth:
    if village.level != AreaLevel.VILLAGE:
        raise ValidationError(_("只能对村（社区）进行月度审核。"))
    vm, _created = VillageMonth.objects.select_for_update().get_or_create(
        village=village,
        month=month,
        defaults={
            "county_code": village.county_code,
            "township_code": village.township_code,
            "village_code": village.code,
        },
    )
    return vm


def _snapshot(village: Area, month: str) -> Snapshot:
    return Snapshot.objects.create(**selectors.snapshot_data(village.code, month))


def _step(
    vm: VillageMonth, action: str, level: str, actor: User | None, note: str, snapshot: Snapshot | None = None
) -> SignoffStep:
    # A note is free text: the ID and phone numbers people paste into it are masked (core.free_text).
    return SignoffStep.objects.create(
        village_month=vm,
        action=action,
        level=level,
        user=actor,
        note=redact_free_text(note.strip())[:500],
        snapshot=snapshot,
    )


def _reason(decision: str, note: str) -> None:
    if decision not in (Action.APPROVE, Action.RETURN):
        raise ValidationError(_("请选择审核通过或退回。"))
    if decision == Action.RETURN and not note.strip():
        raise ValidationError(_("退回时请填写退回原因。"))


@transaction.atomic
def submit(actor: User | None, village: Area, month: str, note: str = "") -> VillageMonth:
    """The village attests its month (village staff; township staff only for a village without any):
    a snapshot is stored with the step."""
    require_write(actor, "signoff_submit")
    if actor is not None and actor.role == Role.TOWNSHIP_STAFF and selectors.has_village_staff(village):
        raise ValidationError(_("该村（社区）有村级工作人员，应由村（社区）提交。"))
    vm = _month_row(village, month)
    if vm.state not in (State.PENDING, State.RETURNED):
        raise ValidationError(_("本月已提交，不能重复提交。"))
    snapshot = _snapshot(village, month)
    _step(vm, Action.SUBMIT, Level.VILLAGE, actor, note, snapshot)
    vm.state, vm.submitted_at, vm.township_at, vm.approved_at = State.SUBMITTED, timezone.now(), None, None
    vm.snapshot = snapshot
    vm.save()
    panels_changed()  # the dashboards' 已审定 X/Y (after the commit)
    return vm


@transaction.atomic
def township_review(actor: User | None, village: Area, month: str, decision: str, note: str = "") -> VillageMonth:
    """乡镇初审 of a submitted month: approve, or return to the village with a reason."""
    require_write(actor, "signoff_township")
    _reason(decision, note)
    vm = _month_row(village, month)
    if vm.state != State.SUBMITTED:
        raise ValidationError(_("只有已提交的月份可以初审。"))
    _step(vm, decision, Level.TOWNSHIP, actor, note)
    if decision == Action.APPROVE:
        vm.state, vm.township_at = State.TOWNSHIP_APPROVED, timezone.now()
    else:
        vm.state = State.RETURNED
    vm.save()
    panels_changed()  # the dashboards' 已审定 X/Y (after the commit)
    return vm


@transaction.atomic
def county_review(actor: User | None, village: Area, month: str, decision: str, note: str = "") -> VillageMonth:
    """县级审定 of a month the township approved, or again of one changed since its approval (a new
    snapshot is stored with that approval); or return it to the village with a reason."""
    require_write(actor, "signoff_county")
    _reason(decision, note)
    vm = _month_row(village, month)
    if not selectors.needs_approval(vm):
        raise ValidationError(_("该月份当前不需要县级审定。"))
    snapshot = _snapshot(village, month) if decision == Action.APPROVE else None
    _step(vm, decision, Level.COUNTY, actor, note, snapshot)
    if decision == Action.APPROVE:
        vm.state, vm.approved_at, vm.snapshot = State.APPROVED, timezone.now(), snapshot
    else:
        vm.state = State.RETURNED
    vm.save()
    panels_changed()  # the dashboards' 已审定 X/Y (after the commit)
    return vm


def review_level(actor: User | None) -> str | None:
    """The review step ``actor`` takes in bulk: the township's 初审 or the county's 审定."""
    if actor is None or actor.is_superuser or actor.role == Role.COUNTY_OFFICIAL:
        return Level.COUNTY
    if actor.role == Role.TOWNSHIP_STAFF:
        return Level.TOWNSHIP
    return None


def bulk_ready(actor: User | None, villages: Iterable[Area], month: str) -> tuple[list[Area], list[Area]]:
    """The villages ``actor`` can approve now, and the others (to be named as skipped): two queries."""
    villages = list(villages)
    level = review_level(actor)
    rows = {vm.village_id: vm for vm in VillageMonth.objects.filter(village__in=villages, month=month)}
    approved = {
        vm.village_code: vm.approved_at for vm in rows.values() if vm.state == State.APPROVED and vm.approved_at
    }
    changed = selectors.changes_by_village(actor.area if actor is not None else None, approved) if approved else {}
    waiting = State.SUBMITTED if level == Level.TOWNSHIP else State.TOWNSHIP_APPROVED
    ready: list[Area] = []
    skipped: list[Area] = []
    for village in villages:
        vm = rows.get(village.pk)
        ok = vm is not None and (vm.state == waiting or (level == Level.COUNTY and changed.get(village.code, 0) > 0))
        (ready if ok else skipped).append(village)
    return ready, skipped


@transaction.atomic
def bulk_approve(actor: User | None, villages: list[Area], month: str, note: str = "") -> list[Area]:
    """Approve many villages at once after the confirmation that named them; the ones not waiting on
    this level are left as they are. Returns the approved ones."""
    level = review_level(actor)
    if level is None:
        raise PermissionDenied(_("您的角色无权修改此类记录。"))
    require_write(actor, "signoff_township" if level == Level.TOWNSHIP else "signoff_county")
    ready, _skipped = bulk_ready(actor, villages, month)
    review = township_review if level == Level.TOWNSHIP else county_review
    for village in ready:
        review(actor, village, month, Action.APPROVE, note or _("批量审核通过"))
    return ready
