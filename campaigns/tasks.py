"""Celery entry points of campaigns: each loads by id (or the clock), calls one service, and is safe to run twice."""

from datetime import datetime

from celery import shared_task
from django.contrib.auth import get_user_model

from campaigns import announcements, services
from campaigns.services import auto_payouts, business_cashback


@shared_task
def offers_activate_due() -> int:
    """Scheduled offers whose start has come go live."""
    return services.offer_activate_due()


@shared_task
def offers_end_due() -> int:
    """Offers whose end has come are ended."""
    return services.offer_end_due()


@shared_task
def tier_recompute_for_user(user_id: int) -> int | None:
    """Recompute one consumer's tier; returns the tier's rank (None without a tier or a user)."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return None
    row = services.tier_recompute(user=user)
    return row.tier.rank if row.tier else None


@shared_task(ignore_result=True)
def tier_recompute_for_users(user_ids: list[int], requested_at: str) -> int:
    """Recompute many consumers' tiers (a batch of purchases, cashback/batch_scope.py); a consumer
    whose tier was computed since ``requested_at`` (ISO 8601) is skipped. Returns how many were."""
    return services.tier_recompute_many(user_ids=user_ids, requested_at=datetime.fromisoformat(requested_at))


@shared_task
def rewards_mature_due() -> int:
    """Pending rewards past their return period (purchase cleared) become available."""
    return services.rewards_mature_due()


@shared_task
def rewards_expire_due() -> int:
    """Available cashback unused for REWARD_EXPIRY_DAYS expires to breakage, oldest first."""
    return services.rewards_expire_due()


@shared_task
def reward_expiry_warnings_send() -> int:
    """Warn consumers REWARD_EXPIRY_WARNING_DAYS before their cashback expires (once per credit)."""
    return services.reward_expiry_warnings_send()


@shared_task
def monthly_rewards_credit() -> int:
    """Credit monthly spend-based offers for the month that just ended."""
    return services.monthly_rewards_credit()


@shared_task(acks_late=True, ignore_result=True)
def announcement_batch_send(announcement_id: int) -> int:
    """Send the next batch of a staff announcement; safe to run twice."""
    return announcements.announcement_batch_send(announcement_id=announcement_id)


@shared_task
def business_cashback_months_book() -> int:
    """Beat (daily): book business cashback for the month that has just ended (docs/rewards.md)."""
    return business_cashback.billing_months_book_due()


@shared_task
def business_cashback_auto_payouts() -> dict[str, int | str]:
    """Beat (daily): pay business customers' available cashback for the month just ended, where the
    programme says so (docs/payouts.md); safe to run twice. Returns what it did."""
    summary = auto_payouts.auto_payouts_run()
    period = f"{summary.period:%Y-%m}" if summary.period else ""
    return {"period": period, "paid": summary.paid, "skipped": summary.skipped}
