"""Webhook payload retention (cashback/webhook_retention.py): settled events' bodies are reduced after
WEBHOOK_PAYLOAD_RETENTION_DAYS to the envelope and the figures processing used; open events never are;
a reduced event is never processed again and the staff page says why."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cashback import inbox, tasks
from cashback.models import WebhookEvent, WebhookStatus
from cashback.webhook_retention import webhook_payloads_reduce
from tests.webhooks import load_payload, visa_event

pytestmark = pytest.mark.django_db

RETENTION_DAYS = 90
TRACEBACK = "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'Kari Nordmann, Storgata 1'\n"


@pytest.fixture(autouse=True)
def _retention(settings):
    settings.WEBHOOK_PAYLOAD_RETENTION_DAYS = RETENTION_DAYS
    settings.INBOX_UNMATCHED_RETRY_DAYS = 30
    settings.INBOX_MAX_ATTEMPTS = 10


def stored(event_id: str, *, status: str, days_old: float, source: str = "visa", **fields) -> WebhookEvent:
    if source == "visa":
        payload, event_type = visa_event(id=event_id), "transaction.auth"
    else:
        payload, event_type = load_payload("stripe_charge_succeeded"), "charge.succeeded"
    return WebhookEvent.objects.create(
        source=source,
        event_id=event_id,
        event_type=event_type,
        payload=payload,
        status=status,
        received_at=timezone.now() - timedelta(days=days_old),
        **fields,
    )


def test_a_processed_visa_event_past_the_period_keeps_only_the_envelope_and_the_figures():
    event = stored("evt_old", status=WebhookStatus.PROCESSED, days_old=RETENTION_DAYS + 1, attempts=1)

    assert webhook_payloads_reduce() == 1

    event.refresh_from_db()
    assert event.payload_reduced_at is not None
    assert event.payload == {
        "id": "evt_old",
        "type": "transaction.auth",
        "created": "2026-11-23T10:00:00Z",
        "data": {
            "id": "txn_0001",
            "amount": "249.00",
            "currency": "NOK",
            "datetime": "2026-11-23T10:59:00+01:00",
            "card": {"token": "ctok_test_0001"},
            "merchant": {"id": "NM-TEST-1"},
            "location": {"id": "ST-TEST-1"},
        },
    }
    # The envelope is in the row's own columns and stays.
    assert (event.source, event.event_id, event.event_type, event.status, event.attempts) == (
        "visa",
        "evt_old",
        "transaction.auth",
        "processed",
        1,
    )


def test_a_stripe_event_keeps_the_objects_figures_and_drops_the_rest():
    event = stored("evt_s", status=WebhookStatus.IGNORED, days_old=RETENTION_DAYS + 5, source="stripe")
    original = event.payload["data"]["object"]

    webhook_payloads_reduce()

    event.refresh_from_db()
    kept = event.payload["data"]["object"]
    assert kept["id"] == original["id"] and kept["amount"] == original["amount"]
    assert kept["currency"] == original["currency"]
    assert set(kept) < set(original)
    assert all(not isinstance(value, dict | list) for value in kept.values())
    assert "billing_details" not in json.dumps(event.payload)


def test_nothing_is_reduced_before_the_period_is_over():
    event = stored("evt_new", status=WebhookStatus.PROCESSED, days_old=RETENTION_DAYS - 1)
    payload = event.payload

    assert webhook_payloads_reduce() == 0

    event.refresh_from_db()
    assert event.payload == payload and event.payload_reduced_at is None


@pytest.mark.parametrize(
    ("status", "attempts"),
    [
        (WebhookStatus.RECEIVED, 0),  # never processed
        (WebhookStatus.FAILED, 3),  # still retried automatically
    ],
)
def test_events_still_waiting_for_processing_are_never_reduced(status, attempts):
    event = stored("evt_open", status=status, days_old=RETENTION_DAYS * 3, attempts=attempts, last_error=TRACEBACK)
    payload = event.payload

    assert webhook_payloads_reduce() == 0

    event.refresh_from_db()
    assert event.payload == payload and event.last_error == TRACEBACK and event.payload_reduced_at is None


def test_settled_unmatched_and_exhausted_failed_events_are_reduced_with_only_their_errors_kind():
    unmatched = stored("evt_u", status=WebhookStatus.UNMATCHED, days_old=RETENTION_DAYS + 1, attempts=2)
    failed = stored(
        "evt_f", status=WebhookStatus.FAILED, days_old=RETENTION_DAYS + 1, attempts=10, last_error=TRACEBACK
    )

    assert webhook_payloads_reduce() == 2

    unmatched.refresh_from_db()
    failed.refresh_from_db()
    assert unmatched.payload_reduced_at is not None and failed.payload_reduced_at is not None
    assert failed.last_error == "KeyError"


def test_reducing_is_idempotent_and_batched():
    events = [stored(f"evt_{n}", status=WebhookStatus.PROCESSED, days_old=RETENTION_DAYS + 1) for n in range(5)]

    assert webhook_payloads_reduce(batch_size=2) == 5
    first = {e.pk: (e.payload, e.payload_reduced_at) for e in WebhookEvent.objects.all()}
    assert tasks.webhook_payloads_reduce.delay().get() == 0  # the beat task, run again

    assert {e.pk: (e.payload, e.payload_reduced_at) for e in WebhookEvent.objects.all()} == first
    assert len(first) == len(events)


def test_the_beat_schedule_runs_it_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["cashback-webhook-payloads-reduce"]

    assert entry["task"] == "cashback.tasks.webhook_payloads_reduce"


def test_a_reduced_event_is_never_handed_to_its_handler_again(handlers):
    handler = handlers.add("visa", "transaction.auth")
    event = stored("evt_u", status=WebhookStatus.UNMATCHED, days_old=RETENTION_DAYS + 1)
    webhook_payloads_reduce()
    event.refresh_from_db()

    assert inbox.event_process(event_id=event.pk) == WebhookStatus.UNMATCHED
    with pytest.raises(inbox.PayloadReducedError):
        inbox.event_retry(event=event)
    assert handler.calls == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_locked_by_a_worker_is_left_for_the_next_run():
    event = stored("evt_busy", status=WebhookStatus.PROCESSED, days_old=RETENTION_DAYS + 1)
    locked, release = threading.Event(), threading.Event()

    def worker() -> None:
        from django.db import connection as thread_connection
        from django.db import transaction

        try:
            with transaction.atomic():
                WebhookEvent.objects.select_for_update().get(pk=event.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            thread_connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    locked.wait(timeout=30)
    try:
        assert webhook_payloads_reduce() == 0
    finally:
        release.set()
        thread.join()

    assert webhook_payloads_reduce() == 1
    assert connection.vendor == "postgresql"


# --- The staff page --------------------------------------------------------------------------------


def test_the_staff_page_shows_the_reduced_state_and_refuses_a_retry(client, staff_with_role):
    event = stored("evt_u", status=WebhookStatus.UNMATCHED, days_old=RETENTION_DAYS + 1)
    webhook_payloads_reduce()
    client.force_login(staff_with_role("administrator"))
    detail = reverse("inbox:staff_detail", args=[event.pk])

    page = client.get(detail).content.decode()

    assert "Payload reduced" in page and "cannot be processed again" in page
    assert "Retry now" not in page
    assert "Kaffebrenneriet" not in page  # the merchant's name was not a figure processing used

    response = client.post(reverse("inbox:staff_retry", args=[event.pk]), follow=True)

    assert response.status_code == 200
    assert "reduced after the retention period" in response.content.decode()
    event.refresh_from_db()
    assert event.status == WebhookStatus.UNMATCHED and event.attempts == 0
