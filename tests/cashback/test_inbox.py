"""Processing stored webhook events: once, in a savepoint, with every outcome recorded."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from cashback import events, inbox, tasks
from cashback.inbox import Ignored, Unmatched, event_process, events_retry_due, unmatched_retry
from cashback.models import Fact, WebhookEvent
from tests.cashback.conftest import RecordingHandler
from tests.concurrency import run_together
from tests.merchants.factories import MembershipFactory, MerchantFactory
from tests.webhooks import load_payload, visa_event

pytestmark = pytest.mark.django_db


def stored(event_type: str = "transaction.auth", *, source: str = "visa", event_id: str = "evt_1", **fields):
    default = visa_event(event_type, id=event_id) if source == "visa" else load_payload("stripe_charge_succeeded")
    payload = fields.pop("payload", default)
    return WebhookEvent.objects.create(
        source=source, event_id=event_id, event_type=event_type, payload=payload, **fields
    )


# --- The registry ---------------------------------------------------------------------------------


def test_register_refuses_an_unknown_source(handlers):
    with pytest.raises(ValueError, match="Unknown webhook source"):
        inbox.register(source="mastercard", event_type="transaction.auth", handler=RecordingHandler())


def test_two_handlers_for_one_type_is_an_error_but_registering_the_same_one_twice_is_not(handlers):
    first = handlers.add("visa", "transaction.auth")
    inbox.register(source="visa", event_type="transaction.auth", handler=first)

    with pytest.raises(ValueError, match="already registered"):
        inbox.register(source="visa", event_type="transaction.auth", handler=RecordingHandler())


# --- One run --------------------------------------------------------------------------------------


def test_a_handler_that_returns_marks_the_event_processed(handlers):
    handler = handlers.add("visa", "transaction.auth")
    event = stored()

    assert event_process(event_id=event.pk) == "processed"

    event.refresh_from_db()
    assert handler.calls == [event.pk]
    assert (event.status, event.attempts, event.last_error) == ("processed", 1, "")
    assert event.processed_at is not None


def test_processing_twice_changes_nothing(handlers):
    handler = handlers.add("visa", "transaction.auth")
    event = stored()
    event_process(event_id=event.pk)
    first = WebhookEvent.objects.values().get(pk=event.pk)

    assert event_process(event_id=event.pk) == "processed"
    assert tasks.webhook_events_process.delay([event.pk]).get() == {"processed": 1}

    assert handler.calls == [event.pk]
    assert WebhookEvent.objects.values().get(pk=event.pk) == first


def test_the_handler_sees_the_stored_payload_and_account(handlers):
    seen = {}

    def handler(event):
        seen.update(payload=event.payload, account=event.account)

    handlers.add("stripe_connect", "invoice.paid", handler)
    payload = load_payload("stripe_connect_invoice_paid")
    event = WebhookEvent.objects.create(
        source="stripe_connect", event_id=payload["id"], event_type="invoice.paid", payload=payload, account="acct_1"
    )

    event_process(event_id=event.pk)

    assert seen == {"payload": payload, "account": "acct_1"}


def test_unmatched_keeps_the_reason(handlers):
    handlers.add("visa", "transaction.auth").raises = Unmatched("no card with token ctok_test_0001")
    event = stored()

    assert event_process(event_id=event.pk) == "unmatched"

    event.refresh_from_db()
    assert event.unmatched_reason == "no card with token ctok_test_0001"
    assert event.processed_at is None and event.next_attempt_at is None


def test_ignored_keeps_the_reason_and_is_final(handlers):
    handler = handlers.add("visa", "transaction.reversal")
    handler.raises = Ignored("reversal of an authorisation that never cleared")
    event = stored("transaction.reversal")

    assert event_process(event_id=event.pk) == "ignored"
    assert event_process(event_id=event.pk) == "ignored"

    event.refresh_from_db()
    assert event.unmatched_reason == "reversal of an authorisation that never cleared"
    assert len(handler.calls) == 1


def test_a_failing_handler_leaves_nothing_behind_and_the_failure_is_recorded(handlers):
    # given a handler that writes, then fails
    def handler(event):
        WebhookEvent.objects.create(source="visa", event_id="written-by-handler", event_type="x", payload={})
        raise KeyError("data.amount")

    handlers.add("visa", "transaction.auth", handler)
    event = stored()

    # when it runs
    outcome = event_process(event_id=event.pk)

    # then its write is rolled back and the event is failed with the error and a next attempt
    assert outcome == "failed"
    assert not WebhookEvent.objects.filter(event_id="written-by-handler").exists()
    event.refresh_from_db()
    assert "KeyError: 'data.amount'" in event.last_error
    assert event.attempts == 1
    assert timedelta(seconds=50) < event.next_attempt_at - timezone.now() <= timedelta(minutes=1)


def test_a_failed_event_that_succeeds_later_is_processed_and_its_error_cleared(handlers):
    handler = handlers.add("visa", "transaction.auth")
    handler.raises = RuntimeError("flaky")
    event = stored()
    event_process(event_id=event.pk)

    handler.raises = None
    assert event_process(event_id=event.pk) == "processed"

    event.refresh_from_db()
    assert (event.attempts, event.last_error, event.next_attempt_at) == (2, "", None)


def test_backoff_doubles_and_stops_at_the_maximum_attempts(handlers, settings):
    settings.INBOX_MAX_ATTEMPTS = 3
    handlers.add("visa", "transaction.auth").raises = RuntimeError("down")
    event = stored()

    delays = []
    for _ in range(3):
        before = timezone.now()
        event_process(event_id=event.pk)
        event.refresh_from_db()
        delays.append(
            None if event.next_attempt_at is None else round((event.next_attempt_at - before).total_seconds() / 60)
        )

    assert delays == [1, 2, None]  # the third failure is the last automatic attempt
    assert inbox.retry_delay(20) == timedelta(hours=6)


def test_a_visa_event_without_a_handler_fails_visibly_and_a_stripe_one_is_ignored(handlers):
    visa = stored("transaction.clearing", event_id="evt_v")
    stripe = stored("customer.created", source="stripe", event_id="evt_s")

    assert event_process(event_id=visa.pk) == "failed"
    assert event_process(event_id=stripe.pk) == "ignored"
    visa.refresh_from_db()
    assert "No handler" in visa.last_error


def test_an_id_that_does_not_exist_is_missing(handlers):
    assert event_process(event_id=987654321) == "missing"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_one_event_process_it_once(handlers):
    handler = handlers.add("visa", "transaction.auth")
    event = stored(event_id="evt_race")

    outcomes = run_together(lambda _: event_process(event_id=event.pk), threads=10)

    assert outcomes == ["processed"] * 10
    assert handler.calls == [event.pk]
    event.refresh_from_db()
    assert event.attempts == 1
    connection.close()


# --- Retries ----------------------------------------------------------------------------------------


@pytest.fixture
def enqueued(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(tasks.webhook_events_process, "delay", sent.extend)
    return sent


def test_the_sweep_enqueues_due_failures_and_stuck_events_only(
    handlers, settings, enqueued, django_capture_on_commit_callbacks
):
    settings.INBOX_MAX_ATTEMPTS = 5
    now = timezone.now()
    due = stored(event_id="due", status="failed", attempts=2, next_attempt_at=now - timedelta(seconds=1))
    stored(event_id="later", status="failed", attempts=2, next_attempt_at=now + timedelta(minutes=3))
    stored(event_id="exhausted", status="failed", attempts=5, next_attempt_at=None)
    stuck = stored(event_id="stuck", received_at=now - timedelta(minutes=10))
    stored(event_id="fresh", received_at=now - timedelta(seconds=30))
    stored(event_id="done", status="processed", received_at=now - timedelta(hours=1))
    stored(event_id="parked", status="unmatched", received_at=now - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        count = events_retry_due(now=now)

    assert count == 2
    assert sorted(enqueued) == sorted([due.pk, stuck.pk])

    # and the next sweep, a minute later, does not enqueue them again while they wait in the queue
    with django_capture_on_commit_callbacks(execute=True):
        assert events_retry_due(now=now + timedelta(minutes=1)) == 0


def test_the_beat_runs_the_sweep_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["cashback-webhook-events-retry-due"]
    assert entry["task"] == "cashback.tasks.webhook_events_retry_due"
    assert tasks.webhook_events_retry_due.name == entry["task"]


# --- Unmatched events come back when the card or the shop appears -----------------------------------


class KnownTokens:
    """A handler that matches only cards it has been told about (stands in for the card lookup)."""

    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self.processed: list[str] = []

    def __call__(self, event):
        token = event.payload["data"]["card"]["token"]
        if token not in self.tokens:
            raise Unmatched(f"no card with token {token}")
        self.processed.append(event.event_id)


def test_linking_a_card_reprocesses_unmatched_events_within_the_window(
    handlers, settings, django_capture_on_commit_callbacks
):
    # given two events for a card nobody has linked yet, one of them older than the window
    settings.INBOX_UNMATCHED_RETRY_DAYS = 30
    handler = KnownTokens()
    handlers.add("visa", "transaction.auth", handler)
    recent = stored(event_id="evt_recent", received_at=timezone.now() - timedelta(days=2))
    old = stored(event_id="evt_old", received_at=timezone.now() - timedelta(days=31))
    for event in (recent, old):
        assert event_process(event_id=event.pk) == "unmatched"

    # when the card is linked (the accounts app announces card_linked in its transaction)
    handler.tokens.add("ctok_test_0001")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        events.announce("card_linked", user_id=1, card_id=1)

    # then, after commit, the recent event is processed; the old one stays parked
    assert len(callbacks) == 1
    assert handler.processed == ["evt_recent"]
    recent.refresh_from_db()
    old.refresh_from_db()
    assert (recent.status, recent.attempts, recent.unmatched_reason) == ("processed", 2, "")
    assert old.status == "unmatched"


def test_unmatched_retry_returns_how_many_matched(handlers):
    handler = KnownTokens()
    handlers.add("visa", "transaction.auth", handler)
    stored(event_id="a", status="unmatched")
    stored(event_id="b", status="unmatched", payload=visa_event(id="b", data={"card": {"token": "ctok_other"}}))
    stored(event_id="c", status="processed")
    handler.tokens.add("ctok_test_0001")

    assert unmatched_retry() == 1
    assert handler.processed == ["a"]
    assert unmatched_retry(since=timezone.now() - timedelta(days=400)) == 0


def test_registering_a_shop_with_network_ids_reprocesses_unmatched_events(handlers, django_capture_on_commit_callbacks):
    from merchants import services as merchant_services

    # given an event for a shop nobody has registered yet
    class KnownShops:
        shops: set[str] = set()

        def __call__(self, event):
            if event.payload["data"]["location"]["id"] not in self.shops:
                raise Unmatched("unknown shop")

    handler = KnownShops()
    handlers.add("visa", "transaction.auth", handler)
    event = stored()
    event_process(event_id=event.pk)
    merchant = MerchantFactory()
    owner = MembershipFactory(merchant=merchant)

    # when the merchant registers the shop with the network's ids
    handler.shops.add("ST-TEST-1")
    with django_capture_on_commit_callbacks(execute=True):
        merchant_services.location_create(
            merchant=merchant,
            actor=owner.user,
            name="Kaffebrenneriet Aker Brygge",
            street="Stranden 1",
            postcode="0250",
            city="Oslo",
            country="NO",
            network_merchant_id="NM-TEST-1",
            network_store_id="ST-TEST-1",
        )

    # then the event is processed
    event.refresh_from_db()
    assert event.status == "processed"


def test_a_shop_without_network_ids_or_with_unchanged_ids_announces_nothing(
    handlers, django_capture_on_commit_callbacks
):
    from merchants import services as merchant_services

    merchant = MerchantFactory()
    owner = MembershipFactory(merchant=merchant)
    shop = {"name": "Pop-up", "street": "Torget 1", "postcode": "0150", "city": "Oslo", "country": "NO"}
    with django_capture_on_commit_callbacks() as callbacks:
        location = merchant_services.location_create(merchant=merchant, actor=owner.user, **shop)
    assert callbacks == []

    with django_capture_on_commit_callbacks() as callbacks:
        merchant_services.location_update(
            location=location,
            actor=owner.user,
            **{**shop, "name": "Pop-up 2"},
            time_zone=location.time_zone,
            opening_hours={},
            network_merchant_id="",
            network_store_id="",
            latitude=location.latitude,
            longitude=location.longitude,
        )
    assert callbacks == []

    with django_capture_on_commit_callbacks() as callbacks:
        merchant_services.location_update(
            location=location,
            actor=owner.user,
            **shop,
            time_zone=location.time_zone,
            opening_hours={},
            network_merchant_id="NM9",
            network_store_id="S9",
            latitude=location.latitude,
            longitude=location.longitude,
        )
    # the fact is recorded, and its deliveries (one of them re-processes unmatched events) go out after commit
    assert [callback.__qualname__ for callback in callbacks] == ["defer_after_commit.<locals>.after_commit"]
    assert list(Fact.objects.values_list("kind", "payload")) == [
        ("location_registered", {"location_id": location.pk, "merchant_id": merchant.pk})
    ]
