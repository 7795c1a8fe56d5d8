"""Each household's count of active labour-force members, and of employed ones, kept by triggers on
persons (``Household.labour_force_members``): M3-3 then counts households by two columns of the
households query instead of searching every household's members at each recompute (national scale:
two semi-joins of 1.7 s each).

Triggers, not code in the services: every write of a person counts — forms, API, imports (batched
upserts), ``seed_demo``'s COPY, the admin, ``QuerySet.update`` — and none can forget it.

- PostgreSQL: one trigger per statement with its transition tables, so a batch of 500 imported
  persons recounts its households in one UPDATE. The households are locked (in id order) before
  they are recounted, and the count is a statement of its own: under READ COMMITTED it then sees a
  concurrent transaction's committed members, and two writers of one household cannot both count
  without the other's member.
- SQLite: one trigger per row (SQLite has no others; it has one writer at a time).

The conditions are ``households.models.LABOUR_FORCE_MEMBER`` and ``EMPLOYED`` as of this migration
(frozen here like the partial indexes of 0002); a test compares the counts with those conditions for
every labour, status and employment. SQLite drops a table's triggers when a migration rebuilds it:
a later migration that alters ``Person`` on SQLite must create them again (the same test fails if not).
"""

from django.db import migrations, models

STATUS_ACTIVE = "正常"
LABOUR_FORCE = ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力")
UNEMPLOYED = "未就业"

LABOUR_FORCE_SQL = ", ".join(f"'{value}'" for value in LABOUR_FORCE)
MEMBER = f"p.status = '{STATUS_ACTIVE}' AND p.labour IN ({LABOUR_FORCE_SQL})"
EMPLOYED = f"{MEMBER} AND NOT (p.employment = '{UNEMPLOYED}')"


def _counts(household: str) -> tuple[str, str]:
    """The two counts of the household whose id is the SQL expression ``household``."""
    return (
        f"(SELECT COUNT(*) FROM households_person p WHERE p.household_id = {household} AND {MEMBER})",
        f"(SELECT COUNT(*) FROM households_person p WHERE p.household_id = {household} AND {EMPLOYED})",
    )


LABOUR_FORCE_COUNT, EMPLOYED_COUNT = _counts("x.id")
SELF_COUNTS = ", ".join(_counts("households_household.id"))

POSTGRESQL = [
    f"""
    CREATE FUNCTION households_member_counts_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM households_household WHERE id = ANY(ids) ORDER BY id FOR UPDATE;
        UPDATE households_household h
        SET labour_force_members = c.labour_force, employed_labour_force_members = c.employed
        FROM (SELECT x.id, {LABOUR_FORCE_COUNT} AS labour_force, {EMPLOYED_COUNT} AS employed
              FROM unnest(ids) AS x(id)) c
        WHERE h.id = c.id
          AND (h.labour_force_members, h.employed_labour_force_members) IS DISTINCT FROM (c.labour_force, c.employed);
    END $$
    """,
    """
    CREATE FUNCTION households_member_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM households_member_counts_refresh(ARRAY(SELECT DISTINCT household_id FROM new_members));
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM households_member_counts_refresh(ARRAY(SELECT DISTINCT household_id FROM old_members));
        ELSE
            PERFORM households_member_counts_refresh(ARRAY(
                SELECT unnest(ARRAY[o.household_id, n.household_id])
                FROM old_members o JOIN new_members n ON n.id = o.id
                WHERE (o.household_id, o.status, o.labour, o.employment)
                      IS DISTINCT FROM (n.household_id, n.status, n.labour, n.employment)
            ));
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER person_member_counts_insert AFTER INSERT ON households_person
    REFERENCING NEW TABLE AS new_members FOR EACH STATEMENT EXECUTE FUNCTION households_member_counts()
    """,
    """
    CREATE TRIGGER person_member_counts_update AFTER UPDATE ON households_person
    REFERENCING OLD TABLE AS old_members NEW TABLE AS new_members
    FOR EACH STATEMENT EXECUTE FUNCTION households_member_counts()
    """,
    """
    CREATE TRIGGER person_member_counts_delete AFTER DELETE ON households_person
    REFERENCING OLD TABLE AS old_members FOR EACH STATEMENT EXECUTE FUNCTION households_member_counts()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER person_member_counts_insert ON households_person",
    "DROP TRIGGER person_member_counts_update ON households_person",
    "DROP TRIGGER person_member_counts_delete ON households_person",
    "DROP FUNCTION households_member_counts()",
    "DROP FUNCTION households_member_counts_refresh(bigint[])",
]


def _sqlite_update(households: str) -> str:
    return (
        "UPDATE households_household SET (labour_force_members, employed_labour_force_members) = "
        f"({SELF_COUNTS}) WHERE id IN ({households});"
    )


SQLITE = [
    f"""
    CREATE TRIGGER person_member_counts_insert AFTER INSERT ON households_person
    BEGIN {_sqlite_update("NEW.household_id")} END
    """,
    f"""
    CREATE TRIGGER person_member_counts_update AFTER UPDATE OF household_id, status, labour, employment
    ON households_person BEGIN {_sqlite_update("OLD.household_id, NEW.household_id")} END
    """,
    f"""
    CREATE TRIGGER person_member_counts_delete AFTER DELETE ON households_person
    BEGIN {_sqlite_update("OLD.household_id")} END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER person_member_counts_insert",
    "DROP TRIGGER person_member_counts_update",
    "DROP TRIGGER person_member_counts_delete",
]

BACKFILL = f"UPDATE households_household SET (labour_force_members, employed_labour_force_members) = ({SELF_COUNTS})"


def install(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(BACKFILL)
        for statement in statements:
            cursor.execute(statement)


def uninstall(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    statements = POSTGRESQL_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("households", "0002_person_labour_force_indexes")]

    operations = [
        migrations.AddField(
            model_name="household",
            name="labour_force_members",
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="household",
            name="employed_labour_force_members",
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(install, uninstall),
    ]
