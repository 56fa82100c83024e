"""Reads for the business cashback forecast (/staff/cashback-forecast/, issue 21).

A fixed number of queries whatever the data: the programmes, every eligible invoice of their
customers, the credits on those invoices, the opt-ins, the booked cashback still pending, the
customers' available balances (wallet), and the automatic payouts that were skipped. The arithmetic
is ``campaigns.billing_forecast``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from campaigns.billing_forecast import (
    HORIZON_MONTHS,
    TRAILING_MONTHS,
    CurrencyForecast,
    ForecastCustomer,
    forecast,
    trailing_base,
)
from campaigns.billing_periods import BilledPeriod, month_bounds, month_start, next_month
from campaigns.models import (
    AutoPayoutRun,
    BillingCredit,
    BillingInvoice,
    BillingOptIn,
    Offer,
    OfferBasis,
    Reward,
    RewardKind,
)
from campaigns.services.business_cashback import site_zone
from campaigns.services.offers import OFFER_STATUSES_WITH_HISTORY
from wallet.analytics_selectors import available_per_currency


def forecast_months(*, now: datetime, count: int = HORIZON_MONTHS) -> list[date]:
    """The months whose ends are the next ``count`` month ends: this month and the ones after."""
    months = [month_start(now, site_zone())]
    while len(months) < count:
        months.append(next_month(months[-1]))
    return months


def _ended_months(*, now: datetime) -> list[date]:
    zone = site_zone()
    months = []
    month = month_start(now, zone)
    for _ in range(TRAILING_MONTHS):
        month = month_start(month_bounds(month, zone)[0] - timedelta(days=1), zone)
        months.append(month)
    return months


def business_cashback_forecast(*, now: datetime | None = None) -> list[CurrencyForecast]:
    """Per currency, what the platform will owe in business cashback at each of the next month ends."""
    now = now or timezone.now()
    zone = site_zone()
    months = forecast_months(now=now)
    first, last_end = month_bounds(months[0], zone)[0], month_bounds(months[-1], zone)[1]
    ended = _ended_months(now=now)
    trailing_start = month_bounds(ended[-1], zone)[0]
    programmes = list(
        Offer.objects.filter(
            basis=OfferBasis.BILLING_PERIOD,
            status__in=OFFER_STATUSES_WITH_HISTORY,
            starts_at__lt=last_end,
            ends_at__gt=first,
        ).order_by("id")
    )
    programme_of: dict[tuple[int, str], Offer] = {}
    for offer in programmes:  # one programme per merchant and currency: the first, as the booking does
        programme_of.setdefault((offer.merchant_id, offer.currency), offer)
    invoices = list(
        BillingInvoice.objects.filter(
            merchant_id__in={merchant_id for merchant_id, _ in programme_of},
            rate__isnull=False,
            period_end__gt=trailing_start,
        ).order_by("id")
    )
    credited = dict(
        BillingCredit.objects.filter(invoice_id__in=[invoice.invoice_id for invoice in invoices])
        .values("merchant_id", "invoice_id")
        .annotate(total=Sum("amount_minor"))
        .values_list("invoice_id", "total")
    )
    subscribed = {
        (merchant_id, user_id)
        for merchant_id, user_id in BillingOptIn.objects.filter(opted_out_at__isnull=True).values_list(
            "merchant_id", "user_id"
        )
    }
    grouped: dict[tuple[int, int, str], list[BillingInvoice]] = defaultdict(list)
    for invoice in invoices:
        if (invoice.merchant_id, invoice.currency) in programme_of:
            grouped[(invoice.merchant_id, invoice.user_id, invoice.currency)].append(invoice)
    customers = []
    for (merchant_id, user_id, currency), own in sorted(grouped.items()):
        offer = programme_of[(merchant_id, currency)]
        cap = offer.percent / 100
        runs = frozenset(
            month
            for month in months
            if offer.starts_at < month_bounds(month, zone)[1] and offer.ends_at > month_bounds(month, zone)[0]
        )

        def period(invoice: BillingInvoice, cap: Decimal = cap) -> BilledPeriod:
            rate = min(invoice.rate or Decimal(0), cap)
            net = max(0, invoice.base_minor - (credited.get(invoice.invoice_id) or 0))
            return BilledPeriod(net_minor=net, rate=rate, start=invoice.period_start, end=invoice.period_end)

        paid = tuple(period(i) for i in own if i.status == BillingInvoice.Status.PAID)
        unpaid = tuple(period(i) for i in own if i.status == BillingInvoice.Status.FINALIZED)
        latest_rate = max(own, key=lambda i: (i.period_start, i.pk)).rate or Decimal(0)
        customers.append(
            ForecastCustomer(
                programme_id=offer.pk,
                currency=currency,
                rate=min(latest_rate, cap),
                monthly_cap=offer.max_reward_per_purchase_minor,
                paid=paid,
                unpaid=unpaid,
                subscribed=(merchant_id, user_id) in subscribed,
                trailing_base=trailing_base(paid, ended, zone),
                months=runs,
            )
        )
    pending = dict(
        Reward.objects.filter(kind=RewardKind.MONTHLY, offer__basis=OfferBasis.BILLING_PERIOD, pending_minor__gt=0)
        .values("currency")
        .annotate(total=Sum("pending_minor"))
        .order_by()
        .values_list("currency", "total")
    )
    business_users = BillingInvoice.objects.filter(rate__isnull=False).values("user_id")
    return forecast(
        customers=customers,
        budgets={offer.pk: offer.budget_remaining_minor for offer in programme_of.values()},
        accrued_pending=pending,
        accrued_available=available_per_currency(user_ids=business_users),
        months=months,
        zone=zone,
    )


def auto_payout_runs_skipped(*, now: datetime | None = None, limit: int = 50) -> list[AutoPayoutRun]:
    """The automatic payouts of the last two month ends that were skipped, and why (newest first)."""
    now = now or timezone.now()
    since = _ended_months(now=now)[1]
    return list(
        AutoPayoutRun.objects.filter(status=AutoPayoutRun.Status.SKIPPED, period__gte=since)
        .filter(~Q(reason=""))
        .select_related("user")
        .order_by("-period", "-updated_at", "-id")[:limit]
    )
