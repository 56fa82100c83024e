"""The card network's events through the inbox: matched to a consumer and a shop, or parked as unmatched."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Purchase, Reward
from cashback import inbox
from cashback.models import WebhookEvent
from tests.accounts.factories import CardFactory
from tests.campaigns.factories import LocationFactory, OfferFactory
from tests.webhooks import visa_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    offer = OfferFactory(percent=Decimal("10"))
    return offer, LocationFactory(merchant=offer.merchant), CardFactory()


def deliver(event_type, *, card_token, location, event_id, txn="txn_h1", amount="200.00", original=None):
    data = {
        "id": txn,
        "amount": amount,
        "datetime": (timezone.now() - timedelta(minutes=3)).isoformat(),
        "card": {"token": card_token, "firstNumbers": "424242", "lastNumbers": "4242"},
        "merchant": {"id": location.network_merchant_id, "name": "Shop"},
        "location": {"id": location.network_store_id, "postcode": "0150", "countryCode": "NOR"},
    }
    if original:
        data["originalTransactionId"] = original
    payload = visa_event(event_type, id=event_id, data=data)
    stored = inbox.event_receive(source="visa", event_id=event_id, event_type=event_type, payload=json.dumps(payload))
    return inbox.event_process(event_id=stored.pk)


def test_auth_clearing_and_refund_through_the_inbox(world):
    _, location, card = world

    assert deliver("transaction.auth", card_token=card.network_token, location=location, event_id="e1") == "processed"
    assert (
        deliver("transaction.clearing", card_token=card.network_token, location=location, event_id="e2") == "processed"
    )
    status = deliver(
        "transaction.refund",
        card_token=card.network_token,
        location=location,
        event_id="e3",
        txn="rf_h1",
        amount="50.00",
        original="txn_h1",
    )

    assert status == "processed"
    purchase = Purchase.objects.get()
    assert (purchase.source, purchase.user_id, purchase.location_id) == ("card", card.user_id, location.pk)
    assert (purchase.status, purchase.refunded_minor) == ("partly_refunded", 5_000)
    assert Reward.objects.get().amount_minor == 1_500


def test_an_unknown_card_or_shop_is_parked_as_unmatched(world):
    _, location, card = world
    other_shop = LocationFactory.build(network_merchant_id="NM-UNKNOWN", network_store_id="ST-UNKNOWN")

    assert deliver("transaction.auth", card_token="ctok_nobody", location=location, event_id="u1") == "unmatched"
    assert deliver("transaction.auth", card_token=card.network_token, location=other_shop, event_id="u2") == "unmatched"

    reasons = list(WebhookEvent.objects.order_by("event_id").values_list("unmatched_reason", flat=True))
    assert "Unknown card token" in reasons[0] and "Unknown shop" in reasons[1]
    assert Purchase.objects.count() == 0


def test_a_refund_without_original_and_no_purchase_is_unmatched(world):
    _, location, card = world

    status = deliver("transaction.refund", card_token=card.network_token, location=location, event_id="r1", txn="rf_x")

    assert status == "unmatched"
    assert "No purchase matches this refund" in WebhookEvent.objects.get().unmatched_reason
