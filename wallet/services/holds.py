"""Holds: reserving money on an account, then capturing it (all or part) or releasing it.

Lock order: the hold row first, then the accounts (ascending ids), as everywhere in the ledger.
"""

from collections.abc import Mapping
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from wallet.errors import (
    CurrencyMismatchError,
    HoldAmountExceededError,
    HoldExpiredError,
    HoldNotPendingError,
    IdempotencyConflictError,
    InvalidLedgerRequestError,
)
from wallet.models import Hold, JournalKind, JournalTransaction, LedgerAccount
from wallet.services.ledger_requests import (
    TransferRequest,
    clean_causes,
    request_hash,
    require_amount,
    require_key,
    transfer,
)
from wallet.services.posting import apply_changes, lock_accounts, post_prepared, prepare
from wallet.services.retries import retrying_deadlocks


@retrying_deadlocks
def hold_place(
    *,
    idempotency_key: str,
    account: LedgerAccount,
    counterparty: LedgerAccount,
    amount: int,
    expires_at: datetime,
    memo: str = "",
    causes: Mapping[str, str | int] | None = None,
) -> Hold:
    """Reserve ``amount`` on ``account`` for a later capture to ``counterparty``.

    The reservation counts against the account's available balance at once. A replay
    of the key with the same request returns the first hold; ``expires_at`` is not part
    of the request's identity, because callers derive it from the time of the call.
    """
    require_key(idempotency_key)
    require_amount(amount)
    causes = clean_causes(causes)
    if timezone.is_naive(expires_at):
        raise InvalidLedgerRequestError("expires_at must be timezone-aware.")
    if account.pk == counterparty.pk:
        raise InvalidLedgerRequestError("A hold moves money between two different accounts.")
    if account.currency != counterparty.currency:
        raise CurrencyMismatchError("A hold's account and counterparty must hold the same currency.")
    payload_hash = request_hash(
        {
            "op": "hold_place",
            "account": account.pk,
            "counterparty": counterparty.pk,
            "amount": amount,
            "memo": memo,
            "causes": causes,
        }
    )
    try:
        with transaction.atomic():
            accounts = lock_accounts([account.pk])
            apply_changes(accounts, pending_deltas={account.pk: amount})
            return Hold.objects.create(
                idempotency_key=idempotency_key,
                payload_hash=payload_hash,
                account_id=account.pk,
                counterparty_id=counterparty.pk,
                currency=accounts[account.pk].currency,
                amount=amount,
                expires_at=expires_at,
                memo=memo,
                causes=causes,
            )
    except IntegrityError:
        existing = Hold.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        if existing.payload_hash != payload_hash:
            raise IdempotencyConflictError(
                f"The idempotency key {idempotency_key!r} was already used for a different hold."
            ) from None
        return existing


@retrying_deadlocks
def hold_post(
    *,
    hold: Hold,
    idempotency_key: str,
    amount: int | None = None,
    kind: str = JournalKind.HOLD_POST,
    memo: str = "",
    now: datetime | None = None,
) -> JournalTransaction:
    """Capture all of a pending hold, or part of it, and release the rest of the reservation.

    Returns the journal transaction that moved the money. Replaying the same key for
    the same hold returns that transaction; any other attempt on a resolved hold raises
    ``HoldNotPendingError``. More than reserved raises ``HoldAmountExceededError``, a hold
    past its expiry ``HoldExpiredError``.
    """
    require_key(idempotency_key)
    if amount is not None:
        require_amount(amount)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_hold(hold.pk)
        if locked.status == Hold.Status.POSTED:
            posted = locked.posted_transaction
            assert posted is not None  # a posted hold has its transaction (wallet_hold_status_consistent)
            if posted.idempotency_key == idempotency_key and amount in (None, locked.posted_amount):
                return posted
            raise HoldNotPendingError(f"Hold {locked.pk} was already posted.")
        if locked.status != Hold.Status.PENDING:
            raise HoldNotPendingError(f"Hold {locked.pk} is {locked.status}.")
        if locked.expires_at <= now:
            raise HoldExpiredError(f"Hold {locked.pk} expired at {locked.expires_at.isoformat()}.")
        amount = locked.amount if amount is None else amount
        if amount > locked.amount:
            raise HoldAmountExceededError(f"Hold {locked.pk} reserves {locked.amount}; {amount} was asked for.")
        request = TransferRequest(
            idempotency_key=idempotency_key,
            kind=kind,
            entries=transfer(debit=locked.account, credit=locked.counterparty, amount=amount),
            memo=memo or locked.memo,
            causes={"hold": locked.pk, **locked.causes},
        )
        journal, created = post_prepared(prepare(request), pending_release={locked.account_id: locked.amount})
        if not created:
            raise IdempotencyConflictError(f"The idempotency key {idempotency_key!r} was already used.")
        locked.status = Hold.Status.POSTED
        locked.posted_amount = amount
        locked.posted_transaction = journal
        locked.resolved_at = now
        locked.save(update_fields=["status", "posted_amount", "posted_transaction", "resolved_at", "updated_at"])
        return journal


@retrying_deadlocks
def hold_void(*, hold: Hold, now: datetime | None = None) -> Hold:
    """Release a pending hold. Voiding a voided hold changes nothing; any other resolved hold raises."""
    with transaction.atomic():
        locked = _lock_hold(hold.pk)
        if locked.status == Hold.Status.VOIDED:
            return locked
        if locked.status != Hold.Status.PENDING:
            raise HoldNotPendingError(f"Hold {locked.pk} is {locked.status}.")
        _release(locked, status=Hold.Status.VOIDED, now=now or timezone.now())
        return locked


def hold_expire_due(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Expire every pending hold whose time is up, releasing its reservation. Returns how many.

    Each hold is resolved in its own short transaction; one being posted or voided
    right now is skipped (its row is locked) and settled by that other call.
    """
    now = now or timezone.now()
    expired = 0
    while True:
        due = list(
            Hold.objects.filter(status=Hold.Status.PENDING, expires_at__lte=now)
            .order_by("expires_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        for hold_id in due:
            with transaction.atomic():
                locked = (
                    Hold.objects.select_for_update(skip_locked=True)
                    .filter(pk=hold_id, status=Hold.Status.PENDING, expires_at__lte=now)
                    .first()
                )
                if locked is not None:
                    _release(locked, status=Hold.Status.EXPIRED, now=now)
                    expired += 1
        if len(due) < batch_size:
            return expired


def _lock_hold(hold_id: int) -> Hold:
    """Lock the hold row, then read it with its accounts and posting.

    The lock is taken on the bare row: under READ COMMITTED, a locking query that joins
    would, after waiting for a concurrent resolution, see the hold's new status but the
    joined rows as they were before (a posted hold with no posting). The second read
    starts after the lock is held and sees everything committed.
    """
    Hold.objects.select_for_update().filter(pk=hold_id).values_list("pk", flat=True).get()
    return Hold.objects.select_related("account", "counterparty", "posted_transaction").get(pk=hold_id)


def _release(hold: Hold, *, status: str, now: datetime) -> None:
    """Give back a pending hold's reservation. Caller holds the lock on the hold row."""
    accounts = lock_accounts([hold.account_id])
    apply_changes(accounts, pending_deltas={hold.account_id: -hold.amount})
    hold.status = status
    hold.resolved_at = now
    hold.save(update_fields=["status", "resolved_at", "updated_at"])
