"""Posting one balanced transaction: ``transaction_post``, and the two writers behind it.

Accounts are always locked in ascending id order, so that two writers never wait on each
other in a cycle. Lock order across the services: hold row, then journal keys, then accounts.

On PostgreSQL a single post is two raw SQL statements (journal row with its entries, then the
ordered lock and balance update), pipelined with BEGIN and COMMIT when the call owns its
transaction; the overdraft rule is then the accounts' CHECK constraint, and a refusal is named
after the rollback. Elsewhere (SQLite) the ORM path locks with ``lock_accounts`` and changes
balances with ``apply_changes``. docs/ledger.md explains both, docs/benchmarks.md why.

Idempotency: a journal transaction has a unique idempotency key and a SHA-256 of its canonical
request. Replaying the key with the same request returns the first result and changes nothing;
replaying it with a different request raises ``IdempotencyConflictError``. Concurrent first
posts of one key are settled by the unique index: on PostgreSQL ``ON CONFLICT DO NOTHING``
makes the loser read the winner's row; on SQLite the loser's savepoint rolls back and it does
the same.
"""

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from cashback.errors import DomainError
from wallet.errors import (
    CurrencyMismatchError,
    IdempotencyConflictError,
    InsufficientFundsError,
    InvalidLedgerRequestError,
    UnknownAccountError,
)
from wallet.models import Direction, Entry, JournalKind, JournalTransaction, LedgerAccount
from wallet.services.ledger_requests import (
    EntrySpec,
    TransferRequest,
    clean_causes,
    request_hash,
    require_key,
    require_valid_entries,
)
from wallet.services.retries import retrying_deadlocks

# Choices as a set: TextChoices.values builds a new list on every call, on the hot path.
_JOURNAL_KINDS = frozenset(JournalKind.values)


@dataclass
class Prepared:
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


@retrying_deadlocks
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
    journal, _created = post_prepared(prepare(request), pending_release={})
    return journal


@retrying_deadlocks
def transaction_post_with_created(
    *,
    idempotency_key: str,
    kind: str,
    entries: Sequence[EntrySpec],
    memo: str = "",
    causes: Mapping[str, str | int] | None = None,
) -> tuple[JournalTransaction, bool]:
    """``transaction_post``, also saying whether this call created the transaction (False for a
    replayed key). For doors that answer a replay differently (201 first, 200 after): the ledger's
    unique key decides, so two concurrent calls never both see themselves as the first."""
    request = TransferRequest(idempotency_key=idempotency_key, kind=kind, entries=entries, memo=memo, causes=causes)
    return post_prepared(prepare(request), pending_release={})


def prepare(request: TransferRequest, index: int = 0) -> Prepared:
    """Validate a request without the database and compute its hash and balance changes."""
    require_key(request.idempotency_key)
    if request.kind not in _JOURNAL_KINDS:
        raise InvalidLedgerRequestError(f"Unknown kind: {request.kind!r}.")
    causes = clean_causes(request.causes)
    entries = list(request.entries)
    require_valid_entries(entries)
    currencies: dict[int, str] = {}
    balance_deltas: dict[int, int] = defaultdict(int)
    for spec in entries:
        account_id = spec.account.pk
        if currencies.setdefault(account_id, spec.account.currency) != spec.account.currency:
            raise CurrencyMismatchError(f"Account {account_id} is given in two currencies.")
        balance_deltas[account_id] += spec.amount if spec.direction == Direction.CREDIT else -spec.amount
    kind, memo = str(request.kind), str(request.memo)
    source_type, source_id = next(iter(causes.items()), ("", ""))
    payload_hash = request_hash(
        {
            "op": "transaction_post",
            "kind": kind,
            "memo": memo,
            "causes": causes,
            "entries": sorted([e.account.pk, str(e.direction), e.amount] for e in entries),
        }
    )
    return Prepared(
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


def post_prepared(prepared: Prepared, *, pending_release: Mapping[int, int]) -> tuple[JournalTransaction, bool]:
    """Post one prepared request; returns the journal transaction and whether this call created it.

    ``pending_release`` lowers accounts' ``pending_debits`` in the same change (a hold's capture).
    """
    if connection.vendor == "postgresql":
        return _post_postgresql(prepared, pending_release=pending_release)
    return _post_portable(prepared, pending_release=pending_release)


def _existing_journal(prepared: Prepared) -> JournalTransaction | None:
    """The journal transaction already stored under the request's key, if any; raises on a different request."""
    existing = JournalTransaction.objects.filter(idempotency_key=prepared.idempotency_key).first()
    if existing is not None and existing.payload_hash != prepared.payload_hash:
        raise IdempotencyConflictError(
            f"The idempotency key {prepared.idempotency_key!r} was already used for a different transaction."
        )
    return existing


def journal_instance(prepared: Prepared, *, journal_id: int, created_at: datetime) -> JournalTransaction:
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


def pg_cursor() -> Any:
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
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    return psycopg.Cursor(connection.connection)


def _post_postgresql(prepared: Prepared, *, pending_release: Mapping[int, int]) -> tuple[JournalTransaction, bool]:
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
            with transaction.atomic(), pg_cursor() as cursor, connection.wrap_database_errors:
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
    return journal_instance(prepared, journal_id=row[0], created_at=now), True


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
    cursor = pg_cursor()
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


def _refusal(exc: IntegrityError, prepared: Prepared, pending_release: Mapping[int, int]) -> DomainError | None:
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
        return InsufficientFundsError(gettext("An account of this transaction had too little money available."))
    return None


def _post_portable(prepared: Prepared, *, pending_release: Mapping[int, int]) -> tuple[JournalTransaction, bool]:
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


def _post_new_portable(prepared: Prepared, *, pending_release: Mapping[int, int]) -> JournalTransaction:
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
    accounts = lock_accounts(prepared.balance_deltas.keys() | pending_release.keys())
    for account_id, currency in prepared.currencies.items():
        if accounts[account_id].currency != currency:
            raise CurrencyMismatchError(f"Account {account_id} holds {accounts[account_id].currency}, not {currency}.")
    apply_changes(
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


def lock_accounts(account_ids: Iterable[int]) -> dict[int, LedgerAccount]:
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


def apply_changes(
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
