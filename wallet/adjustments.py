"""Manual adjustments with a second approver (F-X3, docs/staff-money.md).

A finance person proposes a credit or a debit to one ledger account with a reason
(``adjustment_propose``); a *different* finance person or an administrator approves it
(``adjustment_approve``), which posts the journal transaction, or rejects it
(``adjustment_reject``), which posts nothing. The counter-account is the platform's
``platform_adjustments`` account in the same currency; the key is ``adjustment:<id>``, so
an approval repeated or raced posts once (the adjustment's row is locked first, and the
ledger's unique key would refuse a second post anyway). Every step is recorded in the staff
audit log inside its own transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.staff_audit import record_staff_action
from wallet.errors import (
    AdjustmentAccountNotAllowedError,
    AdjustmentNotProposedError,
    AdjustmentOwnDecisionError,
    InvalidLedgerRequestError,
)
from wallet.models import (
    ADJUSTABLE_KINDS,
    AccountKind,
    Adjustment,
    AdjustmentStatus,
    Direction,
    JournalKind,
    LedgerAccount,
)
from wallet.money import MAX_MINOR_UNITS, minor_to_decimal_string
from wallet.services import account_get_or_create, platform_account, transaction_post, transfer

if TYPE_CHECKING:
    from accounts.models import User


def adjustment_key(adjustment_id: int) -> str:
    """The ledger's idempotency key of an approved adjustment."""
    return f"adjustment:{adjustment_id}"


def _audit_state(adjustment: Adjustment) -> dict[str, Any]:
    return {
        "status": adjustment.status,
        "account": adjustment.account_id,
        "direction": adjustment.direction,
        "amount": minor_to_decimal_string(adjustment.amount_minor, adjustment.account.currency),
        "currency": adjustment.account.currency,
        "journal": adjustment.journal_id,
    }


def adjustment_propose(
    *,
    actor: User,
    kind: str,
    currency: str,
    direction: str,
    amount_minor: int,
    reason: str,
    user: User | None = None,
    owner_key: str = "",
) -> Adjustment:
    """Propose a credit or debit to the account of ``user`` (a consumer) or ``owner_key``
    (``merchant:<id>``, ``charity:<id>``) of ``kind`` in ``currency``. Posts nothing."""
    if kind not in ADJUSTABLE_KINDS:
        raise AdjustmentAccountNotAllowedError()
    if direction not in Direction.values:
        raise InvalidLedgerRequestError(_("An adjustment is a credit or a debit."))
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or not 0 < amount_minor <= MAX_MINOR_UNITS:
        raise InvalidLedgerRequestError(_("The amount must be positive."))
    if not reason.strip():
        raise InvalidLedgerRequestError(_("Give the reason for the adjustment."))
    with transaction.atomic():
        account = account_get_or_create(kind=kind, currency=currency, user=user, owner_key=owner_key)
        adjustment = Adjustment.objects.create(
            account=account, direction=direction, amount_minor=amount_minor, reason=reason.strip(), proposed_by=actor
        )
        record_staff_action(
            actor=actor,
            action="adjustment.propose",
            target=adjustment,
            summary=f"Proposed a {direction} of {minor_to_decimal_string(amount_minor, currency)} {currency}",
            before=None,
            after=_audit_state(adjustment),
        )
    return adjustment


def _locked_proposal(adjustment_id: int, actor: User) -> tuple[Adjustment, dict[str, Any]]:
    adjustment = Adjustment.objects.select_for_update().select_related("account").get(pk=adjustment_id)
    if adjustment.status != AdjustmentStatus.PROPOSED:
        raise AdjustmentNotProposedError()
    if adjustment.proposed_by_id == actor.pk:
        raise AdjustmentOwnDecisionError()
    return adjustment, _audit_state(adjustment)


def adjustment_approve(*, adjustment_id: int, actor: User) -> Adjustment:
    """Approve a proposal someone else made: post it to the ledger, once.

    Raises ``AdjustmentOwnDecisionError`` for the proposer, ``AdjustmentNotProposedError`` if it
    was already decided (a second or concurrent approval), and the ledger's
    ``InsufficientFundsError`` for a debit larger than what the account holds (nothing changes).
    """
    with transaction.atomic():
        adjustment, before = _locked_proposal(adjustment_id, actor)
        account: LedgerAccount = adjustment.account
        counter = platform_account(kind=AccountKind.PLATFORM_ADJUSTMENTS, currency=account.currency)
        debit, credit = (counter, account) if adjustment.direction == Direction.CREDIT else (account, counter)
        adjustment.journal = transaction_post(
            idempotency_key=adjustment_key(adjustment.pk),
            kind=JournalKind.ADJUSTMENT,
            entries=transfer(debit=debit, credit=credit, amount=adjustment.amount_minor),
            memo=f"Manual adjustment {adjustment.pk}",
            causes={"adjustment": adjustment.pk},
        )
        adjustment.status = AdjustmentStatus.APPROVED
        adjustment.decided_by = actor
        adjustment.decided_at = timezone.now()
        adjustment.save(update_fields=["journal", "status", "decided_by", "decided_at", "updated_at"])
        record_staff_action(
            actor=actor,
            action="adjustment.approve",
            target=adjustment,
            summary=f"Approved adjustment {adjustment.pk}; posted journal {adjustment.journal_id}",
            before=before,
            after=_audit_state(adjustment),
        )
    return adjustment


def adjustment_reject(*, adjustment_id: int, actor: User, note: str = "") -> Adjustment:
    """Reject a proposal someone else made; nothing is posted."""
    with transaction.atomic():
        adjustment, before = _locked_proposal(adjustment_id, actor)
        adjustment.status = AdjustmentStatus.REJECTED
        adjustment.decided_by = actor
        adjustment.decided_at = timezone.now()
        adjustment.decision_note = note.strip()[:300]
        adjustment.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        record_staff_action(
            actor=actor,
            action="adjustment.reject",
            target=adjustment,
            summary=f"Rejected adjustment {adjustment.pk}",
            before=before,
            after={**_audit_state(adjustment), "note": adjustment.decision_note},
        )
    return adjustment
