"""The days whose figures a change touched, recorded for the insights app above (issue 15).

campaigns cannot import insights, so it writes its own insert-only ``MerchantDayChange`` row in the
changing transaction; insights' task folds the rows into its daily figures (docs/insights.md). A
row is a few bytes and locks nothing shared, so the reward worker's throughput (issue 19) and a hot
merchant's parallel purchases are unaffected. Duplicates are harmless: the fold recomputes a day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from campaigns.models import MerchantDayChange, Reward, RewardKind
from campaigns.services import reward_batch


def figures_day(moment: datetime) -> date:
    """The day a moment counts on in the figures: its date in ``settings.TIME_ZONE``."""
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def reward_figures_day(reward: Reward) -> date:
    """The day a reward's cost counts on: its purchase's day; a monthly-spend reward's period (the
    first of its month); a challenge bonus without a purchase, the day it was created."""
    if reward.purchase_id is not None and reward.purchase is not None:
        return figures_day(reward.purchase.occurred_at)
    if reward.kind == RewardKind.MONTHLY and reward.period is not None:
        return reward.period
    return figures_day(reward.created_at)


def figures_changed(*, merchant_id: int, days: Iterable[date]) -> None:
    """Record that ``days`` of the merchant changed (in the caller's transaction; in a batch of inbox
    events, at the batch's end, one statement for the batch)."""
    batch = reward_batch.current()
    if batch is not None:
        batch.days_changed(merchant_id=merchant_id, days=days)
        return
    MerchantDayChange.objects.bulk_create(
        [MerchantDayChange(merchant_id=merchant_id, day=day) for day in sorted(set(days))]
    )
