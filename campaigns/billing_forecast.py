"""The business cashback the platform will owe at each coming month end (issue 21): pure arithmetic.

``campaigns.forecast_selectors`` reads the invoices, credits, opt-ins and programmes; this module
turns them into a forecast, so the method can be tested without a database. Per customer and month:

- **paid**: what the customer's paid, eligible invoices (net of credits) earn in the month — a yearly
  or quarterly prepayment month by month, exactly as the booking will (``billing_periods``);
- **unpaid**: what its finalized but unpaid invoices would add once paid;
- **projected**: for a month no invoice of the customer pays for yet, while the customer is still
  opted in, the trailing spend: the average monthly base of the last ``TRAILING_MONTHS`` ended
  months times the customer's rate;

then the programme's caps: the rate is capped when the periods are built, the month's total at the
programme's most per month (taken off the projection first, then the unpaid part, then the paid
part), and the programme's remaining budget, spent month by month (``over_budget``). What is owed
at a month end is what is owed now (accrued and not yet paid) plus every month's cashback up to it,
if nothing is paid out in between.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from campaigns.billing_periods import BilledPeriod, month_cashback, month_shares

TRAILING_MONTHS = 3
HORIZON_MONTHS = 3

FORECAST_METHOD = (
    "For each currency and each of the next month ends: what is owed now (business cashback booked "
    "and still pending, plus the available cashback of business customers, not yet paid out) plus, "
    "month by month, (1) what paid invoices with the cashback price earn in that month — yearly and "
    "quarterly prepayments spread over the months they pay for, net of credit notes and refunds; "
    "(2) what finalized but unpaid invoices would add once paid; (3) for a month no invoice pays for "
    f"yet, while the customer is still opted in, its trailing spend — the average monthly billed base "
    f"of the last {TRAILING_MONTHS} ended months — at its rate. Each programme's caps apply: its "
    "highest rate, its most per customer and month (taken off the projection first), and what is left "
    "of its budget. The total at each month end assumes nothing is paid out before it, so it errs on "
    "the side of holding too much."
)


@dataclass(frozen=True)
class ForecastCustomer:
    """One business customer of one programme, as the forecast needs it."""

    programme_id: int
    currency: str
    rate: Decimal  # the customer's rate, already capped by the programme
    monthly_cap: int | None
    paid: tuple[BilledPeriod, ...]
    unpaid: tuple[BilledPeriod, ...]
    subscribed: bool
    trailing_base: int  # average monthly billed base of the last TRAILING_MONTHS ended months
    months: frozenset[date]  # the months the programme runs in (of those forecast)


@dataclass(frozen=True)
class MonthForecast:
    month: date
    paid: int
    unpaid: int
    projected: int
    over_budget: int
    owed_at_end: int

    @property
    def earned(self) -> int:
        return self.paid + self.unpaid + self.projected - self.over_budget


@dataclass(frozen=True)
class CurrencyForecast:
    currency: str
    accrued_pending: int
    accrued_available: int
    customers: int
    months: tuple[MonthForecast, ...]

    @property
    def accrued(self) -> int:
        return self.accrued_pending + self.accrued_available


def trailing_base(periods: Iterable[BilledPeriod], ended_months: Sequence[date], zone: ZoneInfo) -> int:
    """The average monthly base the periods bill for ``ended_months`` (rounded down; 0 without any)."""
    if not ended_months:
        return 0
    total = 0
    for period in periods:
        shares = month_shares(period, zone)
        total += sum(shares.get(month, 0) for month in ended_months)
    return total // len(ended_months)


def _covers(periods: Iterable[BilledPeriod], month: date, zone: ZoneInfo) -> bool:
    return any(month in month_shares(period, zone) for period in periods)


def customer_month(customer: ForecastCustomer, month: date, zone: ZoneInfo) -> tuple[int, int, int]:
    """(paid, unpaid, projected) one customer earns in ``month``, after its monthly cap."""
    if month not in customer.months:
        return 0, 0, 0
    paid = month_cashback(customer.paid, month, zone)
    unpaid = month_cashback(customer.paid + customer.unpaid, month, zone) - paid
    projected = 0
    if customer.subscribed and not _covers(customer.paid + customer.unpaid, month, zone):
        projected = int((customer.rate * customer.trailing_base).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    if customer.monthly_cap is not None:
        room = customer.monthly_cap
        paid = min(paid, room)
        unpaid = min(unpaid, room - paid)
        projected = min(projected, room - paid - unpaid)
    return paid, max(unpaid, 0), projected


def forecast(
    *,
    customers: Iterable[ForecastCustomer],
    budgets: Mapping[int, int | None],
    accrued_pending: Mapping[str, int],
    accrued_available: Mapping[str, int],
    months: Sequence[date],
    zone: ZoneInfo,
) -> list[CurrencyForecast]:
    """The forecast per currency (sorted), each with one row per month of ``months`` (in order).

    ``budgets``: what is left of each programme's budget (None: unlimited)."""
    rows: dict[str, dict[date, list[int]]] = defaultdict(lambda: {month: [0, 0, 0, 0] for month in months})
    by_programme: dict[int, list[ForecastCustomer]] = defaultdict(list)
    counted: dict[str, int] = defaultdict(int)
    for customer in customers:
        by_programme[customer.programme_id].append(customer)
        counted[customer.currency] += 1
    for programme_id, members in sorted(by_programme.items()):
        left = budgets.get(programme_id)
        currency = members[0].currency
        for month in months:
            month_total = 0
            for customer in members:
                paid, unpaid, projected = customer_month(customer, month, zone)
                row = rows[currency][month]
                row[0] += paid
                row[1] += unpaid
                row[2] += projected
                month_total += paid + unpaid + projected
            if left is not None:
                over = max(0, month_total - left)
                rows[currency][month][3] += over
                left -= month_total - over
    result = []
    for currency in sorted(set(rows) | set(accrued_pending) | set(accrued_available)):
        pending, available = accrued_pending.get(currency, 0), accrued_available.get(currency, 0)
        owed = pending + available
        month_rows = []
        for month in months:
            paid, unpaid, projected, over = rows[currency][month] if currency in rows else (0, 0, 0, 0)
            owed += paid + unpaid + projected - over
            month_rows.append(MonthForecast(month, paid, unpaid, projected, over, owed))
        result.append(
            CurrencyForecast(
                currency=currency,
                accrued_pending=pending,
                accrued_available=available,
                customers=counted.get(currency, 0),
                months=tuple(month_rows),
            )
        )
    return result
