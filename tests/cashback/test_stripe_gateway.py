"""The Stripe gateway: the real SDK's HTTP requests (to a local stub server) and the fake."""

import json
from pathlib import Path

import pytest

from cashback.providers.stripe_gateway import (
    FakeStripeGateway,
    StripeGateway,
    StripeGatewayError,
    get_stripe_gateway,
)

EVENTS = Path(__file__).resolve().parent.parent / "campaigns" / "stripe_events"

# --- choosing ----------------------------------------------------------------------


def test_fake_is_the_default_without_a_key(settings):
    settings.STRIPE_PROVIDER = "fake"
    assert isinstance(get_stripe_gateway(), FakeStripeGateway)


def test_the_real_client_when_configured(settings):
    settings.STRIPE_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    assert isinstance(get_stripe_gateway(), StripeGateway)


def test_the_real_client_needs_a_key(settings):
    settings.STRIPE_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(NotImplementedError):
        get_stripe_gateway()


# --- the real SDK against the stub ------------------------------------------------


def test_transfer_is_a_form_encoded_post_with_our_idempotency_key(stripe_stub):
    gateway = get_stripe_gateway()

    transfer = gateway.transfer_create(
        amount_minor=15050,
        currency="NOK",
        destination="acct_123",
        idempotency_key="payout:7:transfer",
        metadata={"payout": 7},
    )

    [request] = stripe_stub.requests_to("POST", "/v1/transfers")
    assert request.form == {
        "amount": "15050",
        "currency": "nok",
        "destination": "acct_123",
        "metadata[payout]": "7",
    }
    assert request.headers["Idempotency-Key"] == "payout:7:transfer"
    assert request.headers["Authorization"] == "Bearer sk_test_stub"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Stripe-Account" not in request.headers
    assert transfer["id"].startswith("tr_")
    assert transfer["object"] == "transfer"
    assert transfer["amount"] == 15050
    assert transfer["destination"] == "acct_123"


def test_payout_is_made_on_the_connected_account(stripe_stub):
    gateway = get_stripe_gateway()

    payout = gateway.payout_create(
        account_id="acct_123",
        amount_minor=999,
        currency="SEK",
        idempotency_key="payout:8:payout",
        metadata={"payout": "8"},
    )

    [request] = stripe_stub.requests_to("POST", "/v1/payouts")
    assert request.form == {"amount": "999", "currency": "sek", "metadata[payout]": "8"}
    assert request.headers["Stripe-Account"] == "acct_123"
    assert request.headers["Idempotency-Key"] == "payout:8:payout"
    assert payout["id"].startswith("po_")
    assert payout["status"] == "pending"


def test_a_replayed_key_gets_the_first_object_back(stripe_stub):
    gateway = get_stripe_gateway()
    kwargs = {
        "amount_minor": 100,
        "currency": "NOK",
        "destination": "acct_1",
        "idempotency_key": "payout:9:transfer",
        "metadata": {},
    }

    first = gateway.transfer_create(**kwargs)
    second = gateway.transfer_create(**kwargs)

    assert first["id"] == second["id"]
    requests = stripe_stub.requests_to("POST", "/v1/transfers")
    assert [r.headers["Idempotency-Key"] for r in requests] == ["payout:9:transfer"] * 2
    assert [r.replayed for r in requests] == [False, True]


def test_the_same_key_with_other_parameters_is_refused(stripe_stub):
    gateway = get_stripe_gateway()
    base = {"currency": "NOK", "destination": "acct_1", "idempotency_key": "k1", "metadata": {}}
    gateway.transfer_create(amount_minor=100, **base)

    with pytest.raises(StripeGatewayError) as caught:
        gateway.transfer_create(amount_minor=200, **base)

    assert caught.value.retryable is False


def test_connected_account_and_onboarding_link(stripe_stub):
    gateway = get_stripe_gateway()

    account_id = gateway.connected_account_create(
        email="kari@example.com",
        country="NO",
        business_type="individual",
        idempotency_key="payout-account:5:create",
        metadata={"user": 5},
    )
    url = gateway.account_link_create(
        account_id=account_id,
        refresh_url="https://x.test/refresh",
        return_url="https://x.test/return",
        idempotency_key="payout-account:5:link:1",
    )
    account = gateway.account_retrieve(account_id=account_id)

    [create] = stripe_stub.requests_to("POST", "/v1/accounts")
    assert create.form == {
        "type": "express",
        "country": "NO",
        "email": "kari@example.com",
        "business_type": "individual",
        "capabilities[transfers][requested]": "true",
        "metadata[user]": "5",
    }
    assert create.headers["Idempotency-Key"] == "payout-account:5:create"
    [link] = stripe_stub.requests_to("POST", "/v1/account_links")
    assert link.form == {
        "account": account_id,
        "refresh_url": "https://x.test/refresh",
        "return_url": "https://x.test/return",
        "type": "account_onboarding",
    }
    assert link.headers["Idempotency-Key"] == "payout-account:5:link:1"
    assert url.startswith("https://connect.stripe.com/setup/")
    [retrieve] = stripe_stub.requests_to("GET", f"/v1/accounts/{account_id}")
    assert account["payouts_enabled"] is False
    assert account["details_submitted"] is False
    assert retrieve.form == {}


def test_price_retrieve_reads_the_connected_accounts_price_with_its_product(stripe_stub):
    stripe_stub.prices["price_1QCashback"] = json.loads((EVENTS / "price_cashback.json").read_text())

    price = get_stripe_gateway().price_retrieve(account_id="acct_1QMerchantShop01", price_id="price_1QCashback")

    [request] = stripe_stub.requests_to("GET", "/v1/prices/price_1QCashback")
    assert request.form == {"expand[0]": "product"}
    assert request.headers["Stripe-Account"] == "acct_1QMerchantShop01"
    assert "Idempotency-Key" not in request.headers
    assert price["unit_amount"] == 0
    assert price["product"]["metadata"]["cashback_rate"] == "0.01"


def test_a_missing_price_is_a_refusal_not_a_retry(stripe_stub):
    with pytest.raises(StripeGatewayError) as caught:
        get_stripe_gateway().price_retrieve(account_id="acct_1", price_id="price_gone")
    assert caught.value.retryable is False
    assert caught.value.stripe_code == "resource_missing"


def test_transfer_reversal(stripe_stub):
    reversal = get_stripe_gateway().transfer_reversal_create(
        transfer_id="tr_42", amount_minor=500, idempotency_key="payout:3:reversal", metadata={"payout": 3}
    )
    [request] = stripe_stub.requests_to("POST", "/v1/transfers/tr_42/reversals")
    assert request.form == {"amount": "500", "metadata[payout]": "3"}
    assert request.headers["Idempotency-Key"] == "payout:3:reversal"
    assert reversal["object"] == "transfer_reversal"
    assert reversal["transfer"] == "tr_42"


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [
        (500, "api_error", True),
        (429, "invalid_request_error", True),
        (400, "invalid_request_error", False),
        (402, "card_error", False),
    ],
)
def test_errors_say_whether_a_retry_may_help(stripe_stub, status, error_type, retryable):
    stripe_stub.fail_next("POST", "/v1/payouts", status=status, error_type=error_type, message="Nope")
    gateway = get_stripe_gateway()

    with pytest.raises(StripeGatewayError) as caught:
        gateway.payout_create(account_id="acct_1", amount_minor=100, currency="NOK", idempotency_key="k", metadata={})

    assert caught.value.retryable is retryable
    assert caught.value.code == "payment_provider_error"


def test_network_failure_is_retryable():
    gateway = StripeGateway(api_key="sk_test_x", api_base="http://127.0.0.1:9", max_network_retries=0)
    with pytest.raises(StripeGatewayError) as caught:
        gateway.account_retrieve(account_id="acct_1")
    assert caught.value.retryable is True


# --- the fake ------------------------------------------------------------------------


def test_fake_ids_follow_the_key_across_instances(fake_stripe):
    kwargs = {"amount_minor": 100, "currency": "NOK", "destination": "acct_1", "idempotency_key": "k", "metadata": {}}
    first = FakeStripeGateway().transfer_create(**kwargs)
    fake_stripe.reset()  # another process knows nothing of the first call
    second = FakeStripeGateway().transfer_create(**kwargs)
    assert first["id"] == second["id"]


def test_fake_records_calls_and_refuses_a_key_with_other_parameters(fake_stripe):
    gateway = FakeStripeGateway()
    gateway.payout_create(account_id="acct_1", amount_minor=100, currency="NOK", idempotency_key="k", metadata={})
    with pytest.raises(StripeGatewayError):
        gateway.payout_create(account_id="acct_1", amount_minor=101, currency="NOK", idempotency_key="k", metadata={})
    [call] = fake_stripe.calls("payout_create")
    assert call.idempotency_key == "k"
    assert call.params["stripe_account"] == "acct_1"


def test_fake_failure_before_and_after_the_remote_side_acts(fake_stripe):
    gateway = FakeStripeGateway()
    kwargs = {"amount_minor": 100, "currency": "NOK", "destination": "acct_1", "idempotency_key": "k", "metadata": {}}

    fake_stripe.fail_next("transfer_create")
    with pytest.raises(StripeGatewayError):
        gateway.transfer_create(**kwargs)
    assert fake_stripe.calls("transfer_create") == []

    fake_stripe.fail_next("transfer_create", after_call=True)
    with pytest.raises(StripeGatewayError):
        gateway.transfer_create(**kwargs)
    assert len(fake_stripe.calls("transfer_create")) == 1

    assert gateway.transfer_create(**kwargs)["id"].startswith("tr_fake_")


def test_fake_account_is_ready_unless_told_otherwise(fake_stripe):
    gateway = FakeStripeGateway()
    account_id = gateway.connected_account_create(
        email="a@b.c", country="NO", business_type="individual", idempotency_key="acct-key", metadata={}
    )
    assert gateway.account_retrieve(account_id=account_id)["payouts_enabled"] is True
    fake_stripe.account_set(account_id, payouts_enabled=False, details_submitted=False)
    assert gateway.account_retrieve(account_id=account_id)["payouts_enabled"] is False
    url = gateway.account_link_create(account_id=account_id, refresh_url="/r", return_url="/back", idempotency_key="l1")
    assert url == "/back"


# --- Merchant billing: customer, invoice, items, finalisation (docs/billing.md) -----------------


def test_billing_invoice_calls_send_stripes_parameters_and_our_keys(stripe_stub):
    gateway = get_stripe_gateway()

    customer = gateway.customer_create(
        email="billing@fjord.example",
        name="Fjord Coffee AS",
        idempotency_key="merchant:7:billing-customer",
        metadata={"merchant_id": "7"},
    )
    draft = gateway.invoice_create(
        customer_id=customer["id"],
        currency="NOK",
        days_until_due=14,
        idempotency_key="invoice:7:NOK:2026-11:stripe-invoice",
        metadata={"cashback_merchant_invoice": "3"},
    )
    item = gateway.invoice_item_create(
        customer_id=customer["id"],
        invoice_id=draft["id"],
        amount_minor=-5000,
        currency="NOK",
        description="Spent at your checkout",
        idempotency_key="invoice:7:NOK:2026-11:item:spent",
        metadata={},
    )
    final = gateway.invoice_finalize(invoice_id=draft["id"], idempotency_key="invoice:7:NOK:2026-11:finalize")

    assert customer["id"].startswith("cus_") and draft["status"] == "draft" and item["amount"] == -5000
    assert final["status"] == "open" and final["hosted_invoice_url"].startswith("https://invoice.stripe.com/")
    [create] = stripe_stub.requests_to("POST", "/v1/invoices")
    assert create.form["collection_method"] == "send_invoice"
    assert create.form["days_until_due"] == "14"
    assert create.form["pending_invoice_items_behavior"] == "exclude"
    assert create.form["currency"] == "nok"
    assert create.form["metadata[cashback_merchant_invoice]"] == "3"
    assert create.headers["Idempotency-Key"] == "invoice:7:NOK:2026-11:stripe-invoice"
    [items] = stripe_stub.requests_to("POST", "/v1/invoiceitems")
    assert items.form["invoice"] == draft["id"] and items.form["amount"] == "-5000"
    assert items.headers["Idempotency-Key"] == "invoice:7:NOK:2026-11:item:spent"
    [finalize] = stripe_stub.requests_to("POST", f"/v1/invoices/{draft['id']}/finalize")
    assert finalize.headers["Idempotency-Key"] == "invoice:7:NOK:2026-11:finalize"
    [customer_request] = stripe_stub.requests_to("POST", "/v1/customers")
    assert customer_request.form["email"] == "billing@fjord.example"


def test_a_replayed_billing_invoice_key_gets_the_same_draft(stripe_stub):
    gateway = get_stripe_gateway()
    args = {"customer_id": "cus_1", "currency": "NOK", "days_until_due": 14, "idempotency_key": "k:inv", "metadata": {}}
    assert gateway.invoice_create(**args)["id"] == gateway.invoice_create(**args)["id"]
    assert len(stripe_stub.invoices) == 1
