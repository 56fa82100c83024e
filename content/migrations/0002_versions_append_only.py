"""Published versions are the history of what the public saw: on PostgreSQL UPDATE and DELETE of
their rows raise (the same guard as the staff audit log)."""

from django.db import migrations

TABLES = ["content_pageversion", "content_faqentryversion", "content_bannerversion"]

FUNCTION = """
CREATE FUNCTION content_version_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END
$$
"""


def _forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION content_version_refuse_change()",
            params=None,
        )


def _backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER {table}_append_only ON {table}", params=None)
    schema_editor.execute("DROP FUNCTION content_version_refuse_change()", params=None)


class Migration(migrations.Migration):
    dependencies = [("content", "0001_pages_faq_banners")]

    operations = [migrations.RunPython(_forward, _backward, elidable=False)]
