"""Area codes and blind indexes carry one plain index each: no LIKE copy, and no constraint lost.

Migrations households.0010, monitoring.0003 and signoff.0002 (``core.plain_indexes``): on PostgreSQL
``db_index`` on a CharField added a ``varchar_pattern_ops`` copy of each index, which every imported
row paid for and nothing used (issue 22). Django's own ``AlterField`` would also have dropped the
partial unique index on the blind index of active persons without recreating it.
"""

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from households.models import Person
from tests.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

MIGRATIONS = [
    "households.migrations.0010_plain_code_indexes",
    "monitoring.migrations.0003_plain_code_indexes",
    "signoff.migrations.0002_plain_code_indexes",
]
PERSON_COLUMNS = ["county_code", "township_code", "village_code", "id_number_hash"]


def indexes(table: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


def switched() -> list[tuple[str, str, str]]:
    return [row for name in MIGRATIONS for row in importlib.import_module(name).INDEXES]


def on_column(table: str, column: str) -> list[str]:
    return sorted(
        name
        for name, info in indexes(table).items()
        if info["index"] and not info["unique"] and info["columns"] == [column]
    )


def test_each_code_column_has_exactly_its_one_plain_index():
    rows = switched()
    assert len(rows) == 34  # ten models × three area codes, two blind indexes, the history's two codes
    for table, column, name in rows:
        assert on_column(table, column) == [name], (table, column)


def test_the_active_persons_unique_blind_index_survives_and_holds():
    unique = indexes("households_person")["person_unique_active_id_number"]
    assert unique["unique"]
    assert unique["columns"] == ["id_number_hash"]
    first = PersonFactory()
    twin = PersonFactory.build(household=HouseholdFactory(), id_number_hash=first.id_number_hash)
    twin.id_number_encrypted = first.id_number_encrypted
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.bulk_create([twin])


def test_the_migration_round_trips_on_this_database():
    editor = connection.SchemaEditorClass(connection)
    operation = importlib.import_module(MIGRATIONS[0]).Migration.operations[0].database_operations[0]
    operation.reverse_code(apps, editor)
    before = {column: on_column("households_person", column) for column in PERSON_COLUMNS}
    for column, names in before.items():
        # Django's generated names back, with the LIKE copy on PostgreSQL
        assert len(names) == (2 if connection.vendor == "postgresql" else 1), names
        assert all(name.startswith(f"households_person_{column}_") for name in names)
    operation.code(apps, editor)
    for column in PERSON_COLUMNS:
        assert on_column("households_person", column) == [f"person_{column}"]
    assert indexes("households_person")["person_unique_active_id_number"]["unique"]
