"""Lookups that could confirm a full ID number (issue 17, findings 4 and 12).

A masked role knows ``431302********001X`` and the age; a search, filter or member reference that
answers "found" for the right candidate rebuilds the number. A dry-run import answered "is this
number registered?" for thousands of numbers and revealed a person of another county. These tests
post real candidates through the page, the API and the importer and compare the answers.
"""

import datetime
import io
import logging
import re
import time

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts import personal_data
from accounts.models import PersonalDataAccess, User
from accounts.personal_data import mask_id_number
from accounts.selectors import IMPORT_ENTITY, id_probe_flags
from households import services
from households.choices import Labour, Relation
from households.id_lookup import SEARCH_ENTITY
from households.importing import FileError, run_import
from households.models import ImportJob, Person
from tests.factories import make_id
from tests.world import ID_A, ID_B, World, build_world

MASKED_ROLES = ("county", "bureau", "admin")
REFUSED = "按完整身份证号查询仅限村、乡镇工作人员"
THROTTLED = "按身份证号查询过于频繁"
NEUTRAL = "该身份证号已在系统中登记，请联系县级管理员。"
# A number of the right shape that nobody holds (side A's prefix, another birth date).
NOBODY = make_id("43130219800202001")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world(assess=False)
        transaction.set_rollback(True)


def _page_client(user: User) -> Client:
    client = Client(REMOTE_ADDR="10.9.8.7")
    client.force_login(user)
    return client


def _api_client(user: User) -> APIClient:
    client = APIClient(REMOTE_ADDR="10.9.8.7")
    client.force_authenticate(user)
    return client


def _page_search(client: Client, number: str) -> str:
    response = client.post("/households/", {"q": number}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def _normalised(body: str, number: str) -> str:
    """A page without what legitimately differs between two requests: the echo of the typed number
    (masked), CSRF tokens and CSP nonces."""
    body = body.replace(mask_id_number(number), "<number>")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', "", body)
    return re.sub(r'nonce="[^"]+"', "", body)


def _candidates(count: int) -> list[str]:
    """What a masked county official can enumerate for side A's head: the prefix, a birth date near
    the known age, and the sequence — the real number is one of them."""
    first = datetime.date(1980, 1, 1)
    dates = [(first + datetime.timedelta(days=offset)).strftime("%Y%m%d") for offset in range(count)]
    return [make_id(f"431302{day}001") for day in dates]


def _searches(user: User) -> list[PersonalDataAccess]:
    return list(PersonalDataAccess.objects.filter(user=user, entity=SEARCH_ENTITY).order_by("id"))


# --- finding 4: the household search ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", MASKED_ROLES)
def test_masked_role_full_id_search_neither_finds_nor_distinguishes(world, role):  # issue 17 finding 4
    client = _page_client(world.user(role))

    real = _page_search(client, ID_A)
    missing = _page_search(client, NOBODY)

    assert REFUSED in real
    assert world.a.household.code not in real
    assert world.a.household.head_name not in real
    assert "共 0 户" in real
    assert _normalised(real, ID_A) == _normalised(missing, NOBODY)
    assert len(_searches(world.user(role))) == 2


@pytest.mark.django_db
def test_the_36_candidate_probe_learns_nothing_and_is_logged(world):  # issue 17 finding 4
    official = world.a.users["county"]
    client = _page_client(official)
    candidates = _candidates(36)
    assert ID_A in candidates

    started = time.perf_counter()
    bodies = {number: _normalised(_page_search(client, number), number) for number in candidates}
    elapsed = time.perf_counter() - started

    assert len(set(bodies.values())) == 1  # the real number answers exactly like the 35 others
    assert world.a.household.code not in bodies[ID_A]
    logs = _searches(official)
    assert len(logs) == 36
    assert {log.ip_address for log in logs} == {"10.9.8.7"}
    assert all("拒绝" in log.object_label for log in logs)
    # The log says whose number was tried (for the auditor, never for the searcher).
    assert [log.object_id for log in logs if log.object_id] == [world.a.person.pk]
    print(f"36 refused candidate searches: {elapsed:.2f} s")


@pytest.mark.django_db
def test_full_id_search_is_throttled_per_user(world, settings):  # issue 17 finding 4
    settings.ID_SEARCH_PER_HOUR = 3
    staff = world.a.users["village"]
    client = _page_client(staff)

    found = [_page_search(client, ID_A) for _ in range(3)]
    over = _page_search(client, ID_A)

    assert all(world.a.household.code in body for body in found)
    assert THROTTLED in over
    assert world.a.household.code not in over
    assert [log.object_label.endswith("（已查询）") for log in _searches(staff)] == [True, True, True, False]
    # The limit is per user: a colleague still searches.
    assert world.a.household.code in _page_search(_page_client(world.a.users["township"]), ID_A)


@pytest.mark.django_db
def test_allowed_roles_find_the_household_by_full_id_within_their_area(world):  # issue 17 finding 4
    for role in ("village", "township"):
        client = _page_client(world.a.users[role])
        assert world.a.household.code in _page_search(client, ID_A)
        foreign = _page_search(client, ID_B)
        assert world.b.household.code not in foreign
        assert "共 0 户" in foreign
    # A masked role holding "view personal data" may search (it could unmask anyway), logged, in its area.
    official = world.a.users["county"]
    official.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    official = User.objects.get(pk=official.pk)  # fresh permission cache
    client = _page_client(official)
    assert world.a.household.code in _page_search(client, ID_A)
    assert world.b.household.code not in _page_search(client, ID_B)
    logs = _searches(official)
    assert [(log.object_id, log.object_label) for log in logs] == [
        (world.a.person.pk, "户列表（已查询）"),
        (0, "户列表（已查询）"),
    ]


@pytest.mark.django_db
def test_api_q_by_full_id_follows_the_page_rule(world, settings):  # issue 17 finding 4
    staff = _api_client(world.a.users["village"])
    found = staff.get("/api/v1/households/", {"q": ID_A})
    assert found.status_code == 200
    assert [row["code"] for row in found.json()["results"]] == [world.a.household.code]

    county = _api_client(world.a.users["county"])
    real, missing = (county.get("/api/v1/households/", {"q": number}) for number in (ID_A, NOBODY))
    assert (real.status_code, missing.status_code) == (403, 403)
    assert real.json() == missing.json()
    assert REFUSED in real.json()["detail"]

    settings.ID_SEARCH_PER_HOUR = 1
    throttled = staff.get("/api/v1/households/", {"q": ID_A})
    assert throttled.status_code == 429
    assert THROTTLED in throttled.json()["detail"]
    assert len(_searches(world.a.users["village"])) == 2


def _answers(world: World, role: str, number: str) -> list[tuple[str, int, str]]:
    """Every way a masked role could look a full number up: the page search, the API filters,
    the live ID check, an action's member and a person's number."""
    user = world.user(role)
    page, api = _page_client(user), _api_client(user)
    person = world.a.person
    answers = [("page search", 200, _normalised(_page_search(page, number), number))]
    for url, params in (
        ("/api/v1/households/", {"q": number}),
        ("/api/v1/households/", {"id_number": number}),
        ("/api/v1/persons/", {"id_number": number}),
        ("/api/v1/persons/", {"q": number}),
    ):
        response = api.get(url, params)
        answers.append((f"{url}?{next(iter(params))}", response.status_code, response.content.decode()))
    check = page.post("/households/validate-id/", {"id_number": number})
    answers.append(("validate-id", check.status_code, _normalised(check.content.decode(), number)))
    action = api.patch(f"/api/v1/actions/{world.a.action.code}/", {"person": number}, format="json")
    answers.append(("action member", action.status_code, action.content.decode()))
    created = api.post(
        "/api/v1/actions/",
        {"household": world.a.household.code, "person": number, "description": "核实", "owner": "王"},
        format="json",
    )
    answers.append(("new action member", created.status_code, re.sub(r'"code":"[^"]+"', "", created.content.decode())))
    patched = api.patch(f"/api/v1/persons/{person.pk}/", {"id_number": number}, format="json")
    answers.append(("person number", patched.status_code, patched.content.decode()))
    return answers


@pytest.mark.django_db
@pytest.mark.parametrize("role", MASKED_ROLES)
def test_no_search_confirms_a_full_id_for_any_masked_role(world, role):  # issue 17 finding 4
    real = _answers(world, role, ID_A)
    missing = _answers(world, role, NOBODY)

    for (where, status, body), (_where, other_status, other_body) in zip(real, missing, strict=True):
        assert (status, body) == (other_status, other_body), where
        assert ID_A not in body, where
        assert ID_A[6:14] not in body, where
    world.a.action.refresh_from_db()
    assert world.a.action.person_id is None  # no member was linked by a guessed number


# --- finding 12: the import as a bulk "is this number registered?" ----------------------------


def _persons_csv(numbers: list[str], household: str, relation: str = "子女") -> io.BytesIO:
    lines = ["身份证号,姓名,户编号,与户主关系,劳动能力,就业信息更新日期"]
    lines += [f"{number},成员{index},{household},{relation},无劳动力," for index, number in enumerate(numbers)]
    data = io.BytesIO("\n".join(lines).encode())
    data.name = "persons.csv"
    return data


def _register_elsewhere(world: World, count: int) -> list[Person]:
    """``count`` members of side B's household (another county)."""
    first = datetime.date(1990, 1, 1)
    people = []
    for offset in range(count):
        day = (first + datetime.timedelta(days=offset)).strftime("%Y%m%d")
        people.append(
            services.person_create(
                actor=None,
                household=world.b.household,
                id_number=make_id(f"431321{day}002"),
                data={"name": f"外县成员{offset}", "relation": Relation.CHILD, "labour": Labour.NONE},
            )
        )
    return people


def _import_logs(user: User) -> list[PersonalDataAccess]:
    return list(PersonalDataAccess.objects.filter(user=user, entity=IMPORT_ENTITY).order_by("id"))


def _foreign_reveals(world: World, text: str) -> list[str]:
    return [name for name in (*world.b.names(), world.b.county.name, "双峰", ID_B) if name in text]


@pytest.mark.django_db
def test_a_number_registered_in_another_county_is_reported_neutrally_and_logged(world):  # issue 17 finding 12
    staff = world.a.users["village"]

    result = run_import("persons", _persons_csv([ID_B], world.a.household.code), user=staff, dry_run=True)

    assert [(error.row, error.column, error.reason) for error in result.errors] == [(2, "身份证号", NEUTRAL)]
    assert ID_B[6:14] not in result.errors[0].value  # the typed number comes back masked at most
    assert _foreign_reveals(world, repr(result.errors)) == []
    [log] = _import_logs(staff)
    assert (log.object_id, log.object_label) == (world.b.person.pk, "导入家庭成员（已报告）")
    assert id_probe_flags(actor=world.admin) == []  # one number is not a probe


@pytest.mark.django_db
def test_a_dry_run_probe_of_many_numbers_outside_the_area_is_throttled_logged_and_flagged(
    world, settings, caplog
):  # issue 17 finding 12
    settings.IMPORT_FOREIGN_ID_LIMIT, settings.IMPORT_FOREIGN_ID_FLAG = 20, 5
    staff = world.a.users["village"]
    elsewhere = _register_elsewhere(world, 30)
    probe = [
        make_id(f"431321{(datetime.date(1990, 1, 1) + datetime.timedelta(days=d)):%Y%m%d}002") for d in range(2003)
    ]
    assert {person.pk for person in elsewhere} <= set(Person.objects.values_list("pk", flat=True))

    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="households.id_lookup"), pytest.raises(FileError) as refused:
        run_import("persons", _persons_csv(probe, world.a.household.code), user=staff, dry_run=True)
    elapsed = time.perf_counter() - started

    message = str(refused.value)
    assert "不逐行说明哪些号码已登记" in message
    assert _foreign_reveals(world, message) == []
    logs = _import_logs(staff)
    assert sorted(log.object_id for log in logs) == sorted(person.pk for person in elsewhere)
    assert {log.object_label for log in logs} == {"导入家庭成员（超过上限，整表拒绝，未逐行报告）"}
    assert any("ID_PROBE_FLAG" in record.getMessage() for record in caplog.records)
    [flag] = id_probe_flags(actor=world.admin)
    assert (flag.user, flag.count) == (staff, 30)
    assert id_probe_flags(actor=world.a.users["county"]) == []  # the notice is the city administrator's
    page = _page_client(world.admin).get("/users/").content.decode()
    assert "疑似批量核查身份证号" in page
    assert staff.username in page
    print(f"2,003-number dry-run probe refused in {elapsed:.2f} s")


@pytest.mark.django_db
def test_above_the_limit_the_answer_does_not_depend_on_whether_numbers_exist(world, settings):  # issue 17 finding 12
    settings.IMPORT_FOREIGN_ID_LIMIT, settings.IMPORT_FOREIGN_ID_FLAG = 2, 2
    staff = world.a.users["village"]
    _register_elsewhere(world, 3)
    household = world.a.household.code

    first = run_import("persons", _persons_csv([ID_B], household), user=staff, dry_run=True)
    assert [error.reason for error in first.errors] == [NEUTRAL]  # under the limit: reported per row

    def answer(numbers: list[str]) -> str:
        with pytest.raises(FileError) as refused:
            run_import("persons", _persons_csv(numbers, household), user=staff, dry_run=True)
        return str(refused.value)

    # Crossing the limit refuses the whole file; from then on a file of numbers nobody holds gets
    # exactly the same refusal as a file of registered ones.
    crossing = answer([make_id("43132119900101002"), make_id("43132119900102002")])
    registered = answer([make_id("43132119900103002")])
    nobody = answer([NOBODY])
    assert crossing == registered == nobody
    # Work on the members already in the user's area goes on.
    own = run_import("persons", _persons_csv([ID_A], household, relation="户主"), user=staff, dry_run=True)
    assert (own.errors, own.updated) == ([], 1)


@pytest.mark.django_db
def test_the_api_import_job_ends_refused_without_row_errors(
    world, settings, tmp_path, django_capture_on_commit_callbacks
):  # issue 17 finding 12
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_FOREIGN_ID_LIMIT = 1
    staff = world.a.users["village"]
    _register_elsewhere(world, 2)
    numbers = [make_id("43132119900101002"), make_id("43132119900102002"), NOBODY]
    upload = _persons_csv(numbers, world.a.household.code)

    with django_capture_on_commit_callbacks(execute=True):
        created = _api_client(staff).post("/api/v1/imports/", {"kind": "persons", "file": upload}, format="multipart")

    assert created.status_code == 201, created.json()
    job = ImportJob.objects.get(pk=created.json()["id"])
    assert job.status == ImportJob.Status.INVALID
    assert [error["row"] for error in job.errors] == [0]  # a file-level refusal: no row is named
    assert "不逐行说明哪些号码已登记" in job.errors[0]["reason"]
    assert _foreign_reveals(world, repr(job.errors)) == []


def _member(number: str, household_code: str) -> dict[str, str]:
    return {
        "id_number": number,
        "name": "王五",
        "household": household_code,
        "relation": "子女",
        "labour": "普通劳动力",
        "employment": "外出务工",
        "employment_checked_on": "2025-06-01",
    }


@pytest.mark.django_db
def test_one_record_at_a_time_counts_like_an_import_and_stops_at_the_limit(world, settings):  # issue 17 finding 12
    # A clerk typing numbers into the person form or the API, one by one, is the same probe as a
    # dry-run import: each number found in another county is logged, and past the limit the answer
    # is the same whether the number exists elsewhere or nowhere.
    settings.IMPORT_FOREIGN_ID_LIMIT = 2
    staff = world.a.users["village"]
    elsewhere = _register_elsewhere(world, 3)
    api = _api_client(staff)
    household = world.a.household.code

    numbers = [personal_data.decrypt(person.id_number_encrypted) for person in elsewhere]
    first = api.post("/api/v1/persons/", _member(numbers[0], household), format="json")
    assert first.status_code == 400
    assert first.json()["id_number"] == [NEUTRAL.rstrip("。")]
    with pytest.raises(ValidationError) as second:
        services.person_create(
            actor=staff, household=world.a.household, id_number=numbers[1],
            data={"name": "王五", "relation": Relation.CHILD, "labour": Labour.ORDINARY,
                  "employment_checked_on": datetime.date(2025, 6, 1)},
        )  # fmt: skip
    assert second.value.message_dict["id_number"] == [NEUTRAL.rstrip("。")]
    assert [log.object_id for log in _import_logs(staff)] == [elsewhere[0].pk, elsewhere[1].pk]  # survived rollback

    exists = api.post(
        "/api/v1/persons/", _member(personal_data.decrypt(elsewhere[2].id_number_encrypted), household), format="json"
    )
    nowhere = api.post("/api/v1/persons/", _member(NOBODY, household), format="json")
    assert exists.status_code == nowhere.status_code == 400
    assert exists.json() == nowhere.json()  # past the limit, existence makes no difference
    assert "已达上限" in exists.json()["id_number"][0]
    assert not Person.objects.filter(name="王五").exists()
