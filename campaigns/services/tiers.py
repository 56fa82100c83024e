"""Customer tiers, recomputed from the last 12 months of purchases or earned cashback."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import CustomerTier, Tier
from campaigns.tier_selectors import tier_window_figures, tier_window_totals
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
    wanted = [pk for pk in user_ids if pk not in done_since]
    ids = sorted(get_user_model().objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if not ids:
        return 0
    # Set-based (issue 19: the reward worker's batch asks for some twenty consumers at a time): the same
    # figures and the same choice as ``tier_recompute``, in a fixed number of statements.
    now = timezone.now()
    spend = tier_window_totals(user_ids=ids, basis=Tier.Basis.ROLLING_SPEND, now=now)
    earned = tier_window_totals(user_ids=ids, basis=Tier.Basis.EARNED_CASHBACK, now=now)
    ranked = list(Tier.objects.order_by("-rank"))
    with transaction.atomic():
        # get_or_create for all at once: missing rows inserted in ascending user order (concurrent
        # recomputes wait on each other in that order), then every row locked in that order.
        CustomerTier.objects.bulk_create(
            [CustomerTier(user_id=pk, computed_at=now) for pk in ids], ignore_conflicts=True
        )
        rows = list(
            CustomerTier.objects.select_for_update(of=("self",))
            .filter(user_id__in=ids)
            .select_related("tier")
            .order_by("user_id")
        )
        for row in rows:
            reached = _reached(ranked, spend.get(row.user_id, {}), earned.get(row.user_id, {}))
            _tier_set(row, reached, spend.get(row.user_id, {}), earned.get(row.user_id, {}), now=now)
        _rows_save(rows)
    return len(rows)


_SAVE_SQL = """
UPDATE campaigns_customertier AS t
SET tier_id = d.tier_id, spend_12m_minor = d.spend, earned_12m_minor = d.earned, computed_at = d.computed_at,
    updated_at = d.computed_at
FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[])
    AS d (id, tier_id, spend, earned, computed_at)
WHERE t.id = d.id
"""


def _rows_save(rows: list[CustomerTier]) -> None:
    """The rows' tiers and figures in one UPDATE joined to arrays (bulk_update builds a CASE per row)."""
    if connection.vendor != "postgresql":
        CustomerTier.objects.bulk_update(
            rows, ["tier", "spend_12m_minor", "earned_12m_minor", "computed_at", "updated_at"]
        )
        return
    columns: list[list[Any]] = [
        [row.pk for row in rows],
        [row.tier_id for row in rows],
        [row.spend_12m_minor for row in rows],
        [row.earned_12m_minor for row in rows],
        [row.computed_at for row in rows],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_SAVE_SQL, columns)


def _reached(ranked: list[Tier], spend: dict[str, int], earned: dict[str, int]) -> Tier | None:
    """The highest-ranked of ``ranked`` (highest first) whose threshold the figures reach."""
    for tier in ranked:
        figures = spend if tier.basis == Tier.Basis.ROLLING_SPEND else earned
        if figures.get(tier.currency, 0) >= tier.threshold_minor:
            return tier
    return None


def _tier_set(
    row: CustomerTier, reached: Tier | None, spend: dict[str, int], earned: dict[str, int], *, now: datetime
) -> None:
    """Give the locked row its new tier and figures (not saved); announce a tier reached."""
    if row.tier_id != (reached.pk if reached else None) and reached is not None:
        previous = row.tier.name if row.tier_id and row.tier else ""
        announce(
            "tier_changed", user_id=row.user_id, tier_id=reached.pk, tier_name=reached.name, previous_name=previous
        )
    row.tier = reached
    row.spend_12m_minor = sum(spend.values())
    row.earned_12m_minor = sum(earned.values())
    row.computed_at = now
    row.updated_at = now


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
    reached = _reached(list(Tier.objects.order_by("-rank")), spend, earned)
    with transaction.atomic():
        row, _ = CustomerTier.objects.select_for_update().get_or_create(user=user, defaults={"computed_at": now})
        _tier_set(row, reached, spend, earned, now=now)
        row.save()
    return row
