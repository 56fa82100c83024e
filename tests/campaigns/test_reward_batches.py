"""A batch of inbox events in one transaction (issue 19): a failing event rolls back only itself, a
batch that fails as a whole is processed event by event, concurrent batches of one merchant never
deadlock or credit twice, and a batch books exactly what processing its events one by one books."""

import json
import logging
import os
import sys
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.db import OperationalError
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Card
from campaigns.models import MerchantDayChange, Offer, Purchase, Reward
from campaigns.services import purchase_rewards, reward_batch, tiers
from campaigns.services import rewards as reward_services
from cashback import inbox
from cashback.models import Fact, WebhookEvent
from tests.accounts.factories import CardFactory
from tests.campaigns import test_lifecycle_concurrency as lifecycle
from tests.campaigns.factories import LocationFactory, OfferFactory
from tests.campaigns.lifecycle_helpers import assert_ledger_sound, consumer_balances, fund_merchant, merchant_balance
from tests.campaigns.test_lifecycle_concurrency import _events, _world, event_specs
from tests.concurrency import run_together
from tests.webhooks import visa_event
from wallet.models import AccountKind, JournalTransaction

T0 = None  # set when each test starts (never at import): see _an_hour_ago


@pytest.fixture(autouse=True)
def _stored_not_processed(settings):
    settings.INBOX_ENQUEUE_ON_RECEIPT = False  # the tests process the stored events themselves


@pytest.fixture(autouse=True)
def _an_hour_ago(monkeypatch):
    t0 = timezone.now() - timedelta(hours=1)
    monkeypatch.setattr(sys.modules[__name__], "T0", t0)
    monkeypatch.setattr(lifecycle, "T0", t0)  # its _events() are reused below


def _store(kind, *, card_token, location, event_id, txn, amount_minor, at=None, original=""):
    """A Visa event stored in the inbox (not processed); its primary key."""
    data = {
        "id": txn,
        "amount": f"{amount_minor // 100}.{amount_minor % 100:02d}",
        "datetime": (at or T0).isoformat(),
        "card": {"token": card_token, "firstNumbers": "424242", "lastNumbers": "4242"},
        "merchant": {"id": location.network_merchant_id, "name": "Shop"},
        "location": {"id": location.network_store_id, "postcode": "0150", "countryCode": "NOR"},
    }
    if original:
        data["originalTransactionId"] = original
    payload = visa_event(f"transaction.{kind}", id=event_id, data=data)
    stored = inbox.event_receive(
        source="visa", event_id=event_id, event_type=payload["type"], payload=json.dumps(payload)
    )
    return stored.pk


def _clearings(location, cards, count, prefix):
    return [
        _store(
            "clearing",
            card_token=cards[n % len(cards)].network_token,
            location=location,
            event_id=f"{prefix}_{n}",
            txn=f"txn_{prefix}_{n}",
            amount_minor=10_000 + n,
        )
        for n in range(count)
    ]


def _earnings_and_rewards():
    """The (purchase, offer) of every reward_earn journal, and of every reward that earned: equal
    when each reward was credited exactly once."""
    journals = sorted(
        JournalTransaction.objects.filter(kind="reward_earn").values_list("causes__purchase", "causes__offer")
    )
    rewards = sorted(Reward.objects.filter(amount_minor__gt=0).values_list("purchase_id", "offer_id"))
    return journals, rewards


# --- One event fails: only it rolls back ----------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_with_one_bad_event_commits_the_others_and_the_bad_one_is_retried_later(settings):
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    card = CardFactory()
    good = _clearings(location, [card], 2, "ok")
    # No time with a time zone: the handler raises ValueError, the event fails.
    bad_payload = visa_event(
        "transaction.clearing",
        id="bad_1",
        data={
            "id": "txn_bad",
            "amount": "50.00",
            "datetime": "yesterday",
            "card": {"token": card.network_token},
            "merchant": {"id": location.network_merchant_id},
            "location": {"id": location.network_store_id},
        },
    )
    bad_payload.pop("created", None)
    bad = inbox.event_receive(
        source="visa", event_id="bad_1", event_type="transaction.clearing", payload=json.dumps(bad_payload)
    ).pk
    unknown = _store(
        "clearing", card_token="ctok_nobody", location=location, event_id="nobody", txn="t_n", amount_minor=700
    )

    statuses = inbox.events_process(event_ids=[good[0], bad, unknown, good[1]])

    assert statuses == ["processed", "failed", "unmatched", "processed"]
    failed = WebhookEvent.objects.get(pk=bad)
    assert failed.attempts == 1 and failed.next_attempt_at is not None and "ValueError" in failed.last_error
    assert WebhookEvent.objects.get(pk=unknown).status == "unmatched"
    assert Purchase.objects.count() == 2 and Reward.objects.count() == 2
    assert consumer_balances(card.user)["pending"] == 1_000 + 1_000
    assert Offer.objects.get(pk=offer.pk).budget_spent_minor == 2_000
    assert_ledger_sound()

    # Retried (the sweep's backoff, or staff's button) it fails again; out of attempts it is parked.
    settings.INBOX_MAX_ATTEMPTS = 2
    assert inbox.events_process(event_ids=[bad, good[0]]) == ["failed", "processed"]
    parked = WebhookEvent.objects.get(pk=bad)
    assert parked.attempts == 2 and parked.next_attempt_at is None


@pytest.mark.django_db
def test_an_event_failing_after_its_reward_was_booked_leaves_no_posting_of_it(monkeypatch):
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    cards = [CardFactory(), CardFactory()]
    pks = _clearings(location, cards, 2, "late")
    unlucky = cards[1].user_id

    real_announce = reward_services.announce

    def announce(name, **facts):
        if facts.get("user_id") == unlucky:
            raise RuntimeError("the fact could not be recorded")
        return real_announce(name, **facts)

    monkeypatch.setattr(reward_services, "announce", announce)

    assert inbox.events_process(event_ids=pks) == ["processed", "failed"]

    assert Reward.objects.count() == 1 and JournalTransaction.objects.filter(kind="reward_earn").count() == 1
    assert consumer_balances(cards[0].user)["pending"] == 1_000
    assert consumer_balances(cards[1].user)["pending"] == 0
    assert Offer.objects.get(pk=offer.pk).budget_spent_minor == 1_000
    assert Reward.objects.get().earn_journal is not None
    assert_ledger_sound()


@pytest.mark.django_db
def test_an_event_failing_after_its_facts_were_announced_leaves_none_of_them(
    monkeypatch, django_capture_on_commit_callbacks
):
    """The batch records its facts and changed days at its end: a failing event's go with its savepoint,
    and so do its after-commit callbacks (its consumer's tier recompute), though the savepoints of the
    events that succeed are kept until the batch commits, not released one by one."""
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    cards = [CardFactory(), CardFactory()]
    pks = _clearings(location, cards, 2, "facts")
    unlucky = cards[1].user_id

    real_reconcile = purchase_rewards.challenges_reconcile

    def reconcile(purchase, challenges):  # after the reward was booked and reward_earned announced
        if purchase.user_id == unlucky:
            raise RuntimeError("late failure")
        return real_reconcile(purchase, challenges)

    monkeypatch.setattr(purchase_rewards, "challenges_reconcile", reconcile)

    recomputed = []
    monkeypatch.setattr(tiers, "_tier_recompute_publish", recomputed.append)

    with django_capture_on_commit_callbacks(execute=True):
        assert inbox.events_process(event_ids=pks) == ["processed", "failed"]

    assert recomputed == [[cards[0].user_id]]
    facts = Fact.objects.filter(kind="reward_earned")
    assert [fact.payload["user_id"] for fact in facts] == [cards[0].user_id]
    assert facts.get().deliveries.count() >= 1  # its subscribers' deliveries, recorded with it
    assert MerchantDayChange.objects.filter(merchant=offer.merchant).exists()
    assert Reward.objects.count() == 1
    assert_ledger_sound()


@pytest.mark.django_db
def test_a_blocked_consumer_earns_nothing_in_a_batch_and_an_unknown_card_is_asked_for():
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    blocked, free = CardFactory(), CardFactory()
    blocked.user.blocked_at = timezone.now()
    blocked.user.save(update_fields=["blocked_at"])
    later = CardFactory()
    Card.objects.filter(pk=later.pk).update(status=Card.Status.REMOVED, removed_at=timezone.now())  # unknown now
    pks = _clearings(location, [blocked, free], 2, "blocked")
    pks.append(
        _store(
            "clearing", card_token=later.network_token, location=location, event_id="later", txn="t_l", amount_minor=900
        )
    )

    assert inbox.events_process(event_ids=pks) == ["processed", "processed", "unmatched"]

    refused = Purchase.objects.get(user=blocked.user)
    assert [d["code"] for d in refused.decisions] == ["account_blocked"]
    assert not Reward.objects.filter(user=blocked.user, amount_minor__gt=0).exists()
    assert Reward.objects.get(user=free.user).amount_minor == 1_000
    # The card active again: the next batch finds it.
    Card.objects.filter(pk=later.pk).update(status=Card.Status.ACTIVE, removed_at=None)
    assert inbox.events_process(event_ids=[pks[2], pks[0]]) == ["processed", "processed"]
    assert Purchase.objects.count() == 3


@pytest.mark.django_db
def test_a_batch_that_fails_as_a_whole_is_processed_event_by_event(monkeypatch, caplog):
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    pks = _clearings(location, [CardFactory(), CardFactory()], 3, "whole")

    def deadlocked(self):
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(reward_batch.RewardBatch, "flush", deadlocked)
    with caplog.at_level(logging.WARNING, logger="cashback.inbox"):
        assert inbox.events_process(event_ids=pks) == ["processed"] * 3

    assert "failed as a whole" in caplog.text
    journals, rewards = _earnings_and_rewards()
    assert journals == rewards and len(rewards) == 3
    assert Offer.objects.get(pk=offer.pk).budget_spent_minor == sum(1_000 + round(n / 10) for n in range(3))
    assert_ledger_sound()


@pytest.mark.django_db
def test_a_batch_processes_an_event_once_even_if_named_twice_or_already_processed():
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    first, second = _clearings(location, [CardFactory()], 2, "twice")
    assert inbox.event_process(event_id=first) == "processed"

    assert inbox.events_process(event_ids=[first, second, second, 999_999]) == [
        "processed",
        "processed",
        "processed",
        "missing",
    ]
    assert WebhookEvent.objects.get(pk=second).attempts == 1
    assert JournalTransaction.objects.filter(kind="reward_earn").count() == 2


# --- Concurrent batches of one merchant (PostgreSQL) ---------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("funded", [10_000_000, 30_000])
def test_concurrent_batches_of_one_merchant_never_deadlock_nor_credit_twice(funded, caplog):
    offer = OfferFactory(percent=Decimal("10"))
    budgeted = OfferFactory(
        merchant=offer.merchant, percent=Decimal("1"), stackable=True, budget_total_minor=1_500
    )  # a budget: granted under its row lock, never overspent
    location = LocationFactory(merchant=offer.merchant)
    cards = [CardFactory() for _ in range(5)]  # consumers shared by every batch
    fund_merchant(offer.merchant, funded)  # 30 000 runs out: the rest is booked as a receivable
    pks = _clearings(location, cards, 48, "conc")
    batches = [pks[n::4] for n in range(4)]
    batches += [pks[n::4][::-1] for n in range(2)]  # two of them delivered again at once, reversed

    with caplog.at_level(logging.WARNING, logger="cashback.inbox"):
        results = run_together(lambda i: inbox.events_process(event_ids=batches[i]), threads=len(batches))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(set(statuses) == {"processed"} for statuses in results), results
    # No deadlock nor serialization failure. (A batch whose deferred funding debit finds the funding
    # spent by another batch is processed one by one: allowed, and correct.)
    assert "Deadlock" not in caplog.text and "Serialization" not in caplog.text
    if funded > 100_000:
        assert "failed as a whole" not in caplog.text
    journals, rewards = _earnings_and_rewards()
    assert journals == rewards and len({purchase for purchase, _ in rewards}) == 48
    assert set(WebhookEvent.objects.filter(pk__in=pks).values_list("attempts", flat=True)) == {1}
    spent = Reward.objects.filter(offer=offer).aggregate(s=Sum("amount_minor"))["s"]
    assert Offer.objects.get(pk=offer.pk).budget_spent_minor == spent
    assert spent == sum(round(Decimal(10_000 + n) / 10) for n in range(48))
    assert Offer.objects.get(pk=budgeted.pk).budget_spent_minor == 1_500
    pending = sum(consumer_balances(card.user)["pending"] for card in cards)
    assert pending == Reward.objects.aggregate(s=Sum("amount_minor"))["s"]
    funding = merchant_balance(offer.merchant, AccountKind.MERCHANT_FUNDING)
    receivable = merchant_balance(offer.merchant, AccountKind.MERCHANT_RECEIVABLE)
    assert funding >= 0 and funding + receivable == funded - pending
    assert_ledger_sound()


# --- The batch books what one by one books (hypothesis) ------------------------------------------


def _visa_world():
    merchant, user = _world()
    return merchant, user, LocationFactory(merchant=merchant), CardFactory(user=user)


def _stored(spec, world, location, card):
    return [
        _store(
            event["kind"],
            card_token=card.network_token,
            location=location,
            event_id=f"v{event['event_id']}",
            txn=event["txn"],
            amount_minor=event["amount"],
            at=event["at"],
            original=event.get("original", ""),
        )
        for event in _events(spec, world)
    ]


def _ledger_state(merchant, user):
    purchase = Purchase.objects.get(merchant=merchant)
    return {
        "purchase": (purchase.status, purchase.amount_minor, purchase.refunded_minor, purchase.reversed),
        "decisions": [(d["code"], d["earned_minor"]) for d in purchase.decisions],
        "rewards": sorted(
            (
                r.kind,
                r.offer.percent,
                r.amount_minor,
                r.pending_minor,
                r.owed_minor,
                r.earn_journal_id is not None,
                r.status,
                r.booked_minor,
                r.ledger_seq,
                r.decided_minor,
                r.basis_minor,
            )
            for r in Reward.objects.filter(user=user).select_related("offer")
        ),
        # The facts told about the consumer (the batch records them at its end) and the days recorded.
        "facts": sorted(
            (fact.kind, fact.payload.get("amount_minor"), fact.deliveries.count())
            for fact in Fact.objects.filter(payload__user_id=user.pk)
        ),
        "days": sorted(set(MerchantDayChange.objects.filter(merchant=merchant).values_list("day", flat=True))),
        "consumer": consumer_balances(user),
        "funding": merchant_balance(merchant, AccountKind.MERCHANT_FUNDING),
        "receivable": merchant_balance(merchant, AccountKind.MERCHANT_RECEIVABLE),
        "budget": Offer.objects.filter(merchant=merchant).aggregate(total=Sum("budget_spent_minor"))["total"],
        "journals": sorted(
            (j.kind, sorted((e.account.kind, e.direction, e.amount) for e in j.entries.all()))
            for j in JournalTransaction.objects.filter(causes__purchase=purchase.pk).prefetch_related(
                "entries__account"
            )
        ),
    }


@pytest.mark.django_db
@settings(
    max_examples=int(os.environ.get("LIFECYCLE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(spec=event_specs, data=st.data())
def test_a_batch_books_exactly_what_its_events_one_by_one_book(spec, data):
    world = uuid4().hex[:12]
    count = len(_events(spec, world))
    order = data.draw(st.permutations(range(count)))

    one_by_one = _visa_world()
    pks = _stored(spec, f"{world}a", *one_by_one[2:])
    for index in order:
        inbox.event_process(event_id=pks[index])
    batched = _visa_world()
    pks = _stored(spec, f"{world}b", *batched[2:])
    statuses = inbox.events_process(event_ids=[pks[index] for index in order])

    assert set(statuses) <= {"processed", "unmatched"}
    assert _ledger_state(*batched[:2]) == _ledger_state(*one_by_one[:2])
