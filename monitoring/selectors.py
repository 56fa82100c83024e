"""Reads of transaction monitoring: the purchase search of /staff/monitoring/ with each purchase's
flags, the flag list, and a person's flags for their support page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from campaigns.models import Purchase
from monitoring.models import FlagStatus, FraudFlag

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class PurchaseFilters:
    card_last_four: str = ""
    merchant: str = ""
    amount_min_minor: int | None = None
    amount_max_minor: int | None = None
    currency: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    flagged_only: bool = False


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def purchase_search(*, filters: PurchaseFilters) -> QuerySet[Purchase]:
    """Purchases across merchants, newest first, with merchant, card and person loaded and their
    flags prefetched (newest first); every filter is optional."""
    purchases = Purchase.objects.select_related("merchant", "card", "user").prefetch_related(
        Prefetch("fraud_flags", queryset=FraudFlag.objects.order_by("-created_at", "-id"))
    )
    if filters.card_last_four:
        purchases = purchases.filter(card__last_four=filters.card_last_four)
    if filters.merchant:
        term = filters.merchant.strip()
        merchant_q = Q(merchant__display_name__icontains=term) | Q(merchant__legal_name__icontains=term)
        if term.isdigit():
            merchant_q |= Q(merchant_id=int(term))
        purchases = purchases.filter(merchant_q)
    if filters.currency:
        purchases = purchases.filter(currency=filters.currency)
    if filters.amount_min_minor is not None:
        purchases = purchases.filter(amount_minor__gte=filters.amount_min_minor)
    if filters.amount_max_minor is not None:
        purchases = purchases.filter(amount_minor__lte=filters.amount_max_minor)
    if filters.status:
        purchases = purchases.filter(status=filters.status)
    if filters.date_from:
        purchases = purchases.filter(occurred_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        purchases = purchases.filter(occurred_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.flagged_only:
        purchases = purchases.filter(fraud_flags__isnull=False).distinct()
    return purchases.order_by("-occurred_at", "-id")


def flag_list(*, status: str = "", rule: str = "") -> QuerySet[FraudFlag]:
    flags = FraudFlag.objects.select_related("purchase__merchant", "card", "user", "decided_by")
    if status:
        flags = flags.filter(status=status)
    if rule:
        flags = flags.filter(rule=rule)
    return flags.order_by("-created_at", "-id")


def flag_counts() -> dict[str, int]:
    counts = dict(FraudFlag.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in FlagStatus.values}


def person_flags_context(user: User) -> dict[str, Any]:
    """The flags section of a person's support page (templates/monitoring/_person_flags.html): the
    flags on them, on their cards and on their purchases, newest first."""
    flags = (
        FraudFlag.objects.filter(Q(user=user) | Q(purchase__user=user) | Q(card__user=user))
        .select_related("purchase__merchant", "card")
        .distinct()
        .order_by("-created_at", "-id")
    )
    return {"flags": list(flags[:50]), "open_flags": flags.filter(status__in=["open", "held"]).count()}
