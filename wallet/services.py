"""Every write to the ledger goes through this module.

``transaction_post`` posts a balanced set of entries; the hold functions reserve,
capture and release money. All of them change cached balances through
``_apply_changes`` while holding row locks on the touched accounts, taken by
``_lock_accounts`` in ascending id order so that two writers never wait on each other
in a cycle. Lock order across the module: hold row, then accounts.

Idempotency: a journal transaction (or hold) has a unique idempotency key and a
SHA-256 of its canonical request. Replaying the key with the same request returns the
first result and changes nothing; replaying it with a different request raises
``IdempotencyConflictError``. Concurrent first posts of one key are settled by the
unique index: the loser's savepoint rolls back and it returns the winner's row.
"""

import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from wallet.errors import (
    CurrencyMismatchError,
    HoldAmountExceededError,
    HoldExpiredError,
    HoldNotPendingError,
    IdempotencyConflictError,
    InsufficientFundsError,
    InvalidLedgerRequestError,
    UnbalancedTransactionError,
)
from wallet.models import (
    KINDS_ALLOWING_NEGATIVE,
    PLATFORM_OWNER_KEY,
    AccountKind,
    Currency,
    Direction,
    Entry,
    Hold,
    JournalKind,
    JournalTransaction,
    LedgerAccount,
)

MAX_ENTRIES = 64
MAX_KEY_LENGTH = 200
# SQLSTATEs of errors that a fresh attempt of the whole transaction may not meet again.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
_MAX_ATTEMPTS = 3

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class EntrySpec:
    """One side of a transaction to post: a positive amount debited from or credited to an account."""

    account: LedgerAccount
    amount: int
    direction: str

    @classmethod
    def debit(cls, account: LedgerAccount, amount: int) -> "EntrySpec":
        return cls(account=account, amount=amount, direction=Direction.DEBIT)

    @classmethod
    def credit(cls, account: LedgerAccount, amount: int) -> "EntrySpec":
        return cls(account=account, amount=amount, direction=Direction.CREDIT)


def transfer(*, debit: LedgerAccount, credit: LedgerAccount, amount: int) -> list[EntrySpec]:
    """The two entries that move ``amount`` from one account to another."""
    return [EntrySpec.debit(debit, amount), EntrySpec.credit(credit, amount)]


# --- Accounts -------------------------------------------------------------------------


def account_get_or_create(
    *,
    kind: str,
    currency: str,
    user: Any = None,
    owner_key: str = "",
    allows_negative: bool | None = None,
) -> LedgerAccount:
    """The account of this owner, kind and currency, created on first use.

    Give either ``user`` (consumer accounts) or ``owner_key`` (``"platform"``,
    ``"merchant:42"``, ...). ``allows_negative`` defaults by kind and is only used when
    the account is created. Safe under concurrency: the unique constraint decides and
    the loser reads the winner's row (Django's get_or_create does this in a savepoint).
    """
    if (user is None) == (not owner_key):
        raise InvalidLedgerRequestError("An account has exactly one owner: a user or an owner key.")
    _require_choice(kind, AccountKind, "kind")
    _require_choice(currency, Currency, "currency")
    if allows_negative is None:
        allows_negative = kind in KINDS_ALLOWING_NEGATIVE
    lookup: dict[str, Any] = {"kind": kind, "currency": currency}
    if user is not None:
        lookup["user"] = user
    else:
        lookup.update(user=None, owner_key=owner_key)
    account, _ = LedgerAccount.objects.get_or_create(**lookup, defaults={"allows_negative": allows_negative})
    return account


def platform_account(*, kind: str, currency: str) -> LedgerAccount:
    """The platform's own account of a kind (revenue, breakage, settlement, ...) in a currency."""
    return account_get_or_create(kind=kind, currency=currency, owner_key=PLATFORM_OWNER_KEY)


# --- Posting --------------------------------------------------------------------------


def _retrying_deadlocks(func: Callable[P, R]) -> Callable[P, R]:
    """Retry the whole operation when PostgreSQL aborts it for a deadlock or serialization failure.

    Only when the call owns its transaction: inside a caller's atomic block the caller's
    earlier work is gone with the abort, so the error goes up to whoever owns the transaction.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        attempt = 1
        while True:
            owns_transaction = not connection.in_atomic_block
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                sqlstate = getattr(exc.__cause__, "sqlstate", None)
                if not owns_transaction or sqlstate not in _RETRYABLE_SQLSTATES or attempt >= _MAX_ATTEMPTS:
                    raise
                attempt += 1

    return wrapper


@_retrying_deadlocks
def transaction_post(
    *,
    idempotency_key: str,
    kind: str,
    entries: Sequence[EntrySpec],
    memo: str = "",
    causes: Mapping[str, str | int] | None = None,
) -> JournalTransaction:
    """Post a balanced set of entries atomically, or return the first result of a replayed key.

    Preconditions checked here: at least two entries, positive integer amounts, each
    account's currency on its entries, debits equal credits per currency, and no account
    that may not go negative ends below its pending holds. ``causes`` names what caused
    the transaction (``{"purchase": 17, "offer": 3}``); its first item is indexed.

    Raises ``UnbalancedTransactionError``, ``CurrencyMismatchError``,
    ``InsufficientFundsError``, ``IdempotencyConflictError`` or ``InvalidLedgerRequestError``.
    """
    journal, _created = _post(
        idempotency_key=idempotency_key, kind=kind, entries=entries, memo=memo, causes=causes, pending_release={}
    )
    return journal


def _post(
    *,
    idempotency_key: str,
    kind: str,
    entries: Sequence[EntrySpec],
    memo: str,
    causes: Mapping[str, str | int] | None,
    pending_release: Mapping[int, int],
) -> tuple[JournalTransaction, bool]:
    _require_key(idempotency_key)
    _require_choice(kind, JournalKind, "kind")
    causes = _clean_causes(causes)
    entries = list(entries)
    _require_valid_entries(entries)
    payload_hash = _payload_hash(
        {
            "op": "transaction_post",
            "kind": kind,
            "memo": memo,
            "causes": causes,
            "entries": sorted([e.account.pk, str(e.direction), e.amount] for e in entries),
        }
    )
    try:
        with transaction.atomic():
            return _post_new(
                idempotency_key=idempotency_key,
                payload_hash=payload_hash,
                kind=kind,
                entries=entries,
                memo=memo,
                causes=causes,
                pending_release=pending_release,
            ), True
    except IntegrityError:
        existing = JournalTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        if existing.payload_hash != payload_hash:
            raise IdempotencyConflictError(
                f"The idempotency key {idempotency_key!r} was already used for a different transaction."
            ) from None
        return existing, False


def _post_new(
    *,
    idempotency_key: str,
    payload_hash: str,
    kind: str,
    entries: list[EntrySpec],
    memo: str,
    causes: dict[str, str | int],
    pending_release: Mapping[int, int],
) -> JournalTransaction:
    # The journal row goes first: a concurrent post of the same key then waits on the
    # unique index before it takes any account lock, and fails fast once we commit.
    source_type, source_id = next(iter(causes.items()), ("", ""))
    journal = JournalTransaction.objects.create(
        idempotency_key=idempotency_key,
        payload_hash=payload_hash,
        kind=kind,
        memo=memo,
        causes=causes,
        source_type=source_type,
        source_id=str(source_id),
    )
    accounts = _lock_accounts({e.account.pk for e in entries} | set(pending_release))
    net_by_currency: dict[str, int] = defaultdict(int)
    balance_deltas: dict[int, int] = defaultdict(int)
    for spec in entries:
        account = accounts[spec.account.pk]
        if spec.account.currency != account.currency:
            raise CurrencyMismatchError(f"Account {account.pk} holds {account.currency}, not {spec.account.currency}.")
        signed = spec.amount if spec.direction == Direction.CREDIT else -spec.amount
        net_by_currency[account.currency] += signed
        balance_deltas[account.pk] += signed
    unbalanced = {currency: net for currency, net in net_by_currency.items() if net}
    if unbalanced:
        detail = ", ".join(f"{currency} off by {net}" for currency, net in sorted(unbalanced.items()))
        raise UnbalancedTransactionError(f"Debits and credits do not balance: {detail}.")
    _apply_changes(
        accounts,
        balance_deltas=balance_deltas,
        pending_deltas={account_id: -amount for account_id, amount in pending_release.items()},
    )
    Entry.objects.bulk_create(
        Entry(
            transaction=journal,
            account_id=spec.account.pk,
            currency=accounts[spec.account.pk].currency,
            amount=spec.amount,
            direction=spec.direction,
        )
        for spec in entries
    )
    return journal


def _lock_accounts(account_ids: Iterable[int]) -> dict[int, LedgerAccount]:
    """Lock the accounts in ascending id order and return them fresh. Caller is inside an atomic block.

    FOR NO KEY UPDATE: it excludes other writers but not the key-share locks that
    inserting an entry or hold referencing the account takes.
    """
    ids = sorted(set(account_ids))
    locked = {
        account.pk: account
        for account in LedgerAccount.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    }
    missing = [account_id for account_id in ids if account_id not in locked]
    if missing:
        raise InvalidLedgerRequestError(f"Unknown ledger accounts: {missing}.")
    return locked


def _apply_changes(
    accounts: Mapping[int, LedgerAccount],
    *,
    balance_deltas: Mapping[int, int] | None = None,
    pending_deltas: Mapping[int, int] | None = None,
) -> None:
    """Change cached balances. Caller holds the row locks on every account in ``accounts``.

    Refuses a change that leaves an account which may not go negative with less than
    its pending holds reserve (the database's CHECK constraint would refuse it too).
    """
    balance_deltas = balance_deltas or {}
    pending_deltas = pending_deltas or {}
    now = timezone.now()
    changed = []
    for account_id in sorted(set(balance_deltas) | set(pending_deltas)):
        account = accounts[account_id]
        before = account.available
        account.balance += balance_deltas.get(account_id, 0)
        account.pending_debits += pending_deltas.get(account_id, 0)
        if account.pending_debits < 0:
            raise InvalidLedgerRequestError(f"Account {account_id} would release more than its holds reserve.")
        if not account.allows_negative and account.available < 0 and account.available < before:
            raise InsufficientFundsError(
                f"Account {account_id} has {before} {account.currency} minor units available; "
                f"this needs {before - account.available}."
            )
        account.version += 1
        account.updated_at = now
        changed.append(account)
    if changed:
        # One plain UPDATE per account sent with executemany (a single pipelined round trip on
        # psycopg 3). bulk_update's CASE expressions cost more Python time than the database work.
        updated_at = connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE wallet_ledgeraccount SET balance = %s, pending_debits = %s, version = %s, "
                "updated_at = %s WHERE id = %s",
                [(a.balance, a.pending_debits, a.version, updated_at, a.pk) for a in changed],
            )


# --- Holds ----------------------------------------------------------------------------


@_retrying_deadlocks
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
    _require_key(idempotency_key)
    _require_amount(amount)
    causes = _clean_causes(causes)
    if timezone.is_naive(expires_at):
        raise InvalidLedgerRequestError("expires_at must be timezone-aware.")
    if account.pk == counterparty.pk:
        raise InvalidLedgerRequestError("A hold moves money between two different accounts.")
    if account.currency != counterparty.currency:
        raise CurrencyMismatchError("A hold's account and counterparty must hold the same currency.")
    payload_hash = _payload_hash(
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
            accounts = _lock_accounts([account.pk])
            _apply_changes(accounts, pending_deltas={account.pk: amount})
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


@_retrying_deadlocks
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
    _require_key(idempotency_key)
    if amount is not None:
        _require_amount(amount)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_hold(hold.pk)
        if locked.status == Hold.Status.POSTED:
            posted = locked.posted_transaction
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
        journal, created = _post(
            idempotency_key=idempotency_key,
            kind=kind,
            entries=transfer(debit=locked.account, credit=locked.counterparty, amount=amount),
            memo=memo or locked.memo,
            causes={"hold": locked.pk, **locked.causes},
            pending_release={locked.account_id: locked.amount},
        )
        if not created:
            raise IdempotencyConflictError(f"The idempotency key {idempotency_key!r} was already used.")
        locked.status = Hold.Status.POSTED
        locked.posted_amount = amount
        locked.posted_transaction = journal
        locked.resolved_at = now
        locked.save(update_fields=["status", "posted_amount", "posted_transaction", "resolved_at", "updated_at"])
        return journal


@_retrying_deadlocks
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
    accounts = _lock_accounts([hold.account_id])
    _apply_changes(accounts, pending_deltas={hold.account_id: -hold.amount})
    hold.status = status
    hold.resolved_at = now
    hold.save(update_fields=["status", "resolved_at", "updated_at"])


# --- Validation and hashing -----------------------------------------------------------


def _require_key(idempotency_key: str) -> None:
    if not isinstance(idempotency_key, str) or not idempotency_key.strip():
        raise InvalidLedgerRequestError("An idempotency key is required.")
    if len(idempotency_key) > MAX_KEY_LENGTH:
        raise InvalidLedgerRequestError(f"An idempotency key has at most {MAX_KEY_LENGTH} characters.")


def _require_choice(value: str, choices: type, name: str) -> None:
    if value not in choices.values:
        raise InvalidLedgerRequestError(f"Unknown {name}: {value!r}.")


def _require_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidLedgerRequestError("Amounts are positive integers of minor units.")


def _require_valid_entries(entries: list[EntrySpec]) -> None:
    if len(entries) < 2:
        raise UnbalancedTransactionError("A transaction has at least two entries.")
    if len(entries) > MAX_ENTRIES:
        raise InvalidLedgerRequestError(f"A transaction has at most {MAX_ENTRIES} entries.")
    net_by_currency: dict[str, int] = defaultdict(int)
    for spec in entries:
        _require_amount(spec.amount)
        if spec.direction not in Direction.values:
            raise InvalidLedgerRequestError(f"Unknown direction: {spec.direction!r}.")
        if spec.account.pk is None:
            raise InvalidLedgerRequestError("Entries need saved accounts.")
        net_by_currency[spec.account.currency] += spec.amount if spec.direction == Direction.CREDIT else -spec.amount
    unbalanced = {currency: net for currency, net in net_by_currency.items() if net}
    if unbalanced:
        detail = ", ".join(f"{currency} off by {net}" for currency, net in sorted(unbalanced.items()))
        raise UnbalancedTransactionError(f"Debits and credits do not balance: {detail}.")


def _clean_causes(causes: Mapping[str, str | int] | None) -> dict[str, str | int]:
    cleaned = dict(causes or {})
    for key, value in cleaned.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidLedgerRequestError("Causes map names to ids, e.g. {'purchase': 17}.")
    return cleaned


def _payload_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
