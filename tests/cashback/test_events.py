"""The outbox of facts (cashback/events.py): recorded with the announcer's work, delivered after
commit, each subscriber in its own transaction, retried while it fails, never rolling the announcer back."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cashback import events
from cashback.models import DeliveryStatus, Fact, FactDelivery

seen: list = []
failures: list = []


def first(**facts):
    seen.append(("first", facts))


def second(**facts):
    seen.append(("second", facts))


def subscriber(**facts):
    seen.append(facts)


def with_fact_id(*, fact_id, offer_id, **_):
    seen.append((fact_id, offer_id))


def flaky(**facts):
    """Fails while ``failures`` holds an error, and records a row each time it succeeds."""
    Fact.objects.create(kind="flaky-side-effect", payload=facts)
    if failures:
        raise failures.pop()
    seen.append(facts)


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    seen.clear()
    failures.clear()
    for name in events.FACTS:
        monkeypatch.setitem(events._subscribers, name, [])


@pytest.mark.django_db(transaction=True)
def test_subscribers_receive_the_facts_in_subscription_order():
    events.subscribe("card_linked", first)
    events.subscribe("card_linked", second)

    events.announce("card_linked", user_id=1, card_id=2)

    assert seen == [("first", {"user_id": 1, "card_id": 2}), ("second", {"user_id": 1, "card_id": 2})]


@pytest.mark.django_db(transaction=True)
def test_subscribing_twice_calls_once():
    events.subscribe("offer_live", subscriber)
    events.subscribe("offer_live", subscriber)
    events.announce("offer_live", offer_id=1, merchant_id=2)

    assert seen == [{"offer_id": 1, "merchant_id": 2}]


def test_an_unknown_fact_is_an_error_not_silence():
    with pytest.raises(ValueError, match="Unknown fact"):
        events.announce("reward_earnt", reward_id=1)
    with pytest.raises(ValueError, match="Unknown fact"):
        events.subscribe("reward_earnt", print)


def test_a_subscriber_must_be_importable_by_its_dotted_path():
    with pytest.raises(ValueError, match="module-level"):
        events.subscribe("offer_live", lambda **facts: None)


@pytest.mark.django_db
def test_the_fact_and_its_deliveries_are_recorded_in_the_announcers_transaction_and_run_after_commit(
    django_capture_on_commit_callbacks,
):
    events.subscribe("offer_live", subscriber)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.announce("offer_live", offer_id=7, merchant_id=3)

    fact = Fact.objects.get(kind="offer_live")
    assert fact.payload == {"offer_id": 7, "merchant_id": 3}
    delivery = FactDelivery.objects.get(fact=fact)
    assert (delivery.subscriber, delivery.status) == ("tests.cashback.test_events.subscriber", DeliveryStatus.PENDING)
    assert seen == []  # nothing ran inside the announcer's transaction
    for callback in callbacks:
        callback()
    delivery.refresh_from_db()
    assert seen == [{"offer_id": 7, "merchant_id": 3}]
    assert delivery.status == DeliveryStatus.DONE and delivery.done_at is not None


@pytest.mark.django_db
def test_a_rolled_back_announcer_leaves_no_fact_and_runs_nothing(django_capture_on_commit_callbacks):
    events.subscribe("offer_live", subscriber)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        events.announce("offer_live", offer_id=7, merchant_id=3)
        raise RuntimeError("the announcer failed")

    assert not Fact.objects.exists()
    assert seen == []


@pytest.mark.django_db(transaction=True)
def test_a_subscriber_may_ask_for_the_fact_id():
    events.subscribe("offer_live", with_fact_id)

    events.announce("offer_live", offer_id=7, merchant_id=3)

    assert seen == [(Fact.objects.get(kind="offer_live").pk, 7)]


@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_is_recorded_retried_with_backoff_and_later_succeeds():
    events.subscribe("offer_live", flaky)
    failures.append(RuntimeError("referrals is down"))

    events.announce("offer_live", offer_id=7, merchant_id=3)

    # the announcer committed; the delivery failed, its partial work rolled back, a retry scheduled
    delivery = FactDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert "referrals is down" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()
    assert Fact.objects.filter(kind="flaky-side-effect").count() == 0
    assert seen == []

    # the sweep leaves it alone until its time has come, then delivers it
    assert events.deliveries_due() == 0
    assert events.deliveries_due(now=delivery.next_attempt_at + timedelta(seconds=1)) == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE
    assert delivery.attempts == 2
    assert seen == [{"offer_id": 7, "merchant_id": 3}]
    assert Fact.objects.filter(kind="flaky-side-effect").count() == 1


@pytest.mark.django_db(transaction=True)
def test_running_a_delivery_twice_changes_nothing():
    events.subscribe("offer_live", flaky)
    events.announce("offer_live", offer_id=7, merchant_id=3)
    delivery = FactDelivery.objects.get()

    assert events.delivery_run(delivery_id=delivery.pk) == DeliveryStatus.DONE
    assert events.delivery_run(delivery_id=delivery.pk) == DeliveryStatus.DONE

    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert seen == [{"offer_id": 7, "merchant_id": 3}]
    assert Fact.objects.filter(kind="flaky-side-effect").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_pending_delivery_whose_task_was_lost_is_picked_up_by_the_sweep(settings):
    events.subscribe("offer_live", subscriber)
    with transaction.atomic():
        record = Fact.objects.create(kind="offer_live", payload={"offer_id": 1, "merchant_id": 2})
        delivery = FactDelivery.objects.create(fact=record, subscriber="tests.cashback.test_events.subscriber")

    assert events.deliveries_due() == 0  # young: its own task may still be on the way
    later = timezone.now() + timedelta(seconds=settings.FACTS_STALE_PENDING_SECONDS + 1)
    assert events.deliveries_due(now=later) == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE
    assert seen == [{"offer_id": 1, "merchant_id": 2}]


@pytest.mark.django_db(transaction=True)
def test_a_delivery_to_a_subscriber_that_is_not_registered_fails_clearly():
    record = Fact.objects.create(kind="offer_live", payload={"offer_id": 1, "merchant_id": 2})
    delivery = FactDelivery.objects.create(fact=record, subscriber="tests.cashback.test_events.subscriber")

    assert events.delivery_run(delivery_id=delivery.pk) == DeliveryStatus.FAILED

    delivery.refresh_from_db()
    assert "is not subscribed to 'offer_live'" in delivery.last_error
    assert seen == []


@pytest.mark.django_db(transaction=True)
def test_after_the_last_attempt_a_failed_delivery_waits_for_staff(settings):
    settings.FACTS_MAX_ATTEMPTS = 1
    events.subscribe("offer_live", flaky)
    failures.append(RuntimeError("still down"))

    events.announce("offer_live", offer_id=7, merchant_id=3)

    delivery = FactDelivery.objects.get()
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.FAILED, None)
    assert events.deliveries_due(now=timezone.now() + timedelta(days=1)) == 0
    assert events.delivery_retry(delivery=delivery) == DeliveryStatus.DONE
