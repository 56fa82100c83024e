"""The invariant checker catches each kind of broken ledger.

Broken states are written with raw SQL, as a bug or a hand edit would. On PostgreSQL the
deferred balance triggers only fire at commit, which these tests never reach, and the
currency foreign key is bypassed with session_replication_role=replica. Each test runs
in a savepoint that it rolls back, so that the test case's own constraint check at
teardown never sees the broken state either.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from tests.wallet.factories import LedgerAccountFactory, UserFactory, consumer_accounts, fund, new_key
from tests.wallet.ledger_scenarios import consumer_history
from wallet.invariants import ledger_violations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def raw_journal() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wallet_journaltransaction (idempotency_key, payload_hash, kind, memo, causes, source_type,"
            " source_id, created_at) VALUES (%s, '', 'adjustment', '', '{}', '', '', CURRENT_TIMESTAMP)",
            [new_key("raw")],
        )
        return cursor.lastrowid if connection.vendor == "sqlite" else _last_journal_id(cursor)


def _last_journal_id(cursor) -> int:
    cursor.execute("SELECT max(id) FROM wallet_journaltransaction")
    return cursor.fetchone()[0]


def raw_entry(journal_id: int, account_id: int, amount: int, direction: str, currency: str = "NOK") -> None:
    sql(
        "INSERT INTO wallet_entry (transaction_id, account_id, currency, amount, direction, created_at)"
        " VALUES (%s, %s, %s, %s, %s, CURRENT_TIMESTAMP)",
        [journal_id, account_id, currency, amount, direction],
    )


def run_check() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("ledger_check", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_a_sound_ledger_passes():
    consumer_history(UserFactory())

    report, error = run_check()

    assert error is None
    assert "Ledger check passed." in report
    assert report.count("ok ") == 5


def test_an_unbalanced_transaction_fails_the_check_with_a_readable_report():
    account = LedgerAccountFactory(allows_negative=True)
    journal_id = raw_journal()
    raw_entry(journal_id, account.pk, 100, "credit")
    sql("UPDATE wallet_ledgeraccount SET balance = 100 WHERE id = %s", [account.pk])

    report, error = run_check()

    assert error is not None and error.returncode == 1
    assert "FAIL  every journal transaction balances per currency (1 problems)" in report
    assert f"journal transaction {journal_id}: credits minus debits in NOK is 100, not 0" in report
    assert "ok    cached balances equal the sum of entries" in report


def test_a_journal_transaction_without_entries_fails_the_check():
    journal_id = raw_journal()

    assert [str(v) for v in ledger_violations()] == [
        f"[unbalanced_transaction] journal transaction {journal_id}: has no entries"
    ]


def test_a_cached_balance_that_disagrees_with_the_entries_fails_the_check():
    account = LedgerAccountFactory()
    fund(account, 500)
    sql("UPDATE wallet_ledgeraccount SET balance = 499 WHERE id = %s", [account.pk])

    report, error = run_check()

    assert error is not None
    assert f"account {account.pk} (merchant_funding NOK): cached balance 499 but entries sum to 500" in report


def test_a_non_negative_account_whose_entries_go_below_zero_fails_the_check():
    user = UserFactory()
    _, available = consumer_accounts(user)
    outside = LedgerAccountFactory(allows_negative=True)
    journal_id = raw_journal()
    raw_entry(journal_id, available.pk, 300, "debit")
    raw_entry(journal_id, outside.pk, 300, "credit")

    checks = {v.check for v in ledger_violations()}

    assert "negative_balance" in checks
    report, _ = run_check()
    assert f"account {available.pk} (consumer_available NOK) may not go negative: entries sum to -300" in report


def test_holds_that_disagree_with_pending_debits_fail_the_check():
    account = LedgerAccountFactory()
    fund(account, 500)
    sql("UPDATE wallet_ledgeraccount SET pending_debits = 50 WHERE id = %s", [account.pk])

    (violation,) = ledger_violations()

    assert violation.check == "hold_mismatch"
    assert violation.detail == "pending debits 50 but pending holds reserve 0"


def test_an_entry_in_another_currency_than_its_account_fails_the_check():
    nok, sek = LedgerAccountFactory(currency="NOK", allows_negative=True), LedgerAccountFactory(currency="SEK")
    if connection.vendor == "postgresql":
        sql("SET LOCAL session_replication_role = replica")  # lets the composite foreign key be bypassed
    journal_id = raw_journal()
    raw_entry(journal_id, nok.pk, 100, "debit", currency="SEK")
    raw_entry(journal_id, sek.pk, 100, "credit", currency="SEK")
    sql("UPDATE wallet_ledgeraccount SET balance = -100 WHERE id = %s", [nok.pk])
    sql("UPDATE wallet_ledgeraccount SET balance = 100 WHERE id = %s", [sek.pk])
    if connection.vendor == "postgresql":
        sql("SET LOCAL session_replication_role = DEFAULT")

    checks = [v.check for v in ledger_violations()]

    assert checks == ["currency_mismatch"]
