import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from cashback.celery import app
from cashback.tasks import clear_expired_sessions


def _make_session(*, expires_in: timedelta) -> str:
    store = SessionStore()
    store["marker"] = "x"
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() + expires_in)
    return store.session_key


@pytest.fixture
def real_broker():
    """Send tasks through the broker instead of running them in-process, for one test."""
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_a_task_against_the_database(real_broker):
    # given one expired and one live session, and a worker consuming a queue of its own on the real broker
    expired = _make_session(expires_in=timedelta(days=-1))
    live = _make_session(expires_in=timedelta(days=1))
    queue = f"test-{uuid.uuid4().hex}"
    assert app.conf.broker_url.startswith("redis://")

    with start_worker(app, queues=[queue], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        # when the task is sent through Redis
        result = clear_expired_sessions.apply_async(queue=queue)
        deleted = result.get(timeout=20)

    # then the worker removed exactly the expired session
    assert deleted == 1
    assert not Session.objects.filter(session_key=expired).exists()
    assert Session.objects.filter(session_key=live).exists()


@pytest.mark.django_db
def test_clear_expired_sessions_is_safe_to_run_twice():
    _make_session(expires_in=timedelta(days=-1))
    assert clear_expired_sessions.delay().get() == 1
    assert clear_expired_sessions.delay().get() == 0


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("cashback.tasks.process_inbox_event", "ingest"),
        ("campaigns.tasks.reward_mature_due", "rewards"),
        ("wallet.tasks.hold_expire_due", "rewards"),
        ("notifications.tasks.deliver", "notifications"),
        ("merchants.tasks.report_render", "reports"),
        ("cashback.tasks.clear_expired_sessions", "default"),
        ("cashback.tasks.fact_deliver", "default"),
        ("cashback.tasks.facts_deliver_due", "default"),
        ("notifications.tasks.outgoing_email_send", "notifications"),
    ],
)
def test_tasks_are_routed_to_their_named_queue(task_name, queue):
    routed = app.amqp.router.route({}, task_name)
    assert routed["queue"].name == queue


def test_the_named_queues_exist():
    assert {q.name for q in settings.CELERY_TASK_QUEUES} >= {"ingest", "rewards", "notifications", "reports"}


# The scheduler closes "old" connections, which a test wrapped in a transaction would lose.
@pytest.mark.django_db(transaction=True)
def test_beat_schedule_is_kept_by_django_celery_beat_and_names_registered_tasks():
    app.loader.import_default_modules()
    DatabaseScheduler(app=app, lazy=True).setup_schedule()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert PeriodicTask.objects.filter(name=name, task=entry["task"]).exists(), name
        assert entry["task"] in app.tasks, f"beat entry {name} names an unknown task {entry['task']}"
