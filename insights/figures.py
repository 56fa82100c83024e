"""The daily figures' upkeep: recompute days from the raw rows, fold recorded changes, rebuild.

One function computes the figures of a merchant's days from campaigns' purchases and rewards
(``figures_recompute``); the incremental upkeep (``figure_changes_fold``, run by a beat task) and the
rebuild (``figures_rebuild``, the ``insights_rebuild`` command) both call it, so incremental and
rebuilt figures cannot drift apart by construction; the hypothesis test proves that every change
names the days it touched. Reads and writes the primary database (``default``): the replica is for
the pages (``insights.selectors``). Definitions: docs/insights.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, OuterRef, Q, Subquery

from campaigns.models import MerchantDayChange, Purchase, Reward, RewardKind
from insights.models import CustomerDay, DailyFigures
from merchants.models import Merchant
from merchants.selectors import commission_rate

# A purchase counts (revenue, purchases, customers) once cleared and not reversed.
COUNTED_STATUSES = (Purchase.Status.CLEARED, Purchase.Status.PARTLY_REFUNDED, Purchase.Status.REFUNDED)
# The advisory-lock class of the figures of one merchant (the second key is the merchant id).
_LOCK_CLASS = 1_504_015


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_of(moment: datetime) -> date:
    return moment.astimezone(_zone()).date()


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants of the days ``start`` … ``end`` (inclusive) in the figures' time zone."""
    zone = _zone()
    return datetime.combine(start, time.min, zone), datetime.combine(end + timedelta(days=1), time.min, zone)


Key = tuple[int | None, int | None, str, date]  # offer, shop, currency, day


@dataclass
class _Row:
    revenue_minor: int = 0
    purchases: int = 0
    customers: set[int] = field(default_factory=set)
    new_customers: int = 0
    cost_minor: int = 0
    charity_minor: int = 0


def _offer_of_purchase() -> Subquery:
    """The offer a purchase's revenue counts under: the lowest id among the offers that rewarded it."""
    return Subquery(
        Reward.objects.filter(purchase=OuterRef("pk"), kind=RewardKind.OFFER)
        .order_by("offer_id")
        .values("offer_id")[:1]
    )


def _first_purchases(merchant_id: int, lo: datetime, hi: datetime) -> set[int]:
    """Ids of the purchases in [lo, hi) that are their consumer's first counted purchase at the merchant
    (by time, then id), looking at the consumer's whole history there."""
    counted = Purchase.objects.filter(merchant_id=merchant_id, status__in=COUNTED_STATUSES, user__isnull=False)
    in_range = counted.filter(occurred_at__gte=lo, occurred_at__lt=hi)
    firsts = (
        counted.filter(user_id__in=in_range.values("user_id"))
        .values("user_id")
        .annotate(first_at=Min("occurred_at"))
        .filter(first_at__gte=lo, first_at__lt=hi)
        .order_by()
    )
    first_at = {row["user_id"]: row["first_at"] for row in firsts}
    chosen: dict[int, int] = {}
    for pk, user_id, occurred_at in in_range.filter(user_id__in=first_at.keys()).values_list(
        "pk", "user_id", "occurred_at"
    ):
        if occurred_at == first_at[user_id] and (user_id not in chosen or pk < chosen[user_id]):
            chosen[user_id] = pk
    return set(chosen.values())


def _rates(merchant_id: int, days: Iterable[date]) -> dict[date, Decimal]:
    # One lookup per distinct day: merchants keeps the rates (with history after issue 15's billing).
    return {day: commission_rate(merchant_id=merchant_id, on=day) for day in set(days)}


def _compute(merchant_id: int, start: date, end: date) -> tuple[dict[Key, _Row], dict[tuple[Key, int], int]]:
    """The figures and the customer-days of the merchant's days ``start`` … ``end`` from the raw rows."""
    lo, hi = _bounds(start, end)
    rows: dict[Key, _Row] = defaultdict(_Row)
    customer_days: dict[tuple[Key, int], int] = defaultdict(int)
    firsts = _first_purchases(merchant_id, lo, hi)
    purchases = (
        Purchase.objects.filter(
            merchant_id=merchant_id, occurred_at__gte=lo, occurred_at__lt=hi, status__in=COUNTED_STATUSES
        )
        .annotate(figures_offer=_offer_of_purchase())
        .values_list(
            "pk", "user_id", "location_id", "currency", "occurred_at", "amount_minor", "refunded_minor", "figures_offer"
        )
        .order_by()
    )
    # values_list and iterator keep memory flat for a year of a busy merchant's purchases.
    for pk, user_id, location_id, currency, occurred_at, amount, refunded, offer_id in purchases.iterator(
        chunk_size=5000
    ):
        key: Key = (offer_id, location_id, currency, _day_of(occurred_at))
        row = rows[key]
        row.revenue_minor += amount - refunded
        row.purchases += 1
        if user_id is not None:
            row.customers.add(user_id)
            customer_days[(key, user_id)] += 1
            if pk in firsts:
                row.new_customers += 1

    rewards_with_purchase = Reward.objects.filter(
        purchase__merchant_id=merchant_id, purchase__occurred_at__gte=lo, purchase__occurred_at__lt=hi
    ).values_list(
        "offer_id", "purchase__location_id", "currency", "purchase__occurred_at", "amount_minor", "beneficiary"
    )
    for offer_id, location_id, currency, occurred_at, amount, beneficiary in rewards_with_purchase.iterator(
        chunk_size=5000
    ):
        _add_cost(rows[(offer_id, location_id, currency, _day_of(occurred_at))], amount, beneficiary)
    # Monthly-spend rewards count on their period's first day; challenge bonuses without a purchase
    # on the day they were made (campaigns.services.figure_changes.reward_figures_day).
    loose_rewards = Reward.objects.filter(offer__merchant_id=merchant_id, purchase__isnull=True)
    monthly = loose_rewards.filter(kind=RewardKind.MONTHLY, period__gte=start, period__lte=end)
    fields = ("offer_id", "currency", "period", "amount_minor", "beneficiary")
    for offer_id, currency, period, amount, beneficiary in monthly.values_list(*fields):
        _add_cost(rows[(offer_id, None, currency, period)], amount, beneficiary)
    loose = (
        loose_rewards.filter(created_at__gte=lo, created_at__lt=hi)
        .exclude(kind=RewardKind.MONTHLY)
        .values_list("offer_id", "currency", "created_at", "amount_minor", "beneficiary")
    )
    for offer_id, currency, created_at, amount, beneficiary in loose:
        _add_cost(rows[(offer_id, None, currency, _day_of(created_at))], amount, beneficiary)
    return rows, customer_days


def _add_cost(row: _Row, amount: int, beneficiary: str) -> None:
    row.cost_minor += amount
    if beneficiary == "charity":
        row.charity_minor += amount


def _lock_merchant(merchant_id: int) -> None:
    """Serialise recomputing one merchant's figures (until the transaction ends): two folds of the same
    day must not write an older reading over a newer one. Other merchants' folds run in parallel."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, merchant_id])


def figures_recompute(*, merchant_id: int, start: date, end: date) -> int:
    """Replace the merchant's figures and customer-days of ``start`` … ``end`` by what the raw rows say.

    Idempotent (running it twice writes the same rows). The caller holds the merchant's figures lock
    inside a transaction (``figure_changes_fold`` and ``figures_rebuild`` do). Returns the figures rows.
    """
    rows, customer_days = _compute(merchant_id, start, end)
    rates = _rates(merchant_id, (key[3] for key, row in rows.items() if row.cost_minor))
    DailyFigures.objects.filter(merchant_id=merchant_id, day__gte=start, day__lte=end).delete()
    CustomerDay.objects.filter(merchant_id=merchant_id, day__gte=start, day__lte=end).delete()
    figures = []
    for (offer_id, location_id, currency, day), row in rows.items():
        customers = len(row.customers)
        figures.append(
            DailyFigures(
                merchant_id=merchant_id,
                offer_id=offer_id,
                location_id=location_id,
                currency=currency,
                day=day,
                revenue_minor=row.revenue_minor,
                purchases=row.purchases,
                customers=customers,
                new_customers=row.new_customers,
                returning_customers=customers - row.new_customers,
                cost_minor=row.cost_minor,
                charity_minor=row.charity_minor,
                commission=(row.cost_minor * rates[day]).quantize(Decimal("0.0001")) if row.cost_minor else Decimal(0),
            )
        )
    DailyFigures.objects.bulk_create(figures, batch_size=2000)
    CustomerDay.objects.bulk_create(
        (
            CustomerDay(
                merchant_id=merchant_id,
                offer_id=key[0],
                location_id=key[1],
                currency=key[2],
                day=key[3],
                user_id=user_id,
                purchases=count,
            )
            for (key, user_id), count in customer_days.items()
        ),
        batch_size=5000,
    )
    return len(figures)


def _users_on(merchant_id: int, days: set[date]) -> set[int]:
    return set(
        CustomerDay.objects.filter(merchant_id=merchant_id, day__in=days).values_list("user_id", flat=True).distinct()
    )


def _fold_merchant(merchant_id: int, days: set[date]) -> None:
    """Recompute the changed days, then each affected consumer's next day of buying: whether a consumer
    is new there depends on the days before it (a reversed first purchase makes the next one first)."""
    before = _users_on(merchant_id, days)
    for day in sorted(days):
        figures_recompute(merchant_id=merchant_id, start=day, end=day)
    affected = before | _users_on(merchant_id, days)
    if not affected:
        return
    next_days = set(
        CustomerDay.objects.filter(merchant_id=merchant_id, user_id__in=affected, day__gt=min(days))
        .exclude(day__in=days)
        .values("user_id")
        .annotate(next_day=Min("day"))
        .order_by()
        .values_list("next_day", flat=True)
    )
    for day in sorted(next_days):
        figures_recompute(merchant_id=merchant_id, start=day, end=day)


def figure_changes_fold(*, limit: int = 1000) -> int:
    """Fold up to ``limit`` recorded changes into the figures; returns how many were folded.

    Claims the oldest change rows with ``FOR UPDATE SKIP LOCKED`` (two workers never fold the same
    rows, and neither waits for the other), recomputes each named day under the merchant's lock and
    deletes the rows in the same transaction. Safe to run twice and concurrently: a change committed
    while this runs keeps its row, and the next fold recomputes its day again.
    """
    with transaction.atomic():
        claimed = list(
            MerchantDayChange.objects.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", "merchant_id", "day")[:limit]
        )
        if not claimed:
            return 0
        days_by_merchant: dict[int, set[date]] = defaultdict(set)
        for _, merchant_id, day in claimed:
            days_by_merchant[merchant_id].add(day)
        for merchant_id in sorted(days_by_merchant):  # locks in one order: no deadlock between folds
            _lock_merchant(merchant_id)
            _fold_merchant(merchant_id, days_by_merchant[merchant_id])
        MerchantDayChange.objects.filter(id__in=[row[0] for row in claimed]).delete()
    return len(claimed)


def figures_rebuild(
    *, merchant_id: int | None = None, start: date | None = None, end: date | None = None
) -> dict[str, int]:
    """Rebuild the figures from the raw rows: every merchant (or one), every day (or ``start`` … ``end``).

    One transaction per merchant, under its figures lock, so pages read a merchant's old or new
    figures, never half of them. Without a range, the days from the merchant's first purchase or
    reward to today (the figures of days outside are deleted). Returns counts for the command.
    """
    merchants = Merchant.objects.order_by("pk").values_list("pk", flat=True)
    if merchant_id is not None:
        merchants = merchants.filter(pk=merchant_id)
    done = {"merchants": 0, "rows": 0}
    for pk in merchants.iterator():
        first, last = start, end
        if first is None or last is None:
            span = _span(pk)
            if span is None:
                if start is None and end is None:
                    DailyFigures.objects.filter(merchant_id=pk).delete()
                    CustomerDay.objects.filter(merchant_id=pk).delete()
                continue
            first = first or span[0]
            last = last or span[1]
        with transaction.atomic():
            _lock_merchant(pk)
            if start is None and end is None:  # a whole rebuild also drops rows outside the span
                DailyFigures.objects.filter(merchant_id=pk).filter(Q(day__lt=first) | Q(day__gt=last)).delete()
                CustomerDay.objects.filter(merchant_id=pk).filter(Q(day__lt=first) | Q(day__gt=last)).delete()
            done["rows"] += figures_recompute(merchant_id=pk, start=first, end=last)
        done["merchants"] += 1
    return done


def _span(merchant_id: int) -> tuple[date, date] | None:
    """The first and last day the merchant's purchases and rewards count on (None: nothing yet)."""
    purchases = Purchase.objects.filter(merchant_id=merchant_id).order_by().values_list("occurred_at", flat=True)
    first_purchase = purchases.order_by("occurred_at").first()
    last_purchase = purchases.order_by("-occurred_at").first()
    loose = Reward.objects.filter(offer__merchant_id=merchant_id, purchase__isnull=True)
    moments = [m for m in (first_purchase, last_purchase) if m is not None]
    days = [_day_of(m) for m in moments]
    for created_at, period in loose.values_list("created_at", "period"):
        days.append(period if period is not None else _day_of(created_at))
    if not days:
        return None
    return min(days), max(days)
