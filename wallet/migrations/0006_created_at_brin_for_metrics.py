"""PostgreSQL only: BRIN indexes on the creation time of journal transactions and payout status
changes, for the metrics' counts of rows added since the previous scrape (wallet/metrics.py). Both
tables are append-only, so creation time follows the table's physical order and a BRIN index (one
summary per 128 pages, next to nothing on write) lets the count read only the newest pages. On
SQLite nothing is created (no metrics load there)."""

from django.db import migrations

INDEXES = {
    "wallet_journal_created_brin": "wallet_journaltransaction",
    "wallet_payout_change_created_brin": "wallet_payoutstatuschange",
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index, table in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} USING brin (created_at)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [("wallet", "0005_adjustments")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
