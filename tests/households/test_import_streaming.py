"""Issue 22: the engine validates and writes a file in chunks inside one transaction. A row error
anywhere still writes nothing, a key repeated in another chunk is still reported, and the 户主 rule
still sees a household whose rows are spread over several chunks."""

import io
import threading
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Role
from households import services
from households.importing import run_import
from households.models import HistoryEntry, Household, ImportJob, Person
from tests.factories import AreaFactory, UserFactory, make_id

pytestmark = pytest.mark.django_db

HEADERS = "身份证号,姓名,户编号,与户主关系,状态,劳动能力,就业信息更新日期"
IDS = [make_id(f"431302199001010{n:02d}") for n in range(20)]


@pytest.fixture(autouse=True)
def small_chunks(settings):
    settings.IMPORT_CHUNK_ROWS = 3


@pytest.fixture
def staff():
    city = AreaFactory.city()
    county = AreaFactory.county(code="431302", name="娄星区", parent=city)
    township = AreaFactory.township(code="431302001", name="乐坪街道", parent=county)
    AreaFactory.village(code="431302001001", name="A社区", parent=township)
    return UserFactory.create(username="zhen", role=Role.TOWNSHIP_STAFF, area=township)


@pytest.fixture
def households(staff):
    return [
        services.household_register(
            actor=staff, code=code, village_code="431302001001", data={"head_name": "户主", "category": "建档立卡户"}
        )
        for code in ("H01", "H02", "H03")
    ]


def person(index: int, household: str, relation: str = "子女", labour: str = "无劳动力") -> str:
    return f"{IDS[index]},成员{index},{household},{relation},正常,{labour},"


def persons_file(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join([HEADERS, *lines]) + "\n").encode())


def counts() -> tuple[int, int, int]:
    return Person.objects.count(), HistoryEntry.objects.count(), ImportJob.objects.count()


def test_a_row_error_in_the_last_chunk_writes_nothing(staff, households):
    before = counts()
    lines = [person(0, "H01", "户主"), person(1, "H01"), person(2, "H02", "户主")]
    lines += [person(3, "H02"), person(4, "H03", "户主"), person(5, "H03")]
    lines += [person(6, "H01"), person(7, "H02", labour="会飞")]  # chunk 3: an unknown 劳动能力
    result = run_import("persons", persons_file(*lines), user=staff)

    assert [(error.row, error.column) for error in result.errors] == [(9, "劳动能力")]
    assert (result.created, result.updated, result.job) == (0, 0, None)
    assert counts() == before  # chunks 1 and 2 were written, then rolled back with the rest


def test_a_key_repeated_in_a_later_chunk_is_reported(staff, households):
    lines = [person(0, "H01", "户主"), person(1, "H01"), person(2, "H02", "户主")]
    lines += [person(3, "H02"), person(4, "H03", "户主"), person(1, "H03")]
    result = run_import("persons", persons_file(*lines), user=staff)

    assert [(error.row, error.reason) for error in result.errors] == [(7, "与第 3 行重复：同一身份证号只能出现一次。")]
    assert not Person.objects.exists()


def test_a_household_spread_over_chunks_needs_one_head_in_the_whole_file(staff, households):
    lines = [person(0, "H01"), person(1, "H02", "户主"), person(2, "H02")]
    lines += [person(3, "H03", "户主"), person(4, "H01", "户主")]  # H01's head only in chunk 2
    result = run_import("persons", persons_file(*lines), user=staff)
    assert result.ok, result.errors
    assert result.created == 5
    assert Person.objects.get(name="成员4").relation == "户主"

    twice = [person(10, "H01"), person(11, "H02"), person(12, "H03")]
    twice += [person(13, "H01", "户主")]  # a second head for H01, three chunks after its first
    result = run_import("persons", persons_file(*twice), user=staff)
    assert [(error.row, error.column) for error in result.errors] == [(5, "与户主关系")]
    assert "将有多名状态为“正常”的户主（成员4、成员13）" in result.errors[0].reason
    assert Person.objects.count() == 5


def test_a_head_handed_over_across_chunks_waits_for_the_release(staff, households):
    first = [person(0, "H01", "户主"), person(1, "H01"), person(2, "H02", "户主"), person(3, "H03", "户主")]
    assert run_import("persons", persons_file(*first), user=staff).ok

    # 成员1 becomes the head in chunk 1; 成员0 gives the place up only in chunk 2.
    swap = [person(1, "H01", "户主"), person(2, "H02", "户主"), person(3, "H03", "户主"), person(0, "H01")]
    result = run_import("persons", persons_file(*swap), user=staff)

    assert result.ok, result.errors
    assert result.updated == 2
    relations = dict(Person.objects.filter(household__code="H01").values_list("name", "relation"))
    assert relations == {"成员0": "子女", "成员1": "户主"}
    assert HistoryEntry.objects.filter(entity="person", action=HistoryEntry.Action.UPDATE).count() == 2


# -- the background writer (PostgreSQL): a chunk is written while the next one is parsed ----------


def state() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The persons and the history, in order."""
    persons = sorted(Person.objects.values_list("name", "household__code", "relation", "labour", "status"))
    history = list(HistoryEntry.objects.order_by("pk").values_list("entity", "object_code", "action", "after"))
    return persons, history


FILE = [person(n, f"H0{n % 3 + 1}", "户主" if n < 3 else "子女", "普通劳动力") + "2026-01-15" for n in range(11)]


@pytest.mark.needs_postgres
def test_chunks_are_written_in_a_second_thread_in_the_same_transaction(staff, households, monkeypatch):
    from households.importing.kinds import PersonsKind

    threads = []
    write = PersonsKind.write

    def recorded(self, creates, updates):
        threads.append(threading.current_thread().name)
        write(self, creates, updates)

    monkeypatch.setattr(PersonsKind, "write", recorded)
    result = run_import("persons", persons_file(*FILE), user=staff)

    assert result.ok, result.errors
    assert threads == ["import-writer"] * 4  # 11 rows in chunks of 3, each written by the writer
    counts = dict(Household.objects.values_list("code", "labour_force_members"))
    assert counts == {"H01": 4, "H02": 4, "H03": 3}  # the member-count trigger ran in that transaction


@pytest.mark.needs_postgres
def test_the_background_writer_gives_what_writing_in_line_gives(staff, households, settings):
    point = transaction.savepoint()
    assert run_import("persons", persons_file(*FILE), user=staff).ok
    overlapped = state()
    transaction.savepoint_rollback(point)
    settings.IMPORT_OVERLAP = False
    assert run_import("persons", persons_file(*FILE), user=staff).ok

    assert state() == overlapped
    assert len(overlapped[0]) == 11


@pytest.mark.needs_postgres
def test_a_failed_background_write_rolls_the_whole_file_back(staff, households, monkeypatch):
    from households.importing.kinds import PersonsKind

    written = []
    write = PersonsKind.write

    def failing(self, creates, updates):
        if written:
            raise IntegrityError("第二块写入失败")
        written.append(len(creates))
        write(self, creates, updates)

    monkeypatch.setattr(PersonsKind, "write", failing)
    before = counts()
    with pytest.raises(IntegrityError, match="第二块写入失败"):
        run_import("persons", persons_file(*FILE), user=staff)

    assert written == [3]
    assert counts() == before  # the first chunk, written, was rolled back with the rest
    assert Person.objects.count() == 0  # and the connection still answers
