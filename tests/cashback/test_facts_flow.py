"""Facts after commit through the real flow: a failing subscriber of ``reward_available`` (auto-donate)
neither rolls back nor blocks the reward's maturity; it is retried and then gives exactly once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Reward
from campaigns.services import rewards_mature_due
from cashback import events
from cashback.models import DeliveryStatus, FactDelivery
from charity import selectors
from charity import services as charity_services
from charity.services import donations as charity_donations
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event, fund_merchant
from tests.charity.factories import CharityFactory
from wallet.invariants import ledger_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

AUTO_DONATE = "charity.services.donations.auto_donate_on_reward_available"


def test_a_failing_subscriber_does_not_roll_back_maturity_and_succeeds_on_retry(monkeypatch):
    # given a consumer who gives 25 % of every reward, and a purchase whose cashback is due to mature
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    fund_merchant(offer.merchant, 1_000_000)
    charity = CharityFactory(costs={"NOK": 80_000})
    user = UserFactory()
    charity_services.auto_donate_set(user=user, charity_id=charity.pk, share_percent=25)
    event(user=user, merchant=offer.merchant, kind="auth", amount=20_050, txn="t1")
    event(user=user, merchant=offer.merchant, kind="clearing", amount=20_050, txn="t1")

    # when the reward matures while auto-donate is broken
    def broken(*args, **kwargs):
        raise RuntimeError("charity is broken")

    # share_of is looked up in the module that defines the subscriber (charity/services is a package)
    monkeypatch.setattr(charity_donations, "share_of", broken)
    assert rewards_mature_due(now=timezone.now() + timedelta(days=15)) == 1

    # then the maturity committed: the reward is available and the consumer has all of it
    reward = Reward.objects.get(user=user)
    assert reward.status == Reward.Status.AVAILABLE
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 2_005
    delivery = FactDelivery.objects.get(subscriber=AUTO_DONATE)
    assert delivery.status == DeliveryStatus.FAILED
    assert "charity is broken" in delivery.last_error
    assert delivery.next_attempt_at is not None
    # and the beat task does not fail forever: a replay finds nothing new to mature
    assert rewards_mature_due(now=timezone.now() + timedelta(days=15)) == 0

    # when auto-donate works again and the sweep's time has come
    monkeypatch.undo()
    assert events.deliveries_due(now=delivery.next_attempt_at + timedelta(seconds=1)) >= 1

    # then the share is given once, and running the delivery again changes nothing
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DONE, 2)
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 2_005 - 501
    assert events.delivery_run(delivery_id=delivery.pk) == DeliveryStatus.DONE
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 2_005 - 501
    assert ledger_violations() == []


def worker_subscriber(**facts):
    events_seen.append(facts)


events_seen: list = []


@pytest.mark.redis
def test_a_real_worker_on_redis_delivers_a_fact_after_commit(monkeypatch):
    import time
    import uuid

    from celery.contrib.testing.worker import start_worker

    from cashback import tasks
    from cashback.celery import app

    # given a subscriber, and a worker consuming a queue of its own on the real broker
    monkeypatch.setitem(events._subscribers, "offer_live", [])
    events.subscribe("offer_live", worker_subscriber)
    events_seen.clear()
    queue = f"test-{uuid.uuid4().hex}"
    deliver = tasks.fact_deliver
    monkeypatch.setattr(deliver, "delay", lambda delivery_id: deliver.apply_async((delivery_id,), queue=queue))
    assert app.conf.broker_url.startswith("redis://")

    app.conf.task_always_eager = False  # through the broker, for this test only
    try:
        with start_worker(app, queues=[queue], perform_ping_check=False, pool="solo", loglevel="WARNING"):
            # when a fact is announced (the announcer's transaction commits at once here)
            events.announce("offer_live", offer_id=11, merchant_id=12)
            delivery = FactDelivery.objects.get(fact__kind="offer_live")
            deadline = time.monotonic() + 20
            while delivery.status != DeliveryStatus.DONE and time.monotonic() < deadline:
                time.sleep(0.1)
                delivery.refresh_from_db()
    finally:
        app.conf.task_always_eager = True

    # then the worker ran the subscriber and marked the delivery done
    assert delivery.status == DeliveryStatus.DONE
    assert events_seen == [{"offer_id": 11, "merchant_id": 12}]
