"""Schemathesis against the live schema, in-process (WSGI), on demo data (issue 9, acceptance 1):
no server error and no answer outside the schema. Runs on PostgreSQL in CI (``.ci/run``); skipped on
SQLite locally (tests/conftest.py)."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from accounts.access import scope
from accounts.models import Role, User
from accounts.tokens import token_create
from areas.models import Area
from households.models import (
    FollowUpAction,
    Grievance,
    Household,
    Income,
    Person,
    Site,
)
from indicators.models import CountyFinance, IndicatorValue

MAX_EXAMPLES = 20
# Writes fuzzed besides every GET: the most used ones (the rest are covered by tests/test_api.py).
WRITES = {
    ("PATCH", "/api/v1/households/{code}/"),
    ("PATCH", "/api/v1/persons/{id}/"),
    ("POST", "/api/v1/actions/"),
    ("POST", "/api/v1/grievances/"),
}
SKIPPED_PATHS = {"/api/v1/auth/token/"}  # throttled like a login; covered by tests/test_api.py
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


def _real_path_parameters(user: User) -> dict[str, dict[str, object]]:
    """Identifiers of records the user can see, so half of the detail cases reach real rows."""
    household = scope(Household.objects.order_by("code"), user).first()
    person = scope(Person.objects.order_by("id"), user).first()
    income = Income.objects.filter(household=household).select_related("household").first()
    value = scope(IndicatorValue.objects.order_by("id"), user).first()
    finance = CountyFinance.objects.select_related("county").first()
    assert household, "the user sees a household"
    assert person, "the user sees a person"
    assert value, "the user sees an indicator value"
    assert user.area, "the user has an area"
    found: dict[str, dict[str, object]] = {
        "/api/v1/households/{code}/": {"code": household.code},
        "/api/v1/persons/{id}/": {"id": person.pk},
        "/api/v1/areas/{code}/": {"code": user.area.code},
        "/api/v1/sites/{code}/": {"code": getattr(scope(Site.objects.all(), user).first(), "code", "none")},
        "/api/v1/grievances/{code}/": {"code": getattr(scope(Grievance.objects.all(), user).first(), "code", "none")},
        "/api/v1/actions/{code}/": {"code": getattr(scope(FollowUpAction.objects.all(), user).first(), "code", "none")},
        "/api/v1/indicators/{code}/": {"code": "M3-2"},
        "/api/v1/indicator-values/{id}/": {"id": value.pk},
        "/api/v1/indicator-values/{id}/failing/": {"id": value.pk},
        "/api/v1/assessments/{year}/": {"year": 2025},
    }
    if income is not None:
        found["/api/v1/incomes/{household}/{year}/"] = {"household": income.household.code, "year": income.year}
    if finance is not None:
        found["/api/v1/finance/{county}/{year}/"] = {"county": finance.county.code, "year": finance.year}
    assert Area.objects.filter(code=user.area.code).exists()
    return found


def _fuzz(operation, headers: dict[str, str], fixed: dict[str, object] | None, failures: list[str]) -> int:  # type: ignore[no-untyped-def]
    """Run ``MAX_EXAMPLES`` generated cases of one operation (every other one on a real record when
    ``fixed`` names one); failures are collected, not raised. Returns the number of cases run."""
    count = 0

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=operation.as_strategy())
    def run(case) -> None:  # type: ignore[no-untyped-def]
        nonlocal count
        count += 1
        cache.clear()  # throttle counters: the fuzzer is one very busy user
        if fixed is not None and count % 2 == 0:
            case.path_parameters = dict(fixed)
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as error:  # every failing operation is reported, not only the first
            failures.append(f"{case.method} {case.formatted_path}: {error}"[:1500])

    run()
    return count


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_api_conforms_to_its_schema_without_server_errors(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("seed_demo", households=200, seed=3, verbosity=0)
    user = User.objects.filter(role=Role.TOWNSHIP_STAFF).order_by("pk").first()
    assert user is not None, "seed_demo creates township staff"
    token = token_create(user=user)[1]
    headers = {"Authorization": f"Token {token}"}
    real = _real_path_parameters(user)

    from relocation.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema's every operation is valid
        operation = result.ok()
        if operation.path in SKIPPED_PATHS:
            continue
        if operation.method.upper() != "GET" and (operation.method.upper(), operation.path) not in WRITES:
            continue
        operations.append(operation)
    cases: list[int] = []
    failures: list[str] = []
    for operation in operations:
        cases.append(_fuzz(operation, headers, real.get(operation.path), failures))

    with capsys.disabled():  # shown in the CI log even when the test passes
        print(f"\nschemathesis: {len(operations)} operations, {sum(cases)} generated cases, {len(failures)} failures")
    assert not failures, "\n".join(failures)
