"""The webhook doors: verified, stored once before the 2xx, nothing written on a 4xx."""

import json
import threading
import time
from dataclasses import dataclass

import pytest
from django.db import connection

from cashback import tasks
from cashback.models import WebhookEvent, WebhookStatus
from tests.concurrency import run_together
from tests.webhooks import (
    STRIPE_CONNECT_SECRET,
    STRIPE_SECRET,
    VISA_SECRET,
    VISA_SECRET_PREVIOUS,
    door,
    encode,
    load_payload,
    post_stripe,
    post_visa,
    stripe_signature,
    visa_event,
)

pytestmark = pytest.mark.django_db


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --- Visa: the happy path, duplicates, storing before the acknowledgement ----------------------


def test_a_new_visa_event_is_stored_acknowledged_and_processed_after_commit(
    webhook_secrets, handlers, django_capture_on_commit_callbacks
):
    # given a handler for card authorisations
    handler = handlers.add("visa", "transaction.auth")
    payload = load_payload("visa_transaction_auth")

    # when the network posts a signed authorisation
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_visa(payload)

    # then it is acknowledged, stored as sent, and processed once (after commit)
    assert response.status_code == 202
    assert response.json() == {"status": "received"}
    event = WebhookEvent.objects.get()
    assert (event.source, event.event_id, event.event_type, event.account) == (
        "visa",
        "evt_visa_auth_0001",
        "transaction.auth",
        "",
    )
    assert event.payload == payload
    assert len(callbacks) == 1
    assert handler.calls == [event.pk]
    assert event.status == WebhookStatus.PROCESSED
    assert event.attempts == 1
    assert event.processed_at is not None


def test_intake_is_one_insert_and_processing_is_only_enqueued(
    webhook_secrets, handlers, django_assert_num_queries, django_capture_on_commit_callbacks
):
    handler = handlers.add("visa", "transaction.auth")

    with django_capture_on_commit_callbacks(execute=False) as callbacks, django_assert_num_queries(1):
        response = post_visa(visa_event())

    assert response.status_code == 202
    assert len(callbacks) == 1  # the enqueue, run after commit
    assert handler.calls == []
    assert WebhookEvent.objects.get().status == WebhookStatus.RECEIVED


def test_the_processing_task_goes_to_the_ingest_queue():
    from cashback.celery import app

    for name in ("webhook_events_process", "webhook_events_unmatched_retry", "webhook_events_retry_due"):
        route = app.amqp.router.route({}, f"cashback.tasks.{name}")
        assert route["queue"].name == "ingest", name


def test_a_duplicate_is_acknowledged_and_changes_nothing(webhook_secrets, handlers, django_capture_on_commit_callbacks):
    # given an event already received and processed
    handler = handlers.add("visa", "transaction.auth")
    with django_capture_on_commit_callbacks(execute=True):
        post_visa(visa_event(id="evt_dup"))
    before = WebhookEvent.objects.values().get()

    # when the same event id comes again, even with another body
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_visa(visa_event(id="evt_dup", data={"amount": "999.00"}))

    # then it is a 200 duplicate, nothing is enqueued, the stored row is untouched
    assert response.status_code == 200
    assert response.json() == {"status": "duplicate"}
    assert callbacks == []
    assert WebhookEvent.objects.values().get() == before
    assert len(handler.calls) == 1


def test_the_same_event_id_from_another_source_is_another_event(webhook_secrets, handlers):
    stripe_event = {**load_payload("stripe_charge_succeeded"), "id": "evt_shared"}
    assert post_visa(visa_event(id="evt_shared")).status_code == 202
    assert post_stripe(stripe_event).status_code == 202
    assert WebhookEvent.objects.count() == 2


def test_a_handler_that_fails_still_leaves_the_event_stored_and_the_answer_2xx(
    webhook_secrets, handlers, django_capture_on_commit_callbacks
):
    # given a handler that blows up
    handlers.add("visa", "transaction.auth").raises = RuntimeError("database of cards unreachable")

    # when an event arrives (Celery eager here: processing runs right after the commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_visa(visa_event(id="evt_fails"))

    # then the sender gets its 2xx and the event is kept, failed, with the error and a next attempt
    assert response.status_code == 202
    event = WebhookEvent.objects.get(event_id="evt_fails")
    assert event.status == WebhookStatus.FAILED
    assert "RuntimeError: database of cards unreachable" in event.last_error
    assert event.attempts == 1
    assert event.next_attempt_at is not None


def test_an_enqueue_that_fails_does_not_lose_the_event(
    webhook_secrets, handlers, monkeypatch, django_capture_on_commit_callbacks
):
    # given a broker that is down
    handlers.add("visa", "transaction.auth")

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.webhook_events_process, "delay", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_visa(visa_event(id="evt_broker_down"))

    # then the event is stored and acknowledged; the retry sweep will enqueue it later
    assert response.status_code == 202
    assert WebhookEvent.objects.get(event_id="evt_broker_down").status == WebhookStatus.RECEIVED


def test_with_enqueue_on_receipt_off_the_event_waits_for_the_sweep(
    webhook_secrets, handlers, django_capture_on_commit_callbacks
):
    webhook_secrets.INBOX_ENQUEUE_ON_RECEIPT = False
    handler = handlers.add("visa", "transaction.auth")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_visa(visa_event(id="evt_sweep"))

    assert response.status_code == 202
    assert callbacks == []
    assert handler.calls == []
    assert WebhookEvent.objects.get(event_id="evt_sweep").status == WebhookStatus.RECEIVED


def test_the_previous_secret_is_accepted_during_a_rotation(webhook_secrets, handlers):
    webhook_secrets.VISA_WEBHOOK_SECRET_PREVIOUS = VISA_SECRET_PREVIOUS

    assert post_visa(visa_event(id="evt_old"), secret=VISA_SECRET_PREVIOUS).status_code == 202
    assert post_visa(visa_event(id="evt_new"), secret=VISA_SECRET).status_code == 202
    assert WebhookEvent.objects.count() == 2


def test_a_header_with_two_v1_signatures_is_accepted(webhook_secrets, handlers):
    from cashback.providers.visa_signature import sign

    body = encode(visa_event(id="evt_two_sigs"))
    t = int(time.time())
    retired = sign(body=body, secret="whsec_retired", timestamp=t).split(",")[1]
    current = sign(body=body, secret=VISA_SECRET, timestamp=t).split(",")[1]

    response = door.post("/webhooks/visa/", data=body, headers={"Visa-Signature": f"t={t},{retired},{current}"})

    assert response.status_code == 202


# --- Visa: refusals, each before any write --------------------------------------------------------


def _signed(body: bytes, *, secret: str = VISA_SECRET, t: int | None = None) -> dict[str, str]:
    from cashback.providers.visa_signature import sign

    return {"Visa-Signature": sign(body=body, secret=secret, timestamp=int(time.time()) if t is None else t)}


@dataclass(frozen=True)
class Signed:
    """How a parametrized case is signed, applied inside the test: a header signed when pytest
    collects goes stale (``timestamp_stale``) once the suite runs longer than the 300 s tolerance.

    ``body`` signs other bytes than the ones delivered (a tampered body); ``skew`` moves the
    signing clock, in seconds, from the moment the test runs."""

    secret: str = VISA_SECRET
    body: bytes | None = None
    skew: int = 0

    def visa(self, delivered: bytes) -> dict[str, str]:
        return _signed(self.body if self.body is not None else delivered, secret=self.secret, t=self._at())

    def stripe(self, delivered: bytes) -> str:
        return stripe_signature(self.body if self.body is not None else delivered, self.secret, self._at())

    def _at(self) -> int:
        return int(time.time()) + self.skew


GOOD = encode(visa_event(id="evt_refused"))
CARD_NUMBER = visa_event(
    id="evt_pan", data={"card": {"token": "ctok_1", "firstNumbers": "4242424242424242", "lastNumbers": "4242"}}
)
PAN_ELSEWHERE = visa_event(
    id="evt_pan2",
    data={
        "card": {"token": "ctok_1", "firstNumbers": "424242", "lastNumbers": "4242", "number": "4242 4242 4242 4242"}
    },
)


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (GOOD, {}, 400, "signature_missing"),
        (GOOD, {"Visa-Signature": "nonsense"}, 400, "signature_missing"),
        (GOOD, Signed(secret="whsec_attacker"), 400, "signature_invalid"),
        (GOOD, Signed(body=GOOD + b" "), 400, "signature_invalid"),
        (GOOD, Signed(skew=-3600), 400, "timestamp_stale"),
        (GOOD, Signed(skew=3600), 400, "timestamp_stale"),
        (b"{not json", Signed(), 400, "malformed_json"),
        (b"\xff\xfe", Signed(), 400, "malformed_json"),
        (b"[1, 2]", Signed(), 400, "malformed_json"),
        (b"", Signed(), 400, "malformed_json"),
        (b'{"id":"evt_nan","type":"transaction.auth","data":{"amount":NaN}}', None, 400, "malformed_json"),
        (b'{"id":"evt_inf","type":"transaction.auth","data":{"amount":1e999}}', None, 400, "malformed_json"),
        (b'{"id":"evt_nul\\u0000","type":"transaction.auth","data":{}}', None, 400, "malformed_json"),
        (encode({"type": "transaction.auth", "data": {}}), None, 400, "invalid_event"),
        (encode({"id": "evt_x", "data": {}}), None, 400, "invalid_event"),
        (encode({"id": 42, "type": "transaction.auth", "data": {}}), None, 400, "invalid_event"),
        (encode({"id": "evt_x" * 60, "type": "transaction.auth", "data": {}}), None, 400, "invalid_event"),
        (encode({"id": "evt_x", "type": "transaction.auth", "data": "nope"}), None, 400, "invalid_event"),
        (encode(visa_event("transaction.chargeback", id="evt_cb")), None, 400, "unknown_event_type"),
        (encode(CARD_NUMBER), None, 400, "card_number_present"),
        (encode(PAN_ELSEWHERE), None, 400, "card_number_present"),
    ],
    ids=[
        "no-header",
        "unreadable-header",
        "wrong-secret",
        "tampered-body",
        "stale",
        "future",
        "not-json",
        "not-utf8",
        "json-array",
        "empty-body",
        "nan",
        "infinite-number",
        "nul-character",
        "no-id",
        "no-type",
        "id-not-a-string",
        "id-too-long",
        "data-not-an-object",
        "unknown-type",
        "full-card-number",
        "card-number-in-another-field",
    ],
)
def test_a_refused_visa_delivery_is_a_4xx_json_error_and_writes_nothing(
    webhook_secrets, handlers, body, headers, status, code
):
    handlers.add("visa", "transaction.auth")
    headers = (headers or Signed()).visa(body) if isinstance(headers, Signed | None) else headers

    response = door.post("/webhooks/visa/", data=body, headers=headers)

    assert response.status_code == status
    assert error_code(response) == code
    assert WebhookEvent.objects.count() == 0


def test_a_body_over_the_limit_is_refused_with_413(webhook_secrets, handlers):
    webhook_secrets.WEBHOOK_MAX_BODY_BYTES = 1024
    body = encode(visa_event(id="evt_big", data={"merchant": {"id": "NM1", "name": "x" * 2000}}))

    response = door.post("/webhooks/visa/", data=body, headers=_signed(body))

    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert WebhookEvent.objects.count() == 0


def test_without_a_configured_secret_the_door_is_closed(settings):
    settings.VISA_WEBHOOK_SECRET = ""
    settings.VISA_WEBHOOK_SECRET_PREVIOUS = ""
    settings.STRIPE_WEBHOOK_SECRET = ""

    visa = post_visa(visa_event(), secret="")
    stripe = post_stripe(load_payload("stripe_charge_succeeded"), secret="whsec_any")

    assert (visa.status_code, error_code(visa)) == (503, "webhook_not_configured")
    assert (stripe.status_code, error_code(stripe)) == (503, "webhook_not_configured")
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("url", ["/webhooks/visa/", "/webhooks/stripe/", "/webhooks/stripe/connect/"])
def test_only_post_is_allowed(webhook_secrets, url):
    response = door.get(url)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert error_code(response) == "method_not_allowed"


def test_the_door_needs_no_csrf_token_and_reads_no_cookie(webhook_secrets, handlers):
    response = post_visa(visa_event(id="evt_csrf"), Cookie="sessionid=nobody; csrftoken=forged")

    assert response.status_code == 202


# --- Stripe ---------------------------------------------------------------------------------------


def test_a_stripe_event_with_a_handler_is_stored_and_processed(
    webhook_secrets, handlers, django_capture_on_commit_callbacks
):
    handler = handlers.add("stripe", "charge.succeeded")
    payload = load_payload("stripe_charge_succeeded")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_stripe(payload)

    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert (event.source, event.event_id, event.event_type, event.account) == (
        "stripe",
        "evt_3PlatformCharge0001",
        "charge.succeeded",
        "",
    )
    assert event.payload == payload
    assert handler.calls == [event.pk]
    assert event.status == WebhookStatus.PROCESSED


def test_a_connect_event_keeps_its_account(webhook_secrets, handlers, django_capture_on_commit_callbacks):
    handler = handlers.add("stripe_connect", "invoice.paid")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_stripe(load_payload("stripe_connect_invoice_paid"), connect=True)

    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert (event.source, event.account) == ("stripe_connect", "acct_1MerchantTest0001")
    assert handler.calls == [event.pk]


def test_a_stripe_type_nobody_handles_is_stored_as_ignored_with_a_2xx(
    webhook_secrets, handlers, django_capture_on_commit_callbacks
):
    payload = {**load_payload("stripe_charge_succeeded"), "type": "customer.updated"}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_stripe(payload)

    assert response.status_code == 202
    assert response.json() == {"status": "ignored"}
    assert callbacks == []  # nothing to process
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.IGNORED
    assert "customer.updated" in event.unmatched_reason
    # and a redelivery is still a duplicate
    assert post_stripe(payload).json() == {"status": "duplicate"}


def test_a_stripe_duplicate_changes_nothing(webhook_secrets, handlers):
    handlers.add("stripe_connect", "invoice.paid")
    payload = load_payload("stripe_connect_invoice_paid")
    post_stripe(payload, connect=True)

    response = post_stripe(payload, connect=True)

    assert (response.status_code, response.json()) == (200, {"status": "duplicate"})
    assert WebhookEvent.objects.count() == 1


def _stripe_post(url: str, body: bytes, header: str | None):
    return door.post(url, data=body, headers={"Stripe-Signature": header} if header else {})


STRIPE_BODY = encode(load_payload("stripe_charge_succeeded"))
CONNECT_BODY = encode(load_payload("stripe_connect_invoice_paid"))
NO_ACCOUNT = encode({k: v for k, v in load_payload("stripe_connect_invoice_paid").items() if k != "account"})


@pytest.mark.parametrize(
    ("url", "body", "header", "code"),
    [
        ("/webhooks/stripe/", STRIPE_BODY, None, "signature_missing"),
        ("/webhooks/stripe/", STRIPE_BODY, Signed(secret="whsec_attacker"), "signature_invalid"),
        ("/webhooks/stripe/", STRIPE_BODY, Signed(secret=STRIPE_CONNECT_SECRET), "signature_invalid"),
        ("/webhooks/stripe/", STRIPE_BODY, "t=abc,v1=zz", "signature_invalid"),
        (
            "/webhooks/stripe/",
            STRIPE_BODY,
            Signed(secret=STRIPE_SECRET, skew=-3600),
            "timestamp_stale",
        ),
        ("/webhooks/stripe/", b"{oops", Signed(secret=STRIPE_SECRET), "malformed_json"),
        ("/webhooks/stripe/", b"[]", Signed(secret=STRIPE_SECRET), "malformed_json"),
        (
            "/webhooks/stripe/",
            encode({"object": "event", "type": "charge.succeeded"}),
            Signed(secret=STRIPE_SECRET),
            "invalid_event",
        ),
        ("/webhooks/stripe/connect/", CONNECT_BODY, Signed(secret=STRIPE_SECRET), "signature_invalid"),
        (
            "/webhooks/stripe/connect/",
            NO_ACCOUNT,
            Signed(secret=STRIPE_CONNECT_SECRET),
            "missing_account",
        ),
    ],
    ids=[
        "no-header",
        "wrong-secret",
        "connect-secret-on-platform-door",
        "unreadable-header",
        "stale",
        "not-json",
        "json-array",
        "no-id",
        "platform-secret-on-connect-door",
        "connect-without-account",
    ],
)
def test_a_refused_stripe_delivery_is_a_4xx_json_error_and_writes_nothing(
    webhook_secrets, handlers, url, body, header, code
):
    response = _stripe_post(url, body, header.stripe(body) if isinstance(header, Signed) else header)

    assert response.status_code == 400
    assert error_code(response) == code
    assert WebhookEvent.objects.count() == 0


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_posted_concurrently_is_stored_once_and_processed_once(webhook_secrets, handlers):
    # given a handler that takes a moment (so that deliveries overlap with processing)
    slow = threading.Event()

    class SlowHandler:
        calls = 0
        lock = threading.Lock()

        def __call__(self, event):
            with self.lock:
                SlowHandler.calls += 1
            slow.wait(0.05)

    handlers.add("visa", "transaction.auth", SlowHandler())
    body = encode(visa_event(id="evt_concurrent"))
    k = 12

    # when K clients deliver the same signed event at the same moment
    def deliver(_: int) -> tuple[int, str]:
        response = post_visa(json.loads(body))
        return response.status_code, response.json()["status"]

    results = run_together(deliver, threads=k)

    # then exactly one was new, the others duplicates; one row; processed once (Celery eager: on commit)
    assert sorted(results) == [(200, "duplicate")] * (k - 1) + [(202, "received")]
    event = WebhookEvent.objects.get(event_id="evt_concurrent")
    assert event.status == WebhookStatus.PROCESSED
    assert event.attempts == 1
    assert SlowHandler.calls == 1
    connection.close()
