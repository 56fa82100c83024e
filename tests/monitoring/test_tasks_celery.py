"""The every-minute scan through a real Celery worker on Redis: purchases committed by intake are
flagged afterwards by the worker, and running the task twice raises nothing twice."""

import time
import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from cashback.celery import app
from monitoring import tasks
from monitoring.models import FraudFlag
from tests.accounts.factories import CardFactory
from tests.campaigns.factories import MerchantFactory

from .helpers import card_purchase


@pytest.fixture
def private_queue():
    queue = f"test-monitoring-{uuid.uuid4().hex}"
    app.conf.task_always_eager = False
    yield queue
    app.conf.task_always_eager = True


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_scan_task_raises_flags_through_a_real_worker(private_queue, settings):
    settings.MONITORING_RULES = {
        **settings.MONITORING_RULES,
        "velocity": {**settings.MONITORING_RULES["velocity"], "max_purchases": 2},
    }
    card, merchant = CardFactory(), MerchantFactory()
    for n in range(3):
        card_purchase(card=card, merchant=merchant, amount=1_000 + n, at=timezone.now() - timedelta(minutes=10 - n))
    assert not FraudFlag.objects.exists()  # intake raised nothing itself

    with start_worker(app, queues=[private_queue], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        first = tasks.monitoring_scan.apply_async(queue=private_queue)
        second = tasks.monitoring_scan.apply_async(queue=private_queue)
        sweep = tasks.monitoring_sweep.apply_async(queue=private_queue)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (first.ready() and second.ready() and sweep.ready()):
            time.sleep(0.2)

    assert (first.get(timeout=1), second.get(timeout=1), sweep.get(timeout=1)) == (1, 0, 0)
    flag = FraudFlag.objects.get()
    assert (flag.rule, flag.card_id) == ("velocity", card.pk)
