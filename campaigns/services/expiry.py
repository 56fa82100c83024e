"""Expiry: unused cashback older than ``REWARD_EXPIRY_DAYS`` goes to breakage, oldest first, with
a warning to the consumer beforehand.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from campaigns.models import ChallengeProgress, Purchase, Reward, RewardKind
from campaigns.services.rewards import reward_status
from cashback import events
from wallet.models import AccountKind, Direction, Entry, JournalKind, LedgerAccount
from wallet.services import EntrySpec, platform_account, retrying_deadlocks, transaction_post

# --- Expiry ------------------------------------------------------------------------------------

# Credits of the available balance that are cashback and can expire; other credits (returned
# payouts, adjustments) take part in the oldest-first accounting but never expire.
EXPIRING_KINDS = (
    JournalKind.REWARD_MATURE,
    JournalKind.REWARD_EARN,
    JournalKind.CHALLENGE_BONUS,
    JournalKind.REFERRAL_BONUS,
)


def unused_credits(*, account: LedgerAccount) -> list[tuple[Entry, int]]:
    """The credits of a consumer's available account not yet used, oldest first, with what is left.

    "Unused" is oldest-first (FIFO): every debit of the account — spending, payouts, donations,
    reversals, expiry — and every pending hold uses up the oldest credits first. So a credit is
    unused to the extent that all debits and holds together have not reached it yet.
    """
    debits = (
        Entry.objects.filter(account=account, direction=Direction.DEBIT).aggregate(total=Sum("amount"))["total"] or 0
    )
    pending_debits = LedgerAccount.objects.filter(pk=account.pk).values_list("pending_debits", flat=True).first()
    if pending_debits is None:
        raise LedgerAccount.DoesNotExist(f"Ledger account {account.pk} does not exist.")
    used = debits + pending_debits
    result = []
    for entry in (
        Entry.objects.filter(account=account, direction=Direction.CREDIT)
        .select_related("transaction")
        .order_by("created_at", "id")
    ):
        take = min(used, entry.amount)
        used -= take
        if entry.amount - take > 0:
            result.append((entry, entry.amount - take))
    return result


def expiry_days() -> int:
    return int(getattr(settings, "REWARD_EXPIRY_DAYS", 0) or 0)


def _expiring(account: LedgerAccount, cutoff: datetime) -> list[tuple[Entry, int]]:
    return [
        (entry, left)
        for entry, left in unused_credits(account=account)
        if entry.created_at <= cutoff and entry.transaction.kind in EXPIRING_KINDS
    ]


def _accounts_with_cashback():
    return LedgerAccount.objects.filter(
        kind=AccountKind.CONSUMER_AVAILABLE, balance__gt=0, user__isnull=False
    ).order_by("id")


def rewards_expire_due(*, now: datetime | None = None) -> int:
    """Expire unused cashback older than ``REWARD_EXPIRY_DAYS`` to breakage, oldest first.

    One journal transaction per expiring credit, key ``expiry:entry:<entry id>``; the reward it came
    from (if any) records the expired amount. Off when the setting is 0. Returns the number posted.
    """
    days = expiry_days()
    if days <= 0:
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    posted = 0
    for account in _accounts_with_cashback():
        for entry, _left in _expiring(account, cutoff):
            if _expire_one(account_id=account.pk, entry_id=entry.pk, cutoff=cutoff):
                posted += 1
    return posted


def _expire_one(*, account_id: int, entry_id: int, cutoff: datetime) -> bool:
    def work() -> bool:
        with transaction.atomic():
            entry = Entry.objects.select_related("transaction").get(pk=entry_id)
            reward_id = (entry.transaction.causes or {}).get("reward")
            reward = None
            if reward_id:
                head = (
                    Reward.objects.filter(pk=reward_id).values("purchase_id", "kind", "challenge_id", "user_id").first()
                )
                if head and head["kind"] == RewardKind.CHALLENGE:
                    ChallengeProgress.objects.select_for_update().filter(
                        challenge_id=head["challenge_id"], user_id=head["user_id"]
                    ).first()
                elif head and head["purchase_id"]:
                    Purchase.objects.select_for_update().filter(pk=head["purchase_id"]).first()
                reward = Reward.objects.select_for_update().filter(pk=reward_id).first()
            account = LedgerAccount.objects.select_for_update(no_key=True).get(pk=account_id)
            left = dict((e.pk, n) for e, n in _expiring(account, cutoff)).get(entry_id, 0)
            left = min(left, account.balance - account.pending_debits)
            if left <= 0:
                return False
            breakage = platform_account(kind=AccountKind.BREAKAGE, currency=account.currency)
            transaction_post(
                idempotency_key=f"expiry:entry:{entry_id}",
                kind=JournalKind.EXPIRY,
                entries=[EntrySpec.debit(account, left), EntrySpec.credit(breakage, left)],
                memo="Cashback expired unused",
                causes={"entry": entry_id, **({"reward": reward_id} if reward_id else {})},
            )
            if reward is not None:
                reward.expired_minor += left
                reward.available_minor -= min(reward.available_minor, left)
                reward.status = reward_status(reward)
                reward.save(update_fields=["expired_minor", "available_minor", "status", "updated_at"])
            return True

    return retrying_deadlocks(work)()


def reward_expiry_warnings_send(*, now: datetime | None = None) -> int:
    """Warn consumers ``REWARD_EXPIRY_WARNING_DAYS`` before cashback expires: announce
    ``cashback_expiring`` once per credit (the oldest one still unused); returns how many were new."""
    days = expiry_days()
    warning = int(getattr(settings, "REWARD_EXPIRY_WARNING_DAYS", 14) or 0)
    if days <= 0 or warning <= 0:
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(days=days - warning)
    expire_cutoff = now - timedelta(days=days)
    sent = 0
    for account in _accounts_with_cashback():
        soon = [(e, n) for e, n in _expiring(account, cutoff) if e.created_at > expire_cutoff]
        if not soon:
            continue
        total = sum(n for _, n in soon)
        first = soon[0][0]
        expires_on = timezone.localtime(first.created_at + timedelta(days=days)).date()
        announced = events.announce(
            "cashback_expiring",
            once_key=f"expiry-warning:entry:{first.pk}",
            user_id=account.user_id,
            entry_id=first.pk,
            amount_minor=total,
            currency=account.currency,
            expires_on=expires_on.isoformat(),
        )
        if not announced:  # warned about this credit on an earlier run
            continue
        sent += 1
    return sent
