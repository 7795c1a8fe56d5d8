"""Migration households.0004: rows written before it lose every ID fragment (issue 17, finding 3).

The data step is run on rows shaped like the old ones (the columns themselves are gone from the
models, so the test database is already past the schema step).
"""

import importlib
import json

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from accounts.models import PersonalDataAccess, Role, User
from households.models import HistoryEntry, ImportJob, Person
from tests.factories import UserFactory, make_id

pytestmark = pytest.mark.django_db

migration = importlib.import_module("households.migrations.0004_id_fragments_removed")
ID = make_id("43130219850307121")
MASKED = f"{ID[:6]}********{ID[-4:]}"
HOUSEHOLD_CODE = make_id("43130200100100012")  # an 18-digit household code that passes the ID checks


def test_old_history_snapshots_keep_only_that_the_id_changed():
    # issue 17 finding 3
    entry = HistoryEntry.objects.create(
        entity="person",
        object_id=1,
        object_code=MASKED,  # imported persons were coded by their masked ID
        action="correct_id",
        channel="form",
        before={"id_number_masked": "431302********0000", "birth_date": "1986-04-09"},
        after={"id_number_masked": MASKED, "birth_date": "1985-03-07", "note": f"改为 {ID}"},
    )
    household = HistoryEntry.objects.create(
        entity="household",
        object_id=2,
        object_code=HOUSEHOLD_CODE,
        action="create",
        channel="import",
        after={"code": HOUSEHOLD_CODE, "head_id_masked": MASKED, "head_name": "张三", "phone_masked": "138****5678"},
    )
    migration.scrub(apps, None)
    entry.refresh_from_db()
    household.refresh_from_db()
    assert entry.before == {"id_number": "已变更", "birth_date": "1986-04-09"}
    assert entry.after == {"id_number": "已变更", "birth_date": "1985-03-07", "note": "改为 " + "*" * 18}
    assert entry.object_code == ""
    # codes are not IDs, even when they look like one; the phone's mask is not an ID fragment
    assert household.object_code == HOUSEHOLD_CODE
    assert household.after == {
        "code": HOUSEHOLD_CODE,
        "head_id": "已变更",
        "head_name": "张三",
        "phone_masked": "138****5678",
    }


def test_old_import_errors_unmask_labels_and_admin_log_lose_the_fragments():
    # issue 17 finding 3
    job = ImportJob.objects.create(
        kind="households",
        file_name="h.xlsx",
        errors=[{"row": 2, "column": "户主身份证号", "value": MASKED, "reason": f"与户主 张一（{MASKED}）不一致"}],
        warnings=[{"row": 3, "column": "身份证号", "value": "", "reason": f"户主身份证号（{MASKED}）不同"}],
    )
    user = UserFactory.create(username="shi", role=Role.CITY_ADMIN, area=None)
    access = PersonalDataAccess.objects.create(user=user, entity="person", object_id=1, object_label=MASKED)
    log = LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(Person),
        object_id="1",
        object_repr=f"周七巧 {MASKED}",
        action_flag=CHANGE,
        change_message="[]",
    )
    migration.scrub(apps, None)
    job.refresh_from_db()
    access.refresh_from_db()
    log.refresh_from_db()
    stored = json.dumps([job.errors, job.warnings], ensure_ascii=False) + access.object_label + log.object_repr
    assert MASKED not in stored
    assert ID[-4:] not in stored
    assert job.errors[0]["value"] == "*" * 18
    assert "张一" in job.errors[0]["reason"]
    assert log.object_repr == "周七巧 " + "*" * 18


def test_the_fragment_columns_are_gone():
    # issue 17 finding 3: nothing left to rebuild an ID beside birth_date
    person_columns = {field.column for field in Person._meta.concrete_fields}
    assert "birth_date" in person_columns
    assert not {"id_number_masked", "head_id_masked"} & person_columns
    from households.models import Household

    assert "head_id_masked" not in {field.column for field in Household._meta.concrete_fields}


def test_a_record_is_decrypted_once_however_often_it_is_shown(monkeypatch):
    # issue 17 finding 3: the masked form comes from the ciphertext, decrypted once per instance
    from accounts import personal_data
    from accounts.access import display_id_number

    person = Person(id_number_encrypted=personal_data.encrypt(ID))
    calls = []
    real = personal_data.decrypt
    monkeypatch.setattr(personal_data, "decrypt", lambda token: calls.append(token) or real(token))
    county = User(role=Role.COUNTY_OFFICIAL)
    village = User(role=Role.VILLAGE_STAFF)
    assert display_id_number(county, person) == MASKED
    assert display_id_number(village, person) == ID
    assert display_id_number(county, person) == MASKED
    assert len(calls) == 1
    other = make_id("43130219900101001")
    person.id_number_encrypted = personal_data.encrypt(other)  # a corrected number is not served stale
    assert display_id_number(village, person) == other
    assert len(calls) == 2
