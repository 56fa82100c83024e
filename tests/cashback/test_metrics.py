"""/metrics: closed unless configured, and each family moves when its event happens."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from cashback import inbox
from cashback.health import redis_client
from cashback.models import WebhookEvent, WebhookStatus
from tests.cashback.metrics_scrape import TOKEN, scrape
from tests.webhooks import post_visa, visa_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_COUNT_LAG_SECONDS = 0  # count rows as soon as they are written
    return settings


# --- Protection -------------------------------------------------------------------------------------


def test_unconfigured_metrics_are_not_there(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_without_the_token_the_scrape_is_refused(client, metrics_on):
    missing = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    other_scheme = client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}")

    assert missing.status_code == wrong.status_code == other_scheme.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert b"cashback_" not in missing.content + wrong.content + other_scheme.content
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_an_address_outside_the_allow_list_is_refused(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.7"]

    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 200


def test_with_token_and_allow_list_both_must_hold(client, metrics_on):
    metrics_on.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}

    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", **auth).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.1").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.1", **auth).status_code == 200


# --- Families ---------------------------------------------------------------------------------------


def test_every_family_is_in_a_scrape(client, metrics_on):
    client.get("/healthz/")
    families = scrape(client).families

    for name in (
        "cashback_http_requests",
        "cashback_http_request_duration_seconds",
        "cashback_inbox_lag_seconds",
        "cashback_inbox_open_events",
        "cashback_inbox_parked_events",
        "cashback_inbox_events_settled",
        "cashback_ledger_postings",
        "cashback_payouts_by_status",
        "cashback_payouts_open",
    ):
        assert name in families, name


def test_a_request_is_counted_and_timed_by_view_method_and_status(client, metrics_on):
    before = scrape(client)

    client.get("/healthz/")
    client.get("/healthz/")
    client.post("/healthz/")  # 405
    client.get(f"/no-such-page-{uuid.uuid4().hex}/")

    after = scrape(client)
    moved = after.value("cashback_http_requests_total", view="health", method="GET", status="200") - before.value(
        "cashback_http_requests_total", view="health", method="GET", status="200"
    )
    assert moved == 2
    for name, labels in (
        ("cashback_http_requests_total", {"view": "health", "method": "POST", "status": "405"}),
        ("cashback_http_requests_total", {"view": "unresolved", "method": "GET", "status": "404"}),
    ):
        assert after.value(name, **labels) - before.value(name, **labels) == 1, labels
    timed = "cashback_http_request_duration_seconds_count"
    assert after.value(timed, view="health", method="GET") - before.value(timed, view="health", method="GET") == 2
    slowest_bucket = "cashback_http_request_duration_seconds_bucket"
    assert after.value(slowest_bucket, view="health", method="GET", le="+Inf") >= 2


def test_a_webhook_delivery_is_counted_by_source_and_answer(client, metrics_on, webhook_secrets, handlers):
    handlers.add("visa", "transaction.auth")
    event = visa_event(id=f"evt_{uuid.uuid4().hex}")
    before = scrape(client)

    assert post_visa(event).status_code == 202
    assert post_visa(event).status_code == 200
    assert post_visa(event, secret="whsec_wrong").status_code == 400

    after = scrape(client)

    def moved(answer: str) -> float:
        name = "cashback_webhook_deliveries_total"
        return after.value(name, source="visa", answer=answer) - before.value(name, source="visa", answer=answer)

    assert moved("received") == 1
    assert moved("duplicate") == 1
    assert moved("signature_invalid") == 1


def test_inbox_lag_is_the_age_of_the_oldest_event_waiting(client, metrics_on):
    assert scrape(client).value("cashback_inbox_lag_seconds") == 0
    now = timezone.now()
    for age, event_id in ((90, "old"), (5, "new")):
        WebhookEvent.objects.create(
            source="visa",
            event_id=f"evt_{event_id}",
            event_type="transaction.auth",
            payload={},
            received_at=now - timedelta(seconds=age),
        )

    after = scrape(client)
    assert 90 <= after.value("cashback_inbox_lag_seconds") < 200
    waiting = {"source": "visa", "event_type": "transaction.auth", "status": "received"}
    assert after.value("cashback_inbox_open_events", **waiting) == 2


def test_events_settled_and_failed_are_counted_per_type(client, metrics_on, handlers):
    handlers.add("visa", "transaction.clearing")
    handlers.add("visa", "transaction.refund", handler=_failing)
    cleared = inbox.event_receive(source="visa", event_id="evt_c", event_type="transaction.clearing", payload="{}")
    refund = inbox.event_receive(source="visa", event_id="evt_r", event_type="transaction.refund", payload="{}")
    before = scrape(client)  # the counter's starting point

    inbox.event_process(event_id=cleared.pk)
    inbox.event_process(event_id=refund.pk)

    after = scrape(client)
    settled = "cashback_inbox_events_settled_total"
    labels = {"source": "visa", "event_type": "transaction.clearing", "status": "processed"}
    assert after.value(settled, **labels) - before.value(settled, **labels) == 1
    failed = {"source": "visa", "event_type": "transaction.refund", "status": "failed"}
    assert after.value("cashback_inbox_open_events", **failed) == 1
    assert after.value("cashback_inbox_parked_events", source="visa", event_type="transaction.refund") == 0

    # when it has used every attempt, it is parked for staff
    WebhookEvent.objects.filter(pk=refund.pk).update(attempts=metrics_on.INBOX_MAX_ATTEMPTS)
    parked = scrape(client).value("cashback_inbox_parked_events", source="visa", event_type="transaction.refund")
    assert parked == 1


def _failing(event):
    raise RuntimeError("the handler broke")


def test_a_settled_event_is_counted_once_across_scrapes(client, metrics_on, handlers):
    handlers.add("visa", "transaction.clearing")
    stored = inbox.event_receive(source="visa", event_id="evt_once", event_type="transaction.clearing", payload="{}")
    scrape(client)
    inbox.event_process(event_id=stored.pk)
    labels = {"source": "visa", "event_type": "transaction.clearing", "status": "processed"}

    counts = [scrape(client).value("cashback_inbox_events_settled_total", **labels) for _ in range(3)]

    assert counts[0] == counts[1] == counts[2]
    assert WebhookEvent.objects.get(pk=stored.pk).status == WebhookStatus.PROCESSED


@pytest.mark.redis
def test_queue_depth_is_the_length_of_each_celery_queue_on_redis(client, metrics_on):
    from kombu import Queue

    queue = f"test-depth-{uuid.uuid4().hex}"
    metrics_on.CELERY_TASK_QUEUES = [Queue("default"), Queue(queue)]
    broker = redis_client(metrics_on.CELERY_BROKER_URL)
    try:
        broker.rpush(queue, "a", "b", "c")
        assert scrape(client).value("cashback_celery_queue_length", queue=queue) == 3
        broker.lpop(queue)
        assert scrape(client).value("cashback_celery_queue_length", queue=queue) == 2
    finally:
        broker.delete(queue)


def test_a_collector_whose_store_is_down_is_reported_and_the_rest_still_served(client, metrics_on):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    metrics_on.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed}/0"

    result = scrape(client)

    assert result.value("cashback_scrape_collector_up", collector="cashback.metrics_scrape.queues_collect") == 0
    assert result.value("cashback_scrape_collector_up", collector="cashback.metrics_scrape.inbox_collect") == 1
    assert "cashback_celery_queue_length" not in result.families
    assert "cashback_inbox_lag_seconds" in result.families
