"""Running the same work in many threads at once, each on its own database connection."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_together(work: Callable[[int], Any], threads: int = 16) -> list[Any]:
    """Start ``threads`` calls of ``work(i)`` at once; return each result or the exception it raised.

    Each thread closes its own connection at the end, so the test database can be flushed.
    """
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - every outcome is asserted by the test
            results[index] = exc
        finally:
            connection.close()

    workers = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a thread hung"
    return results
