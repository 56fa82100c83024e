"""The ledger's rules that PostgreSQL enforces itself (SQLite relies on wallet.services).

- every journal transaction has entries and balances per currency, checked at commit
  by deferred constraint triggers;
- entries and journal transactions are append-only: UPDATE and DELETE raise;
- an entry's (and a hold's) currency is its account's, by composite foreign keys
  onto the unique (id, currency) of the account.

Amounts > 0 and the no-overdraft rule are CHECK constraints from 0001 on both databases.
TRUNCATE is not blocked (the test suite's flush uses it); production keeps it away from
the application's database role.
"""

from django.db import migrations

FORWARD_SQL = [
    """
    ALTER TABLE wallet_entry ADD CONSTRAINT wallet_entry_currency_is_accounts
        FOREIGN KEY (account_id, currency) REFERENCES wallet_ledgeraccount (id, currency)
    """,
    """
    ALTER TABLE wallet_hold ADD CONSTRAINT wallet_hold_currency_is_accounts
        FOREIGN KEY (account_id, currency) REFERENCES wallet_ledgeraccount (id, currency)
    """,
    """
    ALTER TABLE wallet_hold ADD CONSTRAINT wallet_hold_currency_is_counterpartys
        FOREIGN KEY (counterparty_id, currency) REFERENCES wallet_ledgeraccount (id, currency)
    """,
    """
    CREATE FUNCTION wallet_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused; post a correcting transaction instead',
            TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER wallet_entry_append_only BEFORE UPDATE OR DELETE ON wallet_entry
        FOR EACH ROW EXECUTE FUNCTION wallet_refuse_change()
    """,
    """
    CREATE TRIGGER wallet_journaltransaction_append_only BEFORE UPDATE OR DELETE ON wallet_journaltransaction
        FOR EACH ROW EXECUTE FUNCTION wallet_refuse_change()
    """,
    """
    CREATE FUNCTION wallet_check_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        off record;
    BEGIN
        SELECT e.currency, SUM(CASE WHEN e.direction = 'credit' THEN e.amount ELSE -e.amount END) AS net
            INTO off
            FROM wallet_entry e
            WHERE e.transaction_id = NEW.transaction_id
            GROUP BY e.currency
            HAVING SUM(CASE WHEN e.direction = 'credit' THEN e.amount ELSE -e.amount END) <> 0
            LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'journal transaction % does not balance in %: credits minus debits is %',
                NEW.transaction_id, off.currency, off.net USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER wallet_entry_balanced AFTER INSERT ON wallet_entry
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION wallet_check_journal_balanced()
    """,
    """
    CREATE FUNCTION wallet_check_journal_has_entries() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM wallet_entry WHERE transaction_id = NEW.id) THEN
            RAISE EXCEPTION 'journal transaction % has no entries', NEW.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER wallet_journaltransaction_has_entries AFTER INSERT ON wallet_journaltransaction
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION wallet_check_journal_has_entries()
    """,
]

BACKWARD_SQL = [
    "DROP TRIGGER wallet_journaltransaction_has_entries ON wallet_journaltransaction",
    "DROP FUNCTION wallet_check_journal_has_entries()",
    "DROP TRIGGER wallet_entry_balanced ON wallet_entry",
    "DROP FUNCTION wallet_check_journal_balanced()",
    "DROP TRIGGER wallet_journaltransaction_append_only ON wallet_journaltransaction",
    "DROP TRIGGER wallet_entry_append_only ON wallet_entry",
    "DROP FUNCTION wallet_refuse_change()",
    "ALTER TABLE wallet_hold DROP CONSTRAINT wallet_hold_currency_is_counterpartys",
    "ALTER TABLE wallet_hold DROP CONSTRAINT wallet_hold_currency_is_accounts",
    "ALTER TABLE wallet_entry DROP CONSTRAINT wallet_entry_currency_is_accounts",
]


def _run_on_postgresql(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]

    operations = [
        migrations.RunPython(_run_on_postgresql(FORWARD_SQL), _run_on_postgresql(BACKWARD_SQL)),
    ]
