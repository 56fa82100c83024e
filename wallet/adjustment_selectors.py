"""Reads of manual adjustments for the staff panel (lists with filters and totals, one person's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from wallet.models import Adjustment, Direction

if TYPE_CHECKING:
    from accounts.models import User


def adjustment_list() -> QuerySet[Adjustment]:
    """Every adjustment, newest first, with its account and the people who proposed and decided it."""
    return Adjustment.objects.select_related("account", "account__user", "proposed_by", "decided_by").order_by(
        "-created_at", "-id"
    )


def adjustment_detail(*, adjustment_id: int) -> Adjustment:
    return adjustment_list().select_related("journal").get(pk=adjustment_id)


def adjustments_of_user(*, user: User, limit: int = 50) -> list[Adjustment]:
    """The adjustments proposed to a person's accounts, newest first (the support page's section)."""
    return list(adjustment_list().filter(account__user=user)[:limit])


@dataclass(frozen=True)
class AdjustmentTotal:
    currency: str
    count: int
    credits_minor: int
    debits_minor: int

    @property
    def net_minor(self) -> int:
        return self.credits_minor - self.debits_minor


def adjustment_totals(adjustments: QuerySet[Adjustment]) -> list[AdjustmentTotal]:
    """Count, credits and debits per currency of ``adjustments`` (already filtered), in one query."""
    rows = (
        adjustments.order_by()
        .values("account__currency")
        .annotate(
            count=Count("pk"),
            credits=Coalesce(Sum("amount_minor", filter=Q(direction=Direction.CREDIT)), 0),
            debits=Coalesce(Sum("amount_minor", filter=Q(direction=Direction.DEBIT)), 0),
        )
        .order_by("account__currency")
    )
    return [
        AdjustmentTotal(
            currency=row["account__currency"],
            count=row["count"],
            credits_minor=row["credits"],
            debits_minor=row["debits"],
        )
        for row in rows
    ]


def adjustment_exists(*, adjustment_id: int) -> bool:
    return Adjustment.objects.filter(pk=adjustment_id).exists()
