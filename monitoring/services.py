"""Writes of the monitoring-identification procedure (issue 21): open a case, take its current step
(入户核实 with a visit note; 村级评议, which starts the village's 公示; 公示结束; 乡镇初审; 县级审定),
send it back a step with a reason, record an objection.

Each step belongs to the write kind of its level (``accounts.access.ROLE_WRITES``): ``monitoring``
for village and township staff, ``monitoring_township`` for the 乡镇初审, ``monitoring_county`` for the
county official's 县级审定, which is refused until the 公示 has run its working days and then records
the decision through ``households.services.monitoring_decide`` (history, change feed, the household's
category). Cases are found by the callers through ``accounts.access`` (404 outside the area)."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import access_object, require_write
from accounts.models import User
from core.free_text import redact_free_text
from deadlines.models import DEFAULT_WORKING_DAYS, Deadline, Step
from deadlines.workdays import work_calendar
from households import services as household_services
from households.choices import MONITORED, MonitoringDecisionKind, RecordStatus
from households.models import Household
from monitoring import clock
from monitoring.models import (
    OPEN_STATES,
    Case,
    CaseState,
    CaseStep,
    Objection,
    Publicity,
    Source,
    StepAction,
    StepName,
)

# The step taken in each open state, and the write kind it needs.
STEPS: dict[str, tuple[str, str]] = {
    CaseState.HOME_VISIT: (StepName.HOME_VISIT, "monitoring"),
    CaseState.VILLAGE_REVIEW: (StepName.VILLAGE_REVIEW, "monitoring"),
    CaseState.PUBLICITY: (StepName.PUBLICITY, "monitoring"),
    CaseState.TOWNSHIP: (StepName.TOWNSHIP, "monitoring_township"),
    CaseState.COUNTY: (StepName.COUNTY, "monitoring_county"),
}
NEXT: dict[str, str] = {
    CaseState.HOME_VISIT: CaseState.VILLAGE_REVIEW,
    CaseState.VILLAGE_REVIEW: CaseState.PUBLICITY,
    CaseState.PUBLICITY: CaseState.TOWNSHIP,
    CaseState.TOWNSHIP: CaseState.COUNTY,
}
# Sent back one step; a township's return goes to the village's 评议, whose 公示 then runs again.
BACK: dict[str, str] = {
    CaseState.VILLAGE_REVIEW: CaseState.HOME_VISIT,
    CaseState.PUBLICITY: CaseState.VILLAGE_REVIEW,
    CaseState.TOWNSHIP: CaseState.VILLAGE_REVIEW,
    CaseState.COUNTY: CaseState.TOWNSHIP,
}
PHONE = re.compile(r"^[0-9][0-9\- ]{5,18}[0-9]$")


def deadline_days() -> dict[str, int]:
    return {**DEFAULT_WORKING_DAYS, **dict(Deadline.objects.values_list("step", "working_days"))}


def _step(case: Case, step: str, actor: User | None, note: str, action: str = StepAction.DONE) -> CaseStep:
    return CaseStep.objects.create(
        case=case,
        step=step,
        action=action,
        user=actor if getattr(actor, "pk", None) else None,
        at=timezone.now(),
        note=redact_free_text(note.strip())[:2000],
    )


def _locked(case: Case, actor: User | None) -> Case:
    return access_object(Case.objects.select_for_update(), actor, pk=case.pk)


def _expect(case: Case, state: str) -> None:
    if case.state != state:
        raise ValidationError(_("该识别当前处于“%(state)s”，不能办理此环节。") % {"state": case.get_state_display()})


@transaction.atomic
def open_case(*, actor: User | None, household: Household, source: str, category: str, note: str = "") -> Case:
    """Open a case for ``household`` (inside the actor's area, else 404): from an early warning
    (部门预警), or entered by staff (干部排查, 农户申报). Its due dates count working days from today:
    the home visit's and the whole identification's (deadline table)."""
    require_write(actor, "monitoring")
    household = access_object(Household.objects.select_for_update(), actor, pk=household.pk)
    errors: dict[str, str] = {}
    if source not in Source.values:
        errors["source"] = _("请选择风险来源。")
    if category not in MONITORED:
        errors["category"] = _("请选择拟纳入的监测对象类别。")
    if household.status != RecordStatus.ACTIVE:
        errors["household"] = _("该户已注销，不能发起识别。")
    elif Case.objects.filter(household=household, state__in=OPEN_STATES).exists():
        errors["household"] = _("该户已有办理中的监测对象识别，请在识别页面继续办理。")
    if errors:
        raise ValidationError(errors)
    today, calendar, days = clock.today(), work_calendar(), deadline_days()
    case = Case.objects.create(
        household=household,
        source=source,
        category=category,
        opened_on=today,
        visit_due_on=calendar.add_working_days(today, days[Step.HOME_VISIT]),
        due_on=calendar.add_working_days(today, days[Step.IDENTIFICATION]),
        opened_by=actor if getattr(actor, "pk", None) else None,
        county_code=household.county_code,
        township_code=household.township_code,
        village_code=household.village_code,
    )
    _step(case, StepName.OPEN, actor, note or str(Source(source).label))
    return case


def _advance(case: Case, actor: User | None, note: str) -> Case:
    step, _kind = STEPS[case.state]
    _step(case, step, actor, note)
    case.state, case.returned = NEXT[case.state], False
    case.save(update_fields=["state", "returned"])
    return case


@transaction.atomic
def home_visit(*, actor: User | None, case: Case, note: str) -> Case:
    """入户核实: what the visit found (required)."""
    require_write(actor, "monitoring")
    case = _locked(case, actor)
    _expect(case, CaseState.HOME_VISIT)
    if not note.strip():
        raise ValidationError({"note": _("请填写入户核实情况。")})
    return _advance(case, actor, note)


@transaction.atomic
def village_review(
    *,
    actor: User | None,
    case: Case,
    note: str,
    place: str,
    phone: str,
    start_on: datetime.date | None = None,
) -> Case:
    """村级评议: the village's democratic review, which starts the 公示 of the proposed category, ending
    after the deadline table's 'publicity' working days; where to object is typed by staff."""
    require_write(actor, "monitoring")
    case = _locked(case, actor)
    _expect(case, CaseState.VILLAGE_REVIEW)
    today = clock.today()
    start_on = start_on or today
    errors: dict[str, str] = {}
    if not note.strip():
        errors["note"] = _("请填写村级民主评议意见。")
    if not place.strip():
        errors["place"] = _("请填写异议受理地点。")
    if not PHONE.match(phone.strip()):
        errors["phone"] = _("请填写村委会联系电话（数字，可含“-”）。")
    if start_on < case.opened_on or start_on > today + datetime.timedelta(days=30):
        errors["start_on"] = _("公示开始日期须在发起识别之后、30 天以内。")
    if errors:
        raise ValidationError(errors)
    days = deadline_days()[Step.PUBLICITY]
    case.publicity = Publicity.objects.create(
        village_id=case.household.village_id,
        start_on=start_on,
        end_on=work_calendar().add_working_days(start_on, days),
        place=place.strip()[:100],
        phone=phone.strip()[:30],
        created_by=actor if getattr(actor, "pk", None) else None,
        county_code=case.county_code,
        township_code=case.township_code,
        village_code=case.village_code,
    )
    case.save(update_fields=["publicity"])
    return _advance(case, actor, note)


@transaction.atomic
def publicity_end(*, actor: User | None, case: Case, note: str = "") -> Case:
    """公示结束: the village passes the case to the township (objections, if any, are on the case)."""
    require_write(actor, "monitoring")
    case = _locked(case, actor)
    _expect(case, CaseState.PUBLICITY)
    count = case.objections.count()
    default = _("公示期内收到异议 %(count)d 条。") % {"count": count} if count else _("公示无异议。")
    return _advance(case, actor, note.strip() or default)


@transaction.atomic
def township_review(*, actor: User | None, case: Case, note: str = "") -> Case:
    """乡镇初审 (township staff)."""
    require_write(actor, "monitoring_township")
    case = _locked(case, actor)
    _expect(case, CaseState.TOWNSHIP)
    return _advance(case, actor, note.strip() or _("初审通过。"))


def publicity_over(case: Case, today: datetime.date) -> bool:
    return case.publicity is not None and today > case.publicity.end_on


@transaction.atomic
def county_review(*, actor: User | None, case: Case, outcome: str, category: str = "", note: str = "") -> Case:
    """县级审定 (county official): 纳入监测 with its category, which becomes the household's, or 核实排除.
    Refused while the 公示 has not run its working days (the message names the day it ends)."""
    require_write(actor, "monitoring_county")
    case = _locked(case, actor)
    _expect(case, CaseState.COUNTY)
    today = clock.today()
    publicity = case.publicity
    if publicity is None:
        raise ValidationError(_("该识别没有公示记录，不能审定，请退回村级评议。"))
    if not publicity_over(case, today):
        raise ValidationError(
            _("公示期至 %(end)s 结束（%(days)d 个工作日），公示期满后（%(next)s 起）方可县级审定。")
            % {
                "end": f"{publicity.end_on:%Y-%m-%d}",
                "days": deadline_days()[Step.PUBLICITY],
                "next": f"{publicity.end_on + datetime.timedelta(days=1):%Y-%m-%d}",
            }
        )
    if outcome not in MonitoringDecisionKind.values:
        raise ValidationError({"outcome": _("请选择审定结果：纳入监测或核实排除。")})
    category = (category or case.category) if outcome == MonitoringDecisionKind.INCLUDE else ""
    decision = household_services.monitoring_decide(
        actor=actor,
        household=case.household,
        decision=outcome,
        category=category,
        note=note,
        decided_on=today,
        write_kind="monitoring_county",
    )
    _step(case, StepName.COUNTY, actor, note.strip() or str(MonitoringDecisionKind(outcome).label))
    case.decision = decision
    case.state = CaseState.INCLUDED if outcome == MonitoringDecisionKind.INCLUDE else CaseState.EXCLUDED
    if category:
        case.category = category
    case.closed_on, case.returned = today, False
    case.save(update_fields=["decision", "state", "category", "closed_on", "returned"])
    return case


@transaction.atomic
def send_back(*, actor: User | None, case: Case, note: str) -> Case:
    """退回 one step, with a reason, by whoever may take the current step. A case sent back to the
    村级评议 leaves its 公示 (the village lists it again when the new 评议 starts one)."""
    case = _locked(case, actor)
    if case.state not in BACK:
        raise ValidationError(_("该环节不能退回。"))
    step, kind = STEPS[case.state]
    require_write(actor, kind)
    if not note.strip():
        raise ValidationError({"note": _("退回时请填写退回原因。")})
    _step(case, step, actor, note, StepAction.RETURN)
    case.state, case.returned = BACK[case.state], True
    if case.state == CaseState.VILLAGE_REVIEW:
        case.publicity = None
    case.save(update_fields=["state", "returned", "publicity"])
    return case


def take_step(
    *,
    actor: User | None,
    case: Case,
    kind: str,
    action: str = StepAction.DONE,
    note: str = "",
    place: str = "",
    phone: str = "",
    start_on: datetime.date | None = None,
    outcome: str = "",
    category: str = "",
) -> Case:
    """Take (or, with ``action`` "return", send back) the case's current step, if that step belongs to
    ``kind``'s level (``STEPS``): the one entry of the pages' step forms and the API's step actions."""
    require_write(actor, kind)
    if STEPS.get(case.state, ("", ""))[1] != kind:
        raise ValidationError(_("该识别当前处于“%(state)s”，不能办理此环节。") % {"state": case.get_state_display()})
    if action == StepAction.RETURN:
        return send_back(actor=actor, case=case, note=note)
    if case.state == CaseState.HOME_VISIT:
        return home_visit(actor=actor, case=case, note=note)
    if case.state == CaseState.VILLAGE_REVIEW:
        return village_review(actor=actor, case=case, note=note, place=place, phone=phone, start_on=start_on)
    if case.state == CaseState.PUBLICITY:
        return publicity_end(actor=actor, case=case, note=note)
    if case.state == CaseState.TOWNSHIP:
        return township_review(actor=actor, case=case, note=note)
    return county_review(actor=actor, case=case, outcome=outcome, category=category, note=note)


@transaction.atomic
def record_objection(*, actor: User | None, case: Case, received_on: datetime.date | None, text: str) -> Objection:
    """An objection received during (or after) the 公示, recorded against the case."""
    require_write(actor, "monitoring")
    case = _locked(case, actor)
    errors: dict[str, str] = {}
    if case.publicity_id is None:
        errors["text"] = _("该识别尚未公示，不能登记异议。")
    if not text.strip():
        errors["text"] = _("请填写异议内容。")
    if received_on is None or received_on > clock.today():
        errors["received_on"] = _("请填写收到异议的日期（不晚于今天）。")
    if errors or received_on is None:
        raise ValidationError(errors)
    return Objection.objects.create(
        case=case,
        received_on=received_on,
        text=redact_free_text(text.strip())[:2000],
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
