"""Postings collected during a batch of work and posted together at its end: ``DeferredPostings``.

The reward worker (issue 19) processes a batch of inbox events in one database transaction. Posting
each reward on its own would lock the merchant's funding account at the first reward and hold it
until the batch commits, so two batches of one merchant would queue on it (or deadlock, each holding
the other's consumer accounts). Deferred, the batch's postings go to ``transactions_post_batch`` in
the batch's last statements: every account locked once, in id order, with its summed delta.

A caller that splits an amount by balances (funding first, then receivable) reads them through
``balance``/``spendable``: the committed balance read once per batch plus what the batch's earlier
postings will change, so the split is the one posting them one by one would have made. A balance
another transaction changed meanwhile can make the batch's post refuse (``insufficient_funds``):
the whole batch then fails, and its caller processes the events one by one.
"""

from collections.abc import Iterable, Mapping

from wallet.models import JournalTransaction, LedgerAccount
from wallet.services.batches import transactions_post_batch
from wallet.services.ledger_requests import TransferRequest
from wallet.services.posting import prepare


class DeferredPostings:
    """Balanced transactions to post at the end of a batch; each checked as ``transaction_post``
    checks it when it is added (a bad request fails its own event, not the batch)."""

    def __init__(self) -> None:
        self._requests: list[TransferRequest] = []
        self._deltas: list[Mapping[int, int]] = []
        self._committed: dict[int, tuple[int, int]] = {}  # account id -> (balance, pending_debits) read

    def __len__(self) -> int:
        return len(self._requests)

    def post(self, request: TransferRequest) -> None:
        prepared = prepare(request, len(self._requests))
        self._requests.append(request)
        self._deltas.append(dict(prepared.balance_deltas))

    def mark(self) -> int:
        return len(self._requests)

    def rollback(self, mark: int) -> None:
        """Forget the postings added after ``mark`` (their event's savepoint was rolled back)."""
        del self._requests[mark:]
        del self._deltas[mark:]

    def preload(self, *, accounts: Iterable[int]) -> None:
        """Read the committed balances of ``accounts`` now, in one query, for the batch's later
        ``balance``/``spendable`` (each read once per batch either way; this saves a query per account)."""
        wanted = {account_id for account_id in accounts if account_id not in self._committed}
        if not wanted:
            return
        rows = LedgerAccount.objects.filter(pk__in=wanted).values_list("pk", "balance", "pending_debits").order_by()
        for account_id, balance, pending_debits in rows:
            self._committed[account_id] = (balance, pending_debits)

    def _read(self, account_id: int) -> tuple[int, int]:
        if account_id not in self._committed:
            row = LedgerAccount.objects.filter(pk=account_id).values_list("balance", "pending_debits").first()
            self._committed[account_id] = (row[0], row[1]) if row else (0, 0)
        return self._committed[account_id]

    def _pending(self, account_id: int) -> int:
        return sum(deltas.get(account_id, 0) for deltas in self._deltas)

    def balance(self, account_id: int) -> int:
        """The account's balance once the postings so far are posted."""
        return self._read(account_id)[0] + self._pending(account_id)

    def spendable(self, account_id: int) -> int:
        """What the account can give once the postings so far are posted (balance less holds, ≥ 0)."""
        balance, pending_debits = self._read(account_id)
        return max(0, balance + self._pending(account_id) - pending_debits)

    def flush(self) -> dict[str, JournalTransaction]:
        """Post everything collected (in the caller's transaction); journals by idempotency key."""
        if not self._requests:
            return {}
        journals = transactions_post_batch(requests=self._requests)
        by_key = {request.idempotency_key: journal for request, journal in zip(self._requests, journals, strict=True)}
        self._requests, self._deltas = [], []
        return by_key
