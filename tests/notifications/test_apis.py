import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Device
from notifications.models import Notification, Preference
from notifications.services import notification_send
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return UserFactory()


@pytest.fixture
def api(person):
    client = APIClient()
    client.force_authenticate(person)
    return client


def test_devices_register_refresh_and_remove(api, person):
    url = reverse("api-devices")
    assert api.post(url, {"token": "t1", "platform": "ios", "app_version": "1.2"}, format="json").status_code == 201
    assert api.post(url, {"token": "t1", "platform": "ios", "app_version": "1.3"}, format="json").status_code == 201
    assert list(Device.objects.values_list("user", "app_version")) == [(person.pk, "1.3")]
    assert api.delete(url, {"token": "t1"}, format="json").status_code == 204
    assert not Device.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"token": "", "platform": "ios"},
        {"token": "x" * 5000, "platform": "android"},
        {"token": "t", "platform": "nokia"},
    ],
)
def test_a_bad_device_is_400_in_the_error_format(api, body):
    response = api.post(reverse("api-devices"), body, format="json")
    assert response.status_code == 400
    assert "error" in response.json() and response.json()["error"]["code"]


def test_inbox_lists_paginated_with_the_unread_count_and_marks_read(api, person):
    first = notification_send(user=person, kind="test", title="One")
    notification_send(user=person, kind="test", title="Two")

    listing = api.get(reverse("api-notifications")).json()
    assert listing["unread_count"] == 2 and [n["title"] for n in listing["results"]] == ["Two", "One"]

    one = api.post(reverse("api-notification-read", args=[first.pk])).json()
    assert one == {"marked": 1, "unread_count": 1}
    assert api.post(reverse("api-notifications-read"), {"all": True}, format="json").json()["unread_count"] == 0
    assert api.post(reverse("api-notifications-read"), {}, format="json").status_code == 400


def test_another_persons_message_cannot_be_marked(api):
    other = notification_send(user=UserFactory(), kind="test", title="Theirs")
    assert api.post(reverse("api-notification-read", args=[other.pk])).json()["marked"] == 0
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_preferences_have_defaults_and_are_saved(api, person):
    url = reverse("api-notification-preferences")
    current = api.get(url).json()
    earned = next(row for row in current["kinds"] if row["kind"] == "reward_earned")
    assert earned["channels"] == {"inbox": True, "email": True, "sms": False, "push": True}
    announcement = next(row for row in current["kinds"] if row["kind"] == "announcement")
    assert current["marketing_consent"] is False and announcement["group"] == "marketing"

    saved = api.put(
        url,
        {
            "kinds": {"reward_earned": {"sms": True, "email": False}},
            "quiet_hours": {"start": "22:00", "end": "07:00"},
            "marketing_consent": True,
            "location_consent": True,
        },
        format="json",
    ).json()

    assert saved["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert saved["marketing_consent"] and saved["location_consent"]
    assert set(Preference.objects.filter(user=person).values_list("channel", "enabled")) == {
        ("sms", True),
        ("email", False),
    }


@pytest.mark.parametrize(
    "body",
    [
        {"kinds": {"bogus": {"email": True}}},
        {"kinds": {"reward_earned": {"pigeon": True}}},
        {"kinds": {"reward_earned": {"email": "yes"}}},
        {"quiet_hours": {"start": "25:00", "end": "07:00"}},
        {"quiet_hours": {"start": "07:00", "end": "07:00"}},
    ],
)
def test_bad_preferences_are_400_and_change_nothing(api, person, body):
    response = api.put(reverse("api-notification-preferences"), body, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"]
    assert not Preference.objects.filter(user=person).exists()


def test_the_wallet_inbox_and_preferences_pages(client, person):
    client.force_login(person)
    notification_send(user=person, kind="test", title="Hello there")

    inbox = client.get(reverse("notifications:inbox"))
    assert inbox.status_code == 200 and b"Hello there" in inbox.content and b"1 unread" in inbox.content

    page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200
    saved = client.post(
        reverse("notifications:preferences"),
        {"reward_earned__inbox": "on", "quiet_start": "22:00", "quiet_end": "07:00"},
    )
    assert saved.status_code == 302
    assert Preference.objects.get(user=person, kind="reward_earned", channel="push").enabled is False
    bad = client.post(reverse("notifications:preferences"), {"quiet_start": "22:00"})
    assert bad.status_code == 200 and b"Give both times" in bad.content


def test_the_header_count_is_one_query_on_every_page(client, person, django_assert_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    notification_send(user=person, kind="test", title="One")
    request = RequestFactory().get("/")
    request.user = person
    badge = Template("{% load notification_tags %}{% unread_notifications %}")
    for _ in range(2):
        with django_assert_num_queries(1):
            assert badge.render(Context({"request": request})) == "1"
