"""Posting many balanced transactions in one database transaction: ``transactions_post_batch``.

Each request is checked as ``transaction_post`` checks it (``prepare``); the journal rows go in
first, in key order, then every touched account is locked once, in ascending id order, so
batches and single posts never wait in a cycle.
"""

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from cashback.errors import DomainError
from wallet.errors import (
    CurrencyMismatchError,
    IdempotencyConflictError,
    InsufficientFundsError,
    InvalidLedgerRequestError,
    UnknownAccountError,
)
from wallet.models import Entry, JournalTransaction, LedgerAccount
from wallet.services.ledger_requests import TransferRequest
from wallet.services.posting import Prepared, journal_instance, pg_cursor, prepare
from wallet.services.retries import retrying_deadlocks

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


@retrying_deadlocks
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
            prepared.append(prepare(request, index))
        except DomainError as exc:
            raise _naming_request(exc, index, getattr(request, "idempotency_key", None)) from None
    unique: dict[str, Prepared] = {}
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
                journals[item.idempotency_key] = journal_instance(
                    item, journal_id=new_ids[item.idempotency_key], created_at=now
                )
    return [journals[item.idempotency_key] for item in prepared]


def _naming_request(exc: DomainError, index: int, key: object) -> DomainError:
    """The same error, its message prefixed with the request's position and key."""
    named = type(exc)(f"Request {index} ({key!r}): {exc.message}", fields=exc.fields)
    return named


def _insert_journals(items: list[Prepared], *, now: datetime, postgresql: bool) -> dict[str, int]:
    """Insert the journal rows whose keys are new; returns key -> id of those inserted by this call."""
    if postgresql:
        items = sorted(items, key=lambda item: item.idempotency_key)
        with pg_cursor() as cursor, connection.wrap_database_errors:
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


def _apply_batch(items: list[Prepared], journal_ids: Mapping[str, int], *, now: datetime, postgresql: bool) -> None:
    """Lock the touched accounts, check every request in order, then change balances and insert entries."""
    account_ids = sorted({account_id for item in items for account_id in item.balance_deltas})
    if postgresql:
        with pg_cursor() as cursor, connection.wrap_database_errors:
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
        with pg_cursor() as cursor, connection.wrap_database_errors:
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
