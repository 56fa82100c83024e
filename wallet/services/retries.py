"""The one retry of a whole database transaction that PostgreSQL aborted for a deadlock or a
serialization failure. The ledger's writers use it, and so do the apps above the wallet whose
operations lock many rows (campaigns' purchase and reward lifecycle).
"""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection

# SQLSTATEs of errors that a fresh attempt of the whole transaction may not meet again:
# deadlock_detected and serialization_failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
# Attempts in all, the first included. Writers lock in a fixed order (ascending ids), so a
# deadlock is rare and a second attempt nearly always succeeds; five leave room for a burst of
# contention on a hot row while bounding the wait (PostgreSQL picks a deadlock's victim after
# deadlock_timeout, one second by default) to a few seconds before the error goes up.
MAX_ATTEMPTS = 5

P = ParamSpec("P")
R = TypeVar("R")


def retrying_deadlocks(func: Callable[P, R]) -> Callable[P, R]:
    """``func``, retried from the start when PostgreSQL aborts it for a deadlock or serialization
    failure, up to ``MAX_ATTEMPTS`` attempts; the last attempt's error goes up.

    Only when the call owns its transaction: inside a caller's atomic block the caller's earlier
    work is gone with the abort, so the error goes up at once to whoever owns the transaction.
    ``func`` must open its own transaction (``transaction.atomic``), so each attempt starts clean.
    Use it as a decorator, or as ``retrying_deadlocks(work)()`` for a closure.
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
                if not owns_transaction or sqlstate not in RETRYABLE_SQLSTATES or attempt >= MAX_ATTEMPTS:
                    raise
                attempt += 1

    return wrapper
