"""Who may reach every URL of the portal (access.md): one entry per URL name, checked by
``tests/test_url_policy.py`` (a URL without an entry fails the build) and driven by
``tests/test_access_matrix.py`` (every entry is tried by every role, inside and outside its area).

To add a URL: append one ``Rule`` to ``POLICY`` under its URL name. Say who may read it
(``access``), what each URL keyword names (``objects``: an object kind of ``OBJECT_LEVEL`` or a
fixed value of ``FIXED_KINDS``), and for a route that writes, the ``accounts.access.can_write`` kind
it needs (``write``) and a ``sample`` body of valid data, whose ``{placeholders}`` the matrix fills in
with an object inside the area, outside it, or a code that does not exist.
"""

from dataclasses import dataclass, field
from typing import Any

# --- who may read -----------------------------------------------------------------------------------
PUBLIC = "public"  # no login needed (login, token, health check, language switch)
LOGIN = "login"  # any logged-in user; records in the URL are scoped to the user's area (404 outside)
CITY = "city"  # the city roles only; every other role gets 404 (the city is outside its area)
ROLES = "roles"  # only ``roles`` may open it; any other role gets 403
PUBLISHED = "published"  # a published assessment: every role (access.md, exception 2)
ADMIN = "admin"  # the Django admin: city administrator and superusers; others go to the admin login
NOT_FOUND = "not_found"  # a catch-all answering 404 to everyone

# Object kinds named by URL keywords and body placeholders, with the area level they sit at: a user
# sees the object when it lies in the user's subtree, i.e. the user's level is at or above it.
VILLAGE, TOWNSHIP, COUNTY = "村", "乡镇", "县"
OWN = "own"  # visible to the user who created it only (import jobs)
OBJECT_LEVEL: dict[str, str] = {
    "household": VILLAGE,  # 户编号
    "person": VILLAGE,  # Person.pk
    "site": VILLAGE,  # 安置点编码
    "grievance": VILLAGE,  # 事项编号
    "action": VILLAGE,  # 台账编号
    "transfer_request": VILLAGE,  # TransferRequest.pk (kept under the requesting village's codes)
    "case": VILLAGE,  # monitoring.Case.pk (监测对象识别, issue 21), kept under its household's codes
    "village": VILLAGE,  # village code
    "list_unit": VILLAGE,  # area or site code of a 清零清单
    "township": TOWNSHIP,  # township code
    "indicator_value": TOWNSHIP,  # IndicatorValue.pk of a township value
    "county": COUNTY,  # county code
    "user": COUNTY,  # User.pk of a village staff (county officials see their county's users)
    "import_job": OWN,  # ImportJob.pk
    "api_token": OWN,  # ApiToken.pk: the owner's (user administrators also reach those of their area's users)
    "notice": OWN,  # Notice.pk: the addressee's only (消息中心, issue 21)
}
# URL keywords that name no scoped record: the matrix fills in one fixed valid value.
FIXED_KINDS = frozenset(
    {
        "year",  # the data year of an income / finance row, or an assessment year
        "indicator_code",  # an indicator of the catalogue
        "department",  # a lead unit
        "report_format",  # xlsx / pdf
        "assessment_run",  # AssessmentRun.pk
        "published_unit",  # a unit code inside a published assessment (readable by all)
    }
)

CITY_ROLES = frozenset({"city_bureau", "city_admin"})


@dataclass(frozen=True)
class Rule:
    access: str
    objects: dict[str, str] = field(default_factory=dict)
    roles: frozenset[str] = frozenset()  # for ROLES
    # GET: 200 unless said otherwise (302 for a page that redirects); None when GET is not allowed.
    get: int | None = 200
    get_write: tuple[str, ...] = ()  # a form page opened only by these writers: 403 for other roles
    # Writes: the method, the can_write kinds (any of them), a sample body, the success status.
    method: str | None = None
    write: tuple[str, ...] = ()
    permission: str = ""  # a Django permission instead of a write kind (unmasking)
    sample: dict[str, Any] | None = None
    ok: int = 302
    ok_by_role: dict[str, int] = field(default_factory=dict)  # a writer role answered otherwise (User.role)
    json: bool = False  # the sample is sent as JSON (the API)
    note: str = ""


def _api(objects: dict[str, str] | None = None, **kw: Any) -> Rule:
    return Rule(LOGIN, objects or {}, json=True, **kw)


HOUSEHOLD_FORM = {
    "code": "{new}",
    "head_name": "新登记户",
    "village": "{village}",
    "category": "建档立卡户",
    "monitoring": "无",
    "housing_hazard": "无",
    "safety_net": "无",
    "members-TOTAL_FORMS": "1",
    "members-INITIAL_FORMS": "0",
    "members-MIN_NUM_FORMS": "1",
    "members-MAX_NUM_FORMS": "1000",
    "members-0-id_number": "{new_id}",
    "members-0-name": "新登记户",
    "members-0-relation": "户主",
    "members-0-status": "正常",
    "members-0-labour": "无劳动力",
    "members-0-employment": "未就业",
    "members-0-schooling": "非在校",
}
PERSON_FORM = {
    "id_number": "{new_id}",
    "name": "新成员",
    "relation": "子女",
    "status": "正常",
    "labour": "无劳动力",
    "employment": "未就业",
    "schooling": "非在校",
}
GRIEVANCE_FORM = {"received_on": "2025-03-01", "topic": "其他", "status": "已办结", "resolved_on": "2025-04-01"}
ACTION_FORM = {"kind": "其他", "description": "入户走访", "owner": "王五", "status": "待办"}
REGISTRY = ("households",)

POLICY: dict[str, Rule] = {
    # --- login, language, health -----------------------------------------------------------------
    "login": Rule(PUBLIC),
    "logout": Rule(PUBLIC, get=None, note="POST only; ends the session"),
    "set_language": Rule(PUBLIC, get=None, note="POST only; sets a cookie"),
    "healthz": Rule(PUBLIC),
    "api-token": Rule(PUBLIC, get=None, note="POST username/password; throttled, counted by axes"),
    "api-schema": Rule(PUBLIC, note="the OpenAPI document: routes only, no records"),
    "api-docs": Rule(PUBLIC),
    "api-redoc": Rule(PUBLIC),
    "api-root": Rule(LOGIN),
    # --- the township workspace (households/urls.py) ---------------------------------------------
    "home": Rule(LOGIN),
    "household_list": Rule(LOGIN, note="POST is the search form: a redirect, no write"),
    "household_create": Rule(
        LOGIN, get_write=("households",), method="post", write=("households",), sample=HOUSEHOLD_FORM
    ),
    "household_validate_id": Rule(
        LOGIN, get=None, method="post", write=("persons",), sample={"id_number": "{new_id}"}, ok=200
    ),
    "person_employment": Rule(
        LOGIN, {"pk": "person"}, get=None, method="post", write=("persons",), sample={"employment": "外出务工"}
    ),
    "household_detail": Rule(LOGIN, {"code": "household"}),
    "household_edit": Rule(
        LOGIN,
        {"code": "household"},
        get_write=("households",),
        method="post",
        write=("households",),
        sample={k: v for k, v in HOUSEHOLD_FORM.items() if not k.startswith("members") and k not in ("code", "village")}
        | {"head_name": "改名户"},
    ),
    "person_create": Rule(
        LOGIN, {"code": "household"}, get_write=("persons",), method="post", write=("persons",), sample=PERSON_FORM
    ),
    "person_edit": Rule(
        LOGIN,
        {"code": "household", "pk": "person"},
        get_write=("persons",),
        method="post",
        write=("persons",),
        sample={k: v for k, v in PERSON_FORM.items() if k != "id_number"} | {"relation": "户主", "name": "改名"},
    ),
    "income_create": Rule(
        LOGIN,
        {"code": "household"},
        get_write=("incomes",),
        method="post",
        write=("incomes",),
        sample={"year": "2024", "size": "2", "per_capita_income": "9000"},
    ),
    "income_edit": Rule(
        LOGIN,
        {"code": "household", "year": "year"},
        get_write=("incomes",),
        method="post",
        write=("incomes",),
        sample={"year": "2025", "size": "3", "per_capita_income": "9100"},
    ),
    "grievance_create": Rule(
        LOGIN,
        {"code": "household"},
        get_write=("grievances",),
        method="post",
        write=("grievances",),
        sample={**GRIEVANCE_FORM, "site": "{site}"},
    ),
    "grievance_edit": Rule(
        LOGIN,
        {"code": "household", "grievance_code": "grievance"},
        get_write=("grievances", "grievance_close"),
        method="post",
        write=("grievances", "grievance_close"),
        sample=GRIEVANCE_FORM,
    ),
    "action_create": Rule(
        LOGIN, {"code": "household"}, get_write=("actions",), method="post", write=("actions",), sample=ACTION_FORM
    ),
    "action_edit": Rule(
        LOGIN,
        {"code": "household", "action_code": "action"},
        get_write=("actions",),
        method="post",
        write=("actions",),
        sample=ACTION_FORM | {"visit_note": "已走访"},
    ),
    "action_close": Rule(
        LOGIN, {"code": "household", "action_code": "action"}, get=None, method="post", write=("actions",), sample={}
    ),
    # --- household events (households/views_events.py, issue 20) ----------------------------------
    "household_transfer": Rule(
        LOGIN,
        {"code": "household"},
        get_write=("transfer",),
        method="post",
        write=("transfer",),
        sample={"village": "{village}", "site": ""},
        note="inside: the household's own village without its site (a move to 分散安置)",
    ),
    "household_transfer_request": Rule(
        LOGIN,
        {"code": "household"},
        get_write=("transfer_request",),
        method="post",
        write=("transfer_request",),
        sample={"village": "{village}", "reason": "投靠子女"},
        ok=200,
        note="the access world's county has one township: every target is refused on the form (200)",
    ),
    "household_cancel": Rule(
        LOGIN,
        {"code": "household"},
        get_write=("households",),
        method="post",
        write=("households",),
        sample={"cancelled_on": "2025-06-01", "cancel_reason": "迁出"},
    ),
    "household_change_head": Rule(
        LOGIN,
        {"code": "household"},
        get_write=("persons",),
        method="post",
        write=("persons",),
        sample={"new_head": "{person}", "old_head_relation": "配偶"},
        ok=200,
        note="the access world's household has only its head: the sample choice is refused on the form (200)",
    ),
    "person_cancel": Rule(
        LOGIN,
        {"code": "household", "pk": "person"},
        get_write=("persons",),
        method="post",
        write=("persons",),
        sample={"cancelled_on": "2025-06-01", "cancel_reason": "死亡"},
    ),
    "person_correct_id": Rule(
        LOGIN,
        {"code": "household", "pk": "person"},
        get_write=("persons",),
        method="post",
        write=("persons",),
        sample={"id_number": "{new_id}"},
    ),
    "transfer_request_list": Rule(LOGIN, note="requests of the user's area (scope), pending ones by default"),
    "transfer_request_decide": Rule(
        LOGIN,
        {"pk": "transfer_request"},
        get_write=("transfer_decide",),
        method="post",
        write=("transfer_decide",),
        sample={"decision": "reject", "note": "材料不全"},
    ),
    # --- accounts ----------------------------------------------------------------------------------
    "user_list": Rule(ROLES, roles=frozenset({"city_admin", "county_official"})),
    "user_create": Rule(
        ROLES,
        roles=frozenset({"city_admin", "county_official"}),
        get_write=("users",),
        method="post",
        write=("users",),
        sample={"username": "{new}", "full_name": "新用户", "role": "village_staff", "area_code": "{village}"}
        | {"password": "Loudi-pw-2026-x", "is_active": "on"},
    ),
    "user_edit": Rule(
        ROLES,
        {"pk": "user"},
        roles=frozenset({"city_admin", "county_official"}),
        get_write=("users",),
        method="post",
        write=("users",),
        sample={"full_name": "改名", "role": "village_staff", "area_code": "{village}", "is_active": "on"},
    ),
    "user_tokens": Rule(
        ROLES,
        {"pk": "user"},
        roles=frozenset({"city_admin", "county_official"}),
        get_write=("users",),
        note="one user's API tokens, revocable by the user administrator",
    ),
    "token_list": Rule(
        LOGIN, method="post", sample={"name": "脚本"}, ok=200, note="the user's own API tokens; POST creates one"
    ),
    "token_revoke": Rule(
        LOGIN, {"pk": "api_token"}, get=None, method="post", sample={}, note="revokes one token the user may manage"
    ),
    "history_list": Rule(ROLES, roles=frozenset({"city_admin", "county_official"})),
    "person_unmask": Rule(
        LOGIN, {"pk": "person"}, get=None, method="post", permission="accounts.view_personal_data", sample={}, ok=200
    ),
    # --- dashboards, site view, 清零清单 (indicators/urls.py) --------------------------------------
    "dashboard_home": Rule(LOGIN, get=302, note="redirects each role to its own dashboard"),
    "dashboard_city": Rule(CITY),
    "dashboard_export": Rule(LOGIN, note="rows limited to the units inside the user's area"),
    "dashboard_county": Rule(LOGIN, {"code": "county"}),
    "dashboard_township": Rule(LOGIN, {"code": "township"}),
    "dashboard_department": Rule(CITY, {"name": "department"}),
    "site_view": Rule(LOGIN, {"code": "site"}),
    "indicator_list": Rule(LOGIN, {"code": "indicator_code", "unit": "list_unit"}),
    "indicator_list_assign": Rule(
        LOGIN,
        {"code": "indicator_code", "unit": "list_unit"},
        get=None,
        method="post",
        write=("actions",),
        sample={"target": "household:{household}", "owner": "王五", "due_on": "2026-12-31", "kind": "其他"},
        note="an out-of-area target answers like an unknown one (400, one message)",
    ),
    "indicator_list_fix": Rule(
        LOGIN,
        {"code": "indicator_code", "unit": "list_unit"},
        get=None,
        method="post",
        write=("persons", "households"),
        sample={"ids": "{person}", "confirm": "1"},
        note="issue 20: an id outside the area refuses the batch like a missing one (neutral 404)",
    ),
    # --- the annual assessment (indicators/urls_assessment.py) -----------------------------------
    "assessment_years": Rule(LOGIN, note="lists the published years to all, unpublished ones to the city"),
    "assessment_detail": Rule(PUBLISHED, {"year": "year"}),
    "assessment_unit": Rule(PUBLISHED, {"year": "year", "unit_code": "published_unit"}),
    "assessment_download": Rule(PUBLISHED, {"year": "year", "fmt": "report_format"}),
    "assessment_compute": Rule(
        LOGIN,
        {"year": "year"},
        get=None,
        method="post",
        write=("assessment",),
        sample=None,
        note="403 for every role but the city administrator; a published year cannot be recomputed",
    ),  # fmt: skip
    "assessment_publish": Rule(
        LOGIN, {"year": "year"}, get=None, method="post", write=("assessment",), sample={"confirm": "yes"}
    ),
    "assessment_config": Rule(LOGIN, {"year": "year"}, get_write=("assessment",)),
    "assessment_run": Rule(LOGIN, {"year": "year", "run_id": "assessment_run"}, get_write=("assessment",)),
    # --- the REST API (relocation/api.py) ----------------------------------------------------------
    "area-list": _api(),
    "area-detail": _api({"code": "village"}),
    "site-list": _api(
        method="post",
        write=("sites",),
        sample={"code": "{new}", "name": "新安置点", "village": "{village}", "kind": "城镇集中安置"},
        ok=201,
    ),
    "site-detail": _api({"code": "site"}, method="patch", write=("sites",), sample={"name": "改名小区"}, ok=200),
    "household-list": _api(
        method="post",
        write=("households",),
        sample={"code": "{new}", "head_name": "新户", "village": "{village}", "category": "建档立卡户"},
        ok=201,
    ),
    "household-detail": _api(
        {"code": "household"}, method="patch", write=("households",), sample={"head_name": "改名户"}, ok=200
    ),
    "person-list": _api(
        method="post",
        write=("persons",),
        sample={"id_number": "{new_id}", "name": "新成员", "household": "{household}", "relation": "子女"}
        | {"labour": "无劳动力"},
        ok=201,
    ),
    "person-detail": _api({"id": "person"}, method="patch", write=("persons",), sample={"work_place": "长沙"}, ok=200),
    "income-list": _api(
        method="post",
        write=("incomes",),
        sample={"household": "{household}", "year": 2024, "size": 2, "per_capita_income": "9000.00"},
        ok=201,
    ),
    "income-detail": _api(
        {"household": "household", "year": "year"}, method="patch", write=("incomes",), sample={"size": 4}, ok=200
    ),
    "grievance-list": _api(
        method="post",
        write=("grievances",),
        sample={"household": "{household}", "received_on": "2025-05-01", "status": "办理中"},
        ok=201,
    ),
    "grievance-detail": _api(
        {"code": "grievance"},
        method="patch",
        write=("grievances", "grievance_close"),
        sample={"status": "已办结", "resolved_on": "2025-04-01"},
        ok=200,
    ),
    "action-list": _api(
        method="post",
        write=("actions",),
        sample={"household": "{household}", "description": "入户走访", "owner": "王五"},
        ok=201,
    ),
    "action-detail": _api({"code": "action"}, method="patch", write=("actions",), sample={"owner": "赵六"}, ok=200),
    "indicator-list": _api(note="the catalogue: the same for every user"),
    "indicator-detail": _api({"code": "indicator_code"}),
    "indicator-value-list": _api(),
    "indicator-value-detail": _api({"id": "indicator_value"}),
    "indicator-value-failing": _api({"id": "indicator_value"}),
    "finance-list": _api(
        method="post",
        write=("finance",),
        sample={"county": "{county}", "year": 2024, "asset_proceeds": "100.00", "proceeds_to_households": "80.00"}
        | {"linkage_funds": "1000.00", "linkage_to_relocation": "100.00"},
        ok=201,
    ),
    "finance-detail": _api(
        {"county": "county", "year": "year"},
        method="patch",
        write=("finance",),
        sample={"asset_proceeds": "120.00"},
        ok=200,
    ),
    "assessment-detail": Rule(PUBLISHED, {"year": "year"}, json=True),
    "api-tokens-list": _api(note="the caller's own API tokens (user administrators: also their area's users')"),
    "api-tokens-detail": _api(
        {"pk": "api_token"}, method="delete", sample={}, ok=204, note="DELETE revokes the token (it stays listed)"
    ),
    "import-list": _api(
        method="post",
        write=("households",),
        sample=None,
        note="multipart upload; the import kind decides the write (tests/test_write_history.py, test_import_*)",
    ),
    "import-detail": _api({"id": "import_job"}),
    "import-confirm": _api(
        {"id": "import_job"},
        get=None,
        method="post",
        sample={},
        ok=400,
        note="each user reaches only the jobs they started; the sample job is not previewed (400)",
    ),  # fmt: skip
    "import-abandon": _api(
        {"id": "import_job"},
        get=None,
        method="post",
        sample={},
        ok=200,
        note="each user reaches only the jobs they started",
    ),  # fmt: skip
}

# Patterns without a name, keyed by their route (as ``str(pattern.pattern)``).
UNNAMED: dict[str, Rule] = {
    "^": Rule(NOT_FOUND, json=True, note="api/v1/ catch-all: a JSON 404 like a missing record"),
}

# The Django admin: one group (access.md: city administrator and superusers only).
ADMIN_NAMESPACE = "admin"
ADMIN_RULE = Rule(ADMIN, note="other roles are sent to the admin login page, which shows no data")


def rule_for(name: str | None, namespace: str | None = None, route: str = "") -> Rule | None:
    """The rule of one URL pattern, or None when it is not classified."""
    if namespace == ADMIN_NAMESPACE:
        return ADMIN_RULE
    if name is None:
        return UNNAMED.get(route)
    return POLICY.get(name)


# --- the import pages (households/urls_imports.py) ---------------------------------------------------
# The kind of a template download: the matrix fills in "households", which village and township staff
# may import (households.importing: Kind.allows); every other role gets 403, an unknown kind 404.
FIXED_KINDS = FIXED_KINDS | {"import_kind"}
POLICY.update(
    {
        "import_list": Rule(
            LOGIN,
            method="post",
            write=("households",),
            sample=None,
            note="multipart upload; the kind decides the write, a refused kind is 403 (tests/test_import_web.py)",
        ),
        "import_template": Rule(LOGIN, {"kind": "import_kind"}, get_write=("households",)),
        "import_detail": Rule(LOGIN, {"pk": "import_job"}),
        "import_progress": Rule(LOGIN, {"pk": "import_job"}, note="the htmx fragment polled while a job runs"),
        "import_errors": Rule(LOGIN, {"pk": "import_job"}, note="the job's error workbook (.xlsx)"),
        "import_confirm": Rule(
            LOGIN,
            {"pk": "import_job"},
            get=None,
            method="post",
            sample={},
            note="each user reaches only the jobs they started; the sample job is not previewed: a message, no write",
        ),
        "import_abandon": Rule(
            LOGIN,
            {"pk": "import_job"},
            get=None,
            method="post",
            sample={},
            note="each user reaches only the jobs they started; deletes the uploaded file",
        ),
        # The monthly prefilled update (issue 20): the area's records in full, so village and township
        # staff only (households.importing.monthly.monthly_allows); every other role gets 403.
        "import_monthly": Rule(
            ROLES,
            roles=frozenset({"village_staff", "township_staff"}),
            method="post",
            write=("households",),
            sample=None,
            note="multipart upload of the monthly workbook (tests/households/test_monthly_update.py)",
        ),
        "import_monthly_workbook": Rule(
            ROLES,
            roles=frozenset({"village_staff", "township_staff"}),
            note="the prefilled .xlsx of the user's area, personal data in full",
        ),
    }
)

# --- the township workspace: 预警清单, data-quality list, freshness fragment (indicators/urls_warnings.py)
# The lists take a village, township or county code; the matrix names a village so every writer reaches it.
POLICY.update(
    {
        "warnings_list": Rule(LOGIN, {"code": "village"}, note="?format=xlsx exports it, masked like the page"),
        "warnings_quality": Rule(LOGIN, {"code": "village"}),
        "warnings_decide": Rule(
            LOGIN,
            {"code": "village"},
            get=None,
            method="post",
            write=("monitoring",),
            sample={"household": "{household}", "category": "边缘易致贫户", "note": "部门预警"},
            note="发起识别: opens a monitoring case (部门预警, issue 21); out-of-area households answer as unknown",
        ),
        "warnings_assign": Rule(
            LOGIN,
            {"code": "village"},
            get=None,
            method="post",
            write=("actions",),
            sample={"target": "household:{household}", "owner": "王五", "due_on": "2026-12-31", "kind": "监测帮扶"},
            note="an out-of-area target answers like an unknown one (400, one message)",
        ),
        "freshness_status": Rule(LOGIN, {"key": "year"}, note="polled while a period is recomputed: busy or not"),
    }
)

# --- the monthly roster sign-off (signoff/urls.py, issue 21) ---------------------------------------
SIGNOFF_REVIEW = {"month": "{year}-12", "decision": "approve", "note": ""}
POLICY.update(
    {
        "signoff_home": Rule(LOGIN, get=302, note="redirects to the sign-off of the user's own area"),
        "signoff_city": Rule(CITY, note="each county's progress for a month"),
        "signoff_county": Rule(LOGIN, {"code": "county"}, note="every village of the county in one page"),
        "signoff_township": Rule(LOGIN, {"code": "township"}),
        "signoff_village": Rule(LOGIN, {"code": "village"}, note="steps, snapshot, records changed since approval"),
        "signoff_submit": Rule(
            LOGIN,
            {"code": "village"},
            get=None,
            method="post",
            write=("signoff_submit",),
            sample={"month": "{year}-12", "note": ""},
            note="a township may submit only for a village without village staff (else a message, 302)",
        ),
        "signoff_township_review": Rule(
            LOGIN,
            {"code": "village"},
            get=None,
            method="post",
            write=("signoff_township",),
            sample=SIGNOFF_REVIEW,
            note="a month not submitted answers with a message (302)",
        ),
        "signoff_county_review": Rule(
            LOGIN,
            {"code": "village"},
            get=None,
            method="post",
            write=("signoff_county",),
            sample=SIGNOFF_REVIEW,
            note="a month not reviewed by the township answers with a message (302)",
        ),
        "signoff_bulk": Rule(
            LOGIN,
            get=None,
            method="post",
            write=("signoff_township", "signoff_county"),
            sample={"month": "{year}-12", "villages": "{village}", "confirm": "1"},
            note="villages not waiting are skipped (302); an out-of-area village answers like an unknown one (200)",
        ),
    }
)

# --- the 消息中心 (notices/urls.py, issue 21): a user's own notices only -------------------------------
POLICY.update(
    {
        "notice_list": Rule(LOGIN, note="the user's own notices"),
        "notice_count": Rule(LOGIN, note="the header's unread count, loaded by htmx after the page"),
        "notice_read_all": Rule(LOGIN, get=None, method="post", sample={}, note="marks the user's own notices read"),
        "notice_read": Rule(
            LOGIN, {"pk": "notice"}, get=None, method="post", sample={}, note="another user's notice answers 404"
        ),
    }
)

# --- the monitoring-identification procedure (monitoring/urls.py, issue 21) -----------------------
# The matrix's case waits for its 入户核实: the village-level step URL takes it; the township's and the
# county's step URLs answer an allowed role with a message (302) since the case is not at their step.
CASE_STEP = {"action": "done", "note": "入户核实：家中主要劳动力因病失业"}
POLICY.update(
    {
        "monitoring_home": Rule(LOGIN, get=302, note="redirects to the cases of the user's own area"),
        "monitoring_cases": Rule(LOGIN, {"code": "village"}, note="cases of an area, 50 a page"),
        "monitoring_open": Rule(
            LOGIN,
            get=None,
            method="post",
            write=("monitoring",),
            sample={"household": "{household}", "source": "干部排查", "category": "边缘易致贫户", "note": ""},
            ok=302,
            note="from the household file (干部排查/农户申报); out-of-area households answer as unknown (404)",
        ),
        "monitoring_case": Rule(LOGIN, {"pk": "case"}, note="steps, objections, the action this user may take"),
        "monitoring_case_step": Rule(
            LOGIN,
            {"pk": "case"},
            get=None,
            method="post",
            write=("monitoring",),
            sample=CASE_STEP,
            note="入户核实, 村级评议 (starts the 公示), 公示结束; action=return sends the case back a step",
        ),
        "monitoring_case_township": Rule(
            LOGIN,
            {"pk": "case"},
            get=None,
            method="post",
            write=("monitoring_township",),
            sample=CASE_STEP,
            note="乡镇初审; a case not at this step answers with a message (302)",
        ),
        "monitoring_case_county": Rule(
            LOGIN,
            {"pk": "case"},
            get=None,
            method="post",
            write=("monitoring_county",),
            sample={**CASE_STEP, "outcome": "纳入监测", "category": "边缘易致贫户"},
            note="县级审定, refused (message, 302) until the 公示 has run its working days",
        ),
        "monitoring_case_objection": Rule(
            LOGIN,
            {"pk": "case"},
            get=None,
            method="post",
            write=("monitoring",),
            sample={"received_on": "{year}-05-01", "text": "该户有稳定收入"},
            note="an objection to the 公示; a case not yet in 公示 answers with a message (302)",
        ),
        "monitoring_publicity": Rule(
            LOGIN, {"code": "village"}, note="the village's 公示: no ID number, phone, birth date"
        ),
        "monitoring_publicity_pdf": Rule(LOGIN, {"code": "village"}, note="the same 公示 as a PDF (WeasyPrint)"),
    }
)

# --- issue 21 in the API and the city's exports (signoff/api.py, monitoring/api.py, deadlines/api.py) --
# A village's month is addressed by village code and month; the deadline table by the step's key.
FIXED_KINDS = FIXED_KINDS | {"month", "deadline_step"}
API_MONTH = {"village": "village", "month": "month"}
API_REVIEW = {"decision": "审核通过", "note": ""}
API_CASE_STEP = {"action": "办理", "note": "入户核实：家中主要劳动力因病失业"}
POLICY.update(
    {
        "signoff-list": _api(note="every village of the user's area for ?month= (those without a row as 未提交)"),
        "signoff-detail": _api(API_MONTH, note="steps, snapshot, records changed since approval"),
        "signoff-submit": _api(
            API_MONTH,
            get=None,
            method="post",
            write=("signoff_submit",),
            sample={"note": ""},
            ok=200,
            ok_by_role={"township_staff": 400},
            note="the matrix's village has village staff: the township's submission is refused (400)",
        ),
        "signoff-township-review": _api(
            API_MONTH,
            get=None,
            method="post",
            write=("signoff_township",),
            sample=API_REVIEW,
            ok=400,
            note="a month not submitted answers 400 with the service's message",
        ),
        "signoff-county-review": _api(
            API_MONTH,
            get=None,
            method="post",
            write=("signoff_county",),
            sample=API_REVIEW,
            ok=400,
            note="a month not reviewed by the township answers 400 with the service's message",
        ),
        "case-list": _api(
            method="post",
            write=("monitoring",),
            sample={"household": "{household}", "source": "干部排查", "category": "边缘易致贫户", "note": ""},
            ok=201,
            note="发起识别; an out-of-area household answers like an unknown one (400)",
        ),
        "case-detail": _api({"id": "case"}),
        "case-step": _api(
            {"id": "case"},
            get=None,
            method="post",
            write=("monitoring",),
            sample=API_CASE_STEP,
            ok=200,
            note="入户核实, 村级评议, 公示结束; action 退回 sends the case back a step",
        ),
        "case-township-review": _api(
            {"id": "case"},
            get=None,
            method="post",
            write=("monitoring_township",),
            sample=API_CASE_STEP,
            ok=400,
            note="the matrix's case waits for its 入户核实: not at this step (400)",
        ),
        "case-county-review": _api(
            {"id": "case"},
            get=None,
            method="post",
            write=("monitoring_county",),
            sample={**API_CASE_STEP, "outcome": "纳入监测"},
            ok=400,
            note="the matrix's case waits for its 入户核实: not at this step (400)",
        ),
        "case-objections": _api(
            {"id": "case"},
            get=None,
            method="post",
            write=("monitoring",),
            sample={"received_on": "{year}-05-01", "text": "该户有稳定收入"},
            ok=400,
            note="the matrix's case is not in its 公示 yet (400)",
        ),
        "deadline-list": _api(note="the deadline table: the same for every user"),
        "deadline-detail": _api({"step": "deadline_step"}),
        "signoff_export": Rule(LOGIN, note="?area= (default the user's own) and ?month=; an area outside answers 404"),
        "monitoring_export": Rule(
            LOGIN, {"code": "village"}, note="cases of an area as .xlsx: no ID, phone, birth date"
        ),
        "deadlines_export": Rule(LOGIN, note="the deadline table and the working-day overrides: the same for all"),
    }
)
