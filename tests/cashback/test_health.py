"""/healthz/ (alive) and /readyz/ (database, Redis, a worker's heartbeat): 200, or 503 naming the failure."""

import socket
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from cashback import health
from cashback.celery import app
from cashback.tasks import worker_heartbeat


def closed_port() -> int:
    """A local port nothing listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def real_broker():
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def test_healthz_answers_without_touching_the_database(client):
    # no django_db mark: any database access would raise here
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_database_and_redis_answer(client, settings):
    response = client.get("/readyz/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["worker"]["ok"] is True  # skipped: the tests run Celery eagerly


@pytest.mark.django_db
def test_not_ready_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response = client.get("/readyz/")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False
    assert "Connection" in checks["redis"]["error"]
    assert checks["database"]["ok"] is True
    assert response.json()["status"] == "unavailable"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_not_ready_when_the_database_is_unreachable(client, monkeypatch):
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "PORT", str(closed_port()))
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    try:
        response = client.get("/readyz/")
    finally:
        connection.close()

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is False
    assert checks["database"]["error"].startswith("OperationalError")


@pytest.mark.django_db
def test_not_ready_without_a_recent_worker_heartbeat(client, settings, real_broker):
    settings.WORKER_HEARTBEAT_STALE_SECONDS = 60
    health.worker_heartbeat_record(hostname="worker@a", now=time.time() - 61)

    stale = client.get("/readyz/")
    health.worker_heartbeat_record(hostname="worker@a")
    fresh = client.get("/readyz/")

    assert stale.status_code == 503
    assert stale.json()["checks"]["worker"]["ok"] is False
    assert "older than 60 s" in stale.json()["checks"]["worker"]["error"]
    assert fresh.status_code == 200, fresh.content
    assert fresh.json()["checks"]["worker"]["hostname"] == "worker@a"


@pytest.mark.django_db
def test_readiness_checks_only_what_is_configured(client, settings, real_broker):
    settings.READINESS_CHECKS = ["database"]
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response = client.get("/readyz/")

    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database"}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_makes_the_platform_ready(client, settings, real_broker):
    from django.core.cache import cache

    cache.delete(health.HEARTBEAT_KEY)
    assert client.get("/readyz/").json()["checks"]["worker"]["ok"] is False  # no heartbeat yet

    queue = f"test-{uuid.uuid4().hex}"  # beat sends it to "default"; a queue of its own keeps other messages out
    with start_worker(app, queues=[queue], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        worker_heartbeat.apply_async(queue=queue)
        deadline = time.monotonic() + 20
        while (response := client.get("/readyz/")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)  # the worker records the heartbeat asynchronously; bounded by the deadline

    assert response.status_code == 200, response.content
    assert response.json()["checks"]["worker"]["age_seconds"] < 20
