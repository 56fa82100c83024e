"""Delivery seen from outside: a provider down leaves the money operation whole; a real worker delivers."""

import smtplib
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.mail.backends.base import BaseEmailBackend

from accounts.models import Device
from cashback.celery import app
from cashback.providers.push import FakePushClient
from cashback.providers.sms import FakeSmsClient
from notifications.models import Delivery, DeliveryStatus, Notification
from notifications.tasks import notification_deliver
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantFactory
from tests.wallet.factories import fund
from wallet import spending
from wallet.models import AccountKind, LedgerAccount
from wallet.services import account_get_or_create


class SmtpDownBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("mail server down")


@pytest.mark.django_db(transaction=True)
def test_every_provider_down_leaves_the_checkout_and_its_money_intact(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery_outside.SmtpDownBackend"
    FakePushClient.down = True
    FakeSmsClient.down = True
    user = UserFactory(email="ada@example.com", phone="+4791234567")
    Device.objects.create(user=user, token="tok-1", platform="ios")
    fund(account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK"), 30000)
    merchant = MerchantFactory(currency="NOK")
    code = spending.spend_code_issue(user=user, currency="NOK")
    spend = spending.spend_hold_place(merchant=merchant, code=code.code, amount_minor=10000, currency="NOK")

    journal = spending.spend_hold_capture(merchant=merchant, hold_id=spend.hold_id)

    assert journal.pk is not None
    available = LedgerAccount.objects.get(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK")
    assert available.available == 20000
    notification = Notification.objects.get(user=user, kind="cashback_spent")
    assert "NOK\u00a0100.00" in notification.title
    deliveries = Delivery.objects.filter(notification=notification)
    assert {d.channel for d in deliveries} == {"email", "push"}
    assert all(d.status == DeliveryStatus.PENDING and d.last_error and d.next_attempt_at for d in deliveries)


@pytest.fixture
def real_broker():
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_push(real_broker):
    user = UserFactory()
    Device.objects.create(user=user, token="tok-worker", platform="android")
    notification = Notification.objects.create(user=user, kind="reward_available", title="1.00 NOK is available")
    delivery = Delivery.objects.create(notification=notification, channel="push")
    queue = f"test-{uuid.uuid4().hex}"
    assert app.conf.broker_url.startswith("redis://")

    with start_worker(app, queues=[queue], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        notification_deliver.apply_async(args=[delivery.pk], queue=queue, ignore_result=False).get(timeout=20)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    assert [m.token for m in FakePushClient.outbox] == ["tok-worker"]
