"""Customer tiers, recomputed from the last 12 months of purchases or earned cashback."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from campaigns.models import CustomerTier, Tier
from campaigns.tier_selectors import tier_window_figures
from cashback.batch_scope import defer_after_commit
from cashback.events import announce

if TYPE_CHECKING:
    from accounts.models import User


def tier_recompute_on_commit(user_id: int) -> None:
    """Recompute the consumer's tier in a task once the caller's transaction commits; in the reward
    worker's batch (cashback/batch_scope.py), once per consumer for the whole batch."""
    defer_after_commit(name="tier recomputes", item=user_id, publish=_tier_recompute_publish)


def _tier_recompute_publish(user_ids: list[int]) -> None:
    # campaigns.tasks imports the services at import time: importing it here breaks that cycle.
    from campaigns.tasks import tier_recompute_for_user, tier_recompute_for_users

    if len(user_ids) == 1:
        tier_recompute_for_user.delay(user_ids[0])
    else:
        tier_recompute_for_users.delay(user_ids, requested_at=timezone.now().isoformat())


def tier_recompute_many(*, user_ids: list[int], requested_at: datetime) -> int:
    """Recompute the tiers of ``user_ids``, skipping a consumer whose tier was computed at or after
    ``requested_at`` (a later request already saw the purchases this one was for: the request is
    made after they committed). Returns how many were recomputed."""
    done_since = set(
        CustomerTier.objects.filter(user_id__in=user_ids, computed_at__gte=requested_at).values_list(
            "user_id", flat=True
        )
    )
    users = get_user_model().objects.filter(pk__in=[pk for pk in user_ids if pk not in done_since]).order_by("pk")
    count = 0
    for user in users:
        tier_recompute(user=user)
        count += 1
    return count


def tier_recompute(*, user: User, now: datetime | None = None) -> CustomerTier:
    """The consumer's tier from their last 12 months: the highest-ranked tier whose threshold they
    reach, by spend (counted purchases) or by earned cashback, in the tier's currency."""
    now = now or timezone.now()
    spend = {
        currency: figure.total_minor
        for currency, figure in tier_window_figures(user=user, basis=Tier.Basis.ROLLING_SPEND, now=now).items()
    }
    earned = {
        currency: figure.total_minor
        for currency, figure in tier_window_figures(user=user, basis=Tier.Basis.EARNED_CASHBACK, now=now).items()
    }
    reached = None
    for tier in Tier.objects.order_by("-rank"):
        figures = spend if tier.basis == Tier.Basis.ROLLING_SPEND else earned
        if figures.get(tier.currency, 0) >= tier.threshold_minor:
            reached = tier
            break
    with transaction.atomic():
        row, _ = CustomerTier.objects.select_for_update().get_or_create(user=user, defaults={"computed_at": now})
        if row.tier_id != (reached.pk if reached else None) and reached is not None:
            previous = row.tier.name if row.tier_id and row.tier else ""
            announce(
                "tier_changed", user_id=user.pk, tier_id=reached.pk, tier_name=reached.name, previous_name=previous
            )
        row.tier = reached
        row.spend_12m_minor = sum(spend.values())
        row.earned_12m_minor = sum(earned.values())
        row.computed_at = now
        row.save()
    return row
