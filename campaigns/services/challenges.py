"""Challenges: their definitions, each consumer's progress and the bonus it earns.

The bonus is booked through ``rewards.reward_book``; a purchase locks the progress rows it counts
for (``challenges_lock``) before its own rewards touch the ledger and settles the bonuses after
(``challenges_reconcile``), under the lock order in ``purchases``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils.translation import gettext

from accounts.blocking import is_blocked
from campaigns.errors import InvalidChallengeError
from campaigns.merchant_cache import merchant_inputs
from campaigns.models import Challenge, ChallengeProgress, Offer, OfferStatus, Purchase, Reward, RewardKind
from campaigns.services.offer_audit import AuditAction, audit_challenge, challenge_snapshot, diff
from campaigns.services.rewards import reward_book, reward_on_auth
from cashback.events import announce

if TYPE_CHECKING:
    from accounts.models import User

# --- Challenges and line-item rules ------------------------------------------------------------


def challenge_save(
    *,
    offer: Offer | None,
    values: Mapping[str, Any],
    challenge: Challenge | None = None,
    actor: User | None = None,
) -> Challenge:
    """Create (or, given ``challenge``, change) a challenge of an offer. A challenge needs an offer."""
    if offer is None:
        raise InvalidChallengeError(
            gettext("A challenge belongs to an offer."), fields={"offer": [gettext("Choose an offer.")]}
        )
    if offer.status == OfferStatus.ENDED:
        raise InvalidChallengeError(
            gettext("The offer has ended."), fields={"offer": [gettext("This offer has ended.")]}
        )
    problems = {}
    if not (values.get("target_value") or 0) > 0:
        problems["target_value"] = ["The target must be above 0."]
    if not (values.get("bonus_minor") or 0) > 0:
        problems["bonus_minor"] = ["The bonus must be above 0."]
    if problems:
        raise InvalidChallengeError(gettext("Please correct the challenge."), fields=problems)
    with transaction.atomic():
        before = challenge_snapshot(challenge) if challenge is not None and challenge.pk else None
        challenge = challenge or Challenge()
        challenge.offer = offer
        for name in ("title", "target_type", "target_value", "bonus_minor"):
            setattr(challenge, name, values[name])
        challenge.save()
        after = challenge_snapshot(challenge)
        if before is None:
            audit_challenge(
                challenge_title=challenge.title, offer=offer, actor=actor, action=AuditAction.CHALLENGE_CREATED
            )
        else:
            audit_challenge(
                challenge_title=challenge.title,
                offer=offer,
                actor=actor,
                action=AuditAction.CHALLENGE_UPDATED,
                changes=diff(before, after),
            )
    return challenge


def challenge_delete(*, challenge: Challenge, actor: User | None = None) -> None:
    with transaction.atomic():
        audit_challenge(
            challenge_title=challenge.title, offer=challenge.offer, actor=actor, action=AuditAction.CHALLENGE_DELETED
        )
        challenge.delete()


# --- Challenges --------------------------------------------------------------------------------


def _challenges_of(purchase: Purchase) -> list[Challenge]:
    """The merchant's challenges whose offer ran at the purchase's time, in its currency, ascending
    (from the worker's per-merchant cache; the rows are shared, so read-only)."""
    return merchant_inputs(purchase.merchant_id).challenges_at(purchase.occurred_at, purchase.currency)


def challenges_lock(purchase: Purchase) -> list[tuple[Challenge, ChallengeProgress]]:
    """Lock the consumer's progress rows of the challenges this purchase counts for (ascending).

    Taken before any ledger post, so that the bonus decision sees every other purchase of the
    consumer that committed before (READ COMMITTED, new statement after the lock).
    """
    if purchase.user_id is None:
        return []
    locked = []
    for challenge in _challenges_of(purchase):
        progress, _ = ChallengeProgress.objects.select_for_update().get_or_create(
            challenge=challenge, user_id=purchase.user_id
        )
        locked.append((challenge, progress))
    return locked


def challenge_progress_value(*, challenge: Challenge, user_id: int) -> int:
    """Revenue (net of refunds) or number of purchases still standing, within the offer's period."""
    purchases = Purchase.objects.filter(
        user_id=user_id,
        merchant_id=challenge.offer.merchant_id,
        currency=challenge.offer.currency,
        reversed=False,
        occurred_at__gte=challenge.offer.starts_at,
        occurred_at__lt=challenge.offer.ends_at,
    ).annotate(net=F("amount_minor") - F("refunded_minor"))
    if reward_on_auth():
        purchases = purchases.filter(Q(cleared_minor__isnull=False) | Q(authorised_minor__isnull=False))
    else:
        purchases = purchases.filter(cleared_minor__isnull=False)
    purchases = purchases.filter(net__gt=0)
    if challenge.target_type == "revenue":
        return purchases.aggregate(total=Sum("net"))["total"] or 0
    return purchases.count()


def challenges_reconcile(purchase: Purchase, locked: list[tuple[Challenge, ChallengeProgress]]) -> None:
    """The bonus rule: given once while the target is reached; taken back if refunds bring the
    consumer under the target before the bonus matured; a matured bonus stays."""
    if not locked:
        return
    user_id = purchase.user_id
    if user_id is None:  # challenges_lock locks nothing for a purchase without a consumer
        raise ValueError(f"Purchase {purchase.pk} has no consumer to count a challenge for.")
    blocked = is_blocked(user_id=user_id)  # a blocked person earns no new bonus (accounts.blocking)
    for challenge, progress in locked:
        value = challenge_progress_value(challenge=challenge, user_id=user_id)
        if progress.value != value:
            _announce_stage(challenge, user_id=user_id, before=progress.value, after=value)
            progress.value = value
            progress.save(update_fields=["value", "updated_at"])
        reward = Reward.objects.filter(kind=RewardKind.CHALLENGE, challenge=challenge, user_id=user_id).first()
        reached = value >= challenge.target_value
        if reward is not None and reward.matured_at is not None:
            continue  # matured: it stays, whatever happens later
        target = challenge.bonus_minor if reached else 0
        if reward is None:
            if not target or blocked:
                continue
            reward = Reward(
                kind=RewardKind.CHALLENGE,
                offer=challenge.offer,
                challenge=challenge,
                purchase=purchase,
                user_id=purchase.user_id,
                currency=challenge.offer.currency,
                amount_minor=0,
                ledger_key=f"challenge:{challenge.pk}:user:{purchase.user_id}",
            )
        if reward.amount_minor == 0 and target:
            # (Re)crossed by this purchase: it matures after this purchase's return period.
            reward.purchase = purchase
            reward.matures_at = purchase.occurred_at + timedelta(days=challenge.offer.return_period_days)
        reward.decided_minor = challenge.bonus_minor
        reward.amount_minor = target
        if reward.pk is None:
            reward.save()
        reward_book(reward, offer=challenge.offer, purchase=reward.purchase)


def _announce_stage(challenge: Challenge, *, user_id: int, before: int, after: int) -> None:
    """Tell the consumer when a purchase carries them past half-way or to the target (once per stage:
    notifications keys the message on the challenge, the person and the stage)."""
    target = challenge.target_value
    if target <= 0:
        return
    for stage, mark in (("half_way", (target + 1) // 2), ("reached", target)):
        if before < mark <= after:
            announce(
                "challenge_progress",
                user_id=user_id,
                challenge_id=challenge.pk,
                challenge_title=challenge.title,
                stage=stage,
                percent=min(100, after * 100 // target),
            )
