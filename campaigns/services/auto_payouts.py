"""Automatic payout of business cashback at each month end (issue 21).

A business cashback programme (an offer of basis ``billing_period``) with ``auto_payout`` on pays
each of its customers' available cashback in the programme's currency to their connected account
when a month ends, without being asked: the daily beat task (``business_cashback_auto_payouts``)
takes the month that ended within the last ``AUTO_PAYOUT_WINDOW_DAYS`` days and, per customer and
currency, calls the wallet's ``payout_request_automatic`` — the ordinary payout rails, keyed
``auto:billing:<CUR>:<YYYY-MM>``, so a rerun or a second customer's programme in the same currency
pays nothing twice.

Each attempt is an ``AutoPayoutRun`` (one per customer, currency and month, locked while it is
tried): ``paid`` names the payout; ``skipped`` keeps the wallet's reason (no connected account
ready, blocked, nothing available, below the minimum, ...), is logged, is listed for staff on the
forecast page, and is tried again by the next daily run within the window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from campaigns.billing_periods import month_bounds, month_start
from campaigns.models import AutoPayoutRun, BillingInvoice, Offer, OfferBasis
from campaigns.services.business_cashback import site_zone
from campaigns.services.offers import OFFER_STATUSES_WITH_HISTORY
from cashback.errors import DomainError
from wallet.payout_receipts import payout_request_automatic

logger = logging.getLogger(__name__)

AUTO_PAYOUT_WINDOW_DAYS = 7
PROGRAMME_KEY = "billing"


@dataclass(frozen=True)
class AutoPayoutSummary:
    period: date | None
    paid: int = 0
    skipped: int = 0


def period_due(*, now: datetime) -> date | None:
    """The month whose end is due for automatic payouts: the one that ended within the window."""
    zone = site_zone()
    this_month = month_start(now, zone)
    if now - month_bounds(this_month, zone)[0] >= timedelta(days=AUTO_PAYOUT_WINDOW_DAYS):
        return None
    return month_start(month_bounds(this_month, zone)[0] - timedelta(days=1), zone)


def auto_payout_customers(*, period: date) -> list[tuple[int, str]]:
    """(customer, currency) of every programme with automatic payout that ran during ``period``:
    the customers with an eligible invoice (a rate) at the programme's merchant in its currency."""
    start, end = month_bounds(period, site_zone())
    programmes = Offer.objects.filter(
        basis=OfferBasis.BILLING_PERIOD,
        auto_payout=True,
        status__in=OFFER_STATUSES_WITH_HISTORY,
        starts_at__lt=end,
        ends_at__gt=start,
    ).values_list("merchant_id", "currency")
    pairs: set[tuple[int, str]] = set()
    for merchant_id, currency in set(programmes):
        pairs.update(
            (user_id, currency)
            for user_id in BillingInvoice.objects.filter(
                merchant_id=merchant_id, currency=currency, rate__isnull=False, period_start__lt=end
            ).values_list("user_id", flat=True)
        )
    return sorted(pairs)


def auto_payout_for(*, user_id: int, currency: str, period: date) -> AutoPayoutRun:
    """Pay one customer's available ``currency`` cashback for the end of ``period``, or record why
    not. Under the run's row lock: concurrent runs take turns, and a paid run is never paid again."""
    with transaction.atomic():
        run, _ = AutoPayoutRun.objects.get_or_create(
            user_id=user_id,
            currency=currency,
            period=period,
            defaults={"status": AutoPayoutRun.Status.SKIPPED, "reason": "Not tried yet.", "attempts": 0},
        )
        run = AutoPayoutRun.objects.select_for_update().get(pk=run.pk)
        if run.status == AutoPayoutRun.Status.PAID:
            return run
        run.attempts += 1
        user = get_user_model().objects.get(pk=user_id)
        try:
            with transaction.atomic():  # a refusal rolls back the payout's own writes only
                payout = payout_request_automatic(user=user, currency=currency, programme=PROGRAMME_KEY, period=period)
        except DomainError as refusal:
            run.status, run.reason, run.payout = AutoPayoutRun.Status.SKIPPED, refusal.message[:300], None
            logger.warning(
                "Automatic payout skipped: user %s, %s %s: %s", user_id, currency, f"{period:%Y-%m}", refusal.message
            )
        else:
            run.status, run.reason, run.payout = AutoPayoutRun.Status.PAID, "", payout
        run.save(update_fields=["status", "reason", "payout", "attempts", "updated_at"])
    return run


def auto_payouts_run(*, now: datetime | None = None) -> AutoPayoutSummary:
    """The daily task: pay (or explain) every customer of a programme with automatic payout for the
    month just ended. Safe to run any number of times: paid runs are left alone."""
    now = now or timezone.now()
    period = period_due(now=now)
    if period is None:
        return AutoPayoutSummary(period=None)
    paid = skipped = 0
    for user_id, currency in auto_payout_customers(period=period):
        run = auto_payout_for(user_id=user_id, currency=currency, period=period)
        if run.status == AutoPayoutRun.Status.PAID:
            paid += 1
        else:
            skipped += 1
    return AutoPayoutSummary(period=period, paid=paid, skipped=skipped)
