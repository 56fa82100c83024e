"""Demo billing: last month's activity at the demo merchant, and its statement made by the monthly task.

The ledger stamps each posting with the clock, so the demo's "last month" postings are written with
the clock set to the middle of last month — for these postings only, in the demo seeder, never in
the platform's own code paths. Then the scheduled task's function runs as it does on the 1st. Keys
are fixed, so seeding twice posts nothing more and finds the same statement (no second invoice).
"""

from datetime import datetime, time, timedelta
from unittest import mock

from django.contrib.auth import get_user_model
from django.utils import timezone

from merchants.billing_selectors import billing_time_zone, previous_month
from merchants.demo import DEMO_ORG_NUMBER
from merchants.models import Merchant, MerchantInvoice
from merchants.tasks import invoices_monthly
from wallet.models import AccountKind, JournalKind
from wallet.services import account_get_or_create, platform_account, transaction_post, transfer

DEMO_CONSUMER_EMAIL = "consumer@demo.cashback.example"
# (day of last month, kind, amount in øre): cashback the demo merchant's offers paid, and what its
# customers spent at its checkout.
DEMO_MOVES = [
    (3, "reward", 4_250),
    (7, "reward", 12_900),
    (12, "reward", 3_375),
    (15, "spend", 5_000),
    (19, "reward", 8_120),
    (24, "reward", 2_275),
]


def seed_demo_billing() -> list[str]:
    merchant = Merchant.objects.filter(country="NO", organisation_number=DEMO_ORG_NUMBER).first()
    consumer = get_user_model().objects.filter(email=DEMO_CONSUMER_EMAIL).first()
    if merchant is None or consumer is None:
        return ["skipped demo billing: no demo merchant"]
    period = previous_month(timezone.localdate())
    if not MerchantInvoice.objects.filter(merchant=merchant, period=period).exists():
        _post_last_month(merchant=merchant, consumer=consumer, period=period)
    invoices_monthly()
    invoice = MerchantInvoice.objects.filter(merchant=merchant, period=period).first()
    return [f"demo statement {invoice.number}: {invoice.get_status_display()}" if invoice else "no demo statement"]


def _post_last_month(*, merchant: Merchant, consumer, period) -> None:
    currency = merchant.currency
    owner_key = merchant.ledger_owner_key
    funding = account_get_or_create(kind=AccountKind.MERCHANT_FUNDING, currency=currency, owner_key=owner_key)
    receivable = account_get_or_create(kind=AccountKind.MERCHANT_RECEIVABLE, currency=currency, owner_key=owner_key)
    available = account_get_or_create(kind=AccountKind.CONSUMER_AVAILABLE, currency=currency, user=consumer)
    outside = platform_account(kind=AccountKind.SETTLEMENT, currency=currency)
    key = f"demo:billing:{merchant.pk}:{period:%Y-%m}"
    moves = [(1, "prepay", 50_000), *DEMO_MOVES]
    for index, (day, kind, amount) in enumerate(moves):
        moment = datetime.combine(period + timedelta(days=day - 1), time(12), tzinfo=billing_time_zone())
        debit, credit, journal_kind = {
            "prepay": (outside, funding, JournalKind.MERCHANT_FUNDING),
            "reward": (funding, available, JournalKind.REWARD_EARN),
            "spend": (available, receivable, JournalKind.SPEND),
        }[kind]
        with mock.patch("django.utils.timezone.now", return_value=moment):
            transaction_post(
                idempotency_key=f"{key}:{index}",
                kind=journal_kind,
                entries=transfer(debit=debit, credit=credit, amount=amount),
                memo=f"Demo: {kind} at {merchant.display_name}",
            )
