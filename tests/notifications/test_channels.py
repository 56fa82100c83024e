"""Facts → notifications → each enabled channel; delivery once, retried, failed; providers down."""

import inspect
from datetime import time

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import Device
from cashback import events
from cashback.providers.push import FakePushClient
from cashback.providers.sms import FakeSmsClient
from notifications import services
from notifications.facts import on_reward_earned
from notifications.kinds import KINDS
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
    "payout_paid": (
        "payout_settled",
        {"payout_id": 4, "outcome": "paid", "amount_minor": 25000, "currency": "NOK", "reason": ""},
    ),
    "payout_failed": (
        "payout_settled",
        {"payout_id": 4, "outcome": "failed", "amount_minor": 25000, "currency": "NOK", "reason": "Bank refused"},
    ),
    "statement_ready": (
        "statement_published",
        {
            "statement_id": 5,
            "period": "2026-11",
            "period_label": "November 2026",
            "currency": "NOK",
            "opening_minor": 1000,
            "closing_minor": 4550,
        },
    ),
    "reward_expiry_warning": (
        "cashback_expiring",
        {"entry_id": 6, "amount_minor": 4000, "currency": "NOK", "expires_on": "2027-01-01"},
    ),
    "referral_bonus": (
        "referral_bonus_paid",
        {"key": "referral:7:friend", "journal_id": 8, "amount_minor": 5000, "currency": "NOK", "memo": "Welcome"},
    ),
}
# What each kind's words must show, from its fact (money exactly, from minor units).
KIND_WORDS = {
    "payout_paid": "NOK\u00a0250.00",
    "payout_failed": "NOK\u00a0250.00",
    "statement_ready": "November 2026 (NOK)",
    "reward_expiry_warning": "NOK\u00a040.00",
    "referral_bonus": "NOK\u00a050.00",
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

    notification = services.notification_send(user=user, kind="reward_available", context={"amount": "NOK\u00a01.00"})

    push = Delivery.objects.get(notification=notification, channel="push")
    assert push.status == DeliveryStatus.PENDING and push.attempts == 1 and push.next_attempt_at is not None
    FakePushClient.down = False
    assert services.delivery_attempt(delivery_id=push.pk, now=push.next_attempt_at).status == DeliveryStatus.SENT
    assert services.delivery_attempt(delivery_id=push.pk).status == DeliveryStatus.SENT  # once
    assert len(FakePushClient.outbox) == 1

    FakePushClient.down = True
    again = services.notification_send(user=user, kind="reward_available", context={"amount": "NOK\u00a02.00"})
    push = Delivery.objects.get(notification=again, channel="push")
    services.delivery_attempt(delivery_id=push.pk, now=push.next_attempt_at)
    push.refresh_from_db()
    assert push.status == DeliveryStatus.FAILED and "down" in push.last_error


def test_a_dead_token_is_forgotten():
    user = _person()
    Device.objects.create(user=user, token="tok-ios-dead", platform="ios")
    FakePushClient.dead_tokens.add("tok-ios-dead")

    services.notification_send(user=user, kind="reward_available", context={"amount": "NOK\u00a01.00"})

    assert list(Device.objects.filter(user=user).values_list("token", flat=True)) == ["tok-android-1"]


def test_push_and_sms_wait_for_the_end_of_quiet_hours():
    user = _person()
    Preference.objects.create(user=user, kind="reward_available", channel="sms", enabled=True)
    now = timezone.localtime()
    start = (now - timezone.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timezone.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    services.quiet_hours_set(user=user, start=start, end=end)

    notification = services.notification_send(user=user, kind="reward_available", context={"amount": "NOK\u00a01.00"})

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


def test_every_kind_but_nearby_offers_and_announcements_comes_from_a_fact():
    # Nearby offers come from a geofence report, announcements from staff; every other kind is told
    # by a fact the domain announces (cashback.events), never by a direct call.
    assert set(KINDS) - set(KIND_FACTS) == {"nearby_offer", "announcement"}
    for kind, (fact, _) in KIND_FACTS.items():
        assert fact in events.FACTS, kind


@pytest.mark.parametrize("kind", sorted(KIND_FACTS))
def test_each_kind_told_twice_by_a_replayed_fact_sends_nothing_twice(kind):
    user = _person()
    fact_name, payload = KIND_FACTS[kind]
    events.announce(fact_name, user_id=user.pk, **payload)
    fact = events.Fact.objects.get(kind=fact_name)
    sent = (len(FakePushClient.outbox), len(mail.outbox))
    deliveries = Delivery.objects.filter(notification__user=user).count()
    assert sent[0] == 1 and deliveries >= 1

    for delivery in fact.deliveries.all():  # each subscriber runs again, as after a lost acknowledgement
        subscriber = import_string(delivery.subscriber)
        extra = {"fact_id": fact.pk} if "fact_id" in inspect.signature(subscriber).parameters else {}
        subscriber(**fact.payload, **extra)

    assert Notification.objects.filter(user=user, kind=kind).count() == 1
    assert Delivery.objects.filter(notification__user=user).count() == deliveries
    assert (len(FakePushClient.outbox), len(mail.outbox)) == sent


@pytest.mark.parametrize("kind", sorted(KIND_WORDS))
def test_each_money_kind_is_written_in_its_own_words_on_every_channel(kind):
    user = _person()
    Preference.objects.create(user=user, kind=kind, channel="sms", enabled=True)
    fact_name, payload = KIND_FACTS[kind]

    events.announce(fact_name, user_id=user.pk, **payload)

    words = KIND_WORDS[kind]
    assert words in Notification.objects.get(user=user, kind=kind).title
    assert words in mail.outbox[0].subject + mail.outbox[0].body
    assert words in FakeSmsClient.outbox[0].body
    assert words in FakePushClient.outbox[0].title + FakePushClient.outbox[0].body


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
