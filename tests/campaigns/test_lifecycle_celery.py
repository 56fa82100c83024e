"""From the card network's POST to a posted reward, through a real Celery worker on Redis."""

import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from campaigns import tasks as campaign_tasks
from campaigns.models import Purchase, Reward
from cashback import tasks as cashback_tasks
from cashback.celery import app
from cashback.models import WebhookEvent
from tests.accounts.factories import CardFactory
from tests.campaigns.factories import LocationFactory, OfferFactory
from tests.campaigns.lifecycle_helpers import consumer_balances
from tests.webhooks import VISA_SECRET, post_visa, visa_event
from wallet.models import JournalTransaction


@pytest.fixture
def private_queue(monkeypatch):
    """Send the inbox's and campaigns' tasks through Redis to a queue only this test's worker reads."""
    queue = f"test-lifecycle-{uuid.uuid4().hex}"
    app.conf.task_always_eager = False
    for task in (cashback_tasks.webhook_events_process, campaign_tasks.tier_recompute_for_user):
        monkeypatch.setattr(task, "delay", lambda *args, _task=task: _task.apply_async(args, queue=queue))
    yield queue
    app.conf.task_always_eager = True


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_signed_visa_post_becomes_a_posted_reward_through_a_real_worker(private_queue, settings):
    settings.VISA_WEBHOOK_SECRET = VISA_SECRET
    offer = OfferFactory(percent=Decimal("10"))
    location = LocationFactory(merchant=offer.merchant)
    card = CardFactory()
    payload = visa_event(
        "transaction.clearing",
        id=f"evt_{uuid.uuid4().hex}",
        data={
            "id": "txn_worker",
            "amount": "249.00",
            "datetime": (timezone.now() - timedelta(minutes=1)).isoformat(),
            "card": {"token": card.network_token, "firstNumbers": card.first_six, "lastNumbers": card.last_four},
            "merchant": {"id": location.network_merchant_id, "name": "Shop"},
            "location": {"id": location.network_store_id, "postcode": "0150", "countryCode": "NOR"},
        },
    )

    with start_worker(app, queues=[private_queue], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        response = post_visa(payload)
        assert response.status_code in (200, 202)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not Reward.objects.exists():
            time.sleep(0.2)
        duplicate = post_visa(payload)  # a redelivery: acknowledged, changes nothing
        time.sleep(1)

    assert duplicate.status_code in (200, 202)
    assert WebhookEvent.objects.get().status == "processed"
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount_minor, purchase.user_id) == ("cleared", 24_900, card.user_id)
    assert Reward.objects.get().amount_minor == 2_490
    assert JournalTransaction.objects.filter(kind="reward_earn").count() == 1
    assert consumer_balances(card.user)["pending"] == 2_490
