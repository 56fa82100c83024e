"""Dispatching stored events to the ingest queue: batches, order, failures, forks (cashback/dispatch.py).

The real broker and worker path (a signed POST through the publisher thread to Redis and a Celery
worker) is tests/campaigns/test_lifecycle_celery.py.
"""

import logging
import multiprocessing
import threading
import time

import pytest

from cashback import dispatch, tasks
from cashback.celery import app


@pytest.fixture
def published(monkeypatch):
    """What ``webhook_events_process.delay`` was called with, one list per task."""
    calls: list[list[int]] = []
    lock = threading.Lock()

    def record(event_pks):
        with lock:
            calls.append(list(event_pks))

    monkeypatch.setattr(tasks.webhook_events_process, "delay", record)
    return calls


@pytest.fixture
def not_eager():
    """Celery as in production: tasks go to a broker (here: to the ``published`` recorder)."""
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def broker_mode(not_eager, monkeypatch, settings):
    """Not eager, and a fresh publisher for the test."""
    publisher = dispatch._Publisher()
    monkeypatch.setattr(dispatch, "_publisher", publisher)
    settings.INBOX_DISPATCH_LINGER_MS = 30
    return publisher


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_publish_now_sends_the_ids_in_order_in_tasks_of_at_most_the_batch_size(published, settings):
    settings.INBOX_DISPATCH_BATCH = 3

    dispatch.publish_now(list(range(1, 8)))

    assert published == [[1, 2, 3], [4, 5, 6], [7]]


def test_when_eager_each_event_is_published_at_once_in_the_callers_thread(published):
    assert app.conf.task_always_eager

    dispatch.publish_soon(41)
    dispatch.publish_soon(42)

    assert published == [[41], [42]]


def test_ids_arriving_together_from_many_threads_go_out_in_a_few_tasks(published, broker_mode, settings):
    settings.INBOX_DISPATCH_BATCH = 50
    ids = list(range(1, 41))
    barrier = threading.Barrier(4)

    def request_thread(offset: int) -> None:
        barrier.wait()
        for event_pk in ids[offset::4]:
            dispatch.publish_soon(event_pk)

    threads = [threading.Thread(target=request_thread, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    wait_for(lambda: sum(len(batch) for batch in published) == len(ids))
    assert sorted(event_pk for batch in published for event_pk in batch) == ids  # each once, none lost
    assert len(published) <= 2  # one linger collects them (two if a thread started late)


def test_a_lone_event_is_published_after_the_linger(published, broker_mode):
    started = time.monotonic()

    dispatch.publish_soon(7)

    wait_for(lambda: published == [[7]])
    assert time.monotonic() - started >= 0.03


def test_a_broker_error_is_logged_and_the_next_batch_still_goes_out(monkeypatch, broker_mode, caplog):
    sent: list[list[int]] = []
    failures = iter([ConnectionError("redis is down")])

    def flaky(event_pks):
        failure = next(failures, None)
        if failure:
            raise failure
        sent.append(list(event_pks))

    monkeypatch.setattr(tasks.webhook_events_process, "delay", flaky)

    with caplog.at_level(logging.WARNING, logger="cashback.dispatch"):
        dispatch.publish_soon(1)
        wait_for(lambda: "could not publish 1 webhook events" in caplog.text)
        dispatch.publish_soon(2)
        wait_for(lambda: sent == [[2]])  # event 1 is left to the sweep (it is stored as "received")


def test_flush_publishes_what_is_held_when_the_process_stops(published, broker_mode, settings):
    settings.INBOX_DISPATCH_LINGER_MS = 10_000  # the thread would wait long; the exit hook does not

    dispatch.publish_soon(5)
    dispatch.publish_soon(6)
    broker_mode.flush()

    assert published == [[5, 6]]


def _child_publishes(queue) -> None:
    calls: list[list[int]] = []
    tasks.webhook_events_process.delay = lambda event_pks: calls.append(list(event_pks))
    dispatch.publish_soon(99)
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    queue.put(calls)


def test_a_forked_child_starts_its_own_publisher(published, not_eager, settings):
    # given a parent whose publisher thread is running (as in gunicorn's master with preload_app)
    settings.INBOX_DISPATCH_LINGER_MS = 10
    dispatch.publish_soon(1)
    wait_for(lambda: published == [[1]])

    # when a forked child dispatches an event
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_publishes, args=(queue,))
    child.start()
    calls = queue.get(timeout=10)
    child.join(timeout=10)

    # then the child's own thread publishes it (it did not inherit the parent's dead thread)
    assert calls == [[99]]
