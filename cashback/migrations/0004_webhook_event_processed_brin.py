"""PostgreSQL only: a BRIN index on webhook events' processed_at, for the metrics' count of events
settled since the previous scrape (cashback/metrics_scrape.py). A BRIN index keeps one summary per
128 pages, so it costs next to nothing on write and lets the count read only the newest pages (rows
are processed in about the order they arrive). On SQLite nothing is created (no metrics load there)."""

from django.db import migrations

INDEX = "webhook_event_processed_brin"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON cashback_webhookevent USING brin (processed_at)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("cashback", "0003_webhookevent_payload_reduced_at")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
