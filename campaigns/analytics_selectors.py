"""Purchases and pending rewards for the staff panel's platform analytics (/staff/analytics/, F-X6)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from campaigns.models import Purchase, Reward


def purchases_by_day(*, start: datetime, end: datetime) -> dict[tuple[date, str], tuple[int, int]]:
    """``{(day, currency): (purchases, volume in minor units)}`` of purchases that happened in
    ``[start, end)`` (their ``occurred_at``, days in the current time zone), refunds not deducted;
    purchases still awaiting their first event are left out."""
    rows = (
        Purchase.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .exclude(status=Purchase.Status.AWAITING)
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "currency")
        .annotate(count=Count("pk"), volume=Sum("amount_minor"))
        .order_by()
    )
    return {(row["day"], row["currency"]): (row["count"], row["volume"] or 0) for row in rows}


def pending_rewards_maturing(*, now: datetime, horizons: Sequence[int]) -> dict[str, dict[int, int]]:
    """Per currency, the pending cashback of rewards that mature within each horizon (days from
    ``now``; a reward already due but not yet moved counts in every horizon), in one query."""
    pending = Reward.objects.filter(matured_at__isnull=True, matures_at__isnull=False, pending_minor__gt=0)
    sums = {
        f"within_{days}": Coalesce(Sum("pending_minor", filter=Q(matures_at__lte=now + timedelta(days=days))), 0)
        for days in horizons
    }
    rows: list[dict[str, Any]] = [dict(row) for row in pending.values("currency").annotate(**sums).order_by("currency")]
    return {row["currency"]: {days: row[f"within_{days}"] for days in horizons} for row in rows}
