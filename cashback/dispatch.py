"""Dispatching stored webhook events to the ``ingest`` queue, many events to one Celery message.

Publishing one Celery message costs about a millisecond of CPU (the message, kombu's producer, a
Redis round trip): more than verifying and storing the event it is for. So the intake does not
publish per event. ``publish_soon`` hands the id of a committed event to this process's publisher
thread, which waits ``INBOX_DISPATCH_LINGER_MS`` for more to arrive and then publishes them as
``webhook_events_process`` tasks of at most ``INBOX_DISPATCH_BATCH`` ids each. Under load a
batch holds many events; a lone event waits only the linger.

Nothing is lost when a process dies holding ids: the events are committed as ``received``, and
the sweep (``inbox.events_retry_due``, every minute) dispatches any still waiting after
``INBOX_STALE_RECEIVED_SECONDS``. A broker that is down is logged, with the same fallback.

With Celery eager (``make run``, the tests) there is no broker to spare: ``publish_soon``
publishes at once in the caller's thread, so processing runs right after the commit as before.
"""

import atexit
import logging
import os
import threading
import time
from collections.abc import Sequence

from django.conf import settings

from cashback.celery import app as celery_app

logger = logging.getLogger(__name__)


def publish_now(event_pks: Sequence[int]) -> None:
    """Publish processing of ``event_pks``, in order, one task per ``INBOX_DISPATCH_BATCH`` ids."""
    from cashback.tasks import webhook_events_process  # here: cashback.tasks → inbox → this module (a cycle)

    size = settings.INBOX_DISPATCH_BATCH
    for start in range(0, len(event_pks), size):
        webhook_events_process.delay(list(event_pks[start : start + size]))


class _Publisher:
    """One per process: collects event ids and publishes them from a daemon thread."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        # Also run in a forked child: the parent's thread does not exist there, nor do its ids.
        self._condition = threading.Condition()
        self._pending: list[int] = []
        self._thread: threading.Thread | None = None

    def add(self, event_pk: int) -> None:
        with self._condition:
            self._pending.append(event_pk)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="webhook-dispatch", daemon=True)
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._pending:
                    self._condition.wait()
            time.sleep(settings.INBOX_DISPATCH_LINGER_MS / 1000)
            self.flush()

    def flush(self) -> None:
        with self._condition:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            publish_now(batch)
        except Exception:  # the events are stored: the sweep dispatches them later
            logger.warning("could not publish %s webhook events; the sweep will", len(batch), exc_info=True)


_publisher = _Publisher()
os.register_at_fork(after_in_child=_publisher._reset)
atexit.register(_publisher.flush)  # a worker that stops gracefully publishes what it holds


def publish_soon(event_pk: int) -> None:
    """Dispatch a committed event: batched by this process's publisher thread, or at once when eager."""
    if celery_app.conf.task_always_eager:
        publish_now([event_pk])
    else:
        _publisher.add(event_pk)
