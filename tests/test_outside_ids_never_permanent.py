"""No identifier from outside is kept verbatim in a table that can never be erased (issue 13).

A purchase and its refund from the card network, a partner's order and refund, a payout (and Stripe's
event that it was paid), a donation, a checkout spend and a sign-up from the app are driven through
their doors, every outside
id a unique marker string: event ids, transaction ids, order and refund ids, every client's
Idempotency-Key, Stripe's event id, the app's device id. Then the text of every append-only table
(tests/test_model_conventions.py) is scanned for the markers, and everything is sent again: a replay
changes nothing, so the keyed hashes that stand in for the ids still recognise them.
"""

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cashback import inbox
from cashback.models import WebhookEvent
from tests.accounts.factories import PASSWORD, CardFactory
from tests.campaigns.factories import LocationFactory, OfferFactory
from tests.charity.factories import CharityFactory
from tests.merchants.factories import MerchantApiKeyFactory, MerchantFactory, api_key_headers
from tests.test_model_conventions import APPEND_ONLY
from tests.wallet.factories import UserFactory, fund
from tests.wallet.payout_support import payout_event, ready_consumer
from tests.webhooks import STRIPE_CONNECT_SECRET, post_stripe, visa_event
from wallet import spending
from wallet.models import AccountKind, Entry, Hold, JournalTransaction, LedgerAccount, Payout, PayoutStatusChange
from wallet.services import account_get_or_create

pytestmark = pytest.mark.django_db

MARKER = "zqmarker"
IDS = {
    name: f"{MARKER}-{name}"
    for name in (
        "visa-auth-event",
        "visa-clearing-event",
        "visa-txn",
        "visa-refund-event",
        "visa-refund-txn",
        "order",
        "order-key",
        "refund",
        "refund-key",
        "payout-key",
        "payout-paid-event",
        "donation-key",
        "hold-key",
        "capture-key",
        "device",
    )
}


@pytest.fixture(autouse=True)
def _settings(settings, fake_stripe):
    settings.STRIPE_PROVIDER = "fake"
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET
    settings.PAYOUT_MINIMUM_MINOR = 10000
    settings.PAYOUT_MINIMUM_MINOR_BY_CURRENCY = {}
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 100000


def append_only_text() -> str:
    """Every value of every row of every append-only table, as one text."""
    rows = [row for label in sorted(APPEND_ONLY) for row in apps.get_model(label).objects.values()]
    return json.dumps(rows, default=str)


def ledger_state() -> tuple:
    return (
        JournalTransaction.objects.count(),
        Entry.objects.count(),
        Hold.objects.count(),
        PayoutStatusChange.objects.count(),
        sorted(LedgerAccount.objects.values_list("pk", "balance", "pending_debits")),
    )


class Doors:
    """Everything one test sends, with the markers as the outside ids; ``send_all`` can be called again."""

    def __init__(self, client, capture_on_commit, now: datetime) -> None:
        self.client, self.capture, self.now = client, capture_on_commit, now
        offer = OfferFactory(percent=Decimal("10"))
        self.location = LocationFactory(merchant=offer.merchant)
        self.card = CardFactory()
        self.api_key = MerchantApiKeyFactory(merchant=MerchantFactory(currency="NOK"))
        OfferFactory(merchant=self.api_key.merchant, percent=Decimal("10"))
        UserFactory(email="zq.member@example.com")
        self.payer = ready_consumer(balance=50000)
        self.app = APIClient()
        self.app.force_authenticate(self.payer)
        self.charity = CharityFactory()
        spender = UserFactory()
        fund(account_get_or_create(user=spender, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK"), 30000)
        self.code = spending.spend_code_issue(user=spender, currency="NOK")
        self.hold_id: int | None = None

    def card_events(self) -> list[str]:
        """Auth, clearing and a refund from the network. Sent again, each is a new inbox row (as after
        the inbox was purged): the purchase's own event table must recognise it."""
        steps = [
            ("transaction.auth", "visa-auth-event", "visa-txn", "300.00", None),
            ("transaction.clearing", "visa-clearing-event", "visa-txn", "300.00", None),
            ("transaction.refund", "visa-refund-event", "visa-refund-txn", "100.00", "visa-txn"),
        ]
        outcomes = []
        for event_type, event_id, txn, amount, original in steps:
            data = {
                "id": IDS[txn],
                "amount": amount,
                "datetime": (self.now - timedelta(minutes=30)).isoformat(),
                "card": {"token": self.card.network_token, "firstNumbers": "424242", "lastNumbers": "4242"},
                "merchant": {"id": self.location.network_merchant_id, "name": "Shop"},
                "location": {"id": self.location.network_store_id, "postcode": "0150", "countryCode": "NOR"},
            }
            if original:
                data["originalTransactionId"] = IDS[original]
            WebhookEvent.objects.filter(source="visa", event_id=IDS[event_id]).delete()
            payload = json.dumps(visa_event(event_type, id=IDS[event_id], data=data))
            stored = inbox.event_receive(source="visa", event_id=IDS[event_id], event_type=event_type, payload=payload)
            outcomes.append(inbox.event_process(event_id=stored.pk))
        return outcomes

    def partner(self, url: str, body: dict, key: str) -> int:
        headers = api_key_headers(self.api_key, **{"Idempotency-Key": IDS[key]})
        response = self.client.post(url, body, content_type="application/json", **headers)
        if url.endswith("/holds/") and response.status_code == 201:
            self.hold_id = response.json()["id"]
        return response.status_code

    def consumer(self, url: str, body: dict, key: str) -> int:
        with self.capture(execute=True):  # a payout is processed after commit
            return self.app.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=IDS[key]).status_code

    def send_all(self) -> list:
        order = {
            "order_id": IDS["order"],
            "customer": {"email": "zq.member@example.com"},
            "amount": "600.00",
            "currency": "NOK",
            "occurred_at": (self.now - timedelta(hours=1)).isoformat(),
        }
        spend = {"code": spending.display_code(self.code.code), "amount": "120.00", "currency": "NOK"}
        answers = [
            *self.card_events(),
            self.partner("/api/v1/partner/orders/", order, "order-key"),
            self.partner(
                f"/api/v1/partner/orders/{IDS['order']}/refunds/",
                {"amount": "150.00", "refund_id": IDS["refund"]},
                "refund-key",
            ),
            self.consumer("/api/v1/payouts/", {"amount": "150.00", "currency": "NOK"}, "payout-key"),
            self.consumer(
                "/api/v1/donations/", {"charity": self.charity.pk, "currency": "NOK", "amount": "25.00"}, "donation-key"
            ),
            self.partner("/api/v1/partner/spend/holds/", spend, "hold-key"),
            self.partner(f"/api/v1/partner/spend/holds/{self.hold_id}/capture/", {"amount": "100.00"}, "capture-key"),
        ]
        return [*answers, self.payout_paid(), self.sign_up()]

    def sign_up(self) -> int:
        """A sign-up from the app, whose device id goes into the append-only fact ``user_signed_up``."""
        body = {"email": "zq.new@example.com", "password1": PASSWORD, "password2": PASSWORD, "accept_terms": "on"}
        return Client().post(reverse("account_signup"), body, headers={"X-Device-Id": IDS["device"]}).status_code

    def payout_paid(self) -> int:
        """Stripe's event that the payout was paid; sent again after its inbox row was purged."""
        payout = Payout.objects.get(user=self.payer)
        WebhookEvent.objects.filter(event_id=IDS["payout-paid-event"]).delete()
        event = payout_event("stripe_connect_payout_paid", payout, event_id=IDS["payout-paid-event"])
        with self.capture(execute=True):
            return post_stripe(event, connect=True).status_code


def test_no_outside_id_is_kept_in_an_append_only_table_and_every_replay_changes_nothing(
    client, django_capture_on_commit_callbacks
):
    doors = Doors(client, django_capture_on_commit_callbacks, timezone.now())

    first = doors.send_all()

    assert first == ["processed"] * 3 + [201, 201, 201, 201, 201, 200, 202, 302]
    assert Payout.objects.get(user=doors.payer).status == "paid"
    text = append_only_text()
    assert [outside_id for outside_id in IDS.values() if outside_id in text] == []
    assert MARKER not in text

    before = ledger_state()
    again = doors.send_all()

    assert again[:3] == ["processed"] * 3  # recognised as replays by the purchase's own event table
    # a replay is answered, never refused (the sign-up again: enumeration-safe, a redirect to "check your e-mail")
    assert all(200 <= status < 400 for status in again[3:]), again[3:]
    assert ledger_state() == before
    assert MARKER not in append_only_text()
