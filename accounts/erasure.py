"""Close my account (F-A5): erase what identifies the person, keep the anonymised ledger intact.

Every app registered an eraser in ``accounts.privacy_registry``: what blocks the erasure (money
left, a payout under way, ...) and what it removes, anonymises or revokes. ``account_erase`` asks
every blocker first and does nothing while one remains, nor while the person has not acknowledged
every notice (what closing loses: points are forfeited); otherwise it runs every eraser in one
transaction (accounts' own last: the user row becomes an anonymised shell), records the erasure in
the staff audit log, and ends every session. docs/privacy.md.
"""

from collections.abc import Collection
from dataclasses import replace

from django.db import transaction
from django.utils import timezone

from accounts import privacy_registry
from accounts.errors import ErasureBlockedError, ErasureNotAcknowledgedError
from accounts.models import AuditRecord, User
from accounts.privacy_registry import ErasureBlocker, ErasureNotice


def erasure_blockers(*, user: User) -> list[ErasureBlocker]:
    """What must be settled before ``user``'s account can be closed (empty: it can be closed now),
    each with the ways to settle it that any app offers."""
    return [
        replace(
            blocker,
            actions=blocker.actions + tuple(privacy_registry.settle_options(blocker_code=blocker.code, user=user)),
        )
        for eraser in privacy_registry.erasers()
        for blocker in eraser.blockers(user)
    ]


def erasure_notices(*, user: User) -> list[ErasureNotice]:
    """What ``user`` loses by closing the account and must acknowledge first (points forfeited, ...)."""
    return [notice for eraser in privacy_registry.erasers() for notice in eraser.notices(user)]


def account_erase(*, user: User, acknowledged: Collection[str] = ()) -> AuditRecord | None:
    """Erase ``user``'s personal data and close the account, or refuse with ``ErasureBlockedError``
    (409; ``fields["blockers"]`` holds the codes) or, when a notice's code is not in ``acknowledged``,
    ``ErasureNotAcknowledgedError`` (409; ``fields["acknowledge"]`` holds the codes), and change nothing.

    Precondition: the door confirmed it is the person (password re-entered, confirmation typed).
    Idempotent: an account already erased returns None and changes nothing. The user row is locked
    for the whole erasure, so two requests erase once.
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.erased_at is not None:
            return None
        blockers = erasure_blockers(user=locked)
        if blockers:
            raise ErasureBlockedError(
                " ".join(blocker.message for blocker in blockers),
                fields={"blockers": [blocker.code for blocker in blockers]},
            )
        missing = [notice for notice in erasure_notices(user=locked) if notice.code not in acknowledged]
        if missing:
            raise ErasureNotAcknowledgedError(
                " ".join(notice.message for notice in missing),
                fields={"acknowledge": [notice.code for notice in missing]},
            )
        summary: dict[str, dict[str, int]] = {}
        for eraser in privacy_registry.erasers():
            summary[eraser.name] = eraser.erase(locked)
        record = AuditRecord.objects.create(
            action=AuditRecord.Action.ACCOUNT_ERASED,
            subject=locked,
            actor_kind="self",
            details={"erased": summary},
            created_at=timezone.now(),
        )
    user.refresh_from_db()
    return record
