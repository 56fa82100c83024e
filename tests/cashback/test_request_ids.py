"""Request ids: taken from X-Request-ID when well formed or made, echoed, and carried into tasks."""

import json
import logging
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult

from cashback import request_ids
from cashback.celery import app
from cashback.log_format import RequestContextFilter, json_formatter
from tests.cashback.request_id_urls import request_id_record  # registers the task before any worker starts
from tests.webhooks import post_visa, visa_event

HEX32 = r"^[0-9a-f]{32}$"


def test_a_well_formed_incoming_id_is_kept_and_echoed(client):
    response = client.get("/healthz/", HTTP_X_REQUEST_ID="lb-7f3a.9:Root-1")

    assert response["X-Request-ID"] == "lb-7f3a.9:Root-1"


@pytest.mark.parametrize("header", ["", "has space", "x" * 129, "new\nline", "-leading-dash", "ünïcode", None])
def test_a_missing_or_malformed_id_is_replaced_by_a_new_one(client, header):
    extra = {} if header is None else {"HTTP_X_REQUEST_ID": header}

    first = client.get("/healthz/", **extra)["X-Request-ID"]
    second = client.get("/healthz/", **extra)["X-Request-ID"]

    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second
    assert request_ids.current() is None  # nothing stays bound after the request


@pytest.mark.django_db
def test_the_webhook_doors_echo_the_id_too(webhook_secrets, handlers):
    handlers.add("visa", "transaction.auth")

    response = post_visa(visa_event(id=f"evt_{uuid.uuid4().hex}"), **{"X-Request-ID": "from-the-network-42"})

    assert response.status_code == 202
    assert response["X-Request-ID"] == "from-the-network-42"
    assert request_ids.current() is None


def test_an_eager_task_runs_with_its_callers_request_id():
    token = request_ids.request_id_var.set("caller-id")
    try:
        seen = request_id_record.delay().get()
        assert request_ids.current() == "caller-id"  # the caller's id is back after the task
    finally:
        request_ids.request_id_var.reset(token)

    assert seen == {"request_id": "caller-id", "task_name": "tests.request_id_record"}


@pytest.fixture
def real_broker():
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


class Lines(logging.Handler):
    """The JSON lines the platform's handler would write, kept in a list."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestContextFilter())
        self.setFormatter(json_formatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.cashback.request_id_urls")
def test_the_request_id_travels_into_a_task_on_a_real_worker_and_its_log_lines(client, real_broker):
    # given a worker consuming a queue of its own on Redis, and the lines the task's logger writes
    queue = f"test-{uuid.uuid4().hex}"
    lines = Lines()
    task_logger = logging.getLogger("tests.request_ids")
    task_logger.addHandler(lines)
    task_logger.setLevel(logging.INFO)
    try:
        with start_worker(app, queues=[queue], perform_ping_check=False, pool="solo", loglevel="WARNING"):
            # when a request with an id enqueues a task after its commit
            response = client.get(f"/test/enqueue/?queue={queue}", HTTP_X_REQUEST_ID="req-from-app-1")
            seen = AsyncResult(response.json()["task_id"], app=app).get(timeout=20)
    finally:
        task_logger.removeHandler(lines)

    # then the worker ran it with the request's id, and its log line says so
    assert response["X-Request-ID"] == "req-from-app-1"
    assert seen == {"request_id": "req-from-app-1", "task_name": "tests.request_id_record"}
    (line,) = [json.loads(text) for text in lines.lines]
    assert line["message"] == "recording the request id"
    assert line["request_id"] == "req-from-app-1"
    assert line["task_name"] == "tests.request_id_record"
    assert line["task_id"] == response.json()["task_id"]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_task_sent_outside_any_request_carries_no_request_id(real_broker):
    queue = f"test-{uuid.uuid4().hex}"
    with start_worker(app, queues=[queue], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        seen = request_id_record.apply_async(queue=queue).get(timeout=20)

    assert seen["request_id"] is None
