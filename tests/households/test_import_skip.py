"""Issue 22: a re-import skips the rows whose record still holds the row's keyed fingerprint
(``import_digest``), and the result is exactly what the full path gives: the counts, the errors and
warnings with their row numbers, the records, their history.

The safety net is the property test: hypothesis draws households and members, imports them, applies
writes through the services (edit, cancel, transfer, a corrected ID number, a new 户主, a bulk fix,
an admin's ``QuerySet.update``, a new member) and alters the files (an edited cell, a repeated row,
a dropped row, a member moved to another household, rows swapped). The files are then re-imported
twice, once with ``IMPORT_SKIP_UNCHANGED`` and once without, from the same state (a savepoint):
everything must be the same.
"""

import hashlib
import importlib
import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.models import Role
from accounts.personal_data import blind_index, generate_key, keyed_hasher
from households import services
from households.choices import HouseholdCancelReason, PersonCancelReason, RecordStatus, Relation
from households.importing import engine, run_import
from households.models import ChangeFeed, HistoryEntry, Household, Person
from tests.factories import AreaFactory, SiteFactory, UserFactory, make_id

EXAMPLES = int(os.environ.get("IMPORT_SKIP_EXAMPLES", "25"))
TODAY = timezone.localdate()
IDS = [make_id(f"43130219800101{n:03d}") for n in range(60)]
HOUSEHOLD_HEADERS = ["户编号", "户主姓名", "户主身份证号", "现居村社区代码", "安置点编码", "户类型", "自来水"]
PERSON_HEADERS = ["身份证号", "姓名", "户编号", "与户主关系", "状态", "劳动能力", "就业状态", "就业信息更新日期"]
V1, V2 = "431302001001", "431302001002"

Rows = list[list[str]]


def world() -> dict[str, Any]:
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    other_township = AreaFactory.township(code="431302002", name="花山街道", parent=county)
    village = AreaFactory.village(code=V1, name="A社区", parent=township)
    AreaFactory.village(code=V2, name="B社区", parent=township)
    AreaFactory.village(code="431302002001", name="C社区", parent=other_township)
    SiteFactory(code="S1", village=village)
    return {
        "staff": UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=township),
        "outsider": UserFactory.create(username="hua", role=Role.TOWNSHIP_STAFF, area=other_township),
    }


def files(sizes: list[int], *, cancelled: bool = False) -> tuple[Rows, Rows]:
    """Households H01… in V1 (the first on site S1), each with ``sizes[i]`` members, the first 户主;
    ``cancelled``: the last member of a household of several is 已注销."""
    households: Rows = []
    persons: Rows = []
    serial = 0
    for index, size in enumerate(sizes):
        code = f"H{index + 1:02d}"
        head = IDS[serial]
        households.append([code, f"户主{index}", head, V1, "S1" if index == 0 else "", "建档立卡户", "是"])
        for position in range(size):
            relation = Relation.HEAD if position == 0 else Relation.CHILD
            labour, employment, checked = (
                ("普通劳动力", "外出务工", "2024-03-01") if position % 2 else ("无劳动力", "未就业", "")
            )
            name = f"户主{index}" if position == 0 else f"成员{serial}"
            status = RecordStatus.CANCELLED if cancelled and position and position == size - 1 else "正常"
            persons.append([IDS[serial], name, code, relation, status, labour, employment, checked])
            serial += 1
    return households, persons


def text(headers: list[str], rows: Rows) -> io.BytesIO:
    return io.BytesIO(("\n".join(",".join(row) for row in [headers, *rows]) + "\n").encode())


def signature(result: Any) -> tuple[Any, ...]:
    return (
        result.total,
        result.created,
        result.updated,
        result.unchanged,
        [(e.row, e.column, e.value, e.reason) for e in result.errors],
        [(e.row, e.column, e.reason) for e in result.warnings],
        result.file_warnings,
    )


PERSON_SKIPPED_FIELDS = {"id", "id_number_encrypted", "updated_at"}
HOUSEHOLD_SKIPPED_FIELDS = {"id", "head_id_encrypted", "phone_encrypted", "updated_at"}


def comparable(row: tuple[Any, ...]) -> list[tuple[bool, str]]:
    """A sort key for rows whose columns may be ``None`` (a date beside ``None`` does not compare)."""
    return [(value is not None, str(value)) for value in row]


def state() -> tuple[Any, ...]:
    """The records (by natural key, without ciphertexts and timestamps) and the history, in order."""
    person_fields = [f.attname for f in Person._meta.concrete_fields if f.attname not in PERSON_SKIPPED_FIELDS]
    household_fields = [f.attname for f in Household._meta.concrete_fields if f.attname not in HOUSEHOLD_SKIPPED_FIELDS]
    codes = dict(Household.objects.values_list("id", "code"))
    persons = sorted(
        ((codes[row[0]], *row[1:])
         for row in Person.objects.values_list("household_id", *[f for f in person_fields if f != "household_id"])),
        key=comparable,
    )  # fmt: skip
    households = sorted(Household.objects.values_list(*household_fields), key=comparable)
    history = list(
        HistoryEntry.objects.order_by("pk").values_list(
            "entity", "object_code", "action", "channel", "county_code", "township_code", "before", "after"
        )
    )
    return persons, households, history, ChangeFeed.objects.count()


def reimport(user: Any, household_rows: Rows, person_rows: Rows) -> list[Any]:
    """Both files, twice (the second time after the first wrote its fingerprints), with the state."""
    out: list[Any] = []
    for _round in range(2):
        out.append(signature(run_import("households", text(HOUSEHOLD_HEADERS, household_rows), user=user)))
        out.append(signature(run_import("persons", text(PERSON_HEADERS, person_rows), user=user)))
        out.append(state())
    return out


def both_ways(run: Callable[[], Any]) -> tuple[Any, Any]:
    """``run`` with the skip and without it, each from the same state (rolled back after)."""
    results = []
    for skip in (True, False):
        with override_settings(IMPORT_SKIP_UNCHANGED=skip):
            point = transaction.savepoint()
            try:
                results.append(run())
            finally:
                transaction.savepoint_rollback(point)
    return results[0], results[1]


def first_import(user: Any, household_rows: Rows, person_rows: Rows) -> None:
    assert run_import("households", text(HOUSEHOLD_HEADERS, household_rows), user=user).ok
    result = run_import("persons", text(PERSON_HEADERS, person_rows), user=user)
    assert result.ok, result.errors


def person(number: str) -> Person:
    return Person.objects.get(id_number_hash=blind_index(number), status=RecordStatus.ACTIVE)


# -- the other writes ---------------------------------------------------------------------------


def edit_household(actor: Any, household: Household, persons: list[Person]) -> None:
    services.household_update(actor=actor, household=household, data={"tap_water": not household.tap_water})


def cancel_household(actor: Any, household: Household, persons: list[Person]) -> None:
    services.household_cancel(actor=actor, household=household, reason=HouseholdCancelReason.MOVED_AWAY)


def transfer_household(actor: Any, household: Household, persons: list[Person]) -> None:
    services.household_transfer(actor=actor, household=household, village_code=V2)


def cancel_person(actor: Any, household: Household, persons: list[Person]) -> None:
    services.person_cancel(actor=actor, person=persons[-1], cancelled_on=TODAY, reason=PersonCancelReason.DIED)


def correct_id(actor: Any, household: Household, persons: list[Person]) -> None:
    services.person_correct_id_number(actor=actor, person=persons[-1], id_number=IDS[59 - persons[-1].pk % 10])


def edit_person(actor: Any, household: Household, persons: list[Person]) -> None:
    services.person_update(actor=actor, person=persons[-1], data={"work_place": "长沙"})


def set_employment(actor: Any, household: Household, persons: list[Person]) -> None:
    services.person_set_employment(actor=actor, person=persons[-1], employment="本地企业")


def change_head(actor: Any, household: Household, persons: list[Person]) -> None:
    services.household_change_head(
        actor=actor, household=household, new_head=persons[-1], old_head_relation=Relation.PARENT
    )


def fix_persons(actor: Any, household: Household, persons: list[Person]) -> None:
    services.records_fix(actor=actor, record="person", ids=[persons[0].pk], field="family_doctor", value=True)


def fix_households(actor: Any, household: Household, persons: list[Person]) -> None:
    services.records_fix(actor=actor, record="household", ids=[household.pk], field="tap_water", value=False)


def queryset_update(actor: Any, household: Household, persons: list[Person]) -> None:
    Person.objects.filter(pk=persons[0].pk).update(name="改名")  # no updated_at: an admin's or a script's


def bulk_update(actor: Any, household: Household, persons: list[Person]) -> None:
    persons[-1].work_place = "娄底"
    Person.objects.bulk_update([persons[-1]], ["work_place"])


def raw_update(actor: Any, household: Household, persons: list[Person]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE households_household SET head_name = %s WHERE id = %s", ["他人", household.pk])


def add_member(actor: Any, household: Household, persons: list[Person]) -> None:
    services.person_create(
        actor=actor,
        household=household,
        id_number=IDS[50 + household.pk % 5],
        data={"name": "新成员", "relation": Relation.CHILD, "labour": "无劳动力"},
    )


def re_register(actor: Any, household: Household, persons: list[Person]) -> None:
    """A cancelled member registered again in the same household: two persons with one number."""
    gone = household.members.filter(status=RecordStatus.CANCELLED).first()
    if gone is None:
        raise ValidationError("no cancelled member")
    number = next(row[0] for row in files([3, 3, 3, 3])[1] if blind_index(row[0]) == gone.id_number_hash)
    services.person_create(
        actor=actor,
        household=household,
        id_number=number,
        data={"name": "再登记", "relation": Relation.CHILD, "labour": "无劳动力"},
    )


EDITS = [
    edit_household,
    cancel_household,
    transfer_household,
    cancel_person,
    correct_id,
    edit_person,
    set_employment,
    change_head,
    fix_persons,
    fix_households,
    queryset_update,
    bulk_update,
    raw_update,
    add_member,
    re_register,
]


def apply(edit: Callable[..., None], actor: Any, code: str) -> bool:
    household = Household.objects.get(code=code)
    persons = list(household.members.filter(status=RecordStatus.ACTIVE).order_by("pk"))
    if not persons:
        return False
    try:
        with transaction.atomic():
            edit(actor, household, persons)
    except (ValidationError, Http404, ValueError):
        return False
    return True


# -- the file alterations -----------------------------------------------------------------------


def alter(kind: str, rows: Rows, index: int) -> Rows:
    rows = [list(row) for row in rows]
    row = rows[index % len(rows)]
    if kind == "labour":
        row[5:8] = ["技能劳动力", "本地企业", "2024-05-01"]
    elif kind == "repeat":
        rows.append(list(row))
    elif kind == "drop":
        rows.remove(row)
    elif kind == "move":
        row[2] = "H01" if row[2] != "H01" else "H02"
    elif kind == "swap":
        rows.reverse()
    elif kind == "cancel":
        row[4] = RecordStatus.CANCELLED
    return rows or [row]


class SkipEquivalence(TestCase):
    @given(data=st.data())
    @hypothesis_settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
    )
    def test_skipping_gives_the_result_of_the_full_path(self, data: st.DataObject) -> None:
        users = world()
        staff = users["staff"]
        sizes = data.draw(st.lists(st.integers(1, 3), min_size=2, max_size=4), label="sizes")
        household_rows, person_rows = files(sizes, cancelled=data.draw(st.booleans(), label="cancelled"))
        first_import(staff, household_rows, person_rows)
        codes = [row[0] for row in household_rows]
        for edit in data.draw(st.lists(st.sampled_from(EDITS), max_size=4), label="edits"):
            apply(edit, staff, data.draw(st.sampled_from(codes)))
        change = data.draw(st.sampled_from(["none", "labour", "repeat", "drop", "move", "swap", "cancel"]))
        if change != "none":
            person_rows = alter(change, person_rows, data.draw(st.integers(0, 20)))
        if data.draw(st.booleans(), label="household repeated"):
            household_rows = [*household_rows, household_rows[0]]
        user = data.draw(st.sampled_from([staff, users["outsider"], None]), label="user")

        skipped, full = both_ways(lambda: reimport(user, household_rows, person_rows))
        assert skipped == full


# -- one case each ------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    return world()


@pytest.fixture
def imported(users):
    household_rows, person_rows = files([3, 2, 1], cancelled=True)
    first_import(users["staff"], household_rows, person_rows)
    return household_rows, person_rows


@pytest.fixture
def parsed_cells(monkeypatch):
    """The number of rows parsed cell by cell (a skipped row is not)."""
    calls = [0]
    parse = engine._parse_cells

    def counted(*args: Any) -> None:
        calls[0] += 1
        parse(*args)

    monkeypatch.setattr(engine, "_parse_cells", counted)
    return calls


def test_an_unchanged_file_is_skipped_and_counted_unchanged(users, imported, parsed_cells):
    household_rows, person_rows = imported
    history = HistoryEntry.objects.count()
    households = run_import("households", text(HOUSEHOLD_HEADERS, household_rows), user=users["staff"])
    persons = run_import("persons", text(PERSON_HEADERS, person_rows), user=users["staff"])

    assert signature(households)[:4] == (3, 0, 0, 3)
    assert signature(persons)[:4] == (6, 0, 0, 6)
    assert parsed_cells[0] == 0
    assert HistoryEntry.objects.count() == history
    assert not Person.objects.filter(import_digest=None).exists()
    assert not Household.objects.filter(import_digest=None).exists()


@pytest.mark.parametrize("edit", EDITS, ids=[edit.__name__ for edit in EDITS])
def test_every_other_write_stops_the_skip_for_what_it_wrote(users, imported, edit):
    household_rows, person_rows = imported
    household = Household.objects.get(code="H01")
    everyone = list(household.members.order_by("pk"))
    members = [member for member in everyone if member.status == RecordStatus.ACTIVE]
    touched = {
        edit_household: [household],
        cancel_household: [household, *members],
        transfer_household: [household, *everyone],
        cancel_person: [members[-1]],
        correct_id: [members[-1]],
        edit_person: [members[-1]],
        set_employment: [members[-1]],
        change_head: [household, members[0], members[-1]],
        fix_persons: [members[0]],
        fix_households: [household],
        queryset_update: [members[0]],
        bulk_update: [members[-1]],
        raw_update: [household],
        add_member: [],
        re_register: [],
    }[edit]
    assert apply(edit, users["staff"], "H01")

    for record in touched:
        record.refresh_from_db()
        assert record.import_digest is None, (edit.__name__, record)
    untouched = Person.objects.exclude(pk__in=[r.pk for r in touched if isinstance(r, Person)])
    assert not untouched.filter(import_digest=None).exclude(name__in=["新成员", "再登记"]).exists()
    skipped, full = both_ways(lambda: reimport(users["staff"], household_rows, person_rows))
    assert skipped == full


def test_the_member_counts_keep_the_households_fingerprint(users, imported):
    household = Household.objects.get(code="H01")
    counts = (household.labour_force_members, household.employed_labour_force_members)
    member = household.members.filter(labour="普通劳动力").first()
    services.person_set_employment(actor=users["staff"], person=member, employment="未就业")
    household.refresh_from_db()

    assert (household.labour_force_members, household.employed_labour_force_members) != counts
    assert household.import_digest is not None


def test_a_repeated_unchanged_row_is_still_reported(users, imported):
    household_rows, person_rows = imported
    person_rows = [*person_rows, person_rows[1]]
    household_rows = [*household_rows, household_rows[2]]

    skipped, full = both_ways(lambda: reimport(users["staff"], household_rows, person_rows))
    assert skipped == full
    households, persons = skipped[0], skipped[1]
    assert [(row, reason) for row, _column, _value, reason in households[4]] == [
        (5, "与第 4 行重复：同一户编号只能出现一次。")
    ]
    assert [(row, column, value, reason) for row, column, value, reason in persons[4]] == [
        (8, "身份证号", "*" * 18, "与第 3 行重复：同一身份证号只能出现一次。")
    ]


def test_a_user_outside_the_records_area_is_still_refused(users, imported):
    household_rows, person_rows = imported

    skipped, full = both_ways(lambda: reimport(users["outsider"], household_rows, person_rows))
    assert skipped == full
    households, persons = skipped[0], skipped[1]
    assert households[4]
    assert {reason for *_rest, reason in households[4]} == {"该户编号已在系统中登记，请联系县级管理员。"}
    assert persons[4]
    assert persons[1:4] == (0, 0, 0)


def test_records_without_a_fingerprint_get_one_without_history_or_change_feed(users, imported, parsed_cells):
    household_rows, person_rows = imported
    Person.objects.update(import_digest=None)
    Household.objects.update(import_digest=None)
    stamps = dict(Person.objects.values_list("pk", "updated_at"))
    before = (HistoryEntry.objects.count(), ChangeFeed.objects.count())

    persons = run_import("persons", text(PERSON_HEADERS, person_rows), user=users["staff"])
    run_import("households", text(HOUSEHOLD_HEADERS, household_rows), user=users["staff"])

    assert signature(persons)[:4] == (6, 0, 0, 6)
    assert parsed_cells[0] == 9  # every row parsed in full once
    assert (HistoryEntry.objects.count(), ChangeFeed.objects.count()) == before
    assert dict(Person.objects.values_list("pk", "updated_at")) == stamps
    assert not Person.objects.filter(import_digest=None).exists()
    assert not Household.objects.filter(import_digest=None).exists()
    run_import("persons", text(PERSON_HEADERS, person_rows), user=users["staff"])
    assert parsed_cells[0] == 9  # now skipped


def test_the_fingerprint_is_keyed(settings):
    """The row holds the plaintext ID number: an unkeyed hash would confirm a guessed one."""
    first = keyed_hasher("import-row")
    first.update(b"row")
    settings.BLIND_INDEX_KEY = generate_key()
    second = keyed_hasher("import-row")
    second.update(b"row")

    assert len({first.hexdigest(), second.hexdigest(), hashlib.blake2b(b"row", digest_size=16).hexdigest()}) == 3


def test_a_cell_changed_in_the_file_is_written(users, imported):
    household_rows, person_rows = imported
    person_rows = alter("labour", person_rows, 1)
    result = run_import("persons", text(PERSON_HEADERS, person_rows), user=users["staff"])

    assert signature(result)[:4] == (6, 0, 1, 5)
    assert person(person_rows[1][0]).labour == "技能劳动力"
    assert person(person_rows[1][0]).import_digest is not None


def test_sqlites_household_trigger_watches_every_column_the_file_can_change():
    # SQLite's trigger names the columns it watches (migration 0011): a household column added later
    # without a migration that adds it there would let a form's edit keep a stale fingerprint.
    migration = importlib.import_module("households.migrations.0011_import_digest")
    not_watched = {"id", "import_digest", "labour_force_members", "employed_labour_force_members"}
    columns = {field.column for field in Household._meta.concrete_fields} - not_watched
    assert set(migration.HOUSEHOLD_COLUMNS) == columns
