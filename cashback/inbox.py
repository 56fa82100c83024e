"""The webhook inbox: store every verified event once, then process it once, whatever happens.

Intake (``event_receive``, called by cashback/webhooks.py after the signature is verified) inserts
the event with ``INSERT ... ON CONFLICT (source, event_id) DO NOTHING``: a redelivery writes nothing
and is answered as a duplicate. A new event's processing is enqueued on the ``ingest`` queue after
commit (``cashback.tasks.webhook_events_process``, batched by cashback/dispatch.py).

Processing (``event_process``) locks the event row, runs the handler registered for its
``(source, event_type)`` inside a savepoint and records the outcome:

- ``processed`` — the handler returned;
- ``unmatched`` — the handler raised ``Unmatched(reason)`` (unknown card, unknown shop): re-processed
  when a card is linked or a shop's network ids are registered (``unmatched_retry``), within
  ``INBOX_UNMATCHED_RETRY_DAYS``;
- ``ignored`` — the handler raised ``Ignored(reason)``, or a Stripe event type nobody handles;
- ``failed`` — any other exception: the handler's work is rolled back, the error kept in
  ``last_error``, and ``events_retry_due`` (a beat task) tries again with exponential backoff
  up to ``INBOX_MAX_ATTEMPTS`` attempts; staff can retry at any time from /staff/inbox/.

Handlers must be idempotent: an event may be processed again after a crash between the handler's
work and the commit, and ``unmatched``/``failed`` events are processed again by design. Processing
an event that is already ``processed`` or ``ignored`` does nothing.
"""

import functools
import logging
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, Error, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field
from django.utils import timezone
from psycopg.errors import DeadlockDetected, SerializationFailure

from cashback import batch_work, dispatch
from cashback.backoff import retry_delay
from cashback.errors import ConflictError
from cashback.models import WebhookEvent, WebhookSource, WebhookStatus

logger = logging.getLogger(__name__)

Handler = Callable[[WebhookEvent], None]

_handlers: dict[tuple[str, str], Handler] = {}

# Sources whose unhandled event types are expected (Stripe sends dozens of types to an endpoint):
# such events are stored and marked ignored. A Visa event without a handler is a deployment error,
# so it is marked failed and retried instead.
SOURCES_IGNORING_UNHANDLED = frozenset({WebhookSource.STRIPE, WebhookSource.STRIPE_CONNECT})

MAX_ERROR_CHARS = 4000


class Unmatched(Exception):
    """Raised by a handler: the event names a card, customer or shop the platform does not know (yet)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Ignored(Exception):
    """Raised by a handler: the event needs no work (a type or state the platform does not act on)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class PayloadReducedError(ConflictError):
    """The event's payload was reduced after the retention period (cashback/webhook_retention.py): what
    a handler would read is gone, so the event is never processed again."""

    code = "webhook_payload_reduced"
    default_message = (
        "This event's payload was reduced after the retention period, so it cannot be processed again. "
        "Ask the sender to send the event again if it still needs processing."
    )


# --- Registry -----------------------------------------------------------------------------------


def register(*, source: str, event_type: str, handler: Handler) -> None:
    """Make ``handler(event)`` process events of ``event_type`` from ``source``. Call from AppConfig.ready()."""
    if source not in WebhookSource.values:
        raise ValueError(f"Unknown webhook source {source!r}; one of {WebhookSource.values}.")
    key = (source, event_type)
    existing = _handlers.get(key)
    if existing is not None and existing is not handler:
        raise ValueError(f"A handler for {source} {event_type!r} is already registered: {existing!r}.")
    _handlers[key] = handler


def handler_for(*, source: str, event_type: str) -> Handler | None:
    return _handlers.get((source, event_type))


# --- Intake -------------------------------------------------------------------------------------


def _publish_on_commit(db: BaseDatabaseWrapper, event_pk: int) -> None:
    """``robust``: a failed dispatch is logged, never raised — the event is stored and the sweep
    (``events_retry_due``) dispatches it later."""

    def publish_webhook_event() -> None:  # a named function: Django logs a robust callback's __qualname__
        dispatch.publish_soon(event_pk)

    db.on_commit(publish_webhook_event, robust=True)


class Stored(NamedTuple):
    pk: int
    status: str


_COLUMNS = (
    "source",
    "event_id",
    "event_type",
    "account",
    "payload",
    "status",
    "unmatched_reason",
    "received_at",
    "processed_at",
    "created_at",
    "updated_at",
)


def _column(name: str) -> str:
    field = WebhookEvent._meta.get_field(name)
    # Only concrete fields are named here, and each has a column.
    assert isinstance(field, Field) and field.column
    return field.column


@functools.cache
def _insert_sql(vendor: str) -> str:
    """One ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: the new row's id, or no row for a
    duplicate. Raw SQL because the ORM's get_or_create needs a savepoint, a failed insert and a
    SELECT for a duplicate, and bulk_create(ignore_conflicts=True) cannot say whether the row was new.
    Built once: intake is the hottest path there is (docs/benchmarks.md)."""
    meta = WebhookEvent._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(name)) for name in _COLUMNS)
    constants = {"attempts": "0", "last_error": "''", "next_attempt_at": "NULL"}
    columns += ", " + ", ".join(quote(_column(name)) for name in constants)
    values = ", ".join(["%s"] * len(_COLUMNS) + list(constants.values()))
    # Names come from the model; the values are parameters.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})"  # noqa: S608
        f" ON CONFLICT ({quote('source')}, {quote('event_id')}) DO NOTHING RETURNING {quote('id')}"
    )


def _intake_cursor(db: BaseDatabaseWrapper) -> CursorWrapper:
    """On PostgreSQL, a cursor that binds values on the server, so that the INSERT is prepared once per
    connection (DATABASE_PREPARED_STATEMENTS; Django's own cursors format every value into the SQL
    text, which the server then parses and plans again for each event). Wrapped like Django's
    cursors, so errors are Django's and queries are logged when Django logs them."""
    if db.vendor != "postgresql":
        return db.cursor()
    db.ensure_connection()
    wrapper = CursorDebugWrapper if db.queries_logged else CursorWrapper
    return wrapper(psycopg.Cursor(db.connection), db)


def event_receive(*, source: str, event_id: str, event_type: str, payload: str, account: str = "") -> Stored | None:
    """Store a verified event; None if ``(source, event_id)`` was stored before (nothing changes then).

    ``payload`` is the event's JSON text as the sender signed it (checked by the caller to be a JSON
    object PostgreSQL's jsonb accepts). A new event is committed before this returns (autocommit, or
    the caller's transaction) and its processing is dispatched after commit
    (``cashback.dispatch``); a Stripe event type without a handler is stored as ``ignored`` and not
    dispatched. A dispatch that fails is logged, never raised: the event is safe in the table and
    ``events_retry_due`` picks up events left ``received``. With ``INBOX_ENQUEUE_ON_RECEIPT`` off
    nothing is dispatched here and that sweep is the only dispatcher.
    """
    db = connections[DEFAULT_DB_ALIAS]  # looked up once: each use of the `connection` proxy is a lookup
    now = db.ops.adapt_datetimefield_value(timezone.now())
    unhandled = handler_for(source=source, event_type=event_type) is None and source in SOURCES_IGNORING_UNHANDLED
    status = WebhookStatus.IGNORED if unhandled else WebhookStatus.RECEIVED
    reason = f"No handler for {source} {event_type!r}." if unhandled else ""
    params = [source, event_id, event_type, account, payload, status.value, reason, now, now if unhandled else None]
    with _intake_cursor(db) as cursor:
        cursor.execute(_insert_sql(db.vendor), [*params, now, now])
        row = cursor.fetchone()
    if row is None:
        return None
    if not unhandled and settings.INBOX_ENQUEUE_ON_RECEIPT:
        _publish_on_commit(db, row[0])
    return Stored(pk=row[0], status=status.value)


# --- Processing ---------------------------------------------------------------------------------


def _error_text(error: BaseException) -> str:
    text = "".join(traceback.format_exception(error))
    return text[-MAX_ERROR_CHARS:]


_SAVED_FIELDS = [
    "status",
    "attempts",
    "last_error",
    "unmatched_reason",
    "processed_at",
    "next_attempt_at",
    "updated_at",
]

# A deadlock or a serialization failure aborts a batch as a whole (its events are then processed one
# transaction each): it says nothing about the event that met it.
_BATCH_ABORTING_ERRORS = (DeadlockDetected, SerializationFailure)


def _aborts_batch(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, _BATCH_ABORTING_ERRORS):
            return True
        cause = cause.__cause__
    return False


def _needs_processing(event: WebhookEvent) -> bool:
    if event.status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED):
        return False
    return event.payload_reduced_at is None  # a reduced payload is no input for a handler (event_retry says so)


@contextmanager
def _kept_savepoint() -> Iterator[None]:
    """A nested ``transaction.atomic()`` whose savepoint is kept when the block succeeds, not released:
    the batch's commit releases them all, a round trip less per event (issue 19). On an error, or
    when an inner block without a savepoint failed (``needs_rollback``), it rolls back to its
    savepoint exactly as ``atomic`` does, dropping the on-commit callbacks registered inside. The
    kept savepoints cost the server nothing a released one does not: either way each event's writes
    are a subtransaction of the batch until it commits."""
    db = connections[DEFAULT_DB_ALIAS]
    sid = db.savepoint()
    if sid is None:  # only inside the batch's atomic block, on a database with savepoints
        raise RuntimeError("A batch's event needs a savepoint.")
    db.savepoint_ids.append(sid)
    try:
        yield
    except BaseException:
        db.savepoint_ids.pop()
        _savepoint_undo(db, sid)
        raise
    db.savepoint_ids.pop()
    if db.needs_rollback:  # as atomic(): a failed inner block without a savepoint undoes this one's work
        _savepoint_undo(db, sid)


def _savepoint_undo(db: BaseDatabaseWrapper, sid: str) -> None:
    if db.closed_in_transaction:
        return  # the database rolls back by itself; the batch's own atomic block finds out
    db.needs_rollback = False
    try:
        db.savepoint_rollback(sid)
    except Error:  # as atomic(): the batch's own block must roll back then
        db.needs_rollback = True


def _run(event: WebhookEvent, *, now: datetime, batch: batch_work.Batch | None = None) -> None:
    """Run the event's handler in a savepoint and set the event's outcome fields (not saved).
    In a batch, a failing event's deferred work is dropped with its savepoint, and an error that
    aborts the batch (``_aborts_batch``) is raised to the batch."""
    event.attempts += 1
    event.next_attempt_at = None
    event.last_error = ""
    event.unmatched_reason = ""
    handler = handler_for(source=event.source, event_type=event.event_type)
    if handler is None:
        if event.source in SOURCES_IGNORING_UNHANDLED:
            event.status = WebhookStatus.IGNORED
            event.unmatched_reason = f"No handler for {event.source} {event.event_type!r}."
        else:
            event.status = WebhookStatus.FAILED
            event.last_error = f"No handler is registered for {event.source} {event.event_type!r}."
    else:
        marks = batch.mark() if batch is not None else None
        try:
            # A savepoint: a failing handler leaves nothing behind. In a batch it is kept, not released.
            with transaction.atomic() if batch is None else _kept_savepoint():
                handler(event)
        except Exception as error:
            if batch is not None and marks is not None:
                batch.rollback(marks)
            if isinstance(error, Unmatched):
                event.status = WebhookStatus.UNMATCHED
                event.unmatched_reason = error.reason[:500]
            elif isinstance(error, Ignored):
                event.status = WebhookStatus.IGNORED
                event.unmatched_reason = error.reason[:500]
            elif batch is not None and _aborts_batch(error):
                raise
            else:  # any handler failure is recorded, never lost
                logger.warning(
                    "webhook event %s (%s %s) failed on attempt %s: %s",
                    event.pk,
                    event.source,
                    event.event_type,
                    event.attempts,
                    type(error).__name__,
                    exc_info=True,
                )
                event.status = WebhookStatus.FAILED
                event.last_error = _error_text(error)
        else:
            event.status = WebhookStatus.PROCESSED

    if event.status == WebhookStatus.FAILED and event.attempts < settings.INBOX_MAX_ATTEMPTS:
        event.next_attempt_at = now + retry_delay(event.attempts)
    event.processed_at = now if event.status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED) else None


def event_process(*, event_id: int) -> str:
    """Process the stored event with primary key ``event_id``; return its status afterwards.

    Safe to call twice and concurrently: the row is locked for the whole run (a second caller waits,
    then finds it processed), and processed or ignored events are left alone. Returns ``"missing"``
    for an id that does not exist.
    """
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return "missing"
        if not _needs_processing(event):
            return event.status
        _run(event, now=timezone.now())
        event.save(update_fields=_SAVED_FIELDS)
        return event.status


def events_process(*, event_ids: Sequence[int]) -> list[str]:
    """Process stored events, a batch in one transaction; return each one's status afterwards, in
    the order given (``"missing"`` for an id that does not exist).

    The batch's rows are locked in id order, each event's handler runs in its own savepoint (a failing
    event rolls back only itself and is recorded failed, unmatched or ignored exactly as
    ``event_process`` records it), the statuses are written in one statement, and the work the
    handlers deferred to the batch (``cashback.batch_work``: campaigns' ledger postings) is done last.
    If the batch as a whole fails — a deadlock, a serialization failure, a deferred posting the
    ledger refuses — it is rolled back and every event is processed on its own, one transaction each.
    Safe to run twice and concurrently, as ``event_process``."""
    ids = list(event_ids)
    if len(ids) < 2:
        return [event_process(event_id=pk) for pk in ids]
    try:
        return _batch_process(ids)
    except Exception:  # whatever it was, the per-event path records it event by event
        logger.warning(
            "a batch of %s webhook events failed as a whole; processing them one by one", len(ids), exc_info=True
        )
    return [event_process(event_id=pk) for pk in ids]


def _batch_process(ids: list[int]) -> list[str]:
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
        events = {event.pk: event for event in locked}
        now = timezone.now()
        changed: dict[int, WebhookEvent] = {}
        with batch_work.opened() as batch:
            todo: dict[int, WebhookEvent] = {}
            for pk in ids:
                event = events.get(pk)
                if event is not None and _needs_processing(event):
                    todo.setdefault(pk, event)
            batch.prepare(list(todo.values()))  # what the events will read, looked up once for the batch
            for pk, event in todo.items():
                _run(event, now=now, batch=batch)
                event.updated_at = now
                changed[pk] = event
            if changed:
                _statuses_save(list(changed.values()))
            # Last: the deferred work takes the batch's hot row locks, held only until the commit.
            batch.flush()
    return [events[pk].status if pk in events else "missing" for pk in ids]


# The batch's outcomes in one UPDATE joined to arrays of the values (issue 19): Django's bulk_update
# builds a CASE WHEN per column and row, which cost the worker more CPU than any other statement.
_STATUSES_SQL = """
UPDATE cashback_webhookevent AS e
SET status = d.status, attempts = d.attempts, last_error = d.last_error, unmatched_reason = d.unmatched_reason,
    processed_at = d.processed_at, next_attempt_at = d.next_attempt_at, updated_at = d.updated_at
FROM unnest(
    %s::bigint[], %s::varchar[], %s::integer[], %s::text[], %s::varchar[], %s::timestamptz[], %s::timestamptz[],
    %s::timestamptz[]
) AS d (id, status, attempts, last_error, unmatched_reason, processed_at, next_attempt_at, updated_at)
WHERE e.id = d.id
"""


def _statuses_save(events: list[WebhookEvent]) -> None:
    """Write the outcome fields (``_SAVED_FIELDS``) of ``events``, one statement on PostgreSQL."""
    if connection.vendor != "postgresql":
        WebhookEvent.objects.bulk_update(events, _SAVED_FIELDS)
        return
    # The arrays in _STATUSES_SQL's order: the ids, then _SAVED_FIELDS in theirs.
    columns = [[event.pk for event in events]] + [[getattr(event, name) for event in events] for name in _SAVED_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_STATUSES_SQL, columns)


def unmatched_retry(*, since: datetime | None = None) -> int:
    """Process again every unmatched event received since ``since`` (default: the last
    ``INBOX_UNMATCHED_RETRY_DAYS`` days), oldest first; return how many are now matched
    (no longer unmatched). Called after a card is linked or a shop's network ids change."""
    if since is None:
        since = timezone.now() - timedelta(days=settings.INBOX_UNMATCHED_RETRY_DAYS)
    pks = list(
        WebhookEvent.objects.filter(status=WebhookStatus.UNMATCHED, received_at__gte=since)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )
    matched = 0
    for pk in pks:
        if event_process(event_id=pk) != WebhookStatus.UNMATCHED:
            matched += 1
    return matched


def unmatched_retry_on_fact(**facts: Any) -> None:
    """Subscriber of ``card_linked`` and ``location_registered``: re-process unmatched events. It runs
    in its own task after the announcer committed (cashback.events), so the new card or shop is visible."""
    unmatched_retry()


def events_retry_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Enqueue processing of failed events whose backoff has passed (fewer than INBOX_MAX_ATTEMPTS
    attempts) and of events still ``received`` after INBOX_STALE_RECEIVED_SECONDS (their enqueue was
    lost, or the worker died). Each one's ``next_attempt_at`` is pushed out by the stale window so
    the next sweep does not enqueue it again while it waits in the queue. Returns how many."""
    now = now or timezone.now()
    stale = timedelta(seconds=settings.INBOX_STALE_RECEIVED_SECONDS)
    not_waiting = {"next_attempt_at__isnull": True}
    due_failed = WebhookEvent.objects.filter(
        status=WebhookStatus.FAILED, next_attempt_at__lte=now, attempts__lt=settings.INBOX_MAX_ATTEMPTS
    ).order_by("next_attempt_at")
    stuck = WebhookEvent.objects.filter(status=WebhookStatus.RECEIVED, received_at__lte=now - stale)
    stuck = stuck.filter(**not_waiting) | stuck.filter(next_attempt_at__lte=now)
    pks = list(due_failed.values_list("pk", flat=True)[:limit])
    pks += list(stuck.order_by("received_at").values_list("pk", flat=True)[: max(limit - len(pks), 0)])
    if not pks:
        return 0
    with transaction.atomic():
        WebhookEvent.objects.filter(pk__in=pks).update(next_attempt_at=now + stale, updated_at=now)

        def publish_due_webhook_events() -> None:  # named: see _publish_on_commit
            dispatch.publish_now(pks)

        transaction.on_commit(publish_due_webhook_events, robust=True)
    return len(pks)


def event_retry(*, event: WebhookEvent) -> str:
    """Staff's retry button: process an unmatched or failed event now, whatever its attempts.
    Raises ``PayloadReducedError`` for an event whose payload was reduced after the retention period."""
    if event.payload_reduced_at is not None:
        raise PayloadReducedError()
    return event_process(event_id=event.pk)
