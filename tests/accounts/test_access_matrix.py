"""The authorization matrix (access.md; style rule 8): every role × every classified URL × an object
inside and outside the user's area.

Driven by ``accounts/url_policy.py`` and the URL resolver, so a newly classified URL is tried here
without editing this file. For each case: the status access.md gives (200 inside; 404 outside, exactly
like a missing record; 403 for a page or write the role may not use), no record of the other county in
the body, and for refused writes nothing written at all (every table compared before and after). A
write that names an out-of-area record in its body answers like one naming a code that does not exist.
"""

import datetime
import itertools
import json
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.access import can_write
from accounts.models import PersonalDataAccess, User
from accounts.tokens import token_create
from accounts.url_policy import (
    ADMIN,
    CITY,
    COUNTY,
    FIXED_KINDS,
    NOT_FOUND,
    OBJECT_LEVEL,
    OWN,
    PUBLIC,
    PUBLISHED,
    ROLES,
    TOWNSHIP,
    VILLAGE,
    Rule,
)
from areas.models import Area
from households.models import (
    ChangeFeed,
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Household,
    ImportJob,
    Income,
    MonitoringDecision,
    Person,
    Site,
    TransferRequest,
)
from indicators.models import AssessmentRun, CountyFinance, IndicatorValue
from monitoring.models import Case, CaseStep, Objection, Publicity
from notices.models import Notice
from signoff.models import SignoffStep, Snapshot, VillageMonth
from tests.accounts.test_url_policy import classified
from tests.factories import make_id
from tests.world import ROLE_KEYS, YEAR, Side, World, build_world

RANK = {VILLAGE: 0, TOWNSHIP: 1, COUNTY: 2}
ROLE_LEVEL = {"village": VILLAGE, "township": TOWNSHIP, "county": COUNTY}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
OUTSIDE_AREA = "不在您的管辖范围"  # the out-of-area message of a village or township code (issue 20)
MISSING = {"household": "HX999", "site": "SX99", "grievance": "XFX999", "action": "TZX999"}
MISSING_AREA = {VILLAGE: "431399001001", TOWNSHIP: "431399001", COUNTY: "431399"}
TABLES = (
    Area, Site, Household, Person, Income, Grievance, FollowUpAction, MonitoringDecision, HistoryEntry,
    ImportJob, ChangeFeed, CountyFinance, PersonalDataAccess, AssessmentRun, User, TransferRequest,
    VillageMonth, SignoffStep, Snapshot, Notice,
    Case, CaseStep, Publicity, Objection,
)  # fmt: skip
_serial = itertools.count(1)
# Writes of the registry and finance: the kinds whose records keep a history (data.md).
HISTORY_KINDS = {"households", "persons", "incomes", "grievances", "grievance_close", "actions", "sites", "finance"}
HISTORY_KINDS.add("transfer")  # issue 20: the transfer page
# household_validate_id checks an ID number as it is typed and writes nothing; the access world's
# household has only its head, so household_change_head's sample is refused on the form (url_policy).
NOT_WRITES = {"household_validate_id", "household_change_head"}


# --- the cases, from the policy --------------------------------------------------------------------


def _scoped_kinds(rule: Rule) -> list[str]:
    return [kind for kind in rule.objects.values() if kind not in FIXED_KINDS]


def _body_kinds(rule: Rule) -> list[str]:
    text = json.dumps(rule.sample or {}, ensure_ascii=False)
    return [kind for kind in PLACEHOLDER.findall(text) if kind in OBJECT_LEVEL]


def _cases() -> list[Any]:
    params = []
    seen: set[str] = set()
    for name, _route, rule in classified():
        if rule.access in (PUBLIC, NOT_FOUND) or name is None:
            continue
        if rule.access == ADMIN:
            name = "admin:index"
            if name in seen:
                continue
        seen.add(name)
        url_cases = ("inside", "outside") if _scoped_kinds(rule) else ("inside",)
        for role in ROLE_KEYS:
            if rule.get is not None:
                params += [pytest.param(name, "get", role, case, id=f"{name}-GET-{role}-{case}") for case in url_cases]
            if rule.method and rule.sample is not None:
                cases = list(url_cases) + (["reference"] if _body_kinds(rule) else [])
                params += [
                    pytest.param(name, rule.method, role, case, id=f"{name}-{rule.method.upper()}-{role}-{case}")
                    for case in cases
                ]
    return params


def _rule(name: str) -> Rule:
    from accounts.url_policy import ADMIN_RULE, POLICY

    return ADMIN_RULE if name == "admin:index" else POLICY[name]


# --- the world, once per module --------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # throttle counters and dashboard fragments
    yield
    cache.clear()


def _is_city(role: str) -> bool:
    return role in ("bureau", "finance", "admin")


def _visible(role: str, kind: str, case: str) -> bool:
    """Whether ``role`` (inside side A) may see the ``case`` object of ``kind`` (access.md)."""
    if kind in FIXED_KINDS:
        return True
    if case == "missing":
        return False
    level = OBJECT_LEVEL[kind]
    if level == OWN:
        return case == "inside"
    if _is_city(role):
        return True
    return case == "inside" and RANK[ROLE_LEVEL[role]] >= RANK[level]


def _new_id() -> str:
    return make_id(f"43130219920101{next(_serial) % 1000:03d}")


def _value(world: World, kind: str, case: str, user: User) -> Any:
    """The URL or body value of ``kind`` for a case: side A inside, side B outside, or a missing one."""
    if kind == "new":
        return f"NEW{next(_serial):05d}"
    if kind == "new_id":
        return _new_id()
    if kind in FIXED_KINDS:
        return {
            "year": YEAR,
            "indicator_code": "M6-2",
            "department": "市人社局",
            "report_format": "xlsx",
            "assessment_run": AssessmentRun.objects.order_by("-pk").values_list("pk", flat=True).first(),
            "published_unit": world.a.county.code,
            "import_kind": "households",
            "month": f"{YEAR}-12",  # issue 21: a village's month in the API
            "deadline_step": "home_visit",
        }[kind]
    if case == "missing":
        if kind in MISSING:
            return MISSING[kind]
        if kind in ("village", "list_unit", "township", "county"):
            return MISSING_AREA[OBJECT_LEVEL[kind]]
        return 99_999_999
    side: Side = world.a if case == "inside" else world.b
    if kind == "import_job":
        owner = user if case == "inside" else world.b.users["village"]
        return ImportJob.objects.create(kind="households", file_name="x.xlsx", created_by=owner).pk
    if kind == "api_token":  # issue 17 finding 5
        owner = user if case == "inside" else world.b.users["village"]
        return token_create(user=owner)[0].pk
    if kind == "notice":  # issue 21: the 消息中心, the addressee's only
        owner = user if case == "inside" else world.b.users["village"]
        return Notice.objects.create(user=owner, title="到期提醒", body="帮扶台账：新增逾期 1 项", link="/").pk
    if kind == "transfer_request":  # issue 20: a pending request of the side's township
        return TransferRequest.objects.create(
            household=side.household,
            target_village=side.village,
            reason="投靠子女",
            requested_by=side.users["township"],
            county_code=side.county.code,
            township_code=side.township.code,
            village_code=side.village.code,
        ).pk
    if kind == "case":  # issue 21: a monitoring case of the side's household, waiting for its 入户核实
        return Case.objects.create(
            household=side.household,
            source="干部排查",
            category="边缘易致贫户",
            opened_on=datetime.date(YEAR, 4, 1),
            visit_due_on=datetime.date(YEAR, 4, 3),
            due_on=datetime.date(YEAR, 4, 22),
            county_code=side.household.county_code,
            township_code=side.household.township_code,
            village_code=side.household.village_code,
        ).pk
    return {
        "household": lambda: side.household.code,
        "person": lambda: side.person.pk,
        "site": lambda: side.site.code,
        "grievance": lambda: side.grievance.code,
        "action": lambda: side.action.code,
        "village": lambda: side.village.code,
        "list_unit": lambda: side.village.code,
        "township": lambda: side.township.code,
        "county": lambda: side.county.code,
        "user": lambda: side.users["village"].pk,
        "indicator_value": lambda: (
            IndicatorValue.objects.filter(level="township", unit_code=side.township.code)
            .values_list("pk", flat=True)
            .first()
        ),
    }[kind]()


def _fill(sample: dict[str, Any], world: World, case: str, user: User) -> tuple[dict[str, Any], list[str]]:
    """The sample body with its placeholders filled; also the foreign or missing values typed in."""
    typed: list[str] = []

    def one(match: re.Match[str]) -> str:
        kind = match.group(1)
        value = str(_value(world, kind, case if kind in OBJECT_LEVEL else "inside", user))
        if kind in OBJECT_LEVEL and case != "inside":
            typed.append(value)
        return value

    body: dict[str, Any] = {}
    for key, value in sample.items():
        body[key] = PLACEHOLDER.sub(one, value) if isinstance(value, str) else value
    return body, typed


def _fingerprint() -> list[Any]:
    return [list(model.objects.order_by("pk").values_list()) for model in TABLES]


def _foreign(world: World) -> list[str]:
    b = world.b
    return [*b.names(), b.village.code, b.township.code]


def _send(client: Client, method: str, url: str, body: dict[str, Any] | None, as_json: bool) -> Any:
    if method == "get":
        return client.get(url)
    if as_json:
        return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")
    if method == "patch":
        raise AssertionError("form pages take POST")
    return client.post(url, data=body or {})


def _messages(response: Any, replace: list[str]) -> Any:
    """What an answer says, with the typed codes blanked: JSON errors, or the form's errors."""
    if response.get("Content-Type", "").startswith("application/json"):
        text = json.dumps(response.json(), ensure_ascii=False, sort_keys=True)
    elif response.context is not None and response.context.get("form") is not None:
        text = json.dumps(response.context["form"].errors, ensure_ascii=False, sort_keys=True)
    else:
        # An error page in the site's frame carries CSRF tokens, masked afresh on every answer.
        text = CSRF_VALUE.sub("<CSRF>", response.content.decode(errors="replace"))
    for value in replace:
        # A pk is a small number: replaced as a whole number only, not inside every longer one of the page.
        pattern = rf"(?<!\d){re.escape(value)}(?!\d)" if value.isdigit() else re.escape(value)
        text = re.sub(pattern, "<CODE>", text)
    return text


CSRF_VALUE = re.compile(r'(?<=name="csrfmiddlewaretoken" value=")[^"]*')


# --- expectations -----------------------------------------------------------------------------------


def _expected(rule: Rule, method: str, role: str, case: str, user: User) -> int:
    if rule.access == ADMIN:
        return 200 if role == "admin" else 302
    if rule.access == CITY and not _is_city(role):
        return 404
    if rule.access == ROLES and user.role not in rule.roles:
        return 403
    url_case = "inside" if case == "reference" else case
    if not all(_visible(role, kind, url_case) for kind in rule.objects.values()):
        return 404
    if method == "get":
        if rule.get_write and not any(can_write(user, kind) for kind in rule.get_write):
            return 403
        return 200 if rule.access == PUBLISHED else (rule.get or 405)
    if rule.write and not any(can_write(user, kind) for kind in rule.write):
        return 403
    if rule.permission and not user.has_perm(rule.permission):
        return 403
    return rule.ok_by_role.get(user.role, rule.ok)


CASES = _cases()


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "role", "case"), CASES)
def test_access(world: World, name: str, method: str, role: str, case: str) -> None:
    rule = _rule(name)
    user = world.user(role)
    if _is_city(role) and case == "outside":
        case = "missing"  # the whole city is inside: only a missing record answers 404
    client = Client()
    client.force_login(user)
    url_case = "inside" if case == "reference" else case
    kwargs = {keyword: _value(world, kind, url_case, user) for keyword, kind in rule.objects.items()}
    url = reverse(name, kwargs=kwargs) if kwargs else reverse(name)
    body, typed = _fill(rule.sample or {}, world, case, user) if method != "get" else ({}, [])
    expected = _expected(rule, method, role, case, user)
    if case == "reference" and expected == rule.ok and not _is_city(role):
        expected = -1  # decided below: like a code that does not exist
    writes = method != "get"
    before = _fingerprint() if writes else None

    response = _send(client, method, url, body, rule.json)

    refused = response.status_code >= 400 or expected in (403, 404, -1)
    if expected == -1:
        # An out-of-area reference answers exactly like an unknown code, and writes nothing.
        assert response.status_code in (200, 400, 404), response.content[:400]
        assert _fingerprint() == before, "an out-of-area reference wrote something"
        missing_body, missing_typed = _fill(rule.sample or {}, world, "missing", user)
        for key, value in body.items():  # keep the generated values (new codes, ID numbers) alike
            if not PLACEHOLDER.search(str((rule.sample or {}).get(key, ""))) or key not in missing_body:
                continue
            if not any(kind in OBJECT_LEVEL for kind in PLACEHOLDER.findall(str((rule.sample or {})[key]))):
                missing_body[key] = value
        missing = _send(client, method, url, missing_body, rule.json)
        assert missing.status_code == response.status_code
        said, said_missing = _messages(response, typed), _messages(missing, missing_typed)
        if OUTSIDE_AREA in said:
            # Issue 20 (the lead's decision): a village or township code — a public division code —
            # outside the area is named as such; households, sites, persons and ID numbers still
            # answer exactly like a missing code.
            assert set(_body_kinds(rule)) & {"village", "township", "list_unit"}, said
            assert OUTSIDE_AREA not in said_missing, said_missing
            assert "不存在" in said_missing, said_missing
        else:
            assert said_missing == said
    else:
        assert response.status_code == expected, (
            f"{method.upper()} {url} as {role} ({case}): {response.status_code}, expected {expected}: "
            f"{response.content[:300]!r}"
        )
        if writes and refused:
            assert _fingerprint() == before, "a refused write changed the database"
        elif writes and set(rule.write) & HISTORY_KINDS and name not in NOT_WRITES:
            assert _fingerprint() != before, f"an allowed write answered {response.status_code} but wrote nothing"
    if not _is_city(role) and rule.access != ADMIN:
        content = response.content.decode(errors="replace")
        leaked = [text for text in _foreign(world) if text in content and not any(text in value for value in typed)]
        assert not leaked, f"{url} as {role} shows records of the other county: {leaked}"


def test_the_matrix_covers_every_role_and_both_sides():
    roles = {param.values[2] for param in CASES}
    cases = {param.values[3] for param in CASES}
    assert roles == set(ROLE_KEYS)
    assert {"inside", "outside", "reference"} <= cases
    assert len(CASES) > 500


def test_dates_in_samples_are_not_in_the_future():
    assert datetime.date(YEAR, 4, 1) <= timezone.localdate()
