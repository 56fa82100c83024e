"""Purchases and rewards for the reports' tests, written straight into the tables (the reports read
raw rows; how rewards come about is campaigns' business and tested there)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.models import Purchase, Reward, RewardKind, RewardStatus
from tests.campaigns.factories import PurchaseFactory

OSLO = ZoneInfo("Europe/Oslo")


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=OSLO)


def purchase(
    *,
    merchant,
    user,
    when: datetime,
    amount: int = 20_000,
    status: str = Purchase.Status.CLEARED,
    refunded: int = 0,
    location=None,
    **extra,
) -> Purchase:
    cleared = status in (Purchase.Status.CLEARED, Purchase.Status.PARTLY_REFUNDED, Purchase.Status.REFUNDED)
    return PurchaseFactory(
        merchant=merchant,
        user=user,
        occurred_at=when,
        amount_minor=amount,
        status=status,
        refunded_minor=refunded,
        cleared_minor=amount if cleared or status == Purchase.Status.REVERSED else None,
        reversed=status == Purchase.Status.REVERSED,
        location=location,
        **extra,
    )


def reward(*, offer, purchase: Purchase, amount: int, beneficiary: str = "consumer", **extra) -> Reward:
    return Reward.objects.create(
        kind=RewardKind.OFFER,
        offer=offer,
        purchase=purchase,
        user=purchase.user,
        beneficiary=beneficiary,
        amount_minor=amount,
        decided_minor=amount,
        currency=purchase.currency,
        status=extra.pop("status", RewardStatus.PENDING),
        **extra,
    )


def earning(*, offer, user, when: datetime, amount: int = 20_000, cashback: int = 2_000, **extra) -> Purchase:
    """A purchase at the offer's merchant that earned ``cashback`` from ``offer``."""
    made = purchase(merchant=offer.merchant, user=user, when=when, amount=amount, **extra)
    reward(offer=offer, purchase=made, amount=cashback)
    return made


def days_before(when: datetime, days: int) -> datetime:
    return when - timedelta(days=days)
