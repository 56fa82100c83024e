"""PostgreSQL only: a contract's history (programmes_contractevent) is append-only in the database too.

UPDATE and DELETE raise, except the one change erasing a user needs: ``actor`` set to NULL (the foreign
key's ON DELETE SET NULL, done by Django), nothing else.
"""

from django.db import migrations

FORWARD_SQL = [
    """
    CREATE FUNCTION programmes_contractevent_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE'
           AND NEW.actor_id IS NULL
           AND NEW.contract_id = OLD.contract_id
           AND NEW.action = OLD.action
           AND NEW.details = OLD.details
           AND NEW.created_at = OLD.created_at THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'programmes_contractevent is append-only: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER programmes_contractevent_append_only BEFORE UPDATE OR DELETE ON programmes_contractevent
        FOR EACH ROW EXECUTE FUNCTION programmes_contractevent_refuse_change()
    """,
]

BACKWARD_SQL = [
    "DROP TRIGGER programmes_contractevent_append_only ON programmes_contractevent",
    "DROP FUNCTION programmes_contractevent_refuse_change()",
]


def _run_on_postgresql(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("programmes", "0001_initial")]

    operations = [migrations.RunPython(_run_on_postgresql(FORWARD_SQL), _run_on_postgresql(BACKWARD_SQL))]
