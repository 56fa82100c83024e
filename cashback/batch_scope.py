"""Follow-up tasks of a batch of inbox events, published once per batch instead of once per event.

Each processed purchase used to publish its own follow-up messages after its commit: a tier
recompute for the consumer and one task per fact delivery. Publishing a Celery message costs about
a millisecond of CPU (cashback/dispatch.py), as much as a good part of the event's own work, and a
consumer with ten purchases in a batch had their tier recomputed ten times (issue 19).

``batch_scope()`` is opened by the worker around a batch (``cashback.tasks.webhook_events_process``).
``defer_after_commit(name=..., item=..., publish=...)`` waits for the caller's transaction to commit
(as ``transaction.on_commit`` always did, so nothing is published for work that rolled back); inside
a scope it then only adds ``item`` to the scope's set ``name``, and at the scope's end every set is
published once, with all its items, by its ``publish``. Outside a scope (the web process, the tests
with eager Celery, any other caller) ``publish([item])`` runs right after the commit, as before.

Nothing is lost in between that was not lost before: the items of a scope are published when the
scope ends, even when it ends with an error, in the same process that committed the work. A publish
that fails is logged; fact deliveries stay pending and their sweep (``events.deliveries_due``)
enqueues them again, a tier recompute waits for the consumer's next purchase as it did when a
single publish failed.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import transaction

logger = logging.getLogger(__name__)

Publish = Callable[[list[int]], None]

_state = threading.local()


@contextmanager
def batch_scope() -> Iterator[None]:
    """Collect deferred follow-up items until the end of the block, then publish each set once.
    A scope inside a scope is part of the outer one."""
    if getattr(_state, "pending", None) is not None:
        yield
        return
    pending: dict[str, tuple[Publish, set[int]]] = {}
    _state.pending = pending
    try:
        yield
    finally:
        _state.pending = None
        for name, (publish, items) in pending.items():
            try:
                publish(sorted(items))
            except Exception:  # the work is committed; see the module docstring for what catches up
                logger.warning("could not publish %s %s follow-ups", len(items), name, exc_info=True)


def defer_after_commit(*, name: str, item: int, publish: Publish, robust: bool = False) -> None:
    """After the caller's transaction commits: add ``item`` to the current scope's set ``name``, or,
    with no scope open, call ``publish([item])``. ``robust`` as in ``transaction.on_commit``."""

    def after_commit() -> None:
        pending = getattr(_state, "pending", None)
        if pending is None:
            publish([item])
        else:
            pending.setdefault(name, (publish, set()))[1].add(item)

    transaction.on_commit(after_commit, robust=robust)
