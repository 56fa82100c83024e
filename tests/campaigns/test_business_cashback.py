"""Business cashback on Stripe billing (issue 21): real Stripe invoice, price, product and credit note
shapes (stripe_events/*.json), signed with Stripe's scheme and posted to /webhooks/stripe/connect/.
Periods are in 2025, so every month they pay for has ended and is booked as the events arrive."""

import copy
import json
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.test import TestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import BillingInvoice, BillingOptIn, Purchase, Reward
from cashback.models import WebhookEvent, WebhookStatus
from cashback.providers.stripe_gateway import FakeStripeGateway
from merchants.models import StripeConnection
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import assert_ledger_sound, consumer_balances, spend
from tests.merchants.factories import MerchantFactory
from tests.webhooks import STRIPE_CONNECT_SECRET, post_stripe

pytestmark = pytest.mark.django_db

EVENTS = Path(__file__).resolve().parent / "stripe_events"
OSLO = ZoneInfo("Europe/Oslo")


def at(year: int, month: int, day: int = 1) -> int:
    return int(datetime(year, month, day, tzinfo=OSLO).timestamp())


def _fixture(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


class Business:
    """A merchant billing a business customer through its connected Stripe account."""

    def __init__(self, *, rate: str = "0.01", percent: str = "5.00", max_per_month: int | None = None) -> None:
        tag = uuid4().hex[:10]
        self.account = f"acct_{tag}"
        self.customer_id = f"cus_{tag}"
        self.price_id = f"price_cashback_{tag}"
        self.merchant = MerchantFactory()
        StripeConnection.objects.create(
            merchant=self.merchant, stripe_account_id=self.account, status=StripeConnection.Status.ACTIVE
        )
        self.user = UserFactory(email=f"{tag}@fjord.example")
        self.programme = OfferFactory(
            merchant=self.merchant,
            basis="billing_period",
            percent=Decimal(percent),
            max_reward_per_purchase_minor=max_per_month,
            starts_at=datetime(2024, 1, 1, tzinfo=OSLO),
            ends_at=datetime(2030, 1, 1, tzinfo=OSLO),
            return_period_days=0,
        )
        price = _fixture("price_cashback")
        price["id"] = self.price_id
        price["product"]["metadata"] = {"cashback_rate": rate}
        FakeStripeGateway.price_set(price)

    def invoice(
        self,
        name: str,
        *,
        start: int,
        end: int,
        amount: int,
        paid: bool,
        cashback: bool = True,
        currency: str = "nok",
        credit_proration: tuple[str, int] | None = None,
    ) -> dict:
        event = _fixture("invoice_finalized_subscription")
        invoice = event["data"]["object"]
        invoice_id = f"in_{self.account}_{name}"
        event["id"] = f"evt_{invoice_id}_{'paid' if paid else 'finalized'}"
        event["account"] = event["context"] = self.account
        invoice.update(id=invoice_id, customer=self.customer_id, customer_email=self.user.email, currency=currency)
        plan, cash = invoice["lines"]["data"]
        plan.update(id=f"il_{invoice_id}_plan", amount=amount, subtotal=amount, period={"start": start, "end": end})
        cash.update(id=f"il_{invoice_id}_cash", period={"start": start, "end": end})
        cash["pricing"]["price_details"]["price"] = self.price_id
        lines = [plan, cash] if cashback else [plan]
        total = amount
        if credit_proration:
            credited, credit = credit_proration
            proration = copy.deepcopy(plan)
            proration.update(id=f"il_{invoice_id}_proration", amount=-credit, subtotal=-credit)
            proration["parent"]["subscription_item_details"].update(
                proration=True,
                proration_details={
                    "credited_items": {"invoice": f"in_{self.account}_{credited}", "invoice_line_items": ["il_x"]}
                },
            )
            lines.append(proration)
            total -= credit
        invoice["lines"]["data"] = lines
        invoice["created"] = invoice["status_transitions"]["finalized_at"] = start
        invoice.update(total=total, total_excluding_tax=total, subtotal=total, amount_due=total)
        if paid:
            event["type"] = "invoice.paid"
            invoice.update(status="paid", amount_paid=total, amount_remaining=0)
            invoice["status_transitions"]["paid_at"] = end
        return event

    def credit_note(self, name: str, *, invoice: str, amount: int) -> dict:
        event = _fixture("credit_note_created_current")
        note = event["data"]["object"]
        event["id"] = f"evt_cn_{self.account}_{name}"
        event["account"] = event["context"] = self.account
        note.update(
            id=f"cn_{self.account}_{name}",
            invoice=f"in_{self.account}_{invoice}",
            customer=self.customer_id,
            amount=amount,
            total=amount,
            subtotal=amount,
        )
        return event

    def deliver(self, event: dict) -> WebhookEvent:
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = post_stripe(event, connect=True)
        assert response.status_code in (200, 202), response.content
        return WebhookEvent.objects.get(source="stripe_connect", event_id=event["id"])

    def months(self) -> dict[str, int]:
        rewards = Reward.objects.filter(kind="monthly", offer=self.programme, user=self.user).order_by("period")
        return {f"{r.period:%Y-%m}": r.amount_minor for r in rewards}


@pytest.fixture(autouse=True)
def _stripe(settings, fake_stripe):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET
    settings.TIME_ZONE = "Europe/Oslo"


# --- Eligibility on the invoice ---------------------------------------------------------------------


def test_a_finalized_invoice_with_the_cashback_price_records_the_opt_in_and_payment_confirms_it():
    business = Business()
    finalized = business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=False)

    stored = business.deliver(finalized)

    assert stored.status == WebhookStatus.PROCESSED, stored.last_error or stored.unmatched_reason
    invoice = BillingInvoice.objects.get()
    assert (invoice.status, invoice.rate, invoice.base_minor) == ("finalized", Decimal("0.01"), 100_000)
    opt_in = BillingOptIn.objects.get()
    assert (opt_in.user, opt_in.customer_id, opt_in.rate) == (business.user, business.customer_id, Decimal("0.01"))
    assert business.months() == {}  # nothing is earned before the money arrives

    business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True))
    business.deliver(
        business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True) | {"id": "evt_again"}
    )

    assert business.months() == {"2025-01": 1000}
    assert consumer_balances(business.user)["available"] + consumer_balances(business.user)["pending"] == 1000
    assert_ledger_sound()


def test_a_plan_without_the_cashback_price_earns_nothing():
    business = Business()

    finalized = business.deliver(
        business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=False, cashback=False)
    )
    business.deliver(
        business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True, cashback=False)
    )

    assert finalized.status == WebhookStatus.IGNORED
    assert "no cashback price" in finalized.unmatched_reason
    assert not BillingInvoice.objects.exists() and not BillingOptIn.objects.exists()
    assert business.months() == {}
    assert Purchase.objects.filter(merchant=business.merchant).count() == 1  # still a purchase for other offers


def test_a_later_invoice_without_the_price_records_the_opt_out():
    business = Business()
    business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True))
    later = business.invoice("feb", start=at(2025, 2), end=at(2025, 3), amount=100_000, paid=True)
    later["data"]["object"]["lines"]["data"] = [
        line for line in later["data"]["object"]["lines"]["data"] if "cash" not in line["id"]
    ]

    business.deliver(later)

    assert BillingOptIn.objects.get().opted_out_at is not None
    assert business.months() == {"2025-01": 1000}


# --- Any payment term -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "start", "end", "amount", "expected"),
    [
        ("monthly", at(2025, 3), at(2025, 4), 100_000, {"2025-03": 1000}),
        ("quarterly", at(2025, 4), at(2025, 7), 300_000, {"2025-04": 989, "2025-05": 1022, "2025-06": 989}),
        (
            "yearly",
            at(2025, 1),
            at(2026, 1),
            1_200_000,
            {
                "2025-01": 1019,
                "2025-02": 921,
                "2025-03": 1019,  # 31 days less the hour summer time takes
                "2025-04": 986,
                "2025-05": 1019,
                "2025-06": 986,
                "2025-07": 1019,
                "2025-08": 1019,
                "2025-09": 986,
                "2025-10": 1019,
                "2025-11": 986,
                "2025-12": 1019,
            },
        ),
    ],
)
def test_each_payment_term_is_earned_month_by_month_over_the_period_it_pays_for(term, start, end, amount, expected):
    business = Business()

    business.deliver(business.invoice(term, start=start, end=end, amount=amount, paid=True))

    assert business.months() == expected
    assert abs(sum(expected.values()) - amount // 100) <= len(expected)  # one rounding per month at most


def test_an_invoice_for_an_added_product_counts_in_its_period_and_raises_the_months_it_covers():
    business = Business()
    business.deliver(business.invoice("year", start=at(2025, 1), end=at(2026, 1), amount=1_200_000, paid=True))
    before = business.months()

    business.deliver(business.invoice("seats", start=at(2025, 10), end=at(2026, 1), amount=92_000, paid=True))

    after = business.months()
    assert {m: after[m] - before[m] for m in after if after[m] != before[m]} == {
        "2025-10": 310,
        "2025-11": 300,
        "2025-12": 310,
    }


def test_the_programme_caps_the_rate_and_the_month():
    business = Business(rate="0.25", percent="2.00", max_per_month=1500)

    business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True))
    business.deliver(business.invoice("feb", start=at(2025, 2), end=at(2025, 3), amount=1_000_000, paid=True))

    assert business.months() == {"2025-01": 2000 if False else 1500, "2025-02": 1500}


# --- Credits and downward adjustments -----------------------------------------------------------------


def test_a_credit_note_after_crediting_takes_cashback_back_through_the_ledger():
    business = Business()
    business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True))

    stored = business.deliver(business.credit_note("jan-cn", invoice="jan", amount=40_000))

    assert stored.status == WebhookStatus.PROCESSED, stored.last_error or stored.unmatched_reason
    assert business.months() == {"2025-01": 600}
    assert consumer_balances(business.user)["pending"] + consumer_balances(business.user)["available"] == 600
    assert_ledger_sound()


def test_a_credit_after_the_cashback_was_spent_becomes_a_receivable():
    business = Business()
    business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True))
    from campaigns.services import rewards_mature_due

    rewards_mature_due()
    spend(business.user, 1000)

    business.deliver(business.credit_note("jan-cn", invoice="jan", amount=100_000))

    assert business.months() == {"2025-01": 0}
    balances = consumer_balances(business.user)
    assert (balances["pending"], balances["available"], abs(balances["receivable"])) == (0, 0, 1000)
    assert Reward.objects.get(kind="monthly").owed_minor == 1000


def test_a_credit_proration_on_a_later_invoice_reduces_the_invoice_it_credits():
    business = Business()
    business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True))

    business.deliver(
        business.invoice(
            "feb", start=at(2025, 2), end=at(2025, 3), amount=50_000, paid=True, credit_proration=("jan", 20_000)
        )
    )

    assert business.months() == {"2025-01": 800, "2025-02": 500}


# --- Bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["1%", "abc", "-0.01", "2", "NaN", "0.0000001"])
def test_a_malformed_rate_is_stored_and_explained_and_earns_nothing(rate):
    business = Business(rate=rate)

    stored = business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True))

    assert stored.status == WebhookStatus.PROCESSED
    invoice = BillingInvoice.objects.get()
    assert invoice.rate is None and "cashback_rate" in invoice.problem
    assert business.months() == {}


def test_a_currency_the_platform_does_not_hold_is_ignored_with_the_reason():
    business = Business()

    stored = business.deliver(
        business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True, currency="usd")
    )

    assert stored.status == WebhookStatus.IGNORED and "USD" in stored.unmatched_reason
    assert not BillingInvoice.objects.exists()


def test_a_credit_note_before_its_invoice_waits_and_is_applied_when_the_invoice_comes():
    business = Business()
    early = business.deliver(business.credit_note("jan-cn", invoice="jan", amount=40_000))
    assert early.status == WebhookStatus.UNMATCHED

    business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True))

    early.refresh_from_db()
    assert early.status == WebhookStatus.PROCESSED, early.unmatched_reason
    assert business.months() == {"2025-01": 600}


# --- Any order, the same cashback -------------------------------------------------------------------------


def _period_events(business: Business) -> list[dict]:
    return [
        business.invoice("year", start=at(2025, 1), end=at(2026, 1), amount=1_200_000, paid=False),
        business.invoice("year", start=at(2025, 1), end=at(2026, 1), amount=1_200_000, paid=True),
        business.invoice("seats", start=at(2025, 7), end=at(2026, 1), amount=184_000, paid=True),
        business.invoice(
            "q4", start=at(2025, 10), end=at(2026, 1), amount=90_000, paid=True, credit_proration=("seats", 30_000)
        ),
        business.credit_note("year-cn", invoice="year", amount=120_000),
        business.credit_note("seats-cn", invoice="seats", amount=18_400),
    ]


def _outcome(business: Business) -> tuple[dict[str, int], dict[str, int]]:
    return business.months(), consumer_balances(business.user)


@settings(
    max_examples=int(os.environ.get("BUSINESS_CASHBACK_EXAMPLES", "4")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(order=st.permutations(range(6)), repeat=st.lists(st.integers(min_value=0, max_value=5), max_size=2))
def test_any_order_of_a_periods_invoices_payments_and_credit_notes_ends_in_the_same_cashback(order, repeat):
    canonical = Business()
    for event in _period_events(canonical):
        canonical.deliver(event)
    shuffled = Business()
    events = _period_events(shuffled)
    for index in [*order, *repeat]:
        shuffled.deliver(events[index])

    assert _outcome(shuffled) == _outcome(canonical)
    assert sum(canonical.months().values()) > 0
    assert_ledger_sound()


def test_the_daily_task_for_an_ended_month_is_safe_to_run_again():
    business = Business()
    business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True))
    from campaigns.services.business_cashback import billing_months_book_due

    for _ in range(2):
        assert billing_months_book_due(now=datetime(2025, 2, 1, 6, tzinfo=OSLO)) == 1

    assert business.months() == {"2025-01": 1000}
    assert consumer_balances(business.user)["pending"] == 1000
    assert_ledger_sound()
