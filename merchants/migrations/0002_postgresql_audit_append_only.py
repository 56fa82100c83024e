"""PostgreSQL only: merchants_auditevent is append-only in the database too.

UPDATE and DELETE raise, except the one change erasing a user needs: ``actor`` set to NULL (the
foreign key's ON DELETE SET NULL, done by Django) and ``actor_label`` blanked, nothing else.
"""

from django.db import migrations

FORWARD_SQL = [
    """
    CREATE FUNCTION merchants_auditevent_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE'
           AND NEW.actor_id IS NULL
           AND (NEW.actor_label = OLD.actor_label OR NEW.actor_label = '')
           AND NEW.action = OLD.action
           AND NEW.merchant_id = OLD.merchant_id
           AND NEW.details = OLD.details
           AND NEW.created_at = OLD.created_at THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'merchants_auditevent is append-only: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER merchants_auditevent_append_only BEFORE UPDATE OR DELETE ON merchants_auditevent
        FOR EACH ROW EXECUTE FUNCTION merchants_auditevent_refuse_change()
    """,
]

BACKWARD_SQL = [
    "DROP TRIGGER merchants_auditevent_append_only ON merchants_auditevent",
    "DROP FUNCTION merchants_auditevent_refuse_change()",
]


def _run_on_postgresql(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("merchants", "0001_initial")]

    operations = [migrations.RunPython(_run_on_postgresql(FORWARD_SQL), _run_on_postgresql(BACKWARD_SQL))]
