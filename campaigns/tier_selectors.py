"""The consumer's loyalty tier as they see it: where they stand and what the next tier needs.

Tiers are reached by the last 12 months (``TIER_WINDOW``) of spend or earned cashback, per tier
currency (``services.tier_recompute``, which reads its figures from ``tier_window_figures`` here, so
the card and the recomputation can never count differently). Because the window rolls, what counts
today drops out a year after it happened: the next tier's deadline is the day the oldest counted
purchase (or reward) leaves the window — after it, the same tier needs more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import F, Min, Sum
from django.utils import dateformat, timezone

from campaigns.amount_words import amount_words
from campaigns.models import CustomerTier, Purchase, Reward, Tier
from campaigns.selectors import COUNTED_PURCHASE_STATUSES

if TYPE_CHECKING:
    from accounts.models import User

TIER_WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class WindowFigure:
    """One currency's total within the window, and when the oldest counted item happened."""

    total_minor: int
    oldest_at: datetime | None


def tier_window_figures(*, user: User, basis: str, now: datetime) -> dict[str, WindowFigure]:
    """Per currency, the consumer's spend (counted purchases net of refunds) or earned cashback
    (rewards to the consumer) in the 12 months before ``now``. One query."""
    since = now - TIER_WINDOW
    rows: Iterable[tuple[str, int | None, datetime | None]]
    if basis == Tier.Basis.ROLLING_SPEND:
        rows = (
            Purchase.objects.filter(user=user, status__in=COUNTED_PURCHASE_STATUSES, occurred_at__gte=since)
            .values_list("currency")
            .annotate(total=Sum(F("amount_minor") - F("refunded_minor")), oldest=Min("occurred_at"))
            .order_by()
        )
    else:
        rows = (
            Reward.objects.filter(user=user, created_at__gte=since, beneficiary="consumer")
            .values_list("currency")
            .annotate(total=Sum("amount_minor"), oldest=Min("created_at"))
            .order_by()
        )
    return {currency: WindowFigure(total_minor=total or 0, oldest_at=oldest) for currency, total, oldest in rows}


def tier_window_totals(*, user_ids: Iterable[int], basis: str, now: datetime) -> dict[int, dict[str, int]]:
    """``tier_window_figures``' totals for many consumers in one query: by user id, then currency
    (a consumer with nothing in the window is absent)."""
    since = now - TIER_WINDOW
    ids = sorted(set(user_ids))
    rows: Iterable[tuple[int, str, int | None]]
    if basis == Tier.Basis.ROLLING_SPEND:
        rows = (
            Purchase.objects.filter(user_id__in=ids, status__in=COUNTED_PURCHASE_STATUSES, occurred_at__gte=since)
            .values_list("user_id", "currency")
            .annotate(total=Sum(F("amount_minor") - F("refunded_minor")))
            .order_by()
        )
    else:
        rows = (
            Reward.objects.filter(user_id__in=ids, created_at__gte=since, beneficiary="consumer")
            .values_list("user_id", "currency")
            .annotate(total=Sum("amount_minor"))
            .order_by()
        )
    totals: dict[int, dict[str, int]] = {}
    for user_id, currency, total in rows:
        totals.setdefault(user_id, {})[currency] = total or 0
    return totals


def multiplier_text(multiplier: Decimal) -> str:
    return f"\u00d7{multiplier.normalize():f}"  # the multiplication sign


@dataclass(frozen=True)
class TierStanding:
    """What the tier card and ``GET /api/v1/me/tier/`` show.

    ``tier`` is the tier the rules apply now (the last recomputation); ``next_tier`` the one above
    it, or ``None`` at the top (``is_top``) or when no tiers exist (``tiers_configured`` false).
    ``next_need_minor`` is what is still missing, in the next tier's currency and basis;
    ``next_deadline`` the day the oldest counted item leaves the window (``None`` when nothing counts
    yet: the whole threshold is needed within any 12 months).
    """

    tiers_configured: bool
    tier: Tier | None
    multiplier: Decimal
    next_tier: Tier | None
    next_progress_minor: int = 0
    next_need_minor: int = 0
    next_deadline: datetime | None = None

    @property
    def is_top(self) -> bool:
        return self.tier is not None and self.next_tier is None

    @property
    def multiplier_text(self) -> str:
        """The factor on cashback as "x1.25", "x1.5", "x2" (with a multiplication sign, no trailing zeros)."""
        return multiplier_text(self.multiplier)

    @property
    def next_multiplier_text(self) -> str:
        return multiplier_text(self.next_tier.multiplier) if self.next_tier else ""

    @property
    def next_percent(self) -> int:
        if self.next_tier is None or self.next_tier.threshold_minor <= 0:
            return 100
        return min(100, self.next_progress_minor * 100 // self.next_tier.threshold_minor)

    @property
    def next_need_text(self) -> str:
        """ "Spend 2 300 kr more before 1 March 2027 to reach Gold", or "" without a next tier."""
        tier = self.next_tier
        if tier is None:
            return ""
        if self.next_need_minor <= 0:
            return f"You have reached {tier.name}: it applies from your next purchase."
        verb = "Spend" if tier.basis == Tier.Basis.ROLLING_SPEND else "Earn"
        what = "" if tier.basis == Tier.Basis.ROLLING_SPEND else " cashback"
        amount = amount_words(self.next_need_minor, tier.currency)
        when = (
            f"before {dateformat.format(timezone.localtime(self.next_deadline), 'j F Y')}"
            if self.next_deadline is not None
            else "within 12 months"
        )
        return f"{verb} {amount}{what} more {when} to reach {tier.name}."


def tier_standing(*, user: User, now: datetime | None = None) -> TierStanding:
    """The consumer's tier, multiplier and the next tier's need. At most three queries."""
    now = now or timezone.now()
    tiers = list(Tier.objects.order_by("rank"))
    if not tiers:
        return TierStanding(tiers_configured=False, tier=None, multiplier=Decimal(1), next_tier=None)
    row = CustomerTier.objects.filter(user=user).only("tier_id").first()
    current = next((tier for tier in tiers if row is not None and tier.pk == row.tier_id), None)
    rank = current.rank if current else 0
    above = next((tier for tier in tiers if tier.rank > rank), None)
    multiplier = current.multiplier if current else Decimal(1)
    if above is None:
        return TierStanding(tiers_configured=True, tier=current, multiplier=multiplier, next_tier=None)
    figure = tier_window_figures(user=user, basis=above.basis, now=now).get(above.currency)
    progress = figure.total_minor if figure else 0
    deadline = figure.oldest_at + TIER_WINDOW if figure and figure.oldest_at and progress > 0 else None
    return TierStanding(
        tiers_configured=True,
        tier=current,
        multiplier=multiplier,
        next_tier=above,
        next_progress_minor=progress,
        next_need_minor=max(0, above.threshold_minor - progress),
        next_deadline=deadline,
    )
