"""Retrying a unit of work that PostgreSQL aborted to break a deadlock or a serialization conflict."""

from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

T = TypeVar("T")
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
_MAX_ATTEMPTS = 5


def retry_on_deadlock(work: Callable[[], T]) -> T:
    """Run ``work`` (which opens its own transaction); retry on a deadlock or serialization failure.

    Only when the caller holds no transaction: inside one, the error goes to the caller, who owns
    the retry (as ``wallet.services`` does).
    """
    attempt = 1
    while True:
        owns = not connection.in_atomic_block
        try:
            return work()
        except OperationalError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if not owns or sqlstate not in _RETRYABLE_SQLSTATES or attempt >= _MAX_ATTEMPTS:
                raise
            attempt += 1
