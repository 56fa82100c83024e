"""The fraud rules, through the services that run them: each raises its flag at its threshold, not
below, and never twice for the same subject and window (a database constraint)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from monitoring import services
from monitoring.models import FraudFlag
from tests.accounts.factories import CardFactory, UserFactory
from tests.campaigns.factories import MerchantFactory, OfferFactory, PurchaseFactory
from tests.referrals.factories import refer

from .helpers import card_purchase, refund

pytestmark = pytest.mark.django_db


def flags(rule: str) -> list[FraudFlag]:
    return list(FraudFlag.objects.filter(rule=rule).order_by("id"))


def test_velocity_flags_the_purchase_that_crosses_the_hourly_limit_once(settings):
    settings.MONITORING_RULES = {
        **settings.MONITORING_RULES,
        "velocity": {**settings.MONITORING_RULES["velocity"], "max_purchases": 3},
    }
    card, merchant = CardFactory(), MerchantFactory()
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    purchases = [
        card_purchase(card=card, merchant=merchant, amount=1_000 + n, at=start + timedelta(minutes=5 * n))
        for n in range(5)
    ]

    for purchase in purchases[:3]:
        assert services.purchase_check(purchase_id=purchase.pk) == 0  # three in the hour: at the limit
    assert services.purchase_check(purchase_id=purchases[3].pk) == 1
    assert services.purchase_check(purchase_id=purchases[4].pk) == 0  # same card, same hour: the same flag
    assert services.purchase_check(purchase_id=purchases[3].pk) == 0  # looked at again

    (flag,) = flags("velocity")
    assert (flag.card_id, flag.user_id, flag.purchase_id, flag.status) == (
        card.pk,
        card.user_id,
        purchases[3].pk,
        "open",
    )
    assert flag.details["purchases"] == 4 and flag.details["max_purchases"] == 3
    assert flag.severity == "high"


def test_velocity_counts_one_card_only(settings):
    settings.MONITORING_RULES = {
        **settings.MONITORING_RULES,
        "velocity": {**settings.MONITORING_RULES["velocity"], "max_purchases": 2},
    }
    merchant = MerchantFactory()
    purchases = [card_purchase(card=CardFactory(), merchant=merchant, amount=1_000 + n) for n in range(4)]
    assert sum(services.purchase_check(purchase_id=p.pk) for p in purchases) == 0


def test_near_duplicates_same_card_merchant_amount_within_minutes():
    card, merchant = CardFactory(), MerchantFactory()
    now = timezone.now() - timedelta(hours=1)
    first = card_purchase(card=card, merchant=merchant, amount=9_900, at=now)
    second = card_purchase(card=card, merchant=merchant, amount=9_900, at=now + timedelta(minutes=3))
    other_amount = card_purchase(card=card, merchant=merchant, amount=9_950, at=now + timedelta(minutes=4))
    much_later = card_purchase(card=card, merchant=merchant, amount=9_900, at=now + timedelta(minutes=40))

    assert services.purchase_check(purchase_id=other_amount.pk) == 0
    assert services.purchase_check(purchase_id=second.pk) == 1
    assert services.purchase_check(purchase_id=first.pk) == 0  # the same pair: keyed by its first purchase
    (flag,) = flags("near_duplicate")
    assert flag.purchase_id == second.pk and flag.details["purchase_ids"] == [first.pk, second.pk]
    assert services.purchase_check(purchase_id=much_later.pk) == 0


def test_an_amount_far_above_the_merchants_median_is_flagged(settings):
    merchant = MerchantFactory()
    for n in range(20):
        PurchaseFactory(merchant=merchant, amount_minor=10_000 + n * 10, occurred_at=timezone.now() - timedelta(days=2))
    card = CardFactory()
    usual = card_purchase(card=card, merchant=merchant, amount=50_000)
    unusual = card_purchase(card=card, merchant=merchant, amount=150_000)

    assert services.purchase_check(purchase_id=usual.pk) == 0
    assert services.purchase_check(purchase_id=unusual.pk) == 1
    (flag,) = flags("unusual_amount")
    assert flag.details["median_minor"] == 10_100 and flag.details["history"] == 21

    settings.MONITORING_RULES = {
        **settings.MONITORING_RULES,
        "unusual_amount": {**settings.MONITORING_RULES["unusual_amount"], "min_history": 50},
    }
    fresh = card_purchase(card=card, merchant=merchant, amount=900_000)
    assert services.purchase_check(purchase_id=fresh.pk) == 0  # too little history to judge


def test_refund_cycling_earn_refund_repeat():
    offer = OfferFactory(percent=Decimal("10"))
    card = CardFactory()
    earned = [
        card_purchase(card=card, merchant=offer.merchant, amount=20_000 + n, at=timezone.now() - timedelta(hours=n + 2))
        for n in range(3)
    ]
    assert all(p.rewards.exists() for p in earned)

    refunded = [refund(p) for p in earned[:2]]
    assert sum(services.purchase_check(purchase_id=p.pk) for p in refunded) == 0  # two cycles: below three
    third = refund(earned[2])
    assert services.purchase_check(purchase_id=third.pk) == 1
    (flag,) = flags("refund_cycling")
    assert flag.user_id == card.user_id and flag.details["refunded_purchases"] == 3


def test_many_cards_on_one_person():
    person = UserFactory()
    cards = [CardFactory(user=person) for _ in range(5)]
    assert services.card_check(card_id=cards[3].pk) == 0  # four: at the limit
    cards.append(CardFactory(user=person))
    assert services.card_check(card_id=cards[-1].pk) == 1
    assert services.card_check(card_id=cards[-1].pk) == 0
    (flag,) = flags("many_cards")
    assert flag.user_id == person.pk and flag.details["cards"] == 6


def test_one_card_on_many_accounts():
    first = CardFactory(first_six="424242", last_four="4242", exp_month=12, exp_year=2030)
    assert services.card_check(card_id=first.pk) == 0
    second = CardFactory(first_six="424242", last_four="4242", exp_month=12, exp_year=2030)
    assert services.card_check(card_id=second.pk) == 1
    (flag,) = flags("shared_card")
    assert flag.card_id == first.pk and flag.details["user_ids"] == sorted([first.user_id, second.user_id])


def test_referral_farming_many_friends_from_one_device():
    referrer = UserFactory()
    referrals = [refer(referrer, device_id="device-a" if n < 3 else f"device-{n}", ip=f"10.0.{n}.1") for n in range(5)]
    assert services.referral_check(referral_id=referrals[-1].pk) == 1
    assert services.referral_check(referral_id=referrals[-1].pk) == 0
    (flag,) = flags("referral_farming")
    assert flag.user_id == referrer.pk and flag.details["shared_device"] == 3 and flag.details["referrals"] == 5


def test_referral_farming_needs_shared_signals():
    referrer = UserFactory()
    referrals = [refer(referrer, device_id=f"device-{n}", ip=f"10.{n}.0.1") for n in range(6)]
    assert services.referral_check(referral_id=referrals[-1].pk) == 0


@pytest.mark.postgres
def test_the_database_refuses_the_same_flag_twice():
    user = UserFactory()
    FraudFlag.objects.create(rule="many_cards", window_key=f"user:{user.pk}:1", user=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        FraudFlag.objects.create(rule="many_cards", window_key=f"user:{user.pk}:1", user=user)


@pytest.mark.postgres
def test_a_flag_needs_a_subject():
    with pytest.raises(IntegrityError), transaction.atomic():
        FraudFlag.objects.create(rule="many_cards", window_key="nothing")


def test_a_card_network_purchase_keeps_the_card_it_was_made_with():
    """Through the inbox: the Visa handler passes the card, so the search and the card rules see it."""
    import json

    from campaigns.models import Purchase
    from cashback import inbox
    from tests.campaigns.factories import LocationFactory
    from tests.webhooks import visa_event

    card, location = CardFactory(), LocationFactory()
    payload = visa_event(
        "transaction.clearing",
        id="evt_monitoring_card",
        data={
            "id": "txn_monitoring_card",
            "amount": "249.00",
            "datetime": (timezone.now() - timedelta(minutes=1)).isoformat(),
            "card": {"token": card.network_token, "firstNumbers": card.first_six, "lastNumbers": card.last_four},
            "merchant": {"id": location.network_merchant_id, "name": "Shop"},
            "location": {"id": location.network_store_id, "postcode": "0150", "countryCode": "NOR"},
        },
    )
    stored = inbox.event_receive(
        source="visa", event_id="evt_monitoring_card", event_type="transaction.clearing", payload=json.dumps(payload)
    )
    assert inbox.event_process(event_id=stored.pk) == "processed"
    assert Purchase.objects.get().card == card
