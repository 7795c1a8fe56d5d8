"""A keyed fingerprint of the import row that last wrote each household and person, so a re-import
skips the rows nothing has changed since (issue 22: re-import at >= 20,000 rows/s).

Triggers clear a record's fingerprint on every other write: forms, API, services, the admin,
``QuerySet.update``, ``bulk_update`` and raw SQL alike, so no write path can forget it. An UPDATE
that leaves ``import_digest`` as it was clears it; the import sets a new one with each write of its
own. On households an UPDATE that changes the member counts (the triggers of migration 0003, the
only writers of those columns) keeps it: the counts are not in the file. SQLite's trigger watches
the other columns by name (``HOUSEHOLD_COLUMNS``).

- PostgreSQL: a BEFORE UPDATE row trigger sets ``NEW.import_digest`` to NULL.
- SQLite: an AFTER UPDATE row trigger clears the column (SQLite cannot assign NEW). Adding a nullable
  column does not rebuild the tables, so the triggers of migration 0003 stay; a later migration that
  rebuilds ``Person`` or ``Household`` on SQLite must create these again, as for 0003's.
"""

from django.db import migrations, models

KEPT = "NEW.import_digest IS NOT DISTINCT FROM OLD.import_digest AND OLD.import_digest IS NOT NULL"
COUNTS_SAME = (
    "(NEW.labour_force_members, NEW.employed_labour_force_members)"
    " IS NOT DISTINCT FROM (OLD.labour_force_members, OLD.employed_labour_force_members)"
)

POSTGRESQL = [
    """
    CREATE FUNCTION households_import_digest_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.import_digest := NULL;
        RETURN NEW;
    END $$
    """,
    f"""
    CREATE TRIGGER person_import_digest_cleared BEFORE UPDATE ON households_person FOR EACH ROW
    WHEN ({KEPT}) EXECUTE FUNCTION households_import_digest_cleared()
    """,
    f"""
    CREATE TRIGGER household_import_digest_cleared BEFORE UPDATE ON households_household FOR EACH ROW
    WHEN ({KEPT} AND {COUNTS_SAME}) EXECUTE FUNCTION households_import_digest_cleared()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER person_import_digest_cleared ON households_person",
    "DROP TRIGGER household_import_digest_cleared ON households_household",
    "DROP FUNCTION households_import_digest_cleared()",
]

# SQLite: 0003's triggers set the member counts even when they stay the same, so the household
# trigger names the columns it watches instead: every column of this migration's households but the
# member counts and the fingerprint (a later column must be added here too, by a new migration).
HOUSEHOLD_COLUMNS = (
    "county_code", "township_code", "village_code", "code", "head_name", "head_id_hash", "head_id_encrypted",
    "village_id", "site_id", "origin_id", "relocation_year", "category", "status", "cancelled_on",
    "cancel_reason", "monitoring", "monitoring_assisted", "housing_hazard", "tap_water",
    "seasonal_water_shortage", "industry_project", "dividend", "safety_net_eligible", "safety_net", "helper",
    "contact", "phone_encrypted", "phone_masked", "updated_at",
)  # fmt: skip
SQLITE_KEPT = "NEW.import_digest IS OLD.import_digest AND OLD.import_digest IS NOT NULL"
SQLITE = [
    f"""
    CREATE TRIGGER person_import_digest_cleared AFTER UPDATE ON households_person
    WHEN {SQLITE_KEPT}
    BEGIN UPDATE households_person SET import_digest = NULL WHERE id = NEW.id; END
    """,  # noqa: S608 - built from this migration's constants
    f"""
    CREATE TRIGGER household_import_digest_cleared AFTER UPDATE OF {", ".join(HOUSEHOLD_COLUMNS)}
    ON households_household WHEN {SQLITE_KEPT}
    BEGIN UPDATE households_household SET import_digest = NULL WHERE id = NEW.id; END
    """,  # noqa: S608 - built from this migration's constants
]
SQLITE_REVERSE = [
    "DROP TRIGGER person_import_digest_cleared",
    "DROP TRIGGER household_import_digest_cleared",
]


# A column just added has no statistics, and adding it changes no row, so autovacuum would not
# analyse the tables: PostgreSQL then guessed that a chunk's 10,000 fingerprints match every person
# and scanned all 9.6 million (3 s a chunk at national scale) instead of using the index (20 ms).
ANALYZE = "ANALYZE households_person, households_household"


def install(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    statements = [*POSTGRESQL, ANALYZE] if schema_editor.connection.vendor == "postgresql" else SQLITE
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def uninstall(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    statements = POSTGRESQL_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_initial"),
        ("households", "0010_plain_code_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="household",
            name="import_digest",
            field=models.CharField(blank=True, editable=False, max_length=32, null=True),
        ),
        migrations.AddField(
            model_name="person",
            name="import_digest",
            field=models.CharField(blank=True, editable=False, max_length=32, null=True),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(fields=["import_digest"], name="household_import_digest"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["import_digest"], name="person_import_digest"),
        ),
        migrations.RunPython(install, uninstall),
    ]
