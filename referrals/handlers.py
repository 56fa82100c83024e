"""The facts other apps announce (cashback.events), turned into calls of the referral services.

Each handler takes the fact's keyword arguments and ignores those it does not need; each service is
idempotent, so a replayed fact changes nothing.
"""

import logging
from typing import Any

from django.contrib.auth import get_user_model

from cashback.errors import DomainError
from referrals import services

logger = logging.getLogger(__name__)


def on_user_signed_up(
    *, user_id: int, referral_code: str = "", ip: str | None = None, device_id: str = "", **_facts: Any
) -> None:
    """Link the friend to the referrer whose code they came with, and record the device and network
    of every sign-up, referred or not.

    The sign-up form checked a typed code already; a code that is no longer usable (a stale link, or
    a replayed fact: the friend is already linked) is dropped — sign-up never fails because of it,
    and it has been committed by the time this runs.
    """
    user = get_user_model().objects.get(pk=user_id)
    if referral_code:
        try:
            services.referral_attach_at_signup(friend=user, code=referral_code, ip=ip, device_id=device_id)
        except DomainError as error:
            logger.info("Sign-up of user %s: referral code %s not linked (%s)", user_id, referral_code, error.code)
    services.device_sighting_record(user=user, device_id=device_id, ip=ip)


def on_merchant_applied(*, merchant_id: int, referral_code: str = "", **_facts: Any) -> None:
    """A partner application through a consumer's ``/partners/?ref=<code>`` link: link the business
    referral (unknown codes are ignored by the service)."""
    if referral_code:
        services.business_referral_link_at_partner_signup(merchant_id=merchant_id, code=referral_code)


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
