"""Reads of the merchant insights: totals, series and rankings over the daily figures.

Every query runs on ``settings.INSIGHTS_DATABASE`` (the ``replica`` alias when
``INSIGHTS_DATABASE_URL`` is set, else ``default``), reads only the pre-aggregated tables
(``DailyFigures``, ``CustomerDay``) and the names of offers and shops, and is bounded by the range:
a 90-day dashboard of a merchant with 100 000 purchases a year reads a few thousand rows.

Public functions (also for reports and billing): ``figures_totals``, ``figures_comparison``,
``figures_series``, ``figures_by_offer``, ``figures_by_shop``, ``figures_daily``. Ranges are
inclusive days in ``settings.TIME_ZONE``. Definitions: docs/insights.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.conf import settings
from django.db.models import Count, DateField, QuerySet, Sum
from django.db.models.functions import Trunc

from campaigns.models import Offer
from insights.models import CustomerDay, DailyFigures
from merchants.models import Location

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("day", "week", "month")
_SUMS = ("revenue_minor", "purchases", "new_customers", "cost_minor", "charity_minor", "commission")


def insights_database() -> str:
    """The database alias the insights pages read from."""
    return getattr(settings, "INSIGHTS_DATABASE", "default")


@dataclass(frozen=True)
class Totals:
    """A merchant's figures over a period (optionally one offer's or one shop's)."""

    currency: str
    revenue_minor: int = 0
    purchases: int = 0
    customers: int = 0
    new_customers: int = 0
    cost_minor: int = 0
    charity_minor: int = 0
    commission: Decimal = Decimal(0)

    @property
    def returning_customers(self) -> int:
        return self.customers - self.new_customers

    @property
    def return_on_cashback(self) -> Decimal | None:
        """Revenue per krone (unit) of cashback, 2 places; None without cost."""
        if not self.cost_minor:
            return None
        return (Decimal(self.revenue_minor) / Decimal(self.cost_minor)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def cost_per_new_customer_minor(self) -> int | None:
        """Cashback cost per new customer in minor units, rounded half up; None without new customers."""
        if not self.new_customers:
            return None
        return int((Decimal(self.cost_minor) / self.new_customers).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class Comparison:
    """A period's totals beside the previous period of the same length (ending the day before)."""

    current: Totals
    previous: Totals
    previous_start: date
    previous_end: date

    def change(self, name: str) -> Decimal | None:
        """The relative change of a figure in percent (1 place); None when the previous one is 0 or None."""
        now, before = getattr(self.current, name), getattr(self.previous, name)
        if now is None or not before:
            return None
        return ((Decimal(now) - Decimal(before)) * 100 / Decimal(before)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class SeriesPoint:
    start: date  # the bucket's first day
    revenue_minor: int
    purchases: int
    customers: int
    new_customers: int
    cost_minor: int
    charity_minor: int

    @property
    def returning_customers(self) -> int:
        return self.customers - self.new_customers


@dataclass(frozen=True)
class Ranked:
    """One offer's or one shop's figures in a period (``id`` None: no offer / unknown shop)."""

    id: int | None
    name: str
    revenue_minor: int
    purchases: int
    cost_minor: int
    charity_minor: int
    commission: Decimal


def _figures(
    merchant_id: int, currency: str, start: date, end: date, offer_id: int | None, location_id: int | None
) -> QuerySet[DailyFigures]:
    rows = DailyFigures.objects.using(insights_database()).filter(
        merchant_id=merchant_id, currency=currency, day__gte=start, day__lte=end
    )
    if offer_id is not None:
        rows = rows.filter(offer_id=offer_id)
    if location_id is not None:
        rows = rows.filter(location_id=location_id)
    return rows.order_by()


def _customer_days(
    merchant_id: int, currency: str, start: date, end: date, offer_id: int | None, location_id: int | None
) -> QuerySet[CustomerDay]:
    rows = CustomerDay.objects.using(insights_database()).filter(
        merchant_id=merchant_id, currency=currency, day__gte=start, day__lte=end
    )
    if offer_id is not None:
        rows = rows.filter(offer_id=offer_id)
    if location_id is not None:
        rows = rows.filter(location_id=location_id)
    return rows.order_by()


def _sums(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row.get(name) or (Decimal(0) if name == "commission" else 0) for name in _SUMS}


def figures_totals(
    *,
    merchant_id: int,
    currency: str,
    start: date,
    end: date,
    offer_id: int | None = None,
    location_id: int | None = None,
) -> Totals:
    """The merchant's totals over ``start`` … ``end``; customers are distinct over the whole period."""
    sums = _figures(merchant_id, currency, start, end, offer_id, location_id).aggregate(
        **{name: Sum(name) for name in _SUMS}
    )
    customers = (
        _customer_days(merchant_id, currency, start, end, offer_id, location_id)
        .aggregate(n=Count("user_id", distinct=True))
        .get("n")
        or 0
    )
    return Totals(currency=currency, customers=customers, **_sums(sums))


def figures_comparison(
    *, merchant_id: int, currency: str, start: date, end: date, offer_id: int | None = None
) -> Comparison:
    """The period's totals and the previous period's of equal length, for the KPI widgets."""
    length = (end - start).days + 1
    previous_end = start - timedelta(days=1)
    previous_start = previous_end - timedelta(days=length - 1)
    return Comparison(
        current=figures_totals(merchant_id=merchant_id, currency=currency, start=start, end=end, offer_id=offer_id),
        previous=figures_totals(
            merchant_id=merchant_id, currency=currency, start=previous_start, end=previous_end, offer_id=offer_id
        ),
        previous_start=previous_start,
        previous_end=previous_end,
    )


def bucket_start(day: date, bucket: Bucket) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())  # weeks start on Monday
    if bucket == "month":
        return day.replace(day=1)
    return day


def _bucket_starts(start: date, end: date, bucket: Bucket) -> Iterator[date]:
    seen = None
    day = start
    while day <= end:
        first = bucket_start(day, bucket)
        if first != seen:
            seen = first
            yield first
        day += timedelta(days=1)


def figures_series(
    *, merchant_id: int, currency: str, start: date, end: date, bucket: Bucket, offer_id: int | None = None
) -> list[SeriesPoint]:
    """The figures per day, week (from Monday) or month over the range, every bucket present (zeros
    where nothing happened); the first and last buckets cover only the days inside the range."""
    by_day = (
        _figures(merchant_id, currency, start, end, offer_id, None)
        .values("day")
        .annotate(**{name: Sum(name) for name in _SUMS if name != "commission"})
    )
    sums: dict[date, dict[str, int]] = {}
    for day_row in by_day:
        values: dict[str, Any] = dict(day_row)
        into = sums.setdefault(bucket_start(values["day"], bucket), dict.fromkeys(_SUMS, 0))
        for name in _SUMS:
            if name != "commission":
                into[name] += values[name] or 0
    distinct = (
        _customer_days(merchant_id, currency, start, end, offer_id, None)
        .annotate(bucket=Trunc("day", bucket, output_field=DateField()))
        .values("bucket")
        .annotate(n=Count("user_id", distinct=True))
    )
    customers = {row["bucket"]: row["n"] for row in distinct}
    points = []
    for first in _bucket_starts(start, end, bucket):
        point = sums.get(first, {})
        points.append(
            SeriesPoint(
                start=first,
                revenue_minor=point.get("revenue_minor", 0),
                purchases=point.get("purchases", 0),
                customers=customers.get(first, 0),
                new_customers=point.get("new_customers", 0),
                cost_minor=point.get("cost_minor", 0),
                charity_minor=point.get("charity_minor", 0),
            )
        )
    return points


def _ranked(rows: QuerySet[DailyFigures], dimension: str, names: dict[int, str], unnamed: str) -> list[Ranked]:
    grouped = rows.values(dimension).annotate(**{name: Sum(name) for name in _SUMS if name != "new_customers"})
    ranked = [
        Ranked(
            id=row[dimension],
            name=names.get(row[dimension], "Removed") if row[dimension] is not None else unnamed,
            revenue_minor=row["revenue_minor"] or 0,
            purchases=row["purchases"] or 0,
            cost_minor=row["cost_minor"] or 0,
            charity_minor=row["charity_minor"] or 0,
            commission=row["commission"] or Decimal(0),
        )
        for row in grouped
    ]
    return sorted(ranked, key=lambda item: (-item.revenue_minor, -item.cost_minor, item.name))


def figures_by_offer(*, merchant_id: int, currency: str, start: date, end: date) -> list[Ranked]:
    """Each offer's figures in the period (and "No offer"), by revenue, highest first."""
    rows = _figures(merchant_id, currency, start, end, None, None)
    names = dict(Offer.objects.using(insights_database()).filter(merchant_id=merchant_id).values_list("pk", "title"))
    return _ranked(rows, "offer_id", names, "No offer")


def figures_by_shop(
    *, merchant_id: int, currency: str, start: date, end: date, offer_id: int | None = None
) -> list[Ranked]:
    """Each shop's figures in the period (and "Unknown shop"), by revenue, highest first."""
    rows = _figures(merchant_id, currency, start, end, offer_id, None)
    names = dict(Location.objects.using(insights_database()).filter(merchant_id=merchant_id).values_list("pk", "name"))
    return _ranked(rows, "location_id", names, "Unknown shop")


def figures_daily(*, merchant_id: int, start: date, end: date) -> QuerySet[DailyFigures]:
    """The raw daily rows of the merchant's days (every currency, offer and shop), by day: for
    exports and invoices that need the table itself. Customers in it are per row and day."""
    return (
        DailyFigures.objects.using(insights_database())
        .filter(merchant_id=merchant_id, day__gte=start, day__lte=end)
        .order_by("day", "currency", "offer_id", "location_id")
    )
