"""Monthly billing: figures from the ledger, the statement, its ledger entries, Stripe, webhooks, overdue."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns.models import OfferStatus
from cashback.events import delivery_run
from cashback.inbox import Ignored
from cashback.models import FactDelivery, WebhookEvent, WebhookStatus
from cashback.providers.stripe_gateway import FakeStripeGateway
from merchants import billing_webhooks, selectors
from merchants.billing_demo import DEMO_CONSUMER_EMAIL, seed_demo_billing
from merchants.billing_selectors import round_half_up
from merchants.demo import DEMO_ORG_NUMBER
from merchants.errors import BillingPeriodOpenError, InvalidCommissionRateError, InvalidVatNumberError
from merchants.models import CommissionRate, MerchantInvoice, StripeConnection
from merchants.services.billing_details import billing_details_update, commission_rate_set
from merchants.services.billing_invoices import invoice_close, invoices_close_month
from merchants.services.billing_payments import invoice_mark_paid, invoice_send, invoices_mark_overdue_due
from merchants.vat_numbers import validate_vat_number
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.test_stripe_source import stripe_event
from tests.merchants.factories import MembershipFactory, MerchantFactory
from tests.webhooks import STRIPE_CONNECT_SECRET, STRIPE_SECRET, post_stripe
from wallet.invariants import ledger_violations
from wallet.models import AccountKind, JournalKind, JournalTransaction, LedgerAccount
from wallet.services import account_get_or_create, platform_account, transaction_post, transfer

OSLO = ZoneInfo("Europe/Oslo")


def this_month() -> date:
    return timezone.localtime(timezone.now(), OSLO).date().replace(day=1)


def after_month() -> datetime:
    """A moment in the next month: the current month is then over and may be invoiced."""
    start = this_month()
    return datetime(start.year + (start.month == 12), start.month % 12 + 1, 2, 12, tzinfo=OSLO)


class Books:
    """A merchant's ledger moves made the way rewards and checkout spending make them."""

    def __init__(self, merchant, currency="NOK"):
        self.merchant, self.currency, self.n = merchant, currency, 0
        key = merchant.ledger_owner_key
        self.funding = account_get_or_create(kind=AccountKind.MERCHANT_FUNDING, currency=currency, owner_key=key)
        self.receivable = account_get_or_create(kind=AccountKind.MERCHANT_RECEIVABLE, currency=currency, owner_key=key)
        self.outside = platform_account(kind=AccountKind.SETTLEMENT, currency=currency)

    def _post(self, kind, debit, credit, amount):
        self.n += 1
        transaction_post(
            idempotency_key=f"test:{self.merchant.pk}:{self.n}",
            kind=kind,
            entries=transfer(debit=debit, credit=credit, amount=amount),
        )

    def prepay(self, amount):
        self._post(JournalKind.MERCHANT_FUNDING, self.outside, self.funding, amount)

    def reward(self, amount, *, from_receivable=False):
        self._post(JournalKind.REWARD_EARN, self.receivable if from_receivable else self.funding, self.outside, amount)

    def reverse(self, amount):
        self._post(JournalKind.REWARD_REVERSE, self.outside, self.funding, amount)

    def spend(self, amount):
        self._post(JournalKind.SPEND, self.outside, self.receivable, amount)


def ledger_keys(invoice):
    return set(
        JournalTransaction.objects.filter(idempotency_key__startswith=invoice.ledger_key + ":").values_list(
            "idempotency_key", flat=True
        )
    )


@pytest.fixture(autouse=True)
def _fake_stripe(settings):
    settings.STRIPE_PROVIDER = "fake"
    FakeStripeGateway.reset()


# --- Figures and the statement ----------------------------------------------------------------


@pytest.mark.django_db
def test_statement_bills_cost_plus_commission_less_spent_and_posts_keyed_entries():
    merchant = MerchantFactory()
    books = Books(merchant)
    books.prepay(100_000)
    books.reward(10_000)
    books.reward(2_345)
    books.reverse(345)
    books.reward(1_000, from_receivable=True)  # funding short: owed on the receivable
    books.spend(4_000)

    invoice = invoice_close(merchant_id=merchant.pk, currency="NOK", period=this_month(), now=after_month())

    assert invoice.cost_minor == 13_000 and invoice.funded_minor == 12_000
    assert invoice.commission_exact == Decimal("1950.0000") and invoice.commission_minor == 1_950
    assert invoice.spent_minor == 4_000
    assert invoice.total_minor == 13_000 + 1_950 - 4_000
    assert invoice.status == MerchantInvoice.Status.DRAFT and invoice.kind == "invoice"
    assert sorted(line.amount_minor for line in invoice.lines.all()) == [-4_000, 1_950, 13_000]
    key = f"invoice:{merchant.pk}:NOK:{this_month():%Y-%m}"
    assert ledger_keys(invoice) == {f"{key}:commission", f"{key}:funding"}
    assert LedgerAccount.objects.get(pk=books.funding.pk).balance == 100_000  # the float restored
    # The month's part of the receivable is what the invoice collects.
    assert LedgerAccount.objects.get(pk=books.receivable.pk).balance == -invoice.total_minor
    assert platform_account(kind=AccountKind.PLATFORM_REVENUE, currency="NOK").balance == 1_950
    assert ledger_violations() == []


@pytest.mark.django_db
def test_closing_again_returns_the_same_statement_and_posts_nothing_more():
    merchant = MerchantFactory()
    books = Books(merchant)
    books.prepay(10_000)
    books.reward(1_000)
    first = invoices_close_month(period=this_month(), now=after_month())
    journals = JournalTransaction.objects.count()

    second = invoices_close_month(period=this_month(), now=after_month())

    assert first == second and MerchantInvoice.objects.count() == 1
    assert JournalTransaction.objects.count() == journals


@pytest.mark.django_db
def test_nothing_that_month_gives_no_invoice_and_an_open_month_is_refused():
    merchant = MerchantFactory()
    assert invoices_close_month(period=this_month(), now=after_month()) == []
    with pytest.raises(BillingPeriodOpenError):
        invoice_close(merchant_id=merchant.pk, currency="NOK", period=this_month())
    assert MerchantInvoice.objects.count() == 0


@pytest.mark.django_db
def test_commission_uses_the_rate_in_force_and_the_default_otherwise(settings):
    merchant = MerchantFactory()
    today = timezone.localdate()
    assert selectors.commission_rate(merchant_id=merchant.pk, on=today) == Decimal("0.15")
    commission_rate_set(merchant=merchant, rate="0.1234", valid_from=today - timedelta(days=400), actor=None)
    commission_rate_set(merchant=merchant, rate="0.08", valid_from=today, actor=None)
    assert selectors.commission_rate(merchant_id=merchant.pk, on=today) == Decimal("0.0800")
    assert selectors.commission_rate(merchant_id=merchant.pk, on=today - timedelta(days=1)) == Decimal("0.1234")
    assert selectors.commission_rate(merchant_id=merchant.pk, on=today - timedelta(days=500)) == Decimal("0.15")
    assert merchant.audit_events.filter(action="billing.commission_rate_set").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["1", "1.5", "-0.01", "0.12345", "abc", "NaN", ""])
def test_bad_commission_rates_are_refused(bad):
    merchant = MerchantFactory()
    with pytest.raises(InvalidCommissionRateError):
        commission_rate_set(merchant=merchant, rate=bad, valid_from=timezone.localdate(), actor=None)
    assert CommissionRate.objects.count() == 0


@pytest.mark.django_db
@hypothesis_settings(max_examples=25, deadline=None)
@given(
    moves=st.lists(
        st.tuples(st.sampled_from(["reward", "owed", "reverse", "spend"]), st.integers(min_value=1, max_value=50_000)),
        min_size=1,
        max_size=12,
    ),
    rate=st.decimals(min_value=0, max_value=Decimal("0.9999"), places=4),
)
def test_total_is_cost_plus_commission_less_spent_and_the_ledger_balances(moves, rate):
    MerchantInvoice.objects.all().delete()
    merchant = MerchantFactory()
    commission_rate_set(merchant=merchant, rate=rate, valid_from=date(2000, 1, 1), actor=None)
    books = Books(merchant)
    books.prepay(10_000_000)
    cost = spent = 0
    for move, amount in moves:
        if move == "reward":
            books.reward(amount)
            cost += amount
        elif move == "owed":
            books.reward(amount, from_receivable=True)
            cost += amount
        elif move == "reverse":
            books.reverse(amount)
            cost -= amount
        else:
            books.spend(amount)
            spent += amount

    invoice = invoice_close(merchant_id=merchant.pk, currency="NOK", period=this_month(), now=after_month())

    commission = max(0, round_half_up(Decimal(cost) * rate))
    assert invoice.cost_minor == cost and invoice.spent_minor == spent
    assert invoice.commission_minor == commission
    assert invoice.total_minor == cost + commission - spent
    assert sum(line.amount_minor for line in invoice.lines.all()) == invoice.total_minor
    assert ledger_violations() == []
    assert LedgerAccount.objects.get(pk=books.funding.pk).balance == 10_000_000


# --- Stripe, webhooks, overdue --------------------------------------------------------------------


def closed_invoice(*, spend=0, reward=10_000):
    merchant = MerchantFactory(billing_email="billing@example.com")
    books = Books(merchant)
    books.prepay(1_000_000)
    books.reward(reward)
    if spend:
        books.spend(spend)
    return invoice_close(merchant_id=merchant.pk, currency="NOK", period=this_month(), now=after_month())


def webhook(event_type, invoice, **extra):
    metadata = {"cashback_merchant_invoice": str(invoice.pk)}
    obj = {"id": invoice.stripe_invoice_id or "in_x", "object": "invoice", "metadata": metadata, **extra}
    return WebhookEvent(
        source="stripe", event_id=f"evt_{event_type}", event_type=event_type, payload={"data": {"object": obj}}
    )


@pytest.mark.django_db
def test_sending_creates_the_customer_items_and_a_finalised_invoice_with_stored_keys():
    invoice = closed_invoice(spend=1_000)

    sent = invoice_send(invoice_id=invoice.pk)

    assert sent.status == MerchantInvoice.Status.OPEN and sent.stripe_invoice_id.startswith("in_fake_")
    key = invoice.ledger_key
    assert [c.idempotency_key for c in FakeStripeGateway.calls("customer_create")] == [
        f"merchant:{invoice.merchant_id}:billing-customer"
    ]
    assert FakeStripeGateway.calls("customer_create")[0].params["email"] == "billing@example.com"
    items = FakeStripeGateway.calls("invoice_item_create")
    assert {c.idempotency_key for c in items} == {f"{key}:item:cashback", f"{key}:item:commission", f"{key}:item:spent"}
    assert sum(c.params["amount"] for c in items) == invoice.total_minor
    assert FakeStripeGateway.calls("invoice_create")[0].params["metadata"]["cashback_merchant_invoice"] == str(
        invoice.pk
    )
    assert FakeStripeGateway.calls("invoice_finalize")[0].idempotency_key == f"{key}:finalize"
    # Twice: nothing more in Stripe.
    invoice_send(invoice_id=invoice.pk)
    assert len(FakeStripeGateway.calls("invoice_finalize")) == 1


@pytest.mark.django_db
def test_a_lost_finalise_answer_is_retried_with_the_same_keys():
    invoice = closed_invoice()
    FakeStripeGateway.fail_next("invoice_finalize", after_call=True)
    with pytest.raises(Exception, match="Injected"):
        invoice_send(invoice_id=invoice.pk)
    assert MerchantInvoice.objects.get(pk=invoice.pk).last_error

    assert invoice_send(invoice_id=invoice.pk).status == MerchantInvoice.Status.OPEN
    assert len({c.idempotency_key for c in FakeStripeGateway.calls("invoice_create")}) == 1


@pytest.mark.django_db
def test_paid_webhook_before_the_finalise_returns_leaves_it_paid_and_books_the_payment_once():
    invoice = closed_invoice()
    billing_webhooks.invoice_paid(webhook("invoice.paid", invoice))
    billing_webhooks.invoice_paid(webhook("invoice.paid", invoice))

    after = invoice_send(invoice_id=invoice.pk)

    assert after.status == MerchantInvoice.Status.PAID
    assert f"{invoice.ledger_key}:payment" in ledger_keys(invoice)
    receivable = LedgerAccount.objects.get(owner_key=f"merchant:{invoice.merchant_id}", kind="merchant_receivable")
    assert receivable.balance == 0
    assert ledger_violations() == []


@pytest.mark.django_db
def test_failed_then_paid_and_an_invoice_without_our_reference_is_ignored():
    invoice = closed_invoice()
    invoice_send(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    billing_webhooks.invoice_payment_failed(webhook("invoice.payment_failed", invoice))
    assert MerchantInvoice.objects.get(pk=invoice.pk).status == MerchantInvoice.Status.PAYMENT_FAILED
    billing_webhooks.invoice_paid(webhook("invoice.paid", invoice))
    assert MerchantInvoice.objects.get(pk=invoice.pk).status == MerchantInvoice.Status.PAID
    # Failed after paid changes nothing.
    billing_webhooks.invoice_payment_failed(webhook("invoice.payment_failed", invoice))
    assert MerchantInvoice.objects.get(pk=invoice.pk).status == MerchantInvoice.Status.PAID

    foreign = WebhookEvent(
        source="stripe", event_id="evt_other", event_type="invoice.paid", payload={"data": {"object": {"id": "in_1"}}}
    )
    with pytest.raises(Ignored):
        billing_webhooks.invoice_paid(foreign)


def run_deliveries():
    for delivery in FactDelivery.objects.order_by("id"):
        delivery_run(delivery_id=delivery.pk)


@pytest.mark.django_db
def test_overdue_pauses_live_offers_and_paying_resumes_only_those():
    invoice = closed_invoice()
    invoice_send(invoice_id=invoice.pk)
    live = OfferFactory(merchant=invoice.merchant)
    own_pause = OfferFactory(merchant=invoice.merchant, status=OfferStatus.PAUSED)
    due = MerchantInvoice.objects.get(pk=invoice.pk).due_date

    assert invoices_mark_overdue_due(today=due + timedelta(days=14)) == 0  # within the grace period
    assert invoices_mark_overdue_due(today=due + timedelta(days=15)) == 1
    run_deliveries()
    live.refresh_from_db()
    assert MerchantInvoice.objects.get(pk=invoice.pk).status == MerchantInvoice.Status.OVERDUE
    assert live.status == OfferStatus.PAUSED
    assert live.status_changes.first().reason.startswith("Paused for an overdue invoice")

    invoice_mark_paid(invoice_id=invoice.pk)
    run_deliveries()
    live.refresh_from_db()
    own_pause.refresh_from_db()
    assert live.status == OfferStatus.LIVE
    assert own_pause.status == OfferStatus.PAUSED


@pytest.mark.django_db
def test_a_negative_balance_becomes_one_transfer_to_the_connected_account():
    invoice = closed_invoice(reward=1_000, spend=5_000)
    assert invoice.kind == MerchantInvoice.Kind.CREDIT_TRANSFER and invoice.total_minor == 1_000 + 150 - 5_000
    assert invoice_send(invoice_id=invoice.pk).status == MerchantInvoice.Status.DRAFT  # nowhere to pay yet
    StripeConnection.objects.create(merchant=invoice.merchant, stripe_account_id="acct_m", status="active")

    paid = invoice_send(invoice_id=invoice.pk)
    invoice_send(invoice_id=invoice.pk)

    assert paid.status == MerchantInvoice.Status.PAID and paid.stripe_transfer_id.startswith("tr_fake_")
    calls = FakeStripeGateway.calls("transfer_create")
    assert len(calls) == 1 and calls[0].params["amount"] == 3_850 and calls[0].idempotency_key.endswith(":transfer")
    receivable = LedgerAccount.objects.get(owner_key=f"merchant:{invoice.merchant_id}", kind="merchant_receivable")
    assert receivable.balance == 0
    assert ledger_violations() == []


# --- Billing details ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "country", "org", "expected"),
    [
        ("923 609 016 MVA", "NO", "923609016", "923609016MVA"),
        ("NO923609016MVA", "NO", "", "923609016MVA"),
        ("SE556677889901", "SE", "5566778899", "SE556677889901"),
        ("dk12345678", "DK", "", "DK12345678"),
        ("", "NO", "", ""),
    ],
)
def test_vat_numbers_are_normalised(value, country, org, expected):
    assert validate_vat_number(value, country=country, organisation_number=org) == expected


@pytest.mark.parametrize(
    ("value", "country", "org"),
    [
        ("923609016", "NO", ""),  # no MVA
        ("923609017MVA", "NO", ""),  # bad check digit
        ("923609016MVA", "NO", "987654321"),  # another business's
        ("SE5566778899", "SE", ""),
        ("FI1234567", "FI", ""),
        ("DE123456789", "DK", ""),
    ],
)
def test_bad_vat_numbers_are_refused(value, country, org):
    with pytest.raises(InvalidVatNumberError):
        validate_vat_number(value, country=country, organisation_number=org)


@pytest.mark.django_db
def test_billing_details_are_saved_and_audited():
    merchant = MerchantFactory(country="NO", organisation_number="923609016")
    billing_details_update(merchant=merchant, actor=None, billing_email="a@b.no", vat_number="923 609 016 mva")
    merchant.refresh_from_db()
    assert (merchant.billing_email, merchant.vat_number) == ("a@b.no", "923609016MVA")
    assert merchant.audit_events.filter(action="billing.details_changed").count() == 1


# --- Pages ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_billing_page_lists_statements_and_editors_save_details_analysts_cannot(client):
    invoice = closed_invoice()
    merchant = invoice.merchant
    merchant.country, merchant.organisation_number = "NO", "923609016"
    merchant.save()
    owner = MembershipFactory(merchant=merchant, role="owner")
    analyst = MembershipFactory(merchant=merchant, role="analyst")
    url = reverse("merchants:billing", kwargs={"merchant_id": merchant.pk})
    details = reverse("merchants:billing_details", kwargs={"merchant_id": merchant.pk})

    client.force_login(analyst.user)
    page = client.get(url)
    assert page.status_code == 200 and invoice.number in page.text and "Save billing details" not in page.text
    assert client.post(details, {"billing_email": "x@y.no", "vat_number": ""}).status_code == 403

    client.force_login(owner.user)
    bad = client.post(details, {"billing_email": "x@y.no", "vat_number": "123MVA"})
    assert bad.status_code == 400 and "organisation number followed by MVA" in bad.text
    assert client.post(details, {"billing_email": "x@y.no", "vat_number": "923609016MVA"}).status_code == 302
    merchant.refresh_from_db()
    assert merchant.vat_number == "923609016MVA"

    pdf = client.get(reverse("merchants:invoice_pdf", kwargs={"merchant_id": merchant.pk, "invoice_id": invoice.pk}))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_the_billing_page_has_an_empty_state(client):
    owner = MembershipFactory(role="owner")
    client.force_login(owner.user)
    page = client.get(reverse("merchants:billing", kwargs={"merchant_id": owner.merchant_id}))
    assert page.status_code == 200 and "No statements yet" in page.text


@pytest.mark.django_db
def test_demo_seeding_twice_makes_last_months_statement_once():
    merchant = MerchantFactory(country="NO", organisation_number=DEMO_ORG_NUMBER)
    UserFactory(email=DEMO_CONSUMER_EMAIL)

    first = seed_demo_billing()
    second = seed_demo_billing()

    assert first == second and MerchantInvoice.objects.filter(merchant=merchant).count() == 1
    invoice = MerchantInvoice.objects.get()
    assert invoice.cost_minor == 30_920 and invoice.spent_minor == 5_000
    assert invoice.status in ("draft", "open")  # sent after commit (no commit inside this test)
    assert ledger_violations() == []


@pytest.mark.django_db
def test_the_real_client_sends_the_statement_to_stripe(stripe_stub):
    invoice = closed_invoice(spend=1_000)

    sent = invoice_send(invoice_id=invoice.pk)

    assert sent.status == MerchantInvoice.Status.OPEN and sent.stripe_invoice_id.startswith("in_stub")
    assert stripe_stub.invoices[sent.stripe_invoice_id]["amount_due"] == invoice.total_minor
    assert len(stripe_stub.requests_to("POST", "/v1/invoiceitems")) == 3
    assert sent.merchant.stripe_customer_id.startswith("cus_stub") or MerchantInvoice.objects.get(
        pk=invoice.pk
    ).merchant.stripe_customer_id.startswith("cus_stub")


# --- The webhook doors ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_signed_webhooks_at_the_platform_door_move_the_statement_and_the_connect_handler_ignores_ours(
    settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET
    invoice = invoice_send(invoice_id=closed_invoice().pk)
    ours = {"cashback_merchant_invoice": str(invoice.pk)}

    stripe_id = invoice.stripe_invoice_id
    failed = stripe_event("invoice_paid", id="evt_bill_failed", object__id=stripe_id, object__metadata=ours)
    failed["type"] = "invoice.payment_failed"
    failed["data"]["object"]["amount_due"] = invoice.total_minor
    paid = stripe_event("invoice_paid", id="evt_bill_paid", object__id=invoice.stripe_invoice_id, object__metadata=ours)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_stripe(failed).status_code == 202
    assert MerchantInvoice.objects.get(pk=invoice.pk).status == MerchantInvoice.Status.PAYMENT_FAILED
    with django_capture_on_commit_callbacks(execute=True):
        assert post_stripe(paid).status_code == 202
    assert MerchantInvoice.objects.get(pk=invoice.pk).status == MerchantInvoice.Status.PAID

    # The same invoice arriving at the connected accounts' door earns nobody cashback.
    connect = stripe_event("invoice_paid", id="evt_bill_connect", object__metadata=ours)
    with django_capture_on_commit_callbacks(execute=True):
        post_stripe(connect, connect=True)
    assert WebhookEvent.objects.get(event_id="evt_bill_connect").status == WebhookStatus.IGNORED

    # A bad reference is refused at the door.
    bad = stripe_event("invoice_paid", id="evt_bill_bad", object__metadata={"cashback_merchant_invoice": 7})
    assert post_stripe(bad).status_code == 400
