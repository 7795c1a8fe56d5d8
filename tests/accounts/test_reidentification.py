"""Re-identification (issue 17, acceptance 3): a masked role that gathers everything the portal shows
about one person — pages, API responses, exports, the change history, the admin — learns the masked
ID number and the age, never the birth date or the full number. And no database column in plain text
holds the number or a 前6后4 fragment of it (beside ``birth_date`` such a fragment is the whole ID).

The search oracle (a full ID typed into a search) is covered by tests/test_id_lookup_oracles.py.
"""

import datetime
import io
import json
import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import User
from accounts.personal_data import mask_id_number
from households import importing, services
from households.choices import Employment, Labour, Relation
from households.importing.export import export_kind
from households.models import HistoryEntry, ImportJob, Person
from indicators.models import IndicatorValue
from tests.factories import compute, make_id
from tests.world import ID_A, ID_B, World, build_world

pytestmark = pytest.mark.django_db

YEAR = 2025
API = "/api/v1/"
# The person followed: first registered with a mistyped ID (another birth date), then corrected.
BORN = datetime.date(1985, 3, 7)
MISTYPED_BORN = datetime.date(1986, 4, 9)
ID_X = make_id("43130219850307121")
ID_MISTYPED = make_id("43130219860409121")
# "superuser": a city administrator who is also a Django superuser, so the admin site is reachable.
MASKED_ROLES = ("county", "bureau", "finance", "admin", "superuser")
HISTORY_ROLES = ("county", "admin", "superuser")  # access.md: the change history is theirs
FRAGMENT = re.compile(r"\d{6}\*+[\dXx]{4}")


def date_spellings(day: datetime.date) -> list[str]:
    """The common ways a birth date is written (ISO, ID-style, Chinese, slashes and dots)."""
    y, m, d = day.year, day.month, day.day
    return [
        day.isoformat(),
        f"{y}{m:02d}{d:02d}",
        f"{y}年{m}月{d}日",
        f"{y}年{m:02d}月{d:02d}日",
        f"{y}/{m:02d}/{d:02d}",
        f"{y}/{m}/{d}",
        f"{y}.{m:02d}.{d:02d}",
        f"{y}-{m}-{d}",
    ]


class ReidentificationWorld(World):
    x: Person  # side A's spouse, registered under a mistyped ID number and corrected to ID_X


@pytest.fixture
def world() -> ReidentificationWorld:
    world = build_world(assess=False, into=ReidentificationWorld())
    household = world.a.household
    person = services.person_create(
        actor=None,
        household=household,
        id_number=ID_MISTYPED,
        data={
            "name": "周七巧",
            "relation": Relation.SPOUSE,
            "labour": Labour.ORDINARY,
            "wants_work": True,
            "employment_checked_on": datetime.date(YEAR, 6, 1),
        },
    )
    person = services.person_correct_id_number(actor=world.a.users["village"], person=person, id_number=ID_X)
    services.person_update(
        actor=world.a.users["village"],
        person=person,
        data={"employment": Employment.UNEMPLOYED, "wants_training": True},
    )
    assert person.birth_date == BORN
    compute(str(YEAR), as_of=datetime.date(YEAR, 12, 31), today=datetime.date(YEAR + 1, 1, 15))
    world.x = Person.objects.get(pk=person.pk)
    return world


def _text(response) -> str:  # type: ignore[no-untyped-def]
    """A response as searchable text: spreadsheets cell by cell, everything else decoded."""
    content_type = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in content_type:
        return _xlsx_text(body)
    return body.decode("utf-8", errors="replace")


def _xlsx_text(body: bytes) -> str:
    workbook = load_workbook(io.BytesIO(body))
    return "\n".join(
        " ".join(str(cell) for cell in row if cell is not None)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


def _list_urls(county: str) -> Iterator[str]:
    """Every 清零清单 (and its xlsx export) of the county, for indicators that keep a list."""
    codes = IndicatorValue.objects.filter(period__key=str(YEAR), unit_code=county).values_list(
        "indicator__code", flat=True
    )
    for code in sorted(set(codes)):
        yield f"/lists/{code}/{county}/?period={YEAR}"
        yield f"/lists/{code}/{county}/?period={YEAR}&format=xlsx"


def _collect(world: ReidentificationWorld, user: User) -> dict[str, str]:
    """Everything ``user`` can see about the followed person: url → text (only answers with 200)."""
    person = world.x
    household = world.a.household
    county = world.a.county.code
    web = Client()
    web.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    urls = [
        "/households/",
        f"/households/?q={household.code}",
        f"/households/?q={person.name}",
        f"/households/{household.code}/",
        "/history/",
        "/history/?entity=person",
        f"/warnings/{county}/",
        f"/warnings/{county}/?format=xlsx",
        f"/warnings/{county}/quality/",
        *_list_urls(county),
        "/admin/households/person/",
        f"/admin/households/person/{person.pk}/change/",
        f"/admin/households/person/{person.pk}/history/",
        f"/admin/households/household/{household.pk}/change/",
        "/admin/households/historyentry/",
        *[
            f"/admin/households/historyentry/{pk}/change/"
            for pk in HistoryEntry.objects.filter(entity="person", object_id=person.pk).values_list("pk", flat=True)
        ],
    ]
    seen: dict[str, str] = {}
    for url in urls:
        response = web.get(url)
        if response.status_code == 200:
            seen[url] = _text(response)
    api_urls = [
        f"{API}persons/",
        f"{API}persons/{person.pk}/",
        f"{API}households/",
        f"{API}households/{household.code}/",
        f"{API}actions/",
        *[
            f"{API}indicator-values/{pk}/failing/"
            for pk in IndicatorValue.objects.filter(period__key=str(YEAR), unit_code=county).values_list(
                "pk", flat=True
            )
        ],
    ]
    for url in api_urls:
        api_response = api.get(url)
        if api_response.status_code == 200:
            seen[url] = json.dumps(api_response.json(), ensure_ascii=False)
    for kind in ("persons", "households", "actions"):
        for fmt in ("csv", "xlsx"):
            buffer = io.BytesIO()
            export_kind(kind, buffer, user=user, fmt=fmt)
            body = buffer.getvalue()
            seen[f"export {kind}.{fmt}"] = _xlsx_text(body) if fmt == "xlsx" else body.decode("utf-8-sig")
    return seen


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_a_masked_role_learns_the_masked_id_and_age_never_the_birth_date(world: ReidentificationWorld, role: str):
    # issue 17 finding 2 (history beside the masked ID) and finding 3 (acceptance 3, re-identification)
    user = _superuser(world) if role == "superuser" else world.user(role)
    seen = _collect(world, user)
    combined = "\n".join(seen.values())
    masked = mask_id_number(ID_X)
    # The person is really there: in the household file, the persons API, an export and a 清零清单.
    assert masked in combined, sorted(seen)
    assert any(masked in text for url, text in seen.items() if url.startswith("/lists/")), sorted(seen)
    assert any(masked in text for url, text in seen.items() if "format=xlsx" in url)
    if role in HISTORY_ROLES:  # the change history was read
        assert any("周七巧" in text for url, text in seen.items() if url.startswith("/history/"))
    if role == "superuser":  # and the Django admin: its person page and history entries
        assert f"/admin/households/person/{world.x.pk}/change/" in seen
        assert sum(url.startswith("/admin/households/historyentry/") for url in seen) >= 3
    for url, text in seen.items():
        for number in (ID_X, ID_MISTYPED, ID_A, ID_B):
            assert number not in text, (url, number)
        for day in (BORN, MISTYPED_BORN):
            for spelling in date_spellings(day):
                assert spelling not in text, (url, spelling)
    for number, day in ((ID_X, BORN), (ID_MISTYPED, MISTYPED_BORN)):
        spellings = date_spellings(day)
        assert not (number[-4:] in combined and any(spelling in combined for spelling in spellings))


def _superuser(world: World) -> User:
    user = world.admin
    user.is_superuser = user.is_staff = True
    user.save(update_fields=["is_superuser", "is_staff"])
    return user


def test_the_admin_history_shows_no_birth_date_to_a_masked_administrator(world: ReidentificationWorld):
    # issue 17 finding 2: the admin's history shows no birth date to a (masked) city administrator
    entry = HistoryEntry.objects.filter(entity="person", object_id=world.x.pk, action="correct_id").get()
    assert {"birth_date", "id_number"} <= set(entry.after)  # the entry does record both changes
    web = Client()
    web.force_login(_superuser(world))
    response = web.get(f"/admin/households/historyentry/{entry.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "已变更" in body
    assert BORN.isoformat() not in body
    assert MISTYPED_BORN.isoformat() not in body


def test_an_unmasked_role_still_sees_the_birth_date_in_the_history(world: World):
    # issue 17 finding 2: the masking is by role, not a blanket removal
    web = Client()
    web.force_login(world.a.users["village"])
    body = web.get(f"/households/{world.a.household.code}/").content.decode()
    assert BORN.isoformat() in body
    assert ID_X in body


def _text_columns() -> Iterator[tuple[str, str]]:
    text_types = ("char", "text", "json", "clob")
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                field_type = connection.introspection.get_field_type(column.type_code, column)
                if any(kind in str(field_type).lower() for kind in text_types):
                    yield table, column.name


def test_no_database_column_holds_an_id_number_or_a_fragment_of_one(world: ReidentificationWorld, tmp_path):
    # issue 17 finding 3: every table, every text and JSON column, read directly
    admin = world.admin
    admin.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    admin = User.objects.get(pk=admin.pk)
    services.personal_data_unmask(actor=admin, person=world.x, ip_address="127.0.0.1")
    wrong = ID_X[:-1] + ("0" if ID_X[-1] != "0" else "1")  # a bad check digit: refused, and stored as an error
    path = tmp_path / "persons.csv"
    path.write_text(
        f"身份证号,姓名,户编号,与户主关系,劳动能力,就业信息更新日期\n{wrong},王五,{world.a.household.code},子女,无劳动力,\n",
        encoding="utf-8",
    )
    job = ImportJob.objects.create(kind="persons", file_name="persons.csv")
    assert not importing.run_import("persons", path, job=job).ok
    job.refresh_from_db()
    assert job.errors  # the error row is stored: it must not keep the number either
    plain = [ID_X, ID_MISTYPED, ID_A, ID_B, wrong]
    fragments = [mask_id_number(number) for number in plain]
    columns = list(_text_columns())
    assert ("households_historyentry", "after") in columns
    assert ("households_person", "name") in columns
    found = []
    with connection.cursor() as cursor:
        for table, column in columns:
            quoted_table, quoted_column = connection.ops.quote_name(table), connection.ops.quote_name(column)
            cursor.execute(f"SELECT {quoted_column} FROM {quoted_table} WHERE {quoted_column} IS NOT NULL")  # noqa: S608
            for (value,) in cursor.fetchall():
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if (
                    any(number in text for number in plain)
                    or any(f in text for f in fragments)
                    or FRAGMENT.search(text)
                ):
                    found.append((table, column, text[:80]))
    assert found == []
