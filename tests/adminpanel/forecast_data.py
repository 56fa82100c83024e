"""Business cashback data around today for the forecast page's tests: a yearly prepayment, a monthly
payer with trailing spend, a finalized unpaid invoice, and a skipped automatic payout."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from campaigns.billing_periods import month_bounds, month_start, next_month
from campaigns.models import AutoPayoutRun, BillingInvoice, BillingOptIn
from campaigns.services.business_cashback import site_zone
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory


def business_customers() -> dict:
    zone = site_zone()
    this_month = month_start(timezone.now(), zone)
    start = month_bounds(this_month, zone)[0]
    last_month = month_start(start - timedelta(days=1), zone)
    programme = OfferFactory(
        basis="billing_period",
        percent=Decimal("2.00"),
        starts_at=start - timedelta(days=400),
        ends_at=start + timedelta(days=400),
    )
    merchant = programme.merchant
    tag = uuid.uuid4().hex[:6]
    yearly, monthly = (
        UserFactory(email=f"yearly-{tag}@firma.example"),
        UserFactory(email=f"monthly-{tag}@firma.example"),
    )

    def invoice(user, name, begin, end, base, status="paid"):
        return BillingInvoice.objects.create(
            merchant=merchant,
            user=user,
            invoice_id=f"in_{name}_{merchant.pk}",
            customer_id=f"cus_{user.pk}",
            currency="NOK",
            status=status,
            rate=Decimal("0.01"),
            base_minor=base,
            period_start=begin,
            period_end=end,
        )

    invoice(yearly, "year", start, month_bounds(this_month, zone)[0].replace(year=start.year + 1), 1_200_000)
    for months_back, base in ((3, 100_000), (2, 100_000), (1, 100_000)):
        month = this_month
        for _ in range(months_back):
            month = month_start(month_bounds(month, zone)[0] - timedelta(days=1), zone)
        invoice(monthly, f"m{months_back}", *month_bounds(month, zone), base)
    invoice(monthly, "now", *month_bounds(this_month, zone), 100_000, status="finalized")
    for user in (yearly, monthly):
        BillingOptIn.objects.create(
            merchant=merchant,
            user=user,
            customer_id=f"cus_{user.pk}",
            first_invoice_id="in_first",
            rate=Decimal("0.01"),
            opted_in_at=start - timedelta(days=100),
        )
    AutoPayoutRun.objects.create(
        user=monthly,
        currency="NOK",
        period=last_month,
        status="skipped",
        reason="Set up payouts (your bank details with Stripe) before asking for a payout.",
    )
    return {
        "this_month": this_month,
        "next_month": next_month(this_month),
        "programme": programme,
        "monthly_email": monthly.email,
    }
