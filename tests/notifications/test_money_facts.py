"""Money kinds told through facts, from the services that own them: a payout settled, a statement
published, a referral bonus paid. The owner announces in its transaction; notifications tells the
person after commit, once per fact, and a provider being down never touches the money."""

import pytest
from django.core import mail

from accounts.models import Device
from cashback.models import Fact, FactDelivery
from cashback.providers.push import FakePushClient
from cashback.providers.sms import FakeSmsClient
from notifications.kinds import money_text
from notifications.models import Delivery, DeliveryStatus, Notification, Preference
from referrals.services.bonuses import bonus_pay
from tests.wallet.payout_support import available, ledger_keys, ready_consumer
from tests.wallet.test_statements import _history as history_of_a_year
from wallet import payouts
from wallet.models import PayoutStatus
from wallet.statements import Period, statement_publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def payout_settings(settings, fake_stripe):
    settings.STRIPE_PROVIDER = "fake"
    settings.PAYOUT_MINIMUM_MINOR = 10000
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 100000


def _consumer(**fields):
    user = ready_consumer(email="ada@example.com", phone="+4791234567", **fields)
    Device.objects.create(user=user, token=f"tok-{user.pk}", platform="android")
    return user


def _paid_out(user, amount=15000):
    payout = payouts.payout_request(user=user, amount_minor=amount, currency="NOK")  # processed after commit
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PROCESSING, payout.status
    return payout


def _channels(notification):
    return dict(Delivery.objects.filter(notification=notification).values_list("channel", "status"))


def test_a_paid_payout_tells_the_person_once_on_each_enabled_channel_and_not_on_a_disabled_one():
    user = _consumer()
    Preference.objects.create(user=user, kind="payout_paid", channel="email", enabled=False)
    Preference.objects.create(user=user, kind="payout_paid", channel="sms", enabled=True)
    payout = _paid_out(user)

    payouts.payout_mark_paid(payout_id=payout.pk)
    payouts.payout_mark_paid(payout_id=payout.pk)  # Stripe's event again

    (fact,) = Fact.objects.filter(kind="payout_settled")
    assert fact.payload == {
        "user_id": user.pk,
        "payout_id": payout.pk,
        "outcome": "paid",
        "amount_minor": 15000,
        "currency": "NOK",
        "reason": "",
    }
    notification = Notification.objects.get(user=user, kind="payout_paid")
    assert "NOK\u00a0150.00" in notification.title and notification.url == "/wallet/payouts/"
    assert _channels(notification) == {"push": DeliveryStatus.SENT, "sms": DeliveryStatus.SENT}
    assert len(FakePushClient.outbox) == 1 and len(FakeSmsClient.outbox) == 1 and mail.outbox == []


def test_a_failed_payout_tells_why_and_a_paid_one_that_bounces_is_told_again_as_failed():
    user = _consumer()
    payout = _paid_out(user)
    payouts.payout_mark_paid(payout_id=payout.pk)

    payouts.payout_mark_failed(
        payout_id=payout.pk, code="account_closed", message="Bank refused", reverse_transfer=False
    )
    payouts.payout_mark_failed(
        payout_id=payout.pk, code="account_closed", message="Bank refused", reverse_transfer=False
    )

    assert sorted(f.payload["outcome"] for f in Fact.objects.filter(kind="payout_settled")) == ["failed", "paid"]
    failed = Notification.objects.get(user=user, kind="payout_failed")
    assert "NOK\u00a0150.00" in failed.title and "Bank refused" in failed.body
    assert Notification.objects.filter(user=user).count() == 2
    assert available(user) == 50000  # the money came back once


def test_every_provider_down_leaves_the_payout_paid_and_its_ledger_whole(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery_outside.SmtpDownBackend"
    user = _consumer()
    payout = _paid_out(user)
    FakePushClient.down = True
    FakeSmsClient.down = True
    Preference.objects.create(user=user, kind="payout_paid", channel="sms", enabled=True)

    payouts.payout_mark_paid(payout_id=payout.pk)

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert ledger_keys(payout) == [f"payout:{payout.pk}:paid", f"payout:{payout.pk}:request"]
    assert FactDelivery.objects.get(fact__kind="payout_settled").status == "done"
    notification = Notification.objects.get(user=user, kind="payout_paid")
    deliveries = Delivery.objects.filter(notification=notification)
    assert {d.channel for d in deliveries} == {"email", "sms", "push"}
    assert all(d.status == DeliveryStatus.PENDING and d.last_error and d.next_attempt_at for d in deliveries)


def test_a_published_statement_is_told_once_however_often_it_is_published():
    user = _consumer(balance=0)
    history_of_a_year(user)
    period = Period.parse("2025-09")

    statement = statement_publish(user_id=user.pk, period=period, currency="NOK")
    statement_publish(user_id=user.pk, period=period, currency="NOK")  # the monthly task run twice

    assert Fact.objects.filter(kind="statement_published").count() == 1
    (notification,) = Notification.objects.filter(user=user, kind="statement_ready")
    assert "September 2025 (NOK)" in notification.title
    assert f"closing balance {money_text(statement.closing_minor, 'NOK')}." in notification.body
    assert "month=2025-09" in notification.url and "currency=NOK" in notification.url
    assert set(_channels(notification)) == {"email", "push"}


def test_a_referral_bonus_is_told_once_and_a_replayed_payment_posts_and_tells_nothing_more():
    user = _consumer(balance=0)
    pay = {"key": "referral:41:friend", "user": user, "amount_minor": 5000, "currency": "NOK", "causes": {}}

    bonus_pay(**pay, memo="Welcome bonus: you joined through a friend's invitation")
    bonus_pay(**pay, memo="Welcome bonus: you joined through a friend's invitation")

    assert available(user) == 5000
    (fact,) = Fact.objects.filter(kind="referral_bonus_paid")
    assert fact.once_key == "referral:41:friend"
    (notification,) = Notification.objects.filter(user=user, kind="referral_bonus")
    assert "NOK\u00a050.00" in notification.title and notification.body.startswith("Welcome bonus")
    assert len(FakePushClient.outbox) == 1 and len(mail.outbox) == 1
