"""PostgreSQL itself refuses what would break the ledger, whatever code sends the SQL."""

import pytest
from django.db import IntegrityError, connection, transaction

from tests.wallet.factories import LedgerAccountFactory, fund, new_key
from wallet.models import Entry, JournalTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def sql(statement: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone() if cursor.description else None


def insert_journal() -> int:
    (journal_id,) = sql(
        "INSERT INTO wallet_journaltransaction (idempotency_key, payload_hash, kind, memo, causes, source_type,"
        " source_id, created_at) VALUES (%s, '', 'adjustment', '', '{}', '', '', now()) RETURNING id",
        [new_key("raw")],
    )
    return journal_id


def insert_entry(journal_id: int, account_id: int, amount: int, direction: str, currency: str = "NOK") -> None:
    sql(
        "INSERT INTO wallet_entry (transaction_id, account_id, currency, amount, direction, created_at)"
        " VALUES (%s, %s, %s, %s, %s, now())",
        [journal_id, account_id, currency, amount, direction],
    )


@pytest.fixture
def accounts():
    return LedgerAccountFactory(allows_negative=True), LedgerAccountFactory(allows_negative=True)


def test_an_unbalanced_transaction_is_refused_when_its_constraints_are_checked(accounts):
    debit, credit = accounts

    with (
        pytest.raises(IntegrityError, match="does not balance in NOK: credits minus debits is -1"),
        transaction.atomic(),
    ):
        journal_id = insert_journal()
        insert_entry(journal_id, debit.pk, 100, "debit")
        insert_entry(journal_id, credit.pk, 99, "credit")
        sql("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT does with the deferred triggers


def test_a_balanced_raw_insert_passes_the_same_check(accounts):
    debit, credit = accounts

    with transaction.atomic():
        journal_id = insert_journal()
        insert_entry(journal_id, debit.pk, 100, "debit")
        insert_entry(journal_id, credit.pk, 100, "credit")
        sql("SET CONSTRAINTS ALL IMMEDIATE")

    assert Entry.objects.filter(transaction_id=journal_id).count() == 2


def test_a_journal_transaction_without_entries_is_refused(accounts):
    with pytest.raises(IntegrityError, match="has no entries"), transaction.atomic():
        insert_journal()
        sql("SET CONSTRAINTS ALL IMMEDIATE")


def test_balance_per_currency_is_checked_not_the_sum_over_currencies():
    nok = LedgerAccountFactory(currency="NOK", allows_negative=True)
    eur = LedgerAccountFactory(currency="EUR", allows_negative=True)

    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        journal_id = insert_journal()
        insert_entry(journal_id, nok.pk, 100, "debit", "NOK")
        insert_entry(journal_id, eur.pk, 100, "credit", "EUR")
        sql("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE wallet_entry SET amount = amount + 1 WHERE transaction_id = %s",
        "DELETE FROM wallet_entry WHERE transaction_id = %s",
        "UPDATE wallet_journaltransaction SET memo = 'edited' WHERE id = %s",
        "DELETE FROM wallet_journaltransaction WHERE id = %s",
    ],
)
def test_entries_and_journal_rows_cannot_be_updated_or_deleted(accounts, statement):
    journal = fund(accounts[0], 100, source=accounts[1])

    with pytest.raises(IntegrityError, match="is append-only"), transaction.atomic():
        sql(statement, [journal.pk])

    assert JournalTransaction.objects.get(pk=journal.pk).entries.count() == 2


@pytest.mark.parametrize("amount", [0, -100])
def test_an_amount_that_is_not_positive_is_refused(accounts, amount):
    with pytest.raises(IntegrityError, match="wallet_entry_amount_positive"), transaction.atomic():
        journal_id = insert_journal()
        insert_entry(journal_id, accounts[0].pk, amount, "debit")


def test_an_entry_in_another_currency_than_its_account_is_refused(accounts):
    with pytest.raises(IntegrityError, match="wallet_entry_currency_is_accounts"), transaction.atomic():
        journal_id = insert_journal()
        insert_entry(journal_id, accounts[0].pk, 100, "debit", currency="SEK")


def test_an_account_that_may_not_go_negative_cannot_be_overdrawn_by_a_raw_update():
    account = LedgerAccountFactory(allows_negative=False)
    fund(account, 100)

    with pytest.raises(IntegrityError, match="wallet_account_not_overdrawn"), transaction.atomic():
        sql("UPDATE wallet_ledgeraccount SET pending_debits = 101 WHERE id = %s", [account.pk])


@pytest.mark.django_db(transaction=True)
def test_the_balance_check_runs_at_commit(accounts):
    debit, _ = accounts

    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        journal_id = insert_journal()
        insert_entry(journal_id, debit.pk, 100, "debit")

    assert not JournalTransaction.objects.filter(pk=journal_id).exists()
