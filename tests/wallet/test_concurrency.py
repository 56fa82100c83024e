"""Many threads, each with its own PostgreSQL connection, against the same accounts."""

import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from tests.concurrency import run_together
from tests.wallet.factories import LedgerAccountFactory, UserFactory, consumer_accounts, fund, new_key
from wallet.errors import HoldNotPendingError, InsufficientFundsError
from wallet.invariants import ledger_violations
from wallet.models import Hold, JournalKind, JournalTransaction, LedgerAccount
from wallet.services import (
    TransferRequest,
    hold_place,
    hold_post,
    hold_void,
    transaction_post,
    transactions_post_batch,
    transfer,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 16


def kinds_of(results: list[Any]) -> Counter:
    return Counter(type(result).__name__ for result in results)


def test_threads_spending_more_than_the_balance_succeed_exactly_as_often_as_affordable():
    _, available = consumer_accounts(UserFactory())
    fund(available, 1_000)
    shop = LedgerAccountFactory(allows_negative=True)

    results = run_together(
        lambda i: transaction_post(
            idempotency_key=new_key(f"spend-{i}"),
            kind=JournalKind.SPEND,
            entries=transfer(debit=available, credit=shop, amount=150),
        )
    )

    assert kinds_of(results) == {"JournalTransaction": 6, "InsufficientFundsError": THREADS - 6}
    available.refresh_from_db()
    assert available.balance == 100
    assert not ledger_violations()


def test_concurrent_posts_of_one_idempotency_key_make_one_transaction():
    source, target = LedgerAccountFactory(allows_negative=True), LedgerAccountFactory()
    key = new_key("same")

    results = run_together(
        lambda i: transaction_post(
            idempotency_key=key, kind=JournalKind.ADJUSTMENT, entries=transfer(debit=source, credit=target, amount=42)
        )
    )

    assert kinds_of(results) == {"JournalTransaction": THREADS}
    assert len({journal.pk for journal in results}) == 1
    assert JournalTransaction.objects.filter(idempotency_key=key).count() == 1
    target.refresh_from_db()
    assert target.balance == 42


def test_random_transfers_among_hot_accounts_finish_without_deadlocks_surfacing():
    hot = [LedgerAccountFactory() for _ in range(4)]
    for account in hot:
        fund(account, 10_000)
    ids = [account.pk for account in hot]

    def work(index: int) -> int:
        rng = random.Random(index)
        done = 0
        for step in range(20):
            debit, credit = rng.sample(hot, 2)
            entries = transfer(debit=debit, credit=credit, amount=rng.randint(1, 300))
            if rng.random() < 0.3:  # some transactions touch three accounts, in a random order
                third = next(a for a in hot if a not in (debit, credit))
                entries = [*entries[:1], *transfer(debit=third, credit=credit, amount=1), *entries[1:]]
                rng.shuffle(entries)
            try:
                transaction_post(
                    idempotency_key=f"hot-{index}-{step}-{new_key()}", kind=JournalKind.ADJUSTMENT, entries=entries
                )
                done += 1
            except InsufficientFundsError:
                pass
        return done

    results = run_together(work)

    assert all(isinstance(result, int) for result in results), results
    assert sum(results) > 0
    assert LedgerAccount.objects.filter(pk__in=ids).aggregate(total=Sum("balance"))["total"] == 40_000
    assert not ledger_violations()


def test_a_hold_raced_by_posts_and_voids_resolves_exactly_once():
    _, available = consumer_accounts(UserFactory())
    fund(available, 1_000)
    shop = LedgerAccountFactory(allows_negative=True)
    hold = hold_place(
        idempotency_key=new_key("hold"),
        account=available,
        counterparty=shop,
        amount=400,
        expires_at=timezone.now() + timedelta(minutes=5),
    )

    def work(index: int) -> Any:
        if index % 2:
            return hold_void(hold=hold)
        return hold_post(hold=hold, idempotency_key=new_key(f"capture-{index}"), amount=300)

    results = run_together(work)

    hold.refresh_from_db()
    available.refresh_from_db()
    successes = [r for r in results if not isinstance(r, Exception)]
    assert all(isinstance(r, HoldNotPendingError) for r in results if isinstance(r, Exception)), results
    if hold.status == Hold.Status.POSTED:
        assert sum(isinstance(r, JournalTransaction) for r in successes) == 1
        assert (available.balance, available.pending_debits) == (700, 0)
    else:
        assert hold.status == Hold.Status.VOIDED
        assert not any(isinstance(r, JournalTransaction) for r in successes)
        assert (available.balance, available.pending_debits) == (1_000, 0)
    assert not ledger_violations()


def test_concurrent_batches_and_single_posts_among_hot_accounts_finish_without_deadlocks_surfacing():
    hot = [LedgerAccountFactory() for _ in range(4)]
    for account in hot:
        fund(account, 10_000)
    ids = [account.pk for account in hot]

    def work(index: int) -> int:
        rng = random.Random(index)
        done = 0
        for step in range(6):
            requests = []
            for item in range(rng.randint(1, 8)):  # transfers in random account order
                debit, credit = rng.sample(hot, 2)
                requests.append(
                    TransferRequest(
                        idempotency_key=f"batch-{index}-{step}-{item}-{new_key()}",
                        kind=JournalKind.ADJUSTMENT,
                        entries=transfer(debit=debit, credit=credit, amount=rng.randint(1, 300)),
                    )
                )
            try:
                if index % 4 == 0:  # a quarter of the threads post the same transfers one by one
                    for req in requests:
                        transaction_post(idempotency_key=req.idempotency_key, kind=req.kind, entries=req.entries)
                else:
                    transactions_post_batch(requests=requests)
                done += len(requests)
            except InsufficientFundsError:
                pass
        return done

    results = run_together(work)

    assert all(isinstance(result, int) for result in results), results
    assert sum(results) > 0
    assert LedgerAccount.objects.filter(pk__in=ids).aggregate(total=Sum("balance"))["total"] == 40_000
    assert not ledger_violations()


def test_concurrent_batches_sharing_keys_post_each_key_once():
    source, target = LedgerAccountFactory(allows_negative=True), LedgerAccountFactory()
    keys = [new_key(f"shared-{i}") for i in range(10)]

    def work(index: int) -> list[int]:
        order = random.Random(index).sample(keys, len(keys))  # same keys, different orders
        requests = [
            TransferRequest(
                idempotency_key=key,
                kind=JournalKind.ADJUSTMENT,
                entries=transfer(debit=source, credit=target, amount=3),
            )
            for key in order
        ]
        return sorted(journal.pk for journal in transactions_post_batch(requests=requests))

    results = run_together(work, threads=8)

    assert all(result == results[0] for result in results), results
    target.refresh_from_db()
    assert target.balance == 30
    assert JournalTransaction.objects.filter(idempotency_key__in=keys).count() == 10
    assert not ledger_violations()
