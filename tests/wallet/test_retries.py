"""The one deadlock retry (wallet.services.retrying_deadlocks): what it retries, and when it gives up."""

import pathlib
import threading

import pytest
from django.db import OperationalError, connection, transaction

from tests.concurrency import run_together
from tests.wallet.factories import LedgerAccountFactory
from wallet.models import LedgerAccount
from wallet.services import MAX_ATTEMPTS, retrying_deadlocks, transaction_post, transactions_post_batch

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]


class _DriverError(Exception):
    """Stands in for psycopg's error, which Django puts as the ``__cause__`` of its own."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _aborted(sqlstate: str) -> OperationalError:
    error = OperationalError(f"aborted: {sqlstate}")
    error.__cause__ = _DriverError(sqlstate)
    return error


def _failing(times: int, sqlstate: str = "40P01") -> tuple[list[int], object]:
    calls: list[int] = []

    def work() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise _aborted(sqlstate)
        return "done"

    return calls, work


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_is_retried_until_the_work_succeeds(sqlstate):
    calls, work = _failing(MAX_ATTEMPTS - 1, sqlstate)

    assert retrying_deadlocks(work)() == "done"

    assert len(calls) == MAX_ATTEMPTS


def test_it_gives_up_after_its_limit_and_raises_the_last_error():
    calls, work = _failing(times=100)

    with pytest.raises(OperationalError):
        retrying_deadlocks(work)()

    assert len(calls) == MAX_ATTEMPTS == 5


def test_other_database_errors_are_not_retried():
    calls, work = _failing(times=1, sqlstate="57014")  # query_canceled

    with pytest.raises(OperationalError):
        retrying_deadlocks(work)()

    assert len(calls) == 1


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_error_goes_up_at_once():
    calls, work = _failing(times=1)

    with pytest.raises(OperationalError), transaction.atomic():
        retrying_deadlocks(work)()

    assert len(calls) == 1


def test_the_ledgers_writers_are_wrapped_by_it():
    # functools.wraps keeps the undecorated function as __wrapped__.
    assert transaction_post.__wrapped__.__module__ == "wallet.services.posting"
    assert transactions_post_batch.__wrapped__.__module__ == "wallet.services.batches"


def test_the_retry_exists_once_in_the_apps():
    """The SQLSTATEs it retries are named in one module only: a second copy with its own limit would show here."""
    apps = [
        path for path in REPOSITORY.glob("*/**/*.py") if path.parts[len(REPOSITORY.parts)] not in {"tests", ".venv"}
    ]
    naming = sorted(
        str(path.relative_to(REPOSITORY))
        for path in apps
        if '"40P01"' in path.read_text(encoding="utf-8", errors="replace")
    )

    assert naming == ["wallet/services/retries.py"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_is_retried_and_both_transactions_commit():
    first, second = LedgerAccountFactory(), LedgerAccountFactory()
    both_hold_one = threading.Barrier(2)
    attempts: list[int] = []

    @retrying_deadlocks
    def lock_both(index: int) -> int:
        attempts.append(index)
        order = [first.pk, second.pk] if index == 0 else [second.pk, first.pk]
        with transaction.atomic():
            LedgerAccount.objects.select_for_update().get(pk=order[0])
            if len(attempts) <= 2:  # the first attempts meet in the middle; the retry does not wait
                both_hold_one.wait(timeout=10)
            LedgerAccount.objects.select_for_update().get(pk=order[1])
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        return index

    results = run_together(lock_both, threads=2)

    assert results == [0, 1]
    # PostgreSQL aborted one of them and it ran again. The retry may take the row it waits for before
    # the survivor does (lock requests are not queued fairly after a rollback) and be aborted once more:
    # seen under load as [1, 0, 1, 1]. More than one deadlock is still within the five attempts.
    assert 3 <= len(attempts) <= 5, attempts
