"""Maturity: a pending reward becomes available when its return period is over and its purchase
cleared; newly available money first pays back what the consumer owes.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.blocking import is_blocked
from campaigns.models import ChallengeProgress, Purchase, Reward, RewardHold, RewardKind
from campaigns.services.rewards import (
    account_spendable,
    consumer_account,
    reward_causes,
    reward_memo,
    reward_status,
    reward_user_id,
)
from cashback.events import announce
from wallet.models import AccountKind, JournalKind, LedgerAccount
from wallet.services import EntrySpec, retrying_deadlocks, transaction_post

# --- Maturity ----------------------------------------------------------------------------------


def rewards_due_to_mature(*, now: datetime, limit: int = 500) -> list[int]:
    return list(
        Reward.objects.filter(matured_at__isnull=True, matures_at__lte=now, pending_minor__gt=0, beneficiary="consumer")
        .filter(Q(purchase__isnull=True) | Q(purchase__cleared_minor__isnull=False, purchase__reversed=False))
        .exclude(user__blocked_at__isnull=False)  # a blocked person's pending rewards wait (accounts.blocking)
        .exclude(Exists(RewardHold.objects.filter(reward=OuterRef("pk"), released_at__isnull=True)))
        .order_by("matures_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def reward_mature(*, reward_id: int, now: datetime | None = None) -> bool:
    """Move one reward from pending to available if its time has come, its purchase cleared and no
    hold is open on it (``reward_hold``; a released hold lets the next run take it).

    Key ``reward:<id>:mature``; announces ``reward_available``. Then any amount the consumer owes
    (``consumer_receivable``) is settled from the newly available money. Safe to run twice.
    """
    now = now or timezone.now()

    def work() -> bool:
        with transaction.atomic():
            head = Reward.objects.filter(pk=reward_id).values("purchase_id", "challenge_id", "user_id", "kind").first()
            if head is None:
                return False
            if head["kind"] == RewardKind.CHALLENGE:
                ChallengeProgress.objects.select_for_update().filter(
                    challenge_id=head["challenge_id"], user_id=head["user_id"]
                ).first()
            elif head["purchase_id"]:
                Purchase.objects.select_for_update().filter(pk=head["purchase_id"]).first()
            reward = (
                Reward.objects.select_for_update(of=("self",)).select_related("purchase", "offer").get(pk=reward_id)
            )
            purchase = reward.purchase
            if reward.matured_at is not None or reward.pending_minor <= 0 or reward.beneficiary != "consumer":
                return False
            if reward.matures_at is None or reward.matures_at > now:
                return False
            if purchase is not None and (purchase.cleared_minor is None or purchase.reversed):
                return False
            if reward.user_id is not None and is_blocked(user_id=reward.user_id):
                return False  # waits until the block is lifted
            if reward.holds.filter(released_at__isnull=True).exists():  # held: waits until released
                return False
            amount = reward.pending_minor
            user_id = reward_user_id(reward)
            pending = consumer_account(user_id, AccountKind.CONSUMER_PENDING, reward.currency)
            available = consumer_account(user_id, AccountKind.CONSUMER_AVAILABLE, reward.currency)
            journal = transaction_post(
                idempotency_key=f"reward:{reward.pk}:mature",
                kind=JournalKind.REWARD_MATURE,
                entries=[EntrySpec.debit(pending, amount), EntrySpec.credit(available, amount)],
                memo=reward_memo(reward, reward.offer)[:255],
                causes=reward_causes(reward, purchase),
            )
            reward.pending_minor = 0
            reward.available_minor += amount
            reward.matured_at = now
            reward.mature_journal = journal
            reward.status = reward_status(reward)
            reward.save()
            announce(
                "reward_available",
                reward_id=reward.pk,
                user_id=reward.user_id,
                purchase_id=purchase.pk if purchase else None,
                amount_minor=amount,
                currency=reward.currency,
            )
            _receivable_settle(reward, available, amount)
            return True

    return retrying_deadlocks(work)()


def _receivable_settle(reward: Reward, available: LedgerAccount, amount: int) -> None:
    """Use newly available cashback to pay back what the consumer owes from earlier reversals."""
    receivable = LedgerAccount.objects.filter(
        user_id=reward_user_id(reward), kind=AccountKind.CONSUMER_RECEIVABLE, currency=reward.currency
    ).first()
    if receivable is None or receivable.balance >= 0:
        return
    settle = min(amount, -receivable.balance, account_spendable(available))
    if settle <= 0:
        return
    transaction_post(
        idempotency_key=f"reward:{reward.pk}:settle",
        kind=JournalKind.ADJUSTMENT,
        entries=[EntrySpec.debit(available, settle), EntrySpec.credit(receivable, settle)],
        memo="Pays back cashback reversed after it was spent",
        causes={"reward": reward.pk},
    )


def rewards_mature_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(1 for reward_id in rewards_due_to_mature(now=now) if reward_mature(reward_id=reward_id, now=now))


# --- Holds -------------------------------------------------------------------------------------


def reward_hold(*, reward_ids: list[int], key: str, reason: str = "") -> int:
    """Hold the pending rewards among ``reward_ids`` under ``key`` (one hold per reward and key;
    holding again changes nothing). Each reward row is locked first, in primary-key order, so a hold
    and a maturing run of the same reward serialise: a reward either matured before the hold or
    waits. Returns the number of rewards now held under ``key``."""
    with transaction.atomic():
        rewards = list(
            Reward.objects.select_for_update()
            .filter(pk__in=reward_ids, matured_at__isnull=True, pending_minor__gt=0)
            .order_by("pk")
        )
        for reward in rewards:
            hold, created = RewardHold.objects.get_or_create(reward=reward, key=key, defaults={"reason": reason[:200]})
            if not created and hold.released_at is not None:
                hold.released_at = None
                hold.save(update_fields=["released_at", "updated_at"])
        return len(rewards)


def reward_hold_release(*, key: str, now: datetime | None = None) -> int:
    """Release every open hold under ``key``; the rewards mature on the maturity job's next run if
    their time has come. Returns the number of holds released (0 when run again)."""
    now = now or timezone.now()
    with transaction.atomic():
        return RewardHold.objects.filter(key=key, released_at__isnull=True).update(released_at=now, updated_at=now)
