"""Every write to the ledger goes through this package; each module holds one job.

- ``accounts``: opening a ledger account on first use (``account_get_or_create``; for hot
  posting paths ``account_for_posting``, which keeps committed accounts' ids), the platform's own
  accounts (``platform_account``).
- ``ledger_requests``: what a request is (``EntrySpec``, ``transfer``, ``TransferRequest``),
  the checks every writer applies before the database, and the request hash idempotency uses.
- ``posting``: ``transaction_post`` and ``transaction_post_with_created``, one balanced
  transaction (PostgreSQL and portable writers).
- ``batches``: ``transactions_post_batch``, many in one database transaction.
- ``deferred``: ``DeferredPostings``, postings collected during a batch of work and posted at its end.
- ``holds``: ``hold_place``, ``hold_post``, ``hold_void``, ``hold_expire_due``.
- ``retries``: ``retrying_deadlocks``, the one retry of a transaction PostgreSQL aborted for a
  deadlock or serialization failure (also used by campaigns).

Callers import from ``wallet.services``; the names below are its public surface.
"""

from wallet.services.accounts import (
    AccountKey,
    account_for_posting,
    account_get_or_create,
    accounts_for_posting_find,
    accounts_forget,
    platform_account,
)
from wallet.services.batches import MAX_BATCH, transactions_post_batch
from wallet.services.deferred import DeferredPostings
from wallet.services.holds import hold_expire_due, hold_place, hold_post, hold_void
from wallet.services.ledger_requests import MAX_ENTRIES, MAX_KEY_LENGTH, EntrySpec, TransferRequest, transfer
from wallet.services.posting import transaction_post, transaction_post_with_created
from wallet.services.retries import MAX_ATTEMPTS, RETRYABLE_SQLSTATES, retrying_deadlocks

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_BATCH",
    "MAX_ENTRIES",
    "MAX_KEY_LENGTH",
    "RETRYABLE_SQLSTATES",
    "AccountKey",
    "DeferredPostings",
    "EntrySpec",
    "TransferRequest",
    "account_for_posting",
    "account_get_or_create",
    "accounts_for_posting_find",
    "accounts_forget",
    "hold_expire_due",
    "hold_place",
    "hold_post",
    "hold_void",
    "platform_account",
    "retrying_deadlocks",
    "transaction_post",
    "transaction_post_with_created",
    "transactions_post_batch",
    "transfer",
]
