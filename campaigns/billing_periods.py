"""Business cashback earned month by month (issue 21): pure arithmetic, no database.

A billed invoice pays for a service period (a month, a quarter, a year, or the rest of a period for
a product added part-way). Its base, net of credits, is spread over the calendar months the period
covers in proportion to the time in each (largest remainder, so the shares add up to the base
exactly); a month's cashback is the sum of each invoice's share times its rate, rounded half to even
once. Everything is a function of the set of invoices and credits, never of their order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BilledPeriod:
    """What one paid invoice contributes: its base net of credits, at its rate, over its period."""

    net_minor: int
    rate: Decimal
    start: datetime
    end: datetime


def month_start(moment: datetime, zone: ZoneInfo) -> date:
    local = moment.astimezone(zone)
    return date(local.year, local.month, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    following = next_month(month)
    return (
        datetime(month.year, month.month, 1, tzinfo=zone),
        datetime(following.year, following.month, 1, tzinfo=zone),
    )


def months_of(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The calendar months a period touches (a period of no length: the month it falls in). The end
    is exclusive: a period ending at midnight on the 1st does not touch that month."""
    first = month_start(start, zone)
    last = month_start(max(start, end - timedelta(microseconds=1)), zone)
    months = [first]
    while months[-1] < last:
        months.append(next_month(months[-1]))
    return months


def month_shares(period: BilledPeriod, zone: ZoneInfo) -> dict[date, int]:
    """The period's net base per calendar month, in proportion to the time in each; sums to the net."""
    months = months_of(period.start, period.end, zone)
    if period.net_minor <= 0:
        return {month: 0 for month in months}
    if len(months) == 1:
        return {months[0]: period.net_minor}
    seconds = []
    for month in months:
        low, high = month_bounds(month, zone)
        seconds.append(int((min(high, period.end) - max(low, period.start)).total_seconds()))
    total = sum(seconds)
    exact = [Decimal(period.net_minor) * part / total for part in seconds]
    shares = [int(value) for value in exact]
    left = period.net_minor - sum(shares)
    # Largest remainder first, earlier month on a tie: deterministic and exact.
    for index in sorted(range(len(months)), key=lambda i: (-(exact[i] - shares[i]), i))[:left]:
        shares[index] += 1
    return dict(zip(months, shares, strict=True))


def month_cashback(periods: Iterable[BilledPeriod], month: date, zone: ZoneInfo) -> int:
    """The cashback a month earns from the periods paid for it (before the programme's cap)."""
    total = sum(
        (period.rate * month_shares(period, zone).get(month, 0) for period in periods),
        Decimal(0),
    )
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
