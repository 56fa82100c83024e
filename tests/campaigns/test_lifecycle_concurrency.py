"""Exactly once, in any order: the same event delivered many times at once, the events of one purchase
racing each other, and (hypothesis) every permutation with duplicates of a purchase's events."""

import json
import os
import sys
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Offer, Purchase, PurchaseEvent, Reward
from campaigns.services import purchase_event_apply
from cashback import inbox
from cashback.models import WebhookEvent
from tests.accounts.factories import CardFactory, UserFactory
from tests.campaigns.factories import ChallengeFactory, LocationFactory, OfferFactory
from tests.campaigns.lifecycle_helpers import assert_ledger_sound, consumer_balances, fund_merchant, merchant_balance
from tests.concurrency import run_together
from tests.webhooks import visa_event
from wallet.models import AccountKind, JournalTransaction

K = 12
# "An hour ago", taken when each test starts, never at import (a time taken at collection is as old
# as the whole run by the time the test executes).
T0 = None  # set when each test starts, by _an_hour_ago


@pytest.fixture(autouse=True)
def _an_hour_ago(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "T0", timezone.now() - timedelta(hours=1))


def _apply(user, merchant, *, event_id, kind, amount, txn="txn_1", original="", at=None):
    return purchase_event_apply(
        source="card",
        event_id=event_id,
        kind=kind,
        external_id=txn,
        amount_minor=amount,
        currency="NOK",
        occurred_at=at or T0,
        user=user,
        merchant=merchant,
        original_external_id=original,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_k_times_at_once_books_once():
    offer = OfferFactory(percent=Decimal("10"))
    user = UserFactory()
    fund_merchant(offer.merchant, 1_000)

    results = run_together(
        lambda i: _apply(user, offer.merchant, event_id="evt_dup", kind="clearing", amount=20_000), threads=K
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert Purchase.objects.count() == 1 and PurchaseEvent.objects.count() == 1
    assert Reward.objects.count() == 1
    assert JournalTransaction.objects.filter(kind="reward_earn").count() == 1
    assert consumer_balances(user)["pending"] == 2_000
    assert_ledger_sound()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_visa_event_processed_k_times_at_once_through_the_inbox_books_once():
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    card = CardFactory()
    payload = visa_event(
        "transaction.clearing",
        id="evt_inbox_dup",
        data={
            "id": "txn_inbox",
            "amount": "200.00",
            "datetime": T0.isoformat(),
            "card": {"token": card.network_token, "firstNumbers": card.first_six, "lastNumbers": card.last_four},
            "merchant": {"id": location.network_merchant_id, "name": "Shop"},
            "location": {"id": location.network_store_id, "postcode": "0150", "countryCode": "NOR"},
        },
    )
    stored = inbox.event_receive(
        source="visa", event_id=payload["id"], event_type=payload["type"], payload=json.dumps(payload)
    )

    results = run_together(lambda i: inbox.event_process(event_id=stored.pk), threads=K)

    assert set(results) == {"processed"}, results
    assert WebhookEvent.objects.get(pk=stored.pk).attempts == 1
    assert Purchase.objects.get().location_id == location.pk
    assert Reward.objects.get().amount_minor == 2_000
    assert JournalTransaction.objects.filter(kind="reward_earn").count() == 1
    assert consumer_balances(card.user)["pending"] == 2_000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_events_of_one_purchase_racing_each_other_end_as_if_sequential():
    offer = OfferFactory(percent=Decimal("10"))
    ChallengeFactory(offer=offer, target_type="revenue", target_value=10_000, bonus_minor=1_000)
    user = UserFactory()
    events = [
        {"kind": "auth", "amount": 20_000},
        {"kind": "clearing", "amount": 24_000},
        {"kind": "refund", "amount": 4_000, "txn": "rf_1", "original": "txn_1"},
        {"kind": "refund", "amount": 6_000, "txn": "rf_2", "original": "txn_1"},
    ]
    # Every event three times, all at once.
    work = [dict(spec, event_id=f"evt_{n}") for n, spec in enumerate(events)] * 3

    results = run_together(lambda i: _apply(user, offer.merchant, **work[i]), threads=len(work))

    assert not [r for r in results if isinstance(r, Exception)], results
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount_minor, purchase.refunded_minor) == ("partly_refunded", 24_000, 10_000)
    assert Reward.objects.get(kind="offer").amount_minor == 1_400  # 2 400 x 14/24
    assert Reward.objects.get(kind="challenge").amount_minor == 1_000
    assert consumer_balances(user)["pending"] == 2_400
    assert Offer.objects.get(pk=offer.pk).budget_spent_minor == 1_400
    assert_ledger_sound()


# --- Any permutation, with duplicates, ends in the same state ------------------------------------

event_specs = st.fixed_dictionaries(
    {
        "auth": st.integers(min_value=1_000, max_value=50_000),
        "clearing": st.one_of(st.none(), st.integers(min_value=1_000, max_value=60_000)),
        "refunds": st.lists(st.integers(min_value=100, max_value=40_000), max_size=3),
        "reversal": st.booleans(),
    }
)


def _events(spec, world: str):
    txn = f"txn_{world}"
    events = [{"kind": "auth", "amount": spec["auth"], "at": T0}]
    if spec["clearing"] is not None:
        events.append({"kind": "clearing", "amount": spec["clearing"], "at": T0})
    for n, amount in enumerate(spec["refunds"]):
        events.append(
            {"kind": "refund", "amount": amount, "txn": f"rf_{n}", "original": txn, "at": T0 + timedelta(hours=n + 1)}
        )
    if spec["reversal"]:
        events.append({"kind": "reversal", "amount": spec["auth"], "txn": "rv", "original": txn, "at": T0})
    return [dict({"txn": txn}, **event, event_id=f"evt_{world}_{n}") for n, event in enumerate(events)]


def _world():
    offer = OfferFactory(percent=Decimal("7.5"), max_reward_per_purchase_minor=3_000)
    OfferFactory(merchant=offer.merchant, percent=Decimal("2"), stackable=True, min_spend_minor=20_000)
    ChallengeFactory(offer=offer, target_type="revenue", target_value=15_000, bonus_minor=1_000)
    fund_merchant(offer.merchant, 1_500)  # some funded, the rest a receivable
    return offer.merchant, UserFactory()


def _state(merchant, user):
    purchase = Purchase.objects.get(merchant=merchant)
    return {
        "purchase": (
            purchase.status,
            purchase.amount_minor,
            purchase.authorised_minor,
            purchase.cleared_minor,
            purchase.refunded_minor,
            purchase.refund_excess_minor,
            purchase.reversed,
        ),
        "decisions": [(d["code"], d["earned_minor"]) for d in purchase.decisions],
        "rewards": sorted(
            (r.kind, r.offer.percent, r.amount_minor)
            for r in Reward.objects.filter(user=user).select_related("offer")
            if r.amount_minor
        ),
        "consumer": consumer_balances(user),
        "merchant_net": merchant_balance(merchant, AccountKind.MERCHANT_FUNDING)
        + merchant_balance(merchant, AccountKind.MERCHANT_RECEIVABLE),
        "budget": Offer.objects.filter(merchant=merchant).aggregate(total=Sum("budget_spent_minor"))["total"],
    }


@pytest.mark.django_db
@settings(
    max_examples=int(os.environ.get("LIFECYCLE_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(spec=event_specs, data=st.data())
def test_any_permutation_with_duplicates_of_a_purchases_events_ends_in_the_same_state(spec, data):
    world = uuid4().hex[:12]
    events = _events(spec, world)
    order = data.draw(st.permutations(range(len(events))))
    duplicates = data.draw(st.lists(st.sampled_from(range(len(events))), max_size=4))
    positions = [data.draw(st.integers(min_value=0, max_value=len(order) + i)) for i in range(len(duplicates))]
    delivered = list(order)
    for index, position in zip(duplicates, positions, strict=True):
        delivered.insert(position, index)

    canonical_merchant, canonical_user = _world()
    for event in _events(spec, f"{world}c"):
        _apply(canonical_user, canonical_merchant, **event)
    merchant, user = _world()
    for index in delivered:
        _apply(user, merchant, **events[index])

    assert _state(merchant, user) == _state(canonical_merchant, canonical_user)
    assert user_has_no_negative_available(user)


def user_has_no_negative_available(user) -> bool:
    return consumer_balances(user)["available"] >= 0 and consumer_balances(user)["pending"] >= 0


@pytest.mark.django_db
def test_a_capped_reward_decided_again_on_clearing_keeps_its_new_basis_for_later_refunds():
    # Found by the permutation test above: the clearing (1 minor unit less than the auth) decides the
    # capped reward again at the same 30.00, so nothing is posted; the new basis must still be kept,
    # or a refund after the clearing is measured against the authorised amount and the order of the
    # refund and the clearing changes the reward by 1 minor unit.
    spec = {"auth": 39_995, "clearing": 39_994, "refunds": [113], "reversal": False}
    world = uuid4().hex[:12]
    canonical_merchant, canonical_user = _world()
    for event in _events(spec, f"{world}c"):  # auth, clearing, refund
        _apply(canonical_user, canonical_merchant, **event)
    merchant, user = _world()
    auth, clearing, refund = _events(spec, world)
    for event in (auth, refund, clearing):
        _apply(user, merchant, **event)

    assert _state(merchant, user) == _state(canonical_merchant, canonical_user)
    capped = Reward.objects.get(user=user, offer__percent=Decimal("7.5"), kind="offer")
    assert capped.amount_minor == 2_992  # 30.00 x (399.94 - 1.13) / 399.94, half to even
