"""Reads of billing (F-M3): rates in force, a month's figures from the ledger, invoices.

A month's figures come from the ledger, never from offers or rewards: the entries on the merchant's
``merchant_funding`` and ``merchant_receivable`` accounts in one currency, in journal transactions
posted within the month (Europe/Oslo):

- cost: reward journals (``reward_earn``, ``challenge_bonus``, ``reward_reverse``) — what they took
  from the merchant less what reversals gave back; ``funded`` is the part on the funding account;
- programme: ``programme_reward`` journals — cash rewards of the merchant's business programmes (tier
  and action rewards, from its receivable); billed on a line of their own, without commission. Points
  (``PTS``) are never money: they move on ``points_issuance`` accounts, which billing does not read;
- spent: ``spend`` journals — cashback the merchant's customers spent at its checkout, credited to
  its receivable (what the platform owes it).

Commission is each day's cost x the rate in force that day, summed exactly and rounded once, half
up, to the minor unit (docs/billing.md).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from merchants.models import CommissionRate, Merchant, MerchantInvoice
from wallet.models import AccountKind, Direction, Entry, JournalKind

COST_KINDS = (JournalKind.REWARD_EARN, JournalKind.CHALLENGE_BONUS, JournalKind.REWARD_REVERSE)
SPENT_KINDS = (JournalKind.SPEND,)
PROGRAMME_KINDS = (JournalKind.PROGRAMME_REWARD,)
BILLED_KINDS = (*COST_KINDS, *PROGRAMME_KINDS, *SPENT_KINDS)
MERCHANT_ACCOUNT_KINDS = (AccountKind.MERCHANT_FUNDING, AccountKind.MERCHANT_RECEIVABLE)


def billing_time_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(period: date) -> date:
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(day: date) -> date:
    return month_start(month_start(day) - timedelta(days=1))


def month_bounds(period: date) -> tuple[datetime, datetime]:
    """The month's first moment and the next month's first moment, in the site's time zone."""
    zone = billing_time_zone()
    return (
        datetime.combine(period, time.min, tzinfo=zone),
        datetime.combine(next_month(period), time.min, tzinfo=zone),
    )


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- Commission rates ---------------------------------------------------------------------------


def commission_rates_of(*, merchant_id: int) -> QuerySet[CommissionRate]:
    """The merchant's rates, newest first (the history the staff page shows)."""
    return (
        CommissionRate.objects.filter(merchant_id=merchant_id).select_related("set_by").order_by("-valid_from", "-id")
    )


def commission_rate_on(*, merchant_id: int, on: date) -> Decimal:
    """The rate in force on ``on``: the merchant's latest rate from that day or before, else the default."""
    rate = (
        CommissionRate.objects.filter(merchant_id=merchant_id, valid_from__lte=on)
        .order_by("-valid_from", "-id")
        .values_list("rate", flat=True)
        .first()
    )
    return Decimal(settings.PLATFORM_COMMISSION_RATE) if rate is None else rate


def commission_rates_by_day(*, merchant_id: int, first: date, last: date) -> dict[date, Decimal]:
    """The rate in force on every day from ``first`` to ``last`` (inclusive), in one query."""
    rows = list(
        CommissionRate.objects.filter(merchant_id=merchant_id, valid_from__lte=last)
        .order_by("valid_from", "id")
        .values_list("valid_from", "rate")
    )
    rates: dict[date, Decimal] = {}
    current = Decimal(settings.PLATFORM_COMMISSION_RATE)
    index = 0
    day = first
    while day <= last:
        # Later rows of the same day win (the newest row on a tie): the loop takes them all in order.
        while index < len(rows) and rows[index][0] <= day:
            current = rows[index][1]
            index += 1
        rates[day] = current
        day += timedelta(days=1)
    return rates


# --- A month's figures --------------------------------------------------------------------------


@dataclass
class MonthFigures:
    """A merchant's billing figures for one month and currency (minor units; commission exact)."""

    merchant_id: int
    currency: str
    period: date
    funded_minor: int = 0
    cost_minor: int = 0
    spent_minor: int = 0
    programme_minor: int = 0
    commission_exact: Decimal = Decimal("0")
    cost_by_day: dict[date, int] = field(default_factory=dict)

    @property
    def commission_minor(self) -> int:
        return round_half_up(self.commission_exact)

    @property
    def total_minor(self) -> int:
        return self.cost_minor + self.programme_minor + self.commission_minor - self.spent_minor

    @property
    def is_empty(self) -> bool:
        """Nothing moved for the merchant's offers or at its checkout: no invoice."""
        return not self.cost_by_day and self.spent_minor == 0 and self.programme_minor == 0


def month_figures(*, merchant_id: int, currency: str, period: date, until: datetime | None = None) -> MonthFigures:
    """The figures of ``period``'s month from the ledger (up to ``until`` when given: the estimate)."""
    start, end = month_bounds(period)
    if until is not None:
        end = min(end, until)
    rows = (
        Entry.objects.filter(
            account__owner_key=f"merchant:{merchant_id}",
            account__kind__in=MERCHANT_ACCOUNT_KINDS,
            account__currency=currency,
            transaction__kind__in=BILLED_KINDS,
            transaction__created_at__gte=start,
            transaction__created_at__lt=end,
        )
        .annotate(day=TruncDate("transaction__created_at", tzinfo=billing_time_zone()))
        .values("day", "account__kind", "transaction__kind")
        .annotate(
            credits=Sum("amount", filter=Q(direction=Direction.CREDIT), default=0),
            debits=Sum("amount", filter=Q(direction=Direction.DEBIT), default=0),
        )
        .order_by()
    )
    figures = MonthFigures(merchant_id=merchant_id, currency=currency, period=period)
    for row in rows:
        if row["transaction__kind"] in SPENT_KINDS:
            # Credits to the receivable: what the platform owes the merchant for its customers' spending.
            figures.spent_minor += row["credits"] - row["debits"]
            continue
        if row["transaction__kind"] in PROGRAMME_KINDS:
            figures.programme_minor += row["debits"] - row["credits"]
            continue
        taken = row["debits"] - row["credits"]  # what the rewards took from the merchant, net
        figures.cost_minor += taken
        if row["account__kind"] == AccountKind.MERCHANT_FUNDING:
            figures.funded_minor += taken
        figures.cost_by_day[row["day"]] = figures.cost_by_day.get(row["day"], 0) + taken
    if figures.cost_by_day:
        rates = commission_rates_by_day(
            merchant_id=merchant_id, first=min(figures.cost_by_day), last=max(figures.cost_by_day)
        )
        figures.commission_exact = sum(
            (Decimal(cost) * rates[day] for day, cost in figures.cost_by_day.items()), Decimal("0")
        )
    # A month whose rewards were all reversed within it charges no negative commission.
    if figures.commission_exact < 0:
        figures.commission_exact = Decimal("0")
    return figures


def month_estimate(*, merchant: Merchant, now: datetime | None = None) -> MonthFigures:
    """The current month so far, in the merchant's currency (what the portal shows as an estimate)."""
    now = now or timezone.now()
    today = timezone.localtime(now, billing_time_zone()).date()
    return month_figures(merchant_id=merchant.pk, currency=merchant.currency, period=month_start(today), until=now)


def billed_currencies(*, merchant_id: int, period: date) -> list[str]:
    """The currencies in which the merchant has cost or spending entries in the month."""
    start, end = month_bounds(period)
    return sorted(
        set(
            Entry.objects.filter(
                account__owner_key=f"merchant:{merchant_id}",
                account__kind__in=MERCHANT_ACCOUNT_KINDS,
                transaction__kind__in=BILLED_KINDS,
                transaction__created_at__gte=start,
                transaction__created_at__lt=end,
            )
            .values_list("currency", flat=True)
            .distinct()
        )
    )


def merchants_with_activity(*, period: date) -> list[int]:
    """Ids of merchants with reward or checkout entries in the month (the monthly run's work list)."""
    start, end = month_bounds(period)
    keys = (
        Entry.objects.filter(
            account__owner_key__startswith="merchant:",
            account__kind__in=MERCHANT_ACCOUNT_KINDS,
            transaction__kind__in=BILLED_KINDS,
            transaction__created_at__gte=start,
            transaction__created_at__lt=end,
        )
        .values_list("account__owner_key", flat=True)
        .distinct()
    )
    return sorted({int(key.split(":", 1)[1]) for key in keys})


def days_in_month(period: date) -> int:
    return calendar.monthrange(period.year, period.month)[1]


# --- Invoices -----------------------------------------------------------------------------------


def invoices_of(*, merchant: Merchant) -> QuerySet[MerchantInvoice]:
    return MerchantInvoice.objects.filter(merchant=merchant).order_by("-period", "currency", "-id")


def invoice_of(*, merchant: Merchant, invoice_id: int) -> MerchantInvoice | None:
    """The merchant's own invoice (with its lines), or None — also for another merchant's id."""
    return MerchantInvoice.objects.filter(merchant=merchant, pk=invoice_id).prefetch_related("lines").first()


def invoice_by_stripe_id(*, stripe_invoice_id: str) -> MerchantInvoice | None:
    if not stripe_invoice_id:
        return None
    return MerchantInvoice.objects.filter(stripe_invoice_id=stripe_invoice_id).first()


def invoices_overdue_due(*, today: date) -> list[int]:
    """Ids of open or failed invoices whose due date plus the grace period has passed."""
    cutoff = today - timedelta(days=settings.BILLING_OVERDUE_GRACE_DAYS)
    return list(
        MerchantInvoice.objects.filter(
            kind=MerchantInvoice.Kind.INVOICE,
            status__in=(MerchantInvoice.Status.OPEN, MerchantInvoice.Status.PAYMENT_FAILED),
            due_date__lt=cutoff,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def invoices_unsent() -> list[int]:
    """Ids of drafts not yet in Stripe (or transfers not yet made): the retry sweep's work list."""
    return list(
        MerchantInvoice.objects.filter(status=MerchantInvoice.Status.DRAFT).order_by("id").values_list("id", flat=True)
    )


def merchant_has_overdue_invoice(*, merchant_id: int) -> bool:
    return MerchantInvoice.objects.filter(merchant_id=merchant_id, status=MerchantInvoice.Status.OVERDUE).exists()


def invoice_list() -> QuerySet[MerchantInvoice]:
    """Every merchant's monthly statements, newest month first, with the merchant (the staff list)."""
    return MerchantInvoice.objects.select_related("merchant").order_by("-period", "merchant_id", "currency", "-id")


@dataclass(frozen=True)
class InvoiceTotal:
    currency: str
    count: int
    total_minor: int
    commission_minor: int
    cost_minor: int


def invoice_totals(invoices: QuerySet[MerchantInvoice]) -> list[InvoiceTotal]:
    """Count, total (invoices less transfers), commission and reward cost per currency, in one query."""
    rows = (
        invoices.order_by()
        .values("currency")
        .annotate(
            count=Count("pk"),
            total=Sum("total_minor"),
            commission=Sum("commission_minor"),
            cost=Sum("cost_minor"),
        )
        .order_by("currency")
    )
    return [
        InvoiceTotal(
            currency=row["currency"],
            count=row["count"],
            total_minor=row["total"] or 0,
            commission_minor=row["commission"] or 0,
            cost_minor=row["cost"] or 0,
        )
        for row in rows
    ]
