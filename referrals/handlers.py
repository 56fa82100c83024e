"""The facts other apps announce (cashback.events), turned into calls of the referral services.

Each handler takes the fact's keyword arguments and ignores those it does not need; each service is
idempotent, so a replayed fact changes nothing.
"""

from typing import Any

from referrals import services


def on_reward_earned(*, user_id: int, purchase_id: int | None, **_facts: Any) -> None:
    services.referral_purchase_rewarded(friend_id=user_id, purchase_id=purchase_id)


def on_reward_available(*, user_id: int, purchase_id: int | None, **_facts: Any) -> None:
    services.referral_purchase_matured(friend_id=user_id, purchase_id=purchase_id)


def on_purchase_undone(*, user_id: int, purchase_id: int | None, **_facts: Any) -> None:
    """``reward_reversed`` and ``purchase_refunded``: both mean the purchase no longer counts."""
    services.referral_purchase_undone(friend_id=user_id, purchase_id=purchase_id)


def on_merchant_approved(*, merchant_id: int, **_facts: Any) -> None:
    services.business_referral_merchant_approved(merchant_id=merchant_id)


def on_offer_live(*, merchant_id: int, **_facts: Any) -> None:
    services.business_referral_offer_live(merchant_id=merchant_id)
