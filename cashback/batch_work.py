"""Work that a batch of inbox events shares, done once at the end of the batch's transaction (issue 19).

The worker processes a claimed batch of inbox events in one database transaction, each event in its
own savepoint (``cashback.inbox.events_process``). Apps above the base register a *participant*
factory here (in their ``AppConfig.ready()``); the inbox opens one participant of each per batch.
While a batch is open, an app's code finds its participant with ``current(kind)`` and hands it work
that is cheaper done once for the whole batch than once per event: campaigns defers the rewards'
ledger postings and the counts of unlimited offer budgets, so that the hot rows (a merchant's funding
account, its offer) are locked once per batch, in id order, in the batch's last statements.

Before the events run, ``prepare(events)`` hands a participant the batch's events (those that will run,
in order), so that it can look up what they will read in one statement each for the whole batch
(campaigns: the cards, shops, tiers and stored purchase events of card-network events); the handlers
read from that and fall back to their own query for anything it does not hold.

A participant is told about each event's savepoint: ``mark()`` before the event, ``rollback(mark)``
when the event's savepoint was rolled back (its deferred work must go too). ``flush()`` runs inside
the batch's transaction after the last event; an error there rolls the whole batch back, and the
inbox then processes its events one transaction each, as it always did.

Outside a batch (the web process, staff's retry, per-event processing) ``current`` returns None and
callers do their work at once.
"""

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar


class Participant(Protocol):
    def prepare(self, events: Sequence[Any]) -> None: ...

    def mark(self) -> object: ...

    def rollback(self, mark: object) -> None: ...

    def flush(self) -> None: ...


P = TypeVar("P")

_factories: list[Callable[[], Participant]] = []
_state = threading.local()


def register(factory: Callable[[], Participant]) -> None:
    """Open a participant made by ``factory()`` with every batch. Call from AppConfig.ready()."""
    if factory not in _factories:
        _factories.append(factory)


class Batch:
    """The participants of one open batch."""

    def __init__(self, participants: list[Participant]) -> None:
        self.participants = participants

    def prepare(self, events: Sequence[Any]) -> None:
        for participant in self.participants:
            participant.prepare(events)

    def mark(self) -> list[object]:
        return [participant.mark() for participant in self.participants]

    def rollback(self, marks: list[object]) -> None:
        for participant, mark in zip(self.participants, marks, strict=True):
            participant.rollback(mark)

    def flush(self) -> None:
        for participant in self.participants:
            participant.flush()


@contextmanager
def opened() -> Iterator[Batch]:
    """A batch with a fresh participant of every registered kind, current until the block ends.
    The caller runs the block inside its transaction and calls ``flush()`` before it commits."""
    if getattr(_state, "batch", None) is not None:
        raise RuntimeError("A batch of inbox events is already open in this thread.")
    batch = Batch([factory() for factory in _factories])
    _state.batch = batch
    try:
        yield batch
    finally:
        _state.batch = None


def current(kind: type[P]) -> P | None:
    """The open batch's participant of ``kind``, or None outside a batch."""
    batch = getattr(_state, "batch", None)
    if batch is None:
        return None
    for participant in batch.participants:
        if isinstance(participant, kind):
            return participant
    return None
