"""Facts → notifications → each enabled channel; delivery once, retried, failed; providers down."""

from datetime import time

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Device
from cashback import events
from cashback.providers.push import FakePushClient
from cashback.providers.sms import FakeSmsClient
from notifications import services
from notifications.facts import on_reward_earned
from notifications.models import Delivery, DeliveryStatus, Notification, Preference
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

KIND_FACTS = {
    "reward_earned": ("reward_earned", {"reward_id": 1, "purchase_id": 1, "amount_minor": 1250, "currency": "NOK"}),
    "reward_available": (
        "reward_available",
        {"reward_id": 1, "purchase_id": 1, "amount_minor": 1250, "currency": "NOK"},
    ),
    "reward_reversed": ("reward_reversed", {"reward_id": 1, "purchase_id": 1, "amount_minor": 1250, "currency": "NOK"}),
    "cashback_spent": (
        "cashback_spent",
        {"journal_id": 9, "amount_minor": 5000, "currency": "NOK", "merchant_name": "Kaffebar"},
    ),
    "donation_receipt": (
        "donation_made",
        {"journal_id": 8, "charity_id": 1, "charity_name": "Red Cross", "amount_minor": 2000, "currency": "NOK"},
    ),
    "challenge_progress": (
        "challenge_progress",
        {"challenge_id": 3, "challenge_title": "Five coffees", "stage": "half_way", "percent": 60},
    ),
    "tier_changed": ("tier_changed", {"tier_id": 2, "tier_name": "Gold", "previous_name": "Silver"}),
}


def _person():
    user = UserFactory(email="ada@example.com", phone="+4791234567")
    Device.objects.create(user=user, token="tok-android-1", platform="android")
    return user


@pytest.mark.parametrize("kind", sorted(KIND_FACTS))
def test_each_kind_goes_from_its_fact_to_every_enabled_channel_and_not_to_a_disabled_one(kind):
    user = _person()
    Preference.objects.create(user=user, kind=kind, channel="sms", enabled=True)
    Preference.objects.create(user=user, kind=kind, channel="email", enabled=False)
    fact, payload = KIND_FACTS[kind]

    events.announce(fact, user_id=user.pk, **payload)

    notification = Notification.objects.get(user=user, kind=kind)
    assert notification.title and notification.in_inbox
    sent = dict(Delivery.objects.filter(notification=notification).values_list("channel", "status"))
    assert sent == {"sms": DeliveryStatus.SENT, "push": DeliveryStatus.SENT}
    assert len(FakeSmsClient.outbox) == 1 and FakeSmsClient.outbox[0].to == "+4791234567"
    assert [m.token for m in FakePushClient.outbox] == ["tok-android-1"]
    assert FakePushClient.outbox[0].data["kind"] == kind
    assert mail.outbox == []


def test_money_amounts_are_written_exactly_in_every_channel():
    user = _person()

    events.announce("reward_earned", user_id=user.pk, reward_id=1, purchase_id=1, amount_minor=1250, currency="NOK")

    assert "NOK\u00a012.50" in Notification.objects.get(user=user).title
    assert "NOK\u00a012.50" in mail.outbox[0].subject
    assert "NOK\u00a012.50" in FakePushClient.outbox[0].title


def test_a_fact_delivered_twice_tells_the_person_once():
    user = _person()
    events.announce("reward_earned", user_id=user.pk, reward_id=1, purchase_id=1, amount_minor=100, currency="NOK")
    fact = events.Fact.objects.get(kind="reward_earned")

    on_reward_earned(fact_id=fact.pk, **fact.payload)  # a delivery that runs again

    assert Notification.objects.filter(user=user).count() == 1
    assert len(FakePushClient.outbox) == 1


def test_a_temporary_provider_error_is_retried_and_a_permanent_one_recorded_failed(settings):
    settings.NOTIFICATIONS_CHANNEL_MAX_ATTEMPTS = 2
    user = _person()
    FakePushClient.down = True

    notification = services.notification_send(user=user, kind="reward_available", context={"amount": "1.00 NOK"})

    push = Delivery.objects.get(notification=notification, channel="push")
    assert push.status == DeliveryStatus.PENDING and push.attempts == 1 and push.next_attempt_at is not None
    FakePushClient.down = False
    assert services.delivery_attempt(delivery_id=push.pk, now=push.next_attempt_at).status == DeliveryStatus.SENT
    assert services.delivery_attempt(delivery_id=push.pk).status == DeliveryStatus.SENT  # once
    assert len(FakePushClient.outbox) == 1

    FakePushClient.down = True
    again = services.notification_send(user=user, kind="reward_available", context={"amount": "2.00 NOK"})
    push = Delivery.objects.get(notification=again, channel="push")
    services.delivery_attempt(delivery_id=push.pk, now=push.next_attempt_at)
    push.refresh_from_db()
    assert push.status == DeliveryStatus.FAILED and "down" in push.last_error


def test_a_dead_token_is_forgotten():
    user = _person()
    Device.objects.create(user=user, token="tok-ios-dead", platform="ios")
    FakePushClient.dead_tokens.add("tok-ios-dead")

    services.notification_send(user=user, kind="reward_available", context={"amount": "1.00 NOK"})

    assert list(Device.objects.filter(user=user).values_list("token", flat=True)) == ["tok-android-1"]


def test_push_and_sms_wait_for_the_end_of_quiet_hours():
    user = _person()
    Preference.objects.create(user=user, kind="reward_available", channel="sms", enabled=True)
    now = timezone.localtime()
    start = (now - timezone.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timezone.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    services.quiet_hours_set(user=user, start=start, end=end)

    notification = services.notification_send(user=user, kind="reward_available", context={"amount": "1.00 NOK"})

    statuses = dict(Delivery.objects.filter(notification=notification).values_list("channel", "status"))
    assert statuses == {"email": "sent", "push": "pending", "sms": "pending"}
    assert FakePushClient.outbox == [] and FakeSmsClient.outbox == []


def test_marketing_goes_nowhere_without_consent():
    user = _person()

    notification = services.notification_send(user=user, kind="announcement", context={"title": "Hi", "body": "News"})

    assert not notification.in_inbox
    assert not Delivery.objects.filter(notification=notification).exists()


def test_quiet_hours_spanning_midnight():
    from notifications.selectors import in_quiet_hours

    at = timezone.make_aware(timezone.datetime(2026, 12, 5, 23, 30))
    assert in_quiet_hours(start=time(22), end=time(7), at=at) is not None
    assert in_quiet_hours(start=time(22), end=time(7), at=at.replace(hour=12)) is None


# Kinds told by a direct call in the service that causes them (in its transaction; delivery after commit).
DIRECT_KINDS = {
    "payout_paid": {"amount": "250.00 NOK"},
    "payout_failed": {"amount": "250.00 NOK"},
    "statement_ready": {"period": "November 2026 (NOK)"},
    "reward_expiry_warning": {"amount": "40.00 NOK", "expires_on": "1 January 2027"},
    "referral_bonus": {"amount": "50.00 NOK"},
}


@pytest.mark.parametrize("kind", sorted(DIRECT_KINDS))
def test_each_directly_told_kind_goes_to_its_enabled_channels_in_its_own_words(kind):
    user = _person()
    Preference.objects.create(user=user, kind=kind, channel="push", enabled=False)
    Preference.objects.create(user=user, kind=kind, channel="sms", enabled=True)

    notification = services.notification_send(user=user, kind=kind, context=DIRECT_KINDS[kind])

    sent = dict(Delivery.objects.filter(notification=notification).values_list("channel", "status"))
    assert sent == {"email": DeliveryStatus.SENT, "sms": DeliveryStatus.SENT}
    assert FakePushClient.outbox == []
    value = next(iter(DIRECT_KINDS[kind].values()))
    assert value in mail.outbox[0].subject + mail.outbox[0].body
    assert value in FakeSmsClient.outbox[0].body


def test_a_nearby_offer_goes_to_push_only_by_default():
    user = _person()

    notification = services.notification_send(
        user=user, kind="nearby_offer", context={"merchant": "Kaffebar", "shop": "Grünerløkka", "offer": "10 %"}
    )

    assert not notification.in_inbox
    assert [m.title for m in FakePushClient.outbox] == ["Kaffebar is near you"]
    assert mail.outbox == [] and FakeSmsClient.outbox == []


def test_an_announcement_reaches_a_consenting_person_on_their_channels():
    from accounts.services import marketing_consent_set

    user = _person()
    marketing_consent_set(user=user, granted=True)
    Preference.objects.create(user=user, kind="announcement", channel="email", enabled=False)

    notification = services.notification_send(user=user, kind="announcement", context={"title": "Hi", "body": "News"})

    assert notification.in_inbox and notification.title == "Hi"
    assert [m.title for m in FakePushClient.outbox] == ["Hi"] and mail.outbox == []
