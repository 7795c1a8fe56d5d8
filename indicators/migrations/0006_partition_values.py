"""PostgreSQL only: the values table becomes a table partitioned by period (``indicators.partitions``),
with a default partition for rows of periods never fully computed. The model is unchanged; the
primary key becomes (id, period_id), as PostgreSQL requires of a partitioned table. SQLite: nothing.

Not reversed: going back to 0005 leaves the partitioned table, which the code of 0005 reads and
writes through the parent as before.
"""

from django.db import migrations

TABLE = "indicators_indicatorvalue"


def partition(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("indicators", "IndicatorValue")
    meta = model._meta
    quote = schema_editor.quote_name

    def columns(fields) -> str:  # type: ignore[no-untyped-def]
        return ", ".join(quote(meta.get_field(name).column) for name in fields)

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_plain")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {TABLE}_plain INCLUDING DEFAULTS INCLUDING IDENTITY) PARTITION BY LIST (period_id)"
        )
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {TABLE}_plain")
        cursor.execute(f"DROP TABLE {TABLE}_plain")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), COALESCE((SELECT MAX(id) FROM {TABLE}), 0) + 1, false)"
        )
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, period_id)")
        for constraint in meta.constraints:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {quote(constraint.name)} UNIQUE ({columns(constraint.fields)})")
        for index in meta.indexes:
            cursor.execute(f"CREATE INDEX {quote(index.name)} ON {TABLE} ({columns(index.fields)})")


class Migration(migrations.Migration):
    dependencies = [("indicators", "0005_lean_values")]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]
