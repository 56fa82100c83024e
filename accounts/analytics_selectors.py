"""Sign-ups and linked cards for the staff panel's platform analytics (/staff/analytics/, F-X6)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Card, User


def signups_by_day(*, start: datetime, end: datetime) -> dict[date, int]:
    """People (not staff) who joined in ``[start, end)``, per day in the current time zone."""
    rows = (
        User.objects.filter(is_staff=False, date_joined__gte=start, date_joined__lt=end)
        .annotate(day=TruncDate("date_joined", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["count"] for row in rows}


def cards_linked_by_day(*, start: datetime, end: datetime) -> dict[date, int]:
    """Cards linked in ``[start, end)`` per day (whether or not they were removed since)."""
    rows = (
        Card.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["count"] for row in rows}


def active_cards_at(*, at: datetime) -> int:
    """Cards that were linked and not removed at ``at`` (a removed card has ``removed_at``)."""
    return Card.objects.filter(created_at__lt=at).filter(Q(removed_at__isnull=True) | Q(removed_at__gte=at)).count()
