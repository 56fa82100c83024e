"""Stripe as a purchase source: real Stripe event shapes (JSON files in stripe_events/), signed with
Stripe's scheme and posted to /webhooks/stripe/connect/, become purchases through the inbox."""

import copy
import itertools
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from campaigns.models import Purchase, Reward
from cashback import inbox
from cashback.models import WebhookEvent, WebhookStatus
from merchants.models import CustomerLink, StripeChargeRefundTotal, StripeConnection
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import LineItemRuleFactory, OfferFactory
from tests.concurrency import run_together
from tests.merchants.factories import MerchantApiKeyFactory, MerchantFactory, api_key_headers
from tests.webhooks import STRIPE_CONNECT_SECRET, post_stripe

pytestmark = pytest.mark.django_db

EVENTS = Path(__file__).resolve().parent / "stripe_events"
ACCOUNT = "acct_1QMerchantShop01"
FIXTURE_TIME = 1795428000
TIME_FIELDS = {"created", "paid_at", "finalized_at", "effective_at", "start", "end"}


def _shift_times(value, delta):
    if isinstance(value, dict):
        return {
            key: (item + delta if key in TIME_FIELDS and isinstance(item, int) else _shift_times(item, delta))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_shift_times(item, delta) for item in value]
    return value


def stripe_event(name: str, **changes):
    """The fixture ``stripe_events/<name>.json``, its times moved to an hour ago; ``changes`` are
    set on the event (``id=...``) or, with a ``object__`` prefix, on ``data.object``."""
    event = json.loads((EVENTS / f"{name}.json").read_text())
    event = _shift_times(event, int(time.time()) - 3600 - FIXTURE_TIME)
    for key, value in changes.items():
        if key.startswith("object__"):
            event["data"]["object"][key.removeprefix("object__")] = value
        else:
            event[key] = value
    return copy.deepcopy(event)


@pytest.fixture(autouse=True)
def _connect_secret(settings):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET


@pytest.fixture
def world():
    merchant = MerchantFactory()
    connection = StripeConnection.objects.create(
        merchant=merchant, stripe_account_id=ACCOUNT, status=StripeConnection.Status.ACTIVE
    )
    offer = OfferFactory(merchant=merchant, percent=Decimal("10.00"))
    consumer = UserFactory(email="kari.nordmann@example.com")
    return type("World", (), {"merchant": merchant, "connection": connection, "offer": offer, "consumer": consumer})


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """POST a signed event to /webhooks/stripe/connect/ and run its processing (on commit)."""

    def send(event):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_stripe(event, connect=True)
        assert response.status_code in (200, 202), response.content
        return WebhookEvent.objects.get(source="stripe_connect", event_id=event["id"])

    return send


def _earned(purchase) -> int:
    return sum(Reward.objects.filter(purchase=purchase).values_list("amount_minor", flat=True))


# --- charge.succeeded ---------------------------------------------------------------------------


def test_a_charge_becomes_a_purchase_for_the_member_with_that_email(world, deliver):
    stored = deliver(stripe_event("charge_succeeded"))

    assert stored.status == WebhookStatus.PROCESSED, stored.last_error or stored.unmatched_reason
    purchase = Purchase.objects.get()
    assert (purchase.source, purchase.external_id) == ("stripe", "ch_3QMerchantCharge001")
    assert purchase.user == world.consumer and purchase.merchant == world.merchant
    assert purchase.amount_minor == 24900 and purchase.currency == "NOK"
    assert purchase.status == Purchase.Status.CLEARED
    assert _earned(purchase) == 2490
    link = CustomerLink.objects.get()
    assert (link.source, link.external_id, link.user, link.via) == (
        "stripe",
        "cus_RMerchantCust01",
        world.consumer,
        "email_match",
    )


def test_a_linked_stripe_customer_wins_over_the_email(world, deliver):
    someone_else = UserFactory()
    CustomerLink.objects.create(
        merchant=world.merchant,
        source="stripe",
        external_id="cus_RMerchantCust01",
        user=someone_else,
        via="partner_api",
    )

    deliver(stripe_event("charge_succeeded"))

    assert Purchase.objects.get().user == someone_else


def test_a_redelivered_charge_counts_once(world, deliver, client):
    event = stripe_event("charge_succeeded")
    deliver(event)
    deliver(event)
    deliver(stripe_event("charge_succeeded", id="evt_3QMerchantChargeResent"))  # same charge, another event

    assert Purchase.objects.count() == 1
    assert _earned(Purchase.objects.get()) == 2490


def test_an_unknown_customer_is_parked_unmatched_then_processed_once_linked(world, deliver, client):
    event = stripe_event(
        "charge_succeeded",
        object__customer="cus_RStranger0001",
        object__billing_details={"email": "stranger@example.com"},
    )
    stored = deliver(event)
    assert stored.status == WebhookStatus.UNMATCHED
    assert "cus_RStranger0001" in stored.unmatched_reason
    assert not Purchase.objects.exists()

    # the merchant links its Stripe customer to the member through the partner API; staff retry
    key = MerchantApiKeyFactory(merchant=world.merchant)
    response = client.post(
        "/api/v1/partner/customers/",
        {"email": world.consumer.email, "stripe_customer_id": "cus_RStranger0001"},
        content_type="application/json",
        **api_key_headers(key),
    )
    assert response.status_code == 201
    assert inbox.event_retry(event=stored) == WebhookStatus.PROCESSED
    assert Purchase.objects.get().user == world.consumer


def test_an_account_no_merchant_connected_is_ignored(world, deliver):
    stored = deliver(stripe_event("charge_succeeded", account="acct_1QSomebodyElse01"))
    assert stored.status == WebhookStatus.IGNORED
    assert not Purchase.objects.exists()


def test_payments_on_a_disconnected_account_are_ignored(world, deliver):
    StripeConnection.objects.update(status=StripeConnection.Status.DISCONNECTED)
    assert deliver(stripe_event("charge_succeeded")).status == WebhookStatus.IGNORED
    assert not Purchase.objects.exists()


def test_an_unsupported_currency_is_ignored(world, deliver):
    assert deliver(stripe_event("charge_succeeded", object__currency="usd")).status == WebhookStatus.IGNORED


def test_an_uncaptured_charge_is_an_authorisation_until_captured(world, deliver):
    deliver(stripe_event("charge_succeeded", object__captured=False, object__amount_captured=0))
    purchase = Purchase.objects.get()
    assert purchase.status == Purchase.Status.AUTHORISED

    deliver(
        stripe_event(
            "charge_succeeded", id="evt_3QMerchantCaptured1", type="charge.captured", object__amount_captured=20000
        )
    )
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.CLEARED and purchase.amount_minor == 20000


# --- invoice.paid and its charge ----------------------------------------------------------------


@pytest.mark.parametrize("order", ["invoice_first", "charge_first"])
def test_an_invoice_and_its_charge_count_once(world, deliver, order):
    events = [stripe_event("invoice_paid"), stripe_event("charge_succeeded_invoice")]
    if order == "charge_first":
        events.reverse()
    outcomes = [deliver(event).status for event in events]

    purchase = Purchase.objects.get()
    assert purchase.external_id == "in_1QMerchantInvoice01" and purchase.amount_minor == 60000
    assert _earned(purchase) == 6000
    charge_outcome = outcomes[1] if order == "invoice_first" else outcomes[0]
    assert charge_outcome == WebhookStatus.IGNORED


def test_invoice_lines_are_line_items_so_category_rules_apply(world, deliver):
    LineItemRuleFactory(offer=world.offer, scope="category", key="shoes", kind="percent", percent=Decimal("20.00"))

    deliver(stripe_event("invoice_paid"))

    purchase = Purchase.objects.get()
    assert [(line["category"], line["amount_minor"]) for line in purchase.line_items] == [
        ("shoes", 50000),
        ("socks", 10000),
    ]
    assert _earned(purchase) == 10000 + 1000  # 20 % of the shoes, the offer's 10 % of the socks


# --- refunds ---------------------------------------------------------------------------------------


def test_a_partial_refund_claws_back_in_proportion(world, deliver):
    deliver(stripe_event("charge_succeeded"))

    stored = deliver(stripe_event("charge_refunded"))

    assert stored.status == WebhookStatus.PROCESSED, stored.last_error
    purchase = Purchase.objects.get()
    assert purchase.refunded_minor == 4900
    assert purchase.status == Purchase.Status.PARTLY_REFUNDED
    assert _earned(purchase) == 2000  # 10 % of the 200 kr kept


@pytest.mark.parametrize("order", ["in_order", "late_partial"])
def test_refund_events_count_each_krone_once_in_any_order(world, deliver, order):
    deliver(stripe_event("charge_succeeded"))
    partial = stripe_event("charge_refunded")
    full = stripe_event(
        "charge_refunded", id="evt_3QMerchantRefund002", object__amount_refunded=24900, object__refunded=True
    )
    events = [partial, full] if order == "in_order" else [full, partial]

    for event in events:
        deliver(event)
    deliver(partial)  # and a redelivery

    purchase = Purchase.objects.get()
    assert purchase.refunded_minor == 24900
    assert purchase.status == Purchase.Status.REFUNDED
    assert _earned(purchase) == 0
    assert StripeChargeRefundTotal.objects.get().refunded_minor == 24900


def test_a_refund_of_an_invoice_charge_refunds_the_invoice_purchase(world, deliver):
    deliver(stripe_event("invoice_paid"))
    refund = stripe_event(
        "charge_refunded",
        object__id="ch_3QMerchantInvCharge1",
        object__invoice="in_1QMerchantInvoice01",
        object__amount=60000,
        object__amount_refunded=30000,
    )
    deliver(refund)

    purchase = Purchase.objects.get()
    assert purchase.refunded_minor == 30000
    assert _earned(purchase) == 3000


def test_a_credit_note_as_store_credit_claws_back(world, deliver):
    deliver(stripe_event("invoice_paid"))

    stored = deliver(stripe_event("credit_note_created"))

    assert stored.status == WebhookStatus.PROCESSED, stored.last_error
    purchase = Purchase.objects.get()
    assert purchase.refunded_minor == 15000
    assert _earned(purchase) == 4500


def test_a_credit_note_refunded_to_the_card_is_left_to_charge_refunded(world, deliver):
    deliver(stripe_event("invoice_paid"))
    event = stripe_event(
        "credit_note_created", object__refunds=[{"amount_refunded": 15000, "refund": "re_3QMerchantCnRefund1"}]
    )

    assert deliver(event).status == WebhookStatus.IGNORED
    assert Purchase.objects.get().refunded_minor == 0


def test_a_credit_note_before_payment_is_ignored(world, deliver):
    deliver(stripe_event("invoice_paid"))
    assert deliver(stripe_event("credit_note_created", object__type="pre_payment")).status == WebhookStatus.IGNORED


def test_a_refund_before_its_charge_still_ends_right(world, deliver):
    deliver(stripe_event("charge_refunded"))
    deliver(stripe_event("charge_succeeded"))

    purchase = Purchase.objects.get()
    assert purchase.amount_minor == 24900 and purchase.refunded_minor == 4900
    assert _earned(purchase) == 2000


def test_a_badly_signed_event_is_refused_and_not_stored(world, client):
    response = post_stripe(stripe_event("charge_succeeded"), connect=True, secret="whsec_wrong")
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


# --- concurrency ----------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refund_events_of_one_charge_apply_the_total_once(settings, monkeypatch):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET
    monkeypatch.setattr(inbox, "_publish_on_commit", lambda db, event_pk: None)  # the threads process them
    merchant = MerchantFactory()
    StripeConnection.objects.create(merchant=merchant, stripe_account_id=ACCOUNT, status="active")
    OfferFactory(merchant=merchant, percent=Decimal("10.00"))
    UserFactory(email="kari.nordmann@example.com")
    charge = stripe_event("charge_succeeded")
    stored = inbox.event_receive(
        source="stripe_connect",
        event_id=charge["id"],
        event_type=charge["type"],
        payload=json.dumps(charge),
        account=ACCOUNT,
    )
    inbox.event_process(event_id=stored.pk)
    refunds = []
    for i, cumulative in enumerate([4900, 9900, 14900, 24900, 9900, 24900]):
        event = stripe_event("charge_refunded", id=f"evt_3QMerchantRefundC{i}", object__amount_refunded=cumulative)
        refunds.append(
            inbox.event_receive(
                source="stripe_connect",
                event_id=event["id"],
                event_type=event["type"],
                payload=json.dumps(event),
                account=ACCOUNT,
            )
        )

    results = run_together(lambda i: inbox.event_process(event_id=refunds[i].pk), threads=len(refunds))

    assert all(result in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED) for result in results), results
    purchase = Purchase.objects.get()
    assert purchase.refunded_minor == 24900
    assert _earned(purchase) == 0


# --- Current API versions (no charge.invoice, no line price; fixtures *_current.json) ------------


def test_a_current_version_invoice_reads_its_lines_pricing_and_metadata(world, deliver):
    LineItemRuleFactory(offer=world.offer, scope="category", key="shoes", kind="percent", percent=Decimal("20.00"))

    stored = deliver(stripe_event("invoice_paid_current"))

    assert stored.status == WebhookStatus.PROCESSED, stored.last_error or stored.unmatched_reason
    purchase = Purchase.objects.get()
    assert purchase.external_id == "in_1QMerchantInvoice02" and purchase.amount_minor == 60000
    assert [(line["product"], line["category"]) for line in purchase.line_items] == [
        ("prod_QShoes42", "shoes"),
        ("prod_QSocks3", "socks"),
    ]
    assert _earned(purchase) == 10000 + 1000


def test_an_expanded_price_on_a_current_line_gives_its_category(world, deliver):
    event = stripe_event("invoice_paid_current")
    line = event["data"]["object"]["lines"]["data"][0]
    line["metadata"] = {}
    line["pricing"]["price_details"]["price"] = {
        "id": "price_1QShoes",
        "object": "price",
        "metadata": {"category": "boots"},
    }

    deliver(event)

    assert Purchase.objects.get().line_items[0]["category"] == "boots"


@pytest.mark.parametrize("order", list(itertools.permutations(["invoice", "charge", "payment"])))
def test_a_current_version_invoice_and_its_charge_count_once_in_any_order(world, deliver, order):
    events = {
        "invoice": stripe_event("invoice_paid_current"),
        "charge": stripe_event("charge_succeeded_current"),
        "payment": stripe_event("invoice_payment_paid"),
    }
    for name in order:
        stored = deliver(events[name])
        assert stored.status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED), stored.last_error
    deliver(events["charge"])  # a redelivery changes nothing

    invoice = Purchase.objects.get(external_id="in_1QMerchantInvoice02")
    assert _earned(invoice) == 6000
    charge = Purchase.objects.filter(external_id="ch_3QMerchantInvCharge2").first()
    assert charge is None or (charge.reversed and _earned(charge) == 0)
    assert sum(Reward.objects.values_list("amount_minor", flat=True)) == 6000


def test_an_invoice_with_expanded_payments_claims_its_charge(world, deliver):
    deliver(stripe_event("charge_succeeded_current"))
    event = stripe_event("invoice_paid_current")
    event["data"]["object"]["payments"] = {
        "object": "list",
        "data": [json.loads((EVENTS / "invoice_payment_paid.json").read_text())["data"]["object"]],
        "has_more": False,
        "url": "/v1/invoice_payments",
    }

    deliver(event)

    assert Purchase.objects.get(external_id="ch_3QMerchantInvCharge2").reversed
    assert sum(Reward.objects.values_list("amount_minor", flat=True)) == 6000


def test_a_current_version_refund_of_an_invoice_charge_refunds_the_invoice(world, deliver):
    deliver(stripe_event("invoice_paid_current"))
    deliver(stripe_event("invoice_payment_paid"))
    refund = stripe_event(
        "charge_refunded",
        object__id="ch_3QMerchantInvCharge2",
        object__payment_intent="pi_3QMerchantInvCharge2",
        object__amount=60000,
        object__amount_refunded=30000,
    )
    del refund["data"]["object"]["invoice"]

    deliver(refund)

    purchase = Purchase.objects.get()
    assert purchase.external_id == "in_1QMerchantInvoice02" and purchase.refunded_minor == 30000
    assert _earned(purchase) == 3000


# --- Credit notes: matched through their customer and invoice (a credit note has no e-mail) --------


def test_a_credit_note_of_an_unlinked_customer_is_matched_through_its_invoice(world, deliver):
    deliver(stripe_event("invoice_paid_current"))

    stored = deliver(stripe_event("credit_note_created_current"))

    assert stored.status == WebhookStatus.PROCESSED, stored.unmatched_reason or stored.last_error
    purchase = Purchase.objects.get()
    assert purchase.refunded_minor == 15000 and _earned(purchase) == 4500
    link = CustomerLink.objects.get(external_id="cus_RMerchantCust09")
    assert (link.user, link.via) == (world.consumer, "invoice_match")


def test_an_old_version_credit_note_needs_no_email_either(world, deliver):
    deliver(stripe_event("invoice_paid"))
    CustomerLink.objects.all().delete()

    stored = deliver(stripe_event("credit_note_created"))

    assert stored.status == WebhookStatus.PROCESSED, stored.unmatched_reason
    assert Purchase.objects.get().refunded_minor == 15000


def test_a_credit_note_for_an_unknown_invoice_is_parked_and_explained(world, deliver):
    stored = deliver(stripe_event("credit_note_created_current", object__invoice="in_Unknown"))

    assert stored.status == WebhookStatus.UNMATCHED
    assert "in_Unknown" in stored.unmatched_reason
    assert not Purchase.objects.exists()
