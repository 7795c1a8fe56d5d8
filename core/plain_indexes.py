"""Plain B-tree indexes for code columns, without PostgreSQL's LIKE copies (issue 22).

``db_index`` on a CharField makes PostgreSQL build a second, ``varchar_pattern_ops`` index for
``LIKE 'x%'``. Nothing filters the area codes or the blind indexes by prefix, and every imported
person paid for four such copies. Models declare ``plain_indexes(...)`` in their Meta instead; the
migrations that switch a column over use ``switch_to_plain_indexes``, because Django's own
``AlterField`` (``db_index`` True → False) also drops a partial unique index on the column (a
"constraint" such as ``person_unique_active_id_number`` matches "an index on this column") and does
not recreate it.
"""

from collections.abc import Iterable
from typing import Any

from django.db import migrations, models


def plain_indexes(prefix: str, *fields: str) -> list[models.Index]:
    """One plain index per field, named ``<prefix>_<field>`` (≤ 30 characters, as Django requires)."""
    return [models.Index(fields=[name], name=f"{prefix}_{name}") for name in fields]


def _single_column_indexes(schema_editor: Any, table: str, column: str) -> list[str]:
    """Non-unique indexes on exactly this column: unique (partial) ones are constraints and stay."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return sorted(
        name
        for name, info in found.items()
        if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == [column]
    )


def switch_to_plain_indexes(indexes: Iterable[tuple[str, str, str]]) -> migrations.RunPython:
    """The database side of moving ``(table, column, new name)`` from ``db_index`` to a plain index.

    PostgreSQL: drop the ``_like`` copy and rename the plain index in place (no rebuild of a national
    table). SQLite has neither copies nor index renames: its index is recreated under the new name.
    """
    indexes = list(indexes)

    def forwards(apps: Any, schema_editor: Any) -> None:
        quote = schema_editor.quote_name
        postgres = schema_editor.connection.vendor == "postgresql"
        for table, column, new_name in indexes:
            names = _single_column_indexes(schema_editor, table, column)
            plain = [name for name in names if not name.endswith("_like")]
            kept = plain[0] if postgres and plain else None
            for name in names:
                if name != kept:
                    schema_editor.execute(f"DROP INDEX {quote(name)}")
            if kept:
                schema_editor.execute(f"ALTER INDEX {quote(kept)} RENAME TO {quote(new_name)}")
            else:
                schema_editor.execute(f"CREATE INDEX {quote(new_name)} ON {quote(table)} ({quote(column)})")

    def backwards(apps: Any, schema_editor: Any) -> None:
        quote = schema_editor.quote_name
        postgres = schema_editor.connection.vendor == "postgresql"
        for table, column, new_name in indexes:
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(new_name)}")
            old_name = schema_editor._create_index_name(table, [column])
            schema_editor.execute(f"CREATE INDEX {quote(old_name)} ON {quote(table)} ({quote(column)})")
            if postgres:
                like = schema_editor._create_index_name(table, [column], suffix="_like")
                schema_editor.execute(
                    f"CREATE INDEX {quote(like)} ON {quote(table)} ({quote(column)} varchar_pattern_ops)"
                )

    return migrations.RunPython(forwards, backwards)
