"""transactions_post_batch: many balanced transactions in one database transaction, all or nothing."""

import pytest
from django.db import transaction

from tests.wallet.factories import LedgerAccountFactory, fund, new_key, settlement_account
from wallet.errors import IdempotencyConflictError, InsufficientFundsError, UnknownAccountError
from wallet.models import Entry, JournalKind, JournalTransaction, LedgerAccount
from wallet.services import TransferRequest, transaction_post, transactions_post_batch, transfer

pytestmark = pytest.mark.django_db


def request(debit, credit, amount, *, key=None, memo=""):
    return TransferRequest(
        idempotency_key=key or new_key("batch"),
        kind=JournalKind.ADJUSTMENT,
        entries=transfer(debit=debit, credit=credit, amount=amount),
        memo=memo,
    )


def state(*accounts: LedgerAccount) -> tuple:
    """Row counts and the accounts' balances: what a refused batch must leave as it found it."""
    return (
        JournalTransaction.objects.count(),
        Entry.objects.count(),
        LedgerAccount.objects.count(),
        [
            tuple(LedgerAccount.objects.filter(pk=a.pk).values_list("balance", "pending_debits", "version")[0])
            for a in accounts
        ],
    )


@pytest.fixture
def accounts():
    outside = settlement_account()
    a, b, c = LedgerAccountFactory(), LedgerAccountFactory(), LedgerAccountFactory()
    fund(a, 1_000, source=outside)
    return outside, a, b, c


def test_a_batch_posts_every_request_in_order_and_returns_their_journals(accounts):
    outside, a, b, c = accounts
    requests = [
        request(a, b, 600, memo="first"),
        request(b, c, 500, memo="spends what the first credited"),
        request(outside, a, 50),
    ]

    journals = transactions_post_batch(requests=requests)

    assert [j.idempotency_key for j in journals] == [r.idempotency_key for r in requests]
    assert [j.memo for j in journals[:2]] == ["first", "spends what the first credited"]
    for account in (a, b, c):
        account.refresh_from_db()
    assert (a.balance, b.balance, c.balance) == (450, 100, 500)
    assert (a.version, b.version, c.version) == (3, 2, 1)  # once per transaction that touched it
    for journal, req in zip(journals, requests, strict=True):
        stored = JournalTransaction.objects.get(pk=journal.pk)
        assert stored.payload_hash == journal.payload_hash
        assert sorted((e.account_id, e.direction, e.amount) for e in stored.entries.all()) == sorted(
            (s.account.pk, s.direction, s.amount) for s in req.entries
        )


def test_replaying_a_batch_returns_the_first_results_and_changes_nothing(accounts):
    _, a, b, c = accounts
    earlier = transaction_post(
        idempotency_key=new_key(), kind=JournalKind.ADJUSTMENT, entries=transfer(debit=a, credit=c, amount=5)
    )
    requests = [
        request(a, b, 100),
        TransferRequest(
            idempotency_key=earlier.idempotency_key,
            kind=JournalKind.ADJUSTMENT,
            entries=transfer(debit=a, credit=c, amount=5),
        ),
    ]
    first = transactions_post_batch(requests=requests)
    before = state(a, b, c)

    again = transactions_post_batch(requests=requests)

    assert first[1].pk == earlier.pk
    assert [j.pk for j in again] == [j.pk for j in first]
    assert state(a, b, c) == before


def test_a_key_used_before_for_a_different_transaction_fails_the_whole_batch(accounts):
    _, a, b, c = accounts
    used = transaction_post(
        idempotency_key=new_key(), kind=JournalKind.ADJUSTMENT, entries=transfer(debit=a, credit=b, amount=7)
    )
    before = state(a, b, c)

    with pytest.raises(IdempotencyConflictError, match="Request 1"):
        transactions_post_batch(requests=[request(a, c, 100), request(a, b, 8, key=used.idempotency_key)])

    assert state(a, b, c) == before


def test_a_key_given_twice_in_a_batch_is_one_transaction_or_a_conflict(accounts):
    _, a, b, c = accounts
    key = new_key()

    same = transactions_post_batch(requests=[request(a, b, 10, key=key), request(a, b, 10, key=key)])

    assert same[0].pk == same[1].pk
    assert JournalTransaction.objects.filter(idempotency_key=key).count() == 1
    before = state(a, b, c)
    other = new_key()
    with pytest.raises(IdempotencyConflictError, match="Request 1"):
        transactions_post_batch(requests=[request(a, b, 10, key=other), request(a, c, 10, key=other)])
    assert state(a, b, c) == before


def test_a_request_that_would_overdraw_in_the_middle_fails_the_batch_and_writes_nothing(accounts):
    _, a, b, c = accounts
    before = state(a, b, c)
    overdrawing = request(a, c, 401)

    with pytest.raises(InsufficientFundsError, match=r"Request 1 .* has 400 NOK minor units available; this needs 401"):
        transactions_post_batch(requests=[request(a, b, 600), overdrawing, request(b, c, 1)])

    assert state(a, b, c) == before
    assert not JournalTransaction.objects.filter(idempotency_key=overdrawing.idempotency_key).exists()


def test_an_unknown_account_fails_the_batch_and_writes_nothing(accounts):
    _, a, b, c = accounts
    ghost = LedgerAccount(
        pk=LedgerAccount.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1_000, currency="NOK"
    )
    before = state(a, b, c)

    with pytest.raises(UnknownAccountError, match="Request 1") as raised:
        transactions_post_batch(requests=[request(a, b, 1), request(ghost, c, 1)])

    assert raised.value.code == "unknown_account"
    assert state(a, b, c) == before


def test_a_batch_inside_a_callers_transaction_and_an_empty_batch(accounts):
    _, a, b, _ = accounts

    with transaction.atomic():
        journals = transactions_post_batch(requests=[request(a, b, 1), request(a, b, 2)])

    assert len(journals) == 2
    assert transactions_post_batch(requests=[]) == []
    b.refresh_from_db()
    assert b.balance == 3
