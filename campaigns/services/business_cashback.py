"""Business cashback on Stripe billing (issue 21): invoices, credits and the month-by-month booking.

The Stripe handlers (campaigns.stripe_source) record what invoices and credits say; this module turns
the set of them into one reward per programme, business customer and calendar month (kind
``monthly``, key ``billing:<offer>:<user>:<YYYY-MM>``), booked through ``reward_book`` once the month
has ended and rebooked whenever a later event changes what the month earns — up through the ledger
(``reward_earn``), down through it (``reward_reverse``: from pending, then available, and what was
already spent becomes the business's receivable, paid back from its next cashback). The target is a
function of the stored set (campaigns.billing_periods), so any order of events ends the same.

The programme is the merchant's offer of basis ``billing_period`` in the invoice's currency: its
``percent`` is the highest rate it pays (a higher ``cashback_rate`` on an invoice is capped to it),
``max_reward_per_purchase_minor`` the most per month, its budget and ``return_period_days`` apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.blocking import is_blocked
from campaigns.billing_periods import BilledPeriod, month_bounds, month_cashback, month_shares, month_start, months_of
from campaigns.models import (
    BillingCredit,
    BillingInvoice,
    BillingOptIn,
    Offer,
    OfferBasis,
    Reward,
    RewardKind,
)
from campaigns.services.offers import OFFER_STATUSES_WITH_HISTORY, offer_budget_consume, offer_budget_return
from campaigns.services.rewards import reward_book
from merchants.models import Merchant
from wallet.services import retrying_deadlocks


@dataclass(frozen=True)
class InvoiceReading:
    """What a Stripe invoice says for business cashback (campaigns.stripe_source reads it)."""

    invoice_id: str
    customer_id: str
    subscription_id: str
    currency: str
    rate: Decimal | None
    problem: str
    base_minor: int
    period_start: datetime
    period_end: datetime
    credits: tuple[tuple[str, str, int], ...] = ()  # (credit ref, credited invoice id, amount): prorations


def site_zone() -> ZoneInfo:
    return ZoneInfo(timezone.get_default_timezone_name())


def billing_invoice_record(
    *, merchant: Merchant, user_id: int, reading: InvoiceReading, finalized_at: datetime, paid_at: datetime | None
) -> BillingInvoice:
    """Record an invoice from ``invoice.finalized`` or ``invoice.paid`` (either first; a finalized
    invoice never changes, so the later event only adds its payment), the customer's opt-in, the
    invoice's credit prorations, and rebook the ended months it touches."""
    with transaction.atomic():
        BillingInvoice.objects.bulk_create(
            [
                BillingInvoice(
                    merchant=merchant,
                    user_id=user_id,
                    invoice_id=reading.invoice_id,
                    customer_id=reading.customer_id,
                    subscription_id=reading.subscription_id,
                    currency=reading.currency,
                    status=BillingInvoice.Status.FINALIZED,
                    rate=reading.rate,
                    base_minor=reading.base_minor,
                    period_start=reading.period_start,
                    period_end=reading.period_end,
                    problem=reading.problem[:300],
                    finalized_at=finalized_at,
                )
            ],
            ignore_conflicts=True,
        )
        invoice = BillingInvoice.objects.select_for_update().get(merchant=merchant, invoice_id=reading.invoice_id)
        if paid_at is not None and invoice.status != BillingInvoice.Status.PAID:
            invoice.status = BillingInvoice.Status.PAID
            invoice.paid_at = paid_at
            invoice.save(update_fields=["status", "paid_at", "updated_at"])
        _opt_in_record(invoice)
        touched = {invoice.invoice_id}
        for credit_ref, credited_invoice_id, amount in reading.credits:
            if _credit_store(merchant=merchant, credit_ref=credit_ref, invoice_id=credited_invoice_id, amount=amount):
                touched.add(credited_invoice_id)
        for invoice_id in sorted(touched):
            _rebook_invoice(merchant=merchant, invoice_id=invoice_id)
    return invoice


def _opt_in_record(invoice: BillingInvoice) -> None:
    if invoice.customer_id and invoice.rate is not None:
        BillingOptIn.objects.get_or_create(
            merchant_id=invoice.merchant_id,
            customer_id=invoice.customer_id,
            defaults={
                "user_id": invoice.user_id,
                "subscription_id": invoice.subscription_id,
                "first_invoice_id": invoice.invoice_id,
                "rate": invoice.rate,
                "opted_in_at": invoice.finalized_at or timezone.now(),
            },
        )


def billing_opt_out_record(*, merchant: Merchant, customer_id: str, subscription_id: str, at: datetime) -> bool:
    """A later invoice of an opted-in subscription without the cashback price: the customer changed
    to a plan without it. Returns whether an opt-in was closed (an earlier invoice changes nothing)."""
    if not customer_id or not subscription_id:
        return False
    closed = BillingOptIn.objects.filter(
        merchant=merchant,
        customer_id=customer_id,
        subscription_id=subscription_id,
        opted_in_at__lt=at,
        opted_out_at__isnull=True,
    ).update(opted_out_at=at, updated_at=timezone.now())
    return bool(closed)


def billing_credit_known(*, merchant: Merchant, invoice_id: str) -> bool:
    """Whether ``invoice_id`` is an invoice recorded for business cashback (its credits count)."""
    return BillingInvoice.objects.filter(merchant=merchant, invoice_id=invoice_id).exists()


def billing_credit_record(*, merchant: Merchant, credit_ref: str, invoice_id: str, amount_minor: int) -> bool:
    """A credit note's non-card part or a charge's newly refunded part against a billed invoice: kept
    once per ``credit_ref`` (also before its invoice arrives); rebooks the invoice's ended months.
    Returns whether it was new."""
    with transaction.atomic():
        new = _credit_store(merchant=merchant, credit_ref=credit_ref, invoice_id=invoice_id, amount=amount_minor)
        if new:
            _rebook_invoice(merchant=merchant, invoice_id=invoice_id)
    return new


def _credit_store(*, merchant: Merchant, credit_ref: str, invoice_id: str, amount: int) -> bool:
    if amount <= 0:
        return False
    _, created = BillingCredit.objects.get_or_create(
        merchant=merchant, credit_ref=credit_ref, defaults={"invoice_id": invoice_id, "amount_minor": amount}
    )
    return created


def _rebook_invoice(*, merchant: Merchant, invoice_id: str) -> None:
    invoice = BillingInvoice.objects.filter(merchant=merchant, invoice_id=invoice_id).first()
    if invoice is None:
        return
    now = timezone.now()
    for month in months_of(invoice.period_start, invoice.period_end, site_zone()):
        if month_bounds(month, site_zone())[1] <= now:
            billing_month_book(merchant_id=merchant.pk, user_id=invoice.user_id, currency=invoice.currency, month=month)


def programme_for(*, merchant_id: int, currency: str, month: date) -> Offer | None:
    """The merchant's business cashback programme (offer of basis ``billing_period``) for the month."""
    start, end = month_bounds(month, site_zone())
    return (
        Offer.objects.filter(
            merchant_id=merchant_id,
            basis=OfferBasis.BILLING_PERIOD,
            currency=currency,
            status__in=OFFER_STATUSES_WITH_HISTORY,
            starts_at__lt=end,
            ends_at__gt=start,
        )
        .order_by("id")
        .first()
    )


def billed_periods(
    *, merchant_id: int, user_id: int, currency: str, month: date, cap: Decimal | None
) -> list[BilledPeriod]:
    """The paid, eligible invoices of a customer that pay for part of ``month``, net of credits."""
    start, end = month_bounds(month, site_zone())
    invoices = list(
        BillingInvoice.objects.filter(
            merchant_id=merchant_id,
            user_id=user_id,
            currency=currency,
            status=BillingInvoice.Status.PAID,
            rate__isnull=False,
        )
        .filter(Q(period_start__lt=end, period_end__gt=start) | Q(period_start__gte=start, period_start__lt=end))
        .order_by("id")
    )
    credited = dict(
        BillingCredit.objects.filter(merchant_id=merchant_id, invoice_id__in=[i.invoice_id for i in invoices])
        .values("invoice_id")
        .annotate(total=Sum("amount_minor"))
        .values_list("invoice_id", "total")
    )
    return [
        BilledPeriod(
            net_minor=max(0, invoice.base_minor - (credited.get(invoice.invoice_id) or 0)),
            rate=min(invoice.rate, cap) if cap is not None and invoice.rate is not None else invoice.rate or Decimal(0),
            start=invoice.period_start,
            end=invoice.period_end,
        )
        for invoice in invoices
    ]


def billing_month_target(*, offer: Offer, user_id: int, month: date) -> tuple[int, int]:
    """(cashback, billed base) the month earns now under the programme, before its budget."""
    periods = billed_periods(
        merchant_id=offer.merchant_id, user_id=user_id, currency=offer.currency, month=month, cap=offer.percent / 100
    )
    amount = month_cashback(periods, month, site_zone())
    if offer.max_reward_per_purchase_minor is not None:
        amount = min(amount, offer.max_reward_per_purchase_minor)
    base = sum(month_shares(period, site_zone()).get(month, 0) for period in periods)
    return amount, base


def billing_month_book(*, merchant_id: int, user_id: int, currency: str, month: date) -> Reward | None:
    """Bring the customer's reward for ``month`` (ended) to what the month earns now: the first
    booking credits it, later ones post the difference either way. Under the offer's row lock, so
    concurrent events for one programme take turns; idempotent (nothing to post → nothing posted).

    A blocked customer earns nothing new, as with card cashback (accounts.blocking): no reward is
    created and a booked month is not raised while the block lasts; credits still take it down, and
    its pending cashback waits (maturity skips blocked people). Once the block is lifted the month is
    booked by the next event or the daily task (while the month is in its window)."""
    offer = programme_for(merchant_id=merchant_id, currency=currency, month=month)
    if offer is None:
        return None

    def work() -> Reward | None:
        with transaction.atomic():
            locked = Offer.objects.select_for_update().get(pk=offer.pk)
            target, base = billing_month_target(offer=locked, user_id=user_id, month=month)
            reward = (
                Reward.objects.select_for_update()
                .filter(kind=RewardKind.MONTHLY, offer=locked, user_id=user_id, period=month)
                .first()
            )
            current = reward.amount_minor if reward else 0
            if target > current and is_blocked(user_id=user_id):
                target = current  # a blocked customer earns nothing new; downward changes still apply
            if reward is None and target == 0:
                return None
            if target > current:
                target = current + offer_budget_consume(offer_id=locked.pk, amount_minor=target - current)
            elif target < current:
                offer_budget_return(offer_id=locked.pk, amount_minor=current - target)
            if reward is None:
                end = month_bounds(month, site_zone())[1]
                reward = Reward.objects.create(
                    kind=RewardKind.MONTHLY,
                    offer=locked,
                    period=month,
                    user_id=user_id,
                    currency=locked.currency,
                    amount_minor=0,
                    matures_at=end + timedelta(days=locked.return_period_days),
                    ledger_key=f"billing:{locked.pk}:{user_id}:{month:%Y-%m}",
                )
            reward.amount_minor = reward.decided_minor = target
            reward.basis_minor = base
            reward_book(reward, offer=locked, purchase=None)
            return reward

    return retrying_deadlocks(work)()


def billing_months_book_due(*, now: datetime | None = None) -> int:
    """Book the month that has just ended (and the one before, for a late run) for every customer
    with a paid, eligible invoice paying for it: the daily task. Returns the rewards touched."""
    now = now or timezone.now()
    zone = site_zone()
    this_month = month_start(now, zone)
    previous = month_start(month_bounds(this_month, zone)[0] - timedelta(days=1), zone)
    before = month_start(month_bounds(previous, zone)[0] - timedelta(days=1), zone)
    touched = 0
    for month in (before, previous):
        start, end = month_bounds(month, zone)
        customers = (
            BillingInvoice.objects.filter(status=BillingInvoice.Status.PAID, rate__isnull=False)
            .filter(Q(period_start__lt=end, period_end__gt=start) | Q(period_start__gte=start, period_start__lt=end))
            .values_list("merchant_id", "user_id", "currency")
            .distinct()
            .order_by("merchant_id", "user_id", "currency")
        )
        for merchant_id, user_id, currency in customers:
            if billing_month_book(merchant_id=merchant_id, user_id=user_id, currency=currency, month=month):
                touched += 1
    return touched
