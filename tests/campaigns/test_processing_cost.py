"""What one card clearing costs the worker: SQL statements from the stored event to the posted reward."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import merchant_cache
from campaigns.models import Reward
from cashback import inbox
from tests.accounts.factories import CardFactory
from tests.campaigns.factories import LocationFactory, OfferFactory
from tests.webhooks import visa_event
from wallet.models import AccountKind, JournalKind
from wallet.services import account_get_or_create, accounts_forget, platform_account, transaction_post, transfer

pytestmark = pytest.mark.django_db


def _clearing(n, card, location):
    data = {
        "id": f"txn_cost_{n}",
        "amount": f"{100 + n}.00",
        "datetime": (timezone.now() - timedelta(minutes=3)).isoformat(),
        "card": {"token": card.network_token, "firstNumbers": "424242", "lastNumbers": "4242"},
        "merchant": {"id": location.network_merchant_id, "name": "Shop"},
        "location": {"id": location.network_store_id, "postcode": "0150", "countryCode": "NOR"},
    }
    payload = visa_event("transaction.clearing", id=f"evt_cost_{n}", data=data)
    return inbox.event_receive(
        source="visa", event_id=f"evt_cost_{n}", event_type="transaction.clearing", payload=json.dumps(payload)
    ).pk


def _world():
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    cards = [CardFactory() for _ in range(3)]
    funding = account_get_or_create(
        kind=AccountKind.MERCHANT_FUNDING, currency="NOK", owner_key=offer.merchant.ledger_owner_key
    )
    transaction_post(
        idempotency_key=f"cost:funding:{offer.merchant_id}",
        kind=JournalKind.MERCHANT_FUNDING,
        entries=transfer(
            debit=platform_account(kind=AccountKind.SETTLEMENT, currency="NOK"), credit=funding, amount=10**9
        ),
    )
    return location, cards


def _worker_statements(queries) -> list[str]:
    """The statements of the event's own transaction (eager follow-up tasks run after its COMMIT)."""
    statements = [query["sql"] for query in queries.captured_queries]
    return statements[: statements.index("COMMIT") + 1] if "COMMIT" in statements else statements


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_clearing_processed_alone_costs_the_worker_at_most_24_statements(settings):
    """Issue 19: 50 statements per clearing before (34 queries and 8 savepoints), 28 after the per-event
    cuts, 24 on 7 December 2026 (the purchase with its first event in one INSERT among them), plus the
    ledger's two, which Django's query log does not see. Committed for real, so that the worker's
    per-merchant and account caches fill as they do in production; events stored, not dispatched."""
    settings.INBOX_ENQUEUE_ON_RECEIPT = False
    location, cards = _world()
    pks = [_clearing(n, cards[n % 3], location) for n in range(6)]
    for pk in pks[:3]:  # the caches fill
        inbox.event_process(event_id=pk)

    counts = []
    for pk in pks[3:]:
        with CaptureQueriesContext(connection) as queries:
            assert inbox.event_process(event_id=pk) == "processed"
        counts.append(len(_worker_statements(queries)))

    assert max(counts) <= 24, counts
    assert Reward.objects.filter(amount_minor__gt=0).count() == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_of_clearings_costs_the_worker_at_most_5_statements_each(settings):
    """Issue 19, the batch step and the set-based batch: a batch of 20 clearings in one transaction —
    one BEGIN and COMMIT, one locking read of the inbox rows, one look-up each of the batch's cards,
    shops, stored purchase events, tiers and funding balances, one status UPDATE, the facts, their
    deliveries and the changed days inserted once; per clearing a savepoint (kept: the commit
    releases it), the purchase with its event in one INSERT, its state UPDATE and the reward INSERT
    (4); the ledger batch's statements (Django's log does not see them) and the offer's count once
    per batch.
    (16 per clearing before the set-based batch, 7 December 2026.)"""
    settings.INBOX_ENQUEUE_ON_RECEIPT = False
    location, cards = _world()
    pks = [_clearing(n, cards[n % 3], location) for n in range(25)]
    inbox.events_process(event_ids=pks[:5])  # the caches fill

    with CaptureQueriesContext(connection) as queries:
        assert set(inbox.events_process(event_ids=pks[5:])) == {"processed"}
    statements = _worker_statements(queries)

    assert len(statements) / 20 <= 5, len(statements)
    assert Reward.objects.filter(amount_minor__gt=0).count() == 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cold_worker_looks_up_a_batch_spread_over_many_merchants_once(settings):
    """Issue 19: a worker process's first batch over ten merchants it has never seen (their ledger
    accounts exist, the process knows none of them) reads every merchant's offers, challenges and
    watchers and every account the rewards post to in a fixed number of statements for the batch
    (``merchant_cache.merchant_inputs_check``, ``accounts_for_posting_find``) — not seven per merchant
    and one per consumer, 8.75 per clearing in bench/worker_cpu.py's cold ``spread`` before."""
    settings.INBOX_ENQUEUE_ON_RECEIPT = False
    cards = [CardFactory() for _ in range(5)]
    locations = []
    for index in range(10):
        offer = OfferFactory(percent=Decimal("10"))
        locations.append(LocationFactory(merchant=offer.merchant))
        owner_key = offer.merchant.ledger_owner_key
        funding = account_get_or_create(kind=AccountKind.MERCHANT_FUNDING, currency="NOK", owner_key=owner_key)
        account_get_or_create(kind=AccountKind.MERCHANT_RECEIVABLE, currency="NOK", owner_key=owner_key)
        transaction_post(
            idempotency_key=f"cost:spread-funding:{index}",
            kind=JournalKind.MERCHANT_FUNDING,
            entries=transfer(
                debit=platform_account(kind=AccountKind.SETTLEMENT, currency="NOK"), credit=funding, amount=10**9
            ),
        )
    for card in cards:
        account_get_or_create(kind=AccountKind.CONSUMER_PENDING, currency="NOK", user=card.user)
    pks = [_clearing(n, cards[n % 5], locations[n % 10]) for n in range(20)]
    merchant_cache.invalidate(None)  # a new worker process: nothing cached
    accounts_forget()

    with CaptureQueriesContext(connection) as queries:
        assert set(inbox.events_process(event_ids=pks)) == {"processed"}
    statements = _worker_statements(queries)

    assert len(statements) / 20 <= 5.5, len(statements)
    assert Reward.objects.filter(amount_minor__gt=0).count() == 20
