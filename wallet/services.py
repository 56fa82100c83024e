"""Every write to the ledger goes through this module.

``transaction_post`` posts a balanced set of entries; ``transactions_post_batch`` posts
many in one database transaction; the hold functions reserve, capture and release
money. Accounts are always locked in ascending id order, so that two writers never wait
on each other in a cycle. Lock order across the module: hold row, then journal keys,
then accounts.

On PostgreSQL a single post is two raw SQL statements (journal row with its entries,
then the ordered lock and balance update), pipelined with BEGIN and COMMIT when the call
owns its transaction; the overdraft rule is then the accounts' CHECK constraint, and a
refusal is named after the rollback. Elsewhere (SQLite) the ORM path locks with
``_lock_accounts`` and changes balances with ``_apply_changes``. docs/ledger.md explains
both, docs/benchmarks.md why.

Idempotency: a journal transaction (or hold) has a unique idempotency key and a
SHA-256 of its canonical request. Replaying the key with the same request returns the
first result and changes nothing; replaying it with a different request raises
``IdempotencyConflictError``. Concurrent first posts of one key are settled by the
unique index: on PostgreSQL ``ON CONFLICT DO NOTHING`` makes the loser read the
winner's row; on SQLite the loser's savepoint rolls back and it does the same.
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

from cashback.errors import DomainError
from wallet.errors import (
    CurrencyMismatchError,
    HoldAmountExceededError,
    HoldExpiredError,
    HoldNotPendingError,
    IdempotencyConflictError,
    InsufficientFundsError,
    InvalidAmountError,
    InvalidLedgerRequestError,
    UnbalancedTransactionError,
    UnknownAccountError,
    UnknownCurrencyError,
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
from wallet.money import CURRENCY_EXPONENTS, MAX_MINOR_UNITS

MAX_ENTRIES = 64
MAX_KEY_LENGTH = 200
# SQLSTATEs of errors that a fresh attempt of the whole transaction may not meet again.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
_MAX_ATTEMPTS = 3
# Choices as sets: TextChoices.values builds a new list on every call, on the hot path.
_JOURNAL_KINDS = frozenset(JournalKind.values)
_DIRECTIONS = frozenset(Direction.values)

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
    if currency not in Currency.values:
        raise UnknownCurrencyError(f"Unknown currency: {currency!r}.")
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


@dataclass(frozen=True)
class TransferRequest:
    """One balanced transaction to post: what ``transaction_post`` takes, as a value (for batches)."""

    idempotency_key: str
    kind: str
    entries: Sequence[EntrySpec]
    memo: str = ""
    causes: Mapping[str, str | int] | None = None


@dataclass
class _Prepared:
    """A validated request with everything the writers need, computed once before touching the database."""

    index: int
    idempotency_key: str
    kind: str
    memo: str
    causes: dict[str, str | int]
    source_type: str
    source_id: str
    payload_hash: str
    entries: list[EntrySpec]
    currencies: dict[int, str]  # account id -> the currency the caller says it holds
    balance_deltas: dict[int, int]  # account id -> signed change of its credit-normal balance


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

    Preconditions checked here: at least two entries, positive integer amounts, known
    currencies, each account's currency on its entries, debits equal credits per
    currency, existing accounts, and no account that may not go negative ends below its
    pending holds. ``causes`` names what caused the transaction (``{"purchase": 17,
    "offer": 3}``); its first item is indexed. A refused request writes nothing.

    Raises ``UnbalancedTransactionError``, ``CurrencyMismatchError``,
    ``InsufficientFundsError``, ``IdempotencyConflictError``, ``InvalidAmountError``,
    ``UnknownCurrencyError``, ``UnknownAccountError`` or ``InvalidLedgerRequestError``.
    """
    request = TransferRequest(idempotency_key=idempotency_key, kind=kind, entries=entries, memo=memo, causes=causes)
    journal, _created = _post(_prepare(request), pending_release={})
    return journal


def _prepare(request: TransferRequest, index: int = 0) -> _Prepared:
    """Validate a request without the database and compute its hash and balance changes."""
    _require_key(request.idempotency_key)
    if request.kind not in _JOURNAL_KINDS:
        raise InvalidLedgerRequestError(f"Unknown kind: {request.kind!r}.")
    causes = _clean_causes(request.causes)
    entries = list(request.entries)
    _require_valid_entries(entries)
    currencies: dict[int, str] = {}
    balance_deltas: dict[int, int] = defaultdict(int)
    for spec in entries:
        account_id = spec.account.pk
        if currencies.setdefault(account_id, spec.account.currency) != spec.account.currency:
            raise CurrencyMismatchError(f"Account {account_id} is given in two currencies.")
        balance_deltas[account_id] += spec.amount if spec.direction == Direction.CREDIT else -spec.amount
    kind, memo = str(request.kind), str(request.memo)
    source_type, source_id = next(iter(causes.items()), ("", ""))
    payload_hash = _payload_hash(
        {
            "op": "transaction_post",
            "kind": kind,
            "memo": memo,
            "causes": causes,
            "entries": sorted([e.account.pk, str(e.direction), e.amount] for e in entries),
        }
    )
    return _Prepared(
        index=index,
        idempotency_key=str(request.idempotency_key),
        kind=kind,
        memo=memo,
        causes=causes,
        source_type=source_type,
        source_id=str(source_id),
        payload_hash=payload_hash,
        entries=entries,
        currencies=currencies,
        balance_deltas=balance_deltas,
    )


def _post(prepared: _Prepared, *, pending_release: Mapping[int, int]) -> tuple[JournalTransaction, bool]:
    """Post one prepared request; returns the journal transaction and whether this call created it.

    ``pending_release`` lowers accounts' ``pending_debits`` in the same change (a hold's capture).
    """
    if connection.vendor == "postgresql":
        return _post_postgresql(prepared, pending_release=pending_release)
    return _post_portable(prepared, pending_release=pending_release)


def _existing_journal(prepared: _Prepared) -> JournalTransaction | None:
    """The journal transaction already stored under the request's key, if any; raises on a different request."""
    existing = JournalTransaction.objects.filter(idempotency_key=prepared.idempotency_key).first()
    if existing is not None and existing.payload_hash != prepared.payload_hash:
        raise IdempotencyConflictError(
            f"The idempotency key {prepared.idempotency_key!r} was already used for a different transaction."
        )
    return existing


def _journal_instance(prepared: _Prepared, *, journal_id: int, created_at: datetime) -> JournalTransaction:
    """The model instance of a journal row just inserted by raw SQL, without reading it back."""
    journal = JournalTransaction(
        id=journal_id,
        idempotency_key=prepared.idempotency_key,
        payload_hash=prepared.payload_hash,
        kind=prepared.kind,
        memo=prepared.memo,
        causes=prepared.causes,
        source_type=prepared.source_type,
        source_id=prepared.source_id,
        created_at=created_at,
    )
    journal._state.adding = False
    journal._state.db = connection.alias
    return journal


# PostgreSQL: the single-transfer path is raw SQL through Django's connection, because
# the ORM's query compilation and model building cost more than the database work (see
# docs/benchmarks.md). Two statements in one transaction:
#
# 1. the journal row and its entries. The journal row goes first, so a concurrent post
#    of the same key waits on the unique index before it takes any account lock; ON
#    CONFLICT DO NOTHING settles that race without an error (and so without a
#    savepoint): no row back means the key exists, no entries were inserted, and a new
#    statement under READ COMMITTED sees the winner's row. The entries go in before any
#    account is locked; their foreign keys (account, and account with currency) refuse
#    an unknown account or a wrong currency.
# 2. the balance update. The MATERIALIZED CTE sorts, then locks, so the accounts are
#    locked in ascending id order whatever plan the UPDATE gets. The overdraft rule is
#    the CHECK constraints of migration 0001 (balance >= pending_debits unless the
#    account allows negative; pending_debits >= 0): a violation is an error, so the
#    statement cannot quietly skip an account, and the service names the account after
#    the rollback. Every account exists and holds the entries' currency, since
#    statement 1's foreign keys passed and entries protect their accounts from deletion.
#
# When the call owns its transaction, BEGIN goes with statement 1 and COMMIT with
# statement 2 (psycopg's pipeline mode): two round trips, and no round trip to the
# client while the account locks are held — what keeps busy accounts moving.
_INSERT_JOURNAL_SQL = """
WITH journal AS (
    INSERT INTO wallet_journaltransaction
        (idempotency_key, payload_hash, kind, memo, causes, source_type, source_id, created_at)
    VALUES (%(key)s, %(hash)s, %(kind)s, %(memo)s, %(causes)s::jsonb, %(source_type)s, %(source_id)s, %(now)s)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
),
entries AS (
    INSERT INTO wallet_entry (transaction_id, account_id, currency, amount, direction, created_at)
    SELECT journal.id, e.account_id, e.currency, e.amount, e.direction, %(now)s
    FROM journal,
        unnest(%(entry_accounts)s::bigint[], %(entry_currencies)s::varchar[], %(entry_amounts)s::bigint[],
               %(entry_directions)s::varchar[]) AS e (account_id, currency, amount, direction)
)
SELECT id FROM journal
"""


@functools.cache
def _apply_sql(account_count: int) -> str:
    """Statement 2 for this many accounts.

    Scalar parameters rather than arrays: with arrays PostgreSQL cannot know their length
    when it plans a prepared statement, prices the generic plan above the custom one and
    so plans every execution again; with one placeholder per value the generic plan is
    as good and is reused. One statement text per account count (2 for a plain transfer).
    """
    placeholders = ", ".join(["%s"] * account_count)
    rows = ", ".join(["(%s::bigint, %s::bigint, %s::bigint)"] * account_count)
    # Only placeholders are put into the text; the values travel as parameters.
    return f"""
WITH locked AS MATERIALIZED (
    SELECT id FROM wallet_ledgeraccount WHERE id IN ({placeholders}) ORDER BY id FOR NO KEY UPDATE
)
UPDATE wallet_ledgeraccount AS a
SET balance = a.balance + c.balance_delta,
    pending_debits = a.pending_debits + c.pending_delta,
    version = a.version + 1,
    updated_at = %s
FROM locked, (VALUES {rows}) AS c (id, balance_delta, pending_delta)
WHERE a.id = locked.id AND a.id = c.id
"""  # noqa: S608


def _apply_params(
    ids: list[int], balance_deltas: Mapping[int, int], pending_deltas: Mapping[int, int], now: datetime
) -> list[Any]:
    """The parameters of ``_apply_sql(len(ids))``, in the order of their placeholders."""
    params: list[Any] = [*ids, now]
    for account_id in ids:
        params += [account_id, balance_deltas.get(account_id, 0), pending_deltas.get(account_id, 0)]
    return params


# The CHECK constraints of wallet_ledgeraccount that statement 2 may meet, and what they mean.
_OVERDRAWN = "wallet_account_not_overdrawn"
_OVER_RELEASED = "wallet_account_pending_not_negative"
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: no transaction open on the connection


def _pg_cursor() -> Any:
    """A server-binding psycopg cursor on Django's connection, for the hot path's few statements.

    Django's own cursors bind client-side: psycopg renders every array as an SQL literal
    and PostgreSQL parses it back, which costs more than the statement's work here.
    Server-side binding sends the values as parameters. Statements are prepared only if
    the connection allows it (``OPTIONS["prepare_threshold"]``; Django's default, None,
    never prepares, which keeps transaction-pooling proxies safe). Callers wrap their
    use in ``connection.wrap_database_errors`` so errors arrive as Django's (the
    deadlock retry looks for ``OperationalError``). Django's query logging and execute
    wrappers do not see these statements.
    """
    import psycopg  # only on PostgreSQL; the SQLite install does not need the driver

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    return psycopg.Cursor(connection.connection)


def _post_postgresql(prepared: _Prepared, *, pending_release: Mapping[int, int]) -> tuple[JournalTransaction, bool]:
    now = timezone.now()
    ids = sorted(prepared.balance_deltas.keys() | pending_release.keys())
    if any(account_id not in prepared.currencies for account_id in ids):
        # Only a hold's own account can be released without an entry, and hold_post gives it one.
        raise InvalidLedgerRequestError("A released hold's account must have an entry.")
    entries = prepared.entries
    insert_params = {
        "key": prepared.idempotency_key,
        "hash": prepared.payload_hash,
        "kind": prepared.kind,
        "memo": prepared.memo,
        "causes": json.dumps(prepared.causes),
        "source_type": prepared.source_type,
        "source_id": prepared.source_id,
        "now": now,
        "entry_accounts": [spec.account.pk for spec in entries],
        "entry_currencies": [spec.account.currency for spec in entries],
        "entry_amounts": [spec.amount for spec in entries],
        "entry_directions": [str(spec.direction) for spec in entries],
    }
    apply_sql = _apply_sql(len(ids))
    apply_params = _apply_params(
        ids, prepared.balance_deltas, {account_id: -amount for account_id, amount in pending_release.items()}, now
    )
    try:
        if connection.in_atomic_block:
            # Inside the caller's transaction: a savepoint, so a refusal leaves that transaction usable.
            with transaction.atomic(), _pg_cursor() as cursor, connection.wrap_database_errors:
                row = cursor.execute(_INSERT_JOURNAL_SQL, insert_params).fetchone()
                if row is not None:
                    cursor.execute(apply_sql, apply_params)
        else:
            row = _post_postgresql_pipelined(insert_params, apply_sql, apply_params)
    except IntegrityError as exc:
        # Rolled back by now: name the account and the reason, or pass on what we cannot explain.
        refusal = _refusal(exc, prepared, pending_release)
        if refusal is None:
            raise
        raise refusal from exc
    if row is None:
        existing = _existing_journal(prepared)
        if existing is None:  # pragma: no cover - only under REPEATABLE READ, which raises 40001 first
            raise InvalidLedgerRequestError(f"The idempotency key {prepared.idempotency_key!r} is in use.")
        return existing, False
    return _journal_instance(prepared, journal_id=row[0], created_at=now), True


def _post_postgresql_pipelined(
    insert_params: dict[str, Any], apply_sql: str, apply_params: list[Any]
) -> tuple[int] | None:
    """Both statements in a transaction of their own, in two round trips: BEGIN with the
    journal insert, the balance update with COMMIT. Returns the journal row, or None for
    a key that exists (then nothing was written).

    Django's connection is in autocommit mode here and stays there; BEGIN and COMMIT are
    sent as statements so that they travel in the pipeline with the others. Any error
    rolls the transaction back before it goes up.
    """
    cursor = _pg_cursor()
    conn = cursor.connection
    try:
        with connection.wrap_database_errors, cursor, conn.pipeline():
            cursor.execute("BEGIN")
            row = cursor.execute(_INSERT_JOURNAL_SQL, insert_params).fetchone()  # fetching syncs the pipeline
            if row is not None:
                cursor.execute(apply_sql, apply_params)
            cursor.execute("COMMIT")  # the pipeline's exit sends the last two and waits for them
    except BaseException:
        if not conn.closed and conn.info.transaction_status != _IDLE:
            with connection.wrap_database_errors:
                conn.rollback()
        raise
    return row


def _refusal(exc: IntegrityError, prepared: _Prepared, pending_release: Mapping[int, int]) -> DomainError | None:
    """The domain error behind an integrity error of the fast path, from the accounts as they are now."""
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    accounts = {
        row[0]: row
        for row in LedgerAccount.objects.filter(pk__in=list(prepared.currencies)).values_list(
            "pk", "currency", "allows_negative", "balance", "pending_debits"
        )
    }
    missing = sorted(account_id for account_id in prepared.currencies if account_id not in accounts)
    if missing:
        return UnknownAccountError(f"Unknown ledger accounts: {missing}.")
    for account_id, currency in sorted(prepared.currencies.items()):
        if accounts[account_id][1] != currency:
            return CurrencyMismatchError(f"Account {account_id} holds {accounts[account_id][1]}, not {currency}.")
    for account_id, (_, currency, allows_negative, balance, pending) in sorted(accounts.items()):
        pending_delta = -pending_release.get(account_id, 0)
        if constraint == _OVER_RELEASED and pending + pending_delta < 0:
            return InvalidLedgerRequestError(f"Account {account_id} would release more than its holds reserve.")
        change = prepared.balance_deltas.get(account_id, 0) - pending_delta
        if constraint == _OVERDRAWN and not allows_negative and change < 0 and balance - pending + change < 0:
            return InsufficientFundsError(
                f"Account {account_id} has {balance - pending} {currency} minor units available; this needs {-change}."
            )
    if constraint == _OVERDRAWN:  # the balance moved on since; the refusal stands
        return InsufficientFundsError("An account of this transaction had too little money available.")
    return None


def _post_portable(prepared: _Prepared, *, pending_release: Mapping[int, int]) -> tuple[JournalTransaction, bool]:
    """The ORM path, for SQLite (the embedded default), where writers are serialized anyway.

    The unique key decides a race: the loser's savepoint rolls back and it returns the winner's row.
    """
    try:
        with transaction.atomic():
            return _post_new_portable(prepared, pending_release=pending_release), True
    except IntegrityError:
        existing = _existing_journal(prepared)
        if existing is None:
            raise
        return existing, False


def _post_new_portable(prepared: _Prepared, *, pending_release: Mapping[int, int]) -> JournalTransaction:
    # The journal row goes first: a concurrent post of the same key then waits on the
    # unique index before it takes any account lock, and fails fast once we commit.
    journal = JournalTransaction.objects.create(
        idempotency_key=prepared.idempotency_key,
        payload_hash=prepared.payload_hash,
        kind=prepared.kind,
        memo=prepared.memo,
        causes=prepared.causes,
        source_type=prepared.source_type,
        source_id=prepared.source_id,
    )
    accounts = _lock_accounts(prepared.balance_deltas.keys() | pending_release.keys())
    for account_id, currency in prepared.currencies.items():
        if accounts[account_id].currency != currency:
            raise CurrencyMismatchError(f"Account {account_id} holds {accounts[account_id].currency}, not {currency}.")
    _apply_changes(
        accounts,
        balance_deltas=prepared.balance_deltas,
        pending_deltas={account_id: -amount for account_id, amount in pending_release.items()},
    )
    Entry.objects.bulk_create(
        Entry(
            transaction=journal,
            account_id=spec.account.pk,
            currency=spec.account.currency,
            amount=spec.amount,
            direction=spec.direction,
        )
        for spec in prepared.entries
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
        raise UnknownAccountError(f"Unknown ledger accounts: {missing}.")
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


# --- Batches --------------------------------------------------------------------------

MAX_BATCH = 5_000

_INSERT_JOURNALS_SQL = """
INSERT INTO wallet_journaltransaction
    (idempotency_key, payload_hash, kind, memo, causes, source_type, source_id, created_at)
SELECT j.idempotency_key, j.payload_hash, j.kind, j.memo, j.causes::jsonb, j.source_type, j.source_id, %(now)s
FROM unnest(%(keys)s::varchar[], %(hashes)s::varchar[], %(kinds)s::varchar[], %(memos)s::varchar[],
            %(causes)s::text[], %(source_types)s::varchar[], %(source_ids)s::varchar[])
    AS j (idempotency_key, payload_hash, kind, memo, causes, source_type, source_id)
ORDER BY j.idempotency_key
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING idempotency_key, id
"""

_LOCK_ACCOUNTS_SQL = """
SELECT id, currency, allows_negative, balance, pending_debits FROM wallet_ledgeraccount
WHERE id = ANY(%s::bigint[]) ORDER BY id FOR NO KEY UPDATE
"""

_APPLY_BATCH_SQL = """
WITH updated AS (
    UPDATE wallet_ledgeraccount AS a
    SET balance = a.balance + c.balance_delta, version = a.version + c.changes, updated_at = %(now)s
    FROM unnest(%(ids)s::bigint[], %(balance_deltas)s::bigint[], %(changes)s::bigint[])
        AS c (id, balance_delta, changes)
    WHERE a.id = c.id
)
INSERT INTO wallet_entry (transaction_id, account_id, currency, amount, direction, created_at)
SELECT e.transaction_id, e.account_id, e.currency, e.amount, e.direction, %(now)s
FROM unnest(%(entry_journals)s::bigint[], %(entry_accounts)s::bigint[], %(entry_currencies)s::varchar[],
            %(entry_amounts)s::bigint[], %(entry_directions)s::varchar[])
    AS e (transaction_id, account_id, currency, amount, direction)
"""


@_retrying_deadlocks
def transactions_post_batch(*, requests: Sequence[TransferRequest]) -> list[JournalTransaction]:
    """Post many balanced transactions in one database transaction: all of them, or none.

    Returns one journal transaction per request, in the order given. Each request is
    checked as ``transaction_post`` checks it; the overdraft rule is applied request by
    request in the order given, so a request may spend what an earlier one credited, and
    the first request that would overdraw an account fails the whole batch, named by its
    position and key. Idempotent per key: a key already stored with the same request
    returns its first result (and changes nothing); with a different request it raises
    ``IdempotencyConflictError`` and nothing is written. A key given twice in the batch
    is one transaction if both requests are the same, a conflict otherwise.

    Locking: journal keys first (inserted in key order), then every touched account
    once, in ascending id order, so batches and single posts never wait in a cycle.
    Journal ids follow key order within a batch, not request order.
    """
    if len(requests) > MAX_BATCH:
        raise InvalidLedgerRequestError(f"A batch has at most {MAX_BATCH} requests.")
    prepared = []
    for index, request in enumerate(requests):
        try:
            prepared.append(_prepare(request, index))
        except DomainError as exc:
            raise _naming_request(exc, index, getattr(request, "idempotency_key", None)) from None
    unique: dict[str, _Prepared] = {}
    for item in prepared:
        first = unique.setdefault(item.idempotency_key, item)
        if first.payload_hash != item.payload_hash:
            raise IdempotencyConflictError(
                f"Request {item.index} ({item.idempotency_key!r}): the key is used by request {first.index} "
                "of this batch for a different transaction."
            )
    if not unique:
        return []
    postgresql = connection.vendor == "postgresql"
    now = timezone.now()
    with transaction.atomic():
        new_ids = _insert_journals(list(unique.values()), now=now, postgresql=postgresql)
        journals = {
            journal.idempotency_key: journal
            for journal in JournalTransaction.objects.filter(
                idempotency_key__in=[key for key in unique if key not in new_ids]
            )
        }
        for key, journal in journals.items():
            if journal.payload_hash != unique[key].payload_hash:
                raise IdempotencyConflictError(
                    f"Request {unique[key].index} ({key!r}): the key was already used for a different transaction."
                )
        fresh = [item for item in unique.values() if item.idempotency_key in new_ids]
        if fresh:
            _apply_batch(fresh, new_ids, now=now, postgresql=postgresql)
            for item in fresh:
                journals[item.idempotency_key] = _journal_instance(
                    item, journal_id=new_ids[item.idempotency_key], created_at=now
                )
    return [journals[item.idempotency_key] for item in prepared]


def _naming_request(exc: DomainError, index: int, key: object) -> DomainError:
    """The same error, its message prefixed with the request's position and key."""
    named = type(exc)(f"Request {index} ({key!r}): {exc.message}", fields=exc.fields)
    return named


def _insert_journals(items: list[_Prepared], *, now: datetime, postgresql: bool) -> dict[str, int]:
    """Insert the journal rows whose keys are new; returns key -> id of those inserted by this call."""
    if postgresql:
        items = sorted(items, key=lambda item: item.idempotency_key)
        with _pg_cursor() as cursor, connection.wrap_database_errors:
            cursor.execute(
                _INSERT_JOURNALS_SQL,
                {
                    "now": now,
                    "keys": [item.idempotency_key for item in items],
                    "hashes": [item.payload_hash for item in items],
                    "kinds": [item.kind for item in items],
                    "memos": [item.memo for item in items],
                    "causes": [json.dumps(item.causes) for item in items],
                    "source_types": [item.source_type for item in items],
                    "source_ids": [item.source_id for item in items],
                },
            )
            return dict(cursor.fetchall())
    # SQLite serializes writers, so reading the existing keys first cannot race.
    existing = set(
        JournalTransaction.objects.filter(idempotency_key__in=[item.idempotency_key for item in items]).values_list(
            "idempotency_key", flat=True
        )
    )
    created = JournalTransaction.objects.bulk_create(
        JournalTransaction(
            idempotency_key=item.idempotency_key,
            payload_hash=item.payload_hash,
            kind=item.kind,
            memo=item.memo,
            causes=item.causes,
            source_type=item.source_type,
            source_id=item.source_id,
            created_at=now,
        )
        for item in items
        if item.idempotency_key not in existing
    )
    return {journal.idempotency_key: journal.pk for journal in created}


def _apply_batch(items: list[_Prepared], journal_ids: Mapping[str, int], *, now: datetime, postgresql: bool) -> None:
    """Lock the touched accounts, check every request in order, then change balances and insert entries."""
    account_ids = sorted({account_id for item in items for account_id in item.balance_deltas})
    if postgresql:
        with _pg_cursor() as cursor, connection.wrap_database_errors:
            cursor.execute(_LOCK_ACCOUNTS_SQL, [account_ids])
            rows = cursor.fetchall()
    else:
        rows = list(
            LedgerAccount.objects.select_for_update(no_key=True)
            .filter(pk__in=account_ids)
            .order_by("pk")
            .values_list("id", "currency", "allows_negative", "balance", "pending_debits")
        )
    accounts = {row[0]: row for row in rows}
    available = {row[0]: row[3] - row[4] for row in rows}
    balance_deltas: dict[int, int] = defaultdict(int)
    changes: dict[int, int] = defaultdict(int)
    for item in sorted(items, key=lambda item: item.index):
        for account_id, delta in item.balance_deltas.items():
            account = accounts.get(account_id)
            if account is None:
                raise _naming_request(
                    UnknownAccountError(f"Unknown ledger accounts: [{account_id}]."), item.index, item.idempotency_key
                )
            _, currency, allows_negative, _, _ = account
            if currency != item.currencies[account_id]:
                raise _naming_request(
                    CurrencyMismatchError(f"Account {account_id} holds {currency}, not {item.currencies[account_id]}."),
                    item.index,
                    item.idempotency_key,
                )
            before = available[account_id]
            if delta < 0 and not allows_negative and before + delta < 0:
                raise _naming_request(
                    InsufficientFundsError(
                        f"Account {account_id} has {before} {currency} minor units available; this needs {-delta}."
                    ),
                    item.index,
                    item.idempotency_key,
                )
            available[account_id] = before + delta
            balance_deltas[account_id] += delta
            changes[account_id] += 1
    entries = [(journal_ids[item.idempotency_key], spec) for item in items for spec in item.entries]
    if postgresql:
        with _pg_cursor() as cursor, connection.wrap_database_errors:
            cursor.execute(
                _APPLY_BATCH_SQL,
                {
                    "now": now,
                    "ids": account_ids,
                    "balance_deltas": [balance_deltas[account_id] for account_id in account_ids],
                    "changes": [changes[account_id] for account_id in account_ids],
                    "entry_journals": [journal_id for journal_id, _ in entries],
                    "entry_accounts": [spec.account.pk for _, spec in entries],
                    "entry_currencies": [spec.account.currency for _, spec in entries],
                    "entry_amounts": [spec.amount for _, spec in entries],
                    "entry_directions": [str(spec.direction) for _, spec in entries],
                },
            )
        return
    updated_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE wallet_ledgeraccount SET balance = balance + %s, version = version + %s, updated_at = %s "
            "WHERE id = %s",
            [
                (
                    balance_deltas[account_id],
                    changes[account_id],
                    updated_at,
                    account_id,
                )
                for account_id in account_ids
            ],
        )
    Entry.objects.bulk_create(
        Entry(
            transaction_id=journal_id,
            account_id=spec.account.pk,
            currency=spec.account.currency,
            amount=spec.amount,
            direction=spec.direction,
            created_at=now,
        )
        for journal_id, spec in entries
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
        request = TransferRequest(
            idempotency_key=idempotency_key,
            kind=kind,
            entries=transfer(debit=locked.account, credit=locked.counterparty, amount=amount),
            memo=memo or locked.memo,
            causes={"hold": locked.pk, **locked.causes},
        )
        journal, created = _post(_prepare(request), pending_release={locked.account_id: locked.amount})
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
        raise InvalidAmountError(f"Amounts are positive integers of minor units, not {amount!r}.")
    if amount > MAX_MINOR_UNITS:
        raise InvalidAmountError(f"The amount {amount} does not fit the ledger.")


def _require_valid_entries(entries: list[EntrySpec]) -> None:
    if len(entries) < 2:
        raise UnbalancedTransactionError("A transaction has at least two entries.")
    if len(entries) > MAX_ENTRIES:
        raise InvalidLedgerRequestError(f"A transaction has at most {MAX_ENTRIES} entries.")
    net_by_currency: dict[str, int] = defaultdict(int)
    for spec in entries:
        _require_amount(spec.amount)
        if spec.direction not in _DIRECTIONS:
            raise InvalidLedgerRequestError(f"Unknown direction: {spec.direction!r}.")
        if spec.account.pk is None:
            raise UnknownAccountError("Entries need saved accounts.")
        if spec.account.currency not in CURRENCY_EXPONENTS:
            raise UnknownCurrencyError(f"Unknown currency: {spec.account.currency!r}.")
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
