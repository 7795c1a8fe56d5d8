"""The history's user and import job: no database constraint, still protected from deletion.

PostgreSQL checked both foreign keys once for every history row an import writes (1.6 s of a 13 s
import of 72,000 persons, issue 22), so they carry no database constraint; Django's ``PROTECT``
still refuses to delete a user or an import job that the history names.
"""

import pytest
from django.db import connection
from django.db.models import ProtectedError

from households.models import HistoryEntry, ImportJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def entry_of_an_import() -> HistoryEntry:
    user = UserFactory.create()
    job = ImportJob.objects.create(created_by=user, kind="persons", file_name="人员.csv")
    return HistoryEntry.objects.create(
        entity="person", object_id=1, action="create", channel="import", user=user, import_job=job
    )


def test_the_user_and_the_job_named_by_the_history_cannot_be_deleted():
    entry = entry_of_an_import()
    with pytest.raises(ProtectedError):
        entry.import_job.delete()
    with pytest.raises(ProtectedError):
        entry.user.delete()
    assert HistoryEntry.objects.filter(pk=entry.pk, user=entry.user, import_job=entry.import_job).exists()


def test_the_history_table_checks_no_foreign_key_per_row():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "households_historyentry")
    foreign = sorted(info["columns"][0] for info in constraints.values() if info["foreign_key"])
    assert foreign == []
    indexed = {info["columns"][0] for info in constraints.values() if info["index"] and len(info["columns"]) == 1}
    assert {"user_id", "import_job_id"} <= indexed
