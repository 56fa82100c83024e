"""Blocking a person (F-X1): staff stop an account from earning and from moving money out.

While ``user.blocked_at`` is set the person earns nothing new (campaigns records the decision
``account_blocked`` on the purchase), cannot pay out (wallet payouts), donate (charity) or spend
(wallet spending), and their pending rewards wait: they do not mature until the block is lifted.
Each door calls ``ensure_not_blocked`` and shows ``AccountBlockedError``'s message.

Every block and unblock is a history row (``UserBlockEvent``) and a staff audit entry, written in
one transaction. Monitoring calls ``user_block`` / ``user_unblock`` for a fraud flag that leads
to blocking.
"""

from django.db import transaction
from django.utils import timezone

from accounts.errors import AccountBlockedError, AlreadyBlockedError, BlockReasonMissingError, NotBlockedError
from accounts.models import User, UserBlockEvent
from accounts.staff_audit import record_staff_action

REASON_MAX = UserBlockEvent._meta.get_field("reason").max_length or 300


def is_blocked(*, user_id: int) -> bool:
    """Read from the database, so a block made since the caller loaded the user counts."""
    return User.objects.filter(pk=user_id, blocked_at__isnull=False).exists()


def ensure_not_blocked(*, user: User) -> None:
    """Raise ``AccountBlockedError`` (403) if the person is blocked now."""
    if is_blocked(user_id=user.pk):
        raise AccountBlockedError()


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise BlockReasonMissingError(fields={"reason": [BlockReasonMissingError.default_message]})
    return reason[:REASON_MAX]


def user_block(*, user: User, actor: User | None, reason: str) -> User:
    """Block ``user`` for ``reason``; refuses a person already blocked (``AlreadyBlockedError``).

    ``actor`` is the staff member (None: the platform on a staff rule's behalf)."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.blocked_at is not None:
            raise AlreadyBlockedError()
        locked.blocked_at = timezone.now()
        locked.blocked_reason = reason
        locked.save(update_fields=["blocked_at", "blocked_reason", "updated_at"])
        UserBlockEvent.objects.create(user=locked, action=UserBlockEvent.Action.BLOCK, reason=reason, actor=actor)
        record_staff_action(
            actor=actor,
            action="user.block",
            target=locked,
            summary="Blocked the account",
            before={"blocked": False},
            after={"blocked": True, "reason": reason},
        )
    user.blocked_at, user.blocked_reason = locked.blocked_at, locked.blocked_reason
    return user


def user_unblock(*, user: User, actor: User | None, reason: str) -> User:
    """Lift the block of ``user``; their waiting rewards mature at the next maturity run."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.blocked_at is None:
            raise NotBlockedError()
        before = {"blocked": True, "reason": locked.blocked_reason}
        locked.blocked_at = None
        locked.blocked_reason = ""
        locked.save(update_fields=["blocked_at", "blocked_reason", "updated_at"])
        UserBlockEvent.objects.create(user=locked, action=UserBlockEvent.Action.UNBLOCK, reason=reason, actor=actor)
        record_staff_action(
            actor=actor,
            action="user.unblock",
            target=locked,
            summary="Unblocked the account",
            before=before,
            after={"blocked": False, "reason": reason},
        )
    user.blocked_at, user.blocked_reason = None, ""
    return user
