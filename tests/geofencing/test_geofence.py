"""POST /api/v1/geofence/: matched shops, one nearby push per shop per consumer per day."""

from datetime import time, timedelta
from unittest.mock import patch

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Consent, Device
from accounts.services import location_consent_set
from cashback.providers.push import FakePushClient
from geofencing.models import NearbyPush
from geofencing.services import geofence_report, nearby_push_send, nearby_pushes_due
from notifications.models import Notification, Preference
from notifications.services import quiet_hours_set
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import PurchaseFactory, TierFactory
from tests.concurrency import run_together
from tests.geofencing.factories import OSLO, north_of, shop_with_offer
from tests.merchants.factories import LocationFactory

URL = "/api/v1/geofence/"
AT_OSLO = {"lat": str(OSLO[0]), "lng": str(OSLO[1]), "accuracy_m": 20}


@pytest.fixture(autouse=True)
def push_outbox():
    FakePushClient.clear()
    yield FakePushClient.outbox
    FakePushClient.clear()


def _consumer(*, location=True):
    user = UserFactory()
    Device.objects.create(user=user, token=f"tok-{user.pk}", platform="android")
    if location:
        location_consent_set(user=user, granted=True)
    return user


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_a_report_lists_the_usable_shops_within_the_radius_and_pushes_the_nearest_once_a_day(push_outbox):
    user = _consumer()
    near, offer = shop_with_offer(*north_of(OSLO, 100), title="Coffee 10 %")
    farther, _ = shop_with_offer(*north_of(OSLO, 250))
    shop_with_offer(*north_of(OSLO, settings.GEOFENCE_RADIUS_M + 200))  # outside the radius
    shop_with_offer(*north_of(OSLO, 50), audience="new_customers", status="paused")  # not live

    body = _api(user).post(URL, AT_OSLO, format="json").json()

    assert body["ignored"] is False and body["radius_m"] == settings.GEOFENCE_RADIUS_M
    assert [shop["location_id"] for shop in body["shops"]] == [near.pk, farther.pk]
    assert body["shops"][0]["offer_ids"] == [offer.pk]
    assert body["pushed_location_id"] == near.pk
    assert len(push_outbox) == 1 and push_outbox[0].data["kind"] == "nearby_offer"

    again = _api(user).post(URL, AT_OSLO, format="json").json()
    assert again["pushed_location_id"] == farther.pk  # the nearest not yet pushed today
    third = _api(user).post(URL, AT_OSLO, format="json").json()
    assert third["pushed_location_id"] is None and len(push_outbox) == 2


@pytest.mark.django_db
def test_only_shops_with_an_offer_this_consumer_can_use_match_and_are_pushed(django_capture_on_commit_callbacks):
    user = _consumer()
    bought_here, _ = shop_with_offer(*north_of(OSLO, 30), audience="new_customers")
    PurchaseFactory(user=user, merchant=bought_here.merchant)  # not a new customer there any more
    shop_with_offer(*north_of(OSLO, 40), audience="tier", min_tier=TierFactory(rank=3))  # a tier they lack
    elsewhere, limited = shop_with_offer(*north_of(OSLO, 50))
    limited.locations.set([LocationFactory(merchant=elsewhere.merchant, latitude=OSLO[0] + 1, longitude=OSLO[1])])
    usable, offer = shop_with_offer(*north_of(OSLO, 120), title="Bread 2 for 1")

    with django_capture_on_commit_callbacks(execute=True):  # the push is written and sent after commit
        body = _api(user).post(URL, AT_OSLO, format="json").json()

    assert [(shop["location_id"], shop["offer_ids"]) for shop in body["shops"]] == [(usable.pk, [offer.pk])]
    assert body["pushed_location_id"] == usable.pk
    (notification,) = Notification.objects.filter(user=user, kind="nearby_offer")
    assert list(notification.deliveries.values_list("channel", "status")) == [("push", "sent")]
    assert "Bread 2 for 1" in notification.body and usable.name in notification.body
    assert NearbyPush.objects.get(user=user).notification == notification


@pytest.mark.django_db
def test_no_push_without_location_consent_with_the_push_preference_off_or_in_quiet_hours(push_outbox):
    shop_with_offer(*north_of(OSLO, 100))
    without_consent = _consumer(location=False)
    assert _api(without_consent).post(URL, AT_OSLO, format="json").json()["pushed_location_id"] is None

    push_off = _consumer()
    Preference.objects.create(user=push_off, kind="nearby_offer", channel="push", enabled=False)
    assert _api(push_off).post(URL, AT_OSLO, format="json").json()["pushed_location_id"] is None

    quiet = _consumer()
    now = timezone.localtime()
    quiet_hours_set(
        user=quiet,
        start=(now - timedelta(hours=1)).time().replace(second=0, microsecond=0),
        end=(now + timedelta(hours=1)).time().replace(second=0, microsecond=0),
    )
    body = _api(quiet).post(URL, AT_OSLO, format="json").json()
    assert body["pushed_location_id"] is None and len(body["shops"]) == 1
    assert not NearbyPush.objects.exists() and push_outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "hour", "pushed"),
    [((22, 0), (7, 0), 23, False), ((22, 0), (7, 0), 6, False), ((22, 0), (7, 0), 7, True), ((9, 0), (17, 0), 8, True)],
)
def test_quiet_hours_that_span_midnight_or_not_hold_the_push_back_inside_them_only(start, end, hour, pushed):
    shop, _ = shop_with_offer(*north_of(OSLO, 100))
    user = _consumer()
    quiet_hours_set(user=user, start=time(*start), end=time(*end))
    at = timezone.localtime().replace(hour=hour, minute=30)

    outcome = geofence_report(user=user, latitude=OSLO[0], longitude=OSLO[1], accuracy_m=10, at=at)

    assert outcome.shops and (outcome.pushed_location_id == shop.pk) is pushed
    assert NearbyPush.objects.filter(user=user).exists() is pushed


@pytest.mark.django_db
def test_a_poor_fix_is_accepted_and_ignored():
    shop_with_offer(*north_of(OSLO, 100))
    user = _consumer()

    response = _api(user).post(URL, {**AT_OSLO, "accuracy_m": settings.GEOFENCE_MAX_ACCURACY_M + 1}, format="json")

    assert response.status_code == 200
    assert response.json()["ignored"] is True and response.json()["shops"] == []
    assert not NearbyPush.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"lat": "91", "lng": "10", "accuracy_m": 5},
        {"lat": "59", "lng": "-181", "accuracy_m": 5},
        {"lat": "59", "lng": "10", "accuracy_m": -1},
        {"lat": "north", "lng": "10", "accuracy_m": 5},
        {"lng": "10", "accuracy_m": 5},
    ],
)
def test_positions_out_of_range_are_400_in_the_error_format(body):
    response = _api(_consumer()).post(URL, body, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"]


@pytest.mark.django_db
def test_reports_are_rate_limited_per_device(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "geofence": "2/m"}
    client = _api(_consumer())
    statuses = [client.post(URL, {**AT_OSLO, "device_token": "phone-a"}, format="json").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.post(URL, {**AT_OSLO, "device_token": "phone-b"}, format="json").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_reports_for_the_same_shop_send_one_push(push_outbox):
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip("the once-a-day rule under concurrency is proven on PostgreSQL")
    user = _consumer()
    shop, _ = shop_with_offer(*north_of(OSLO, 100))

    results = run_together(
        lambda _: geofence_report(user=user, latitude=OSLO[0], longitude=OSLO[1], accuracy_m=10), threads=10
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.pushed_location_id for r in results if r.pushed_location_id) == [shop.pk]
    assert NearbyPush.objects.filter(user=user).count() == 1
    assert len(push_outbox) == 1
    assert Consent.objects.filter(user=user, kind="location").exists()


# A report's round trips (docs/geofencing.md, "Cost"): the shops and their offer ids (1), the offers
# with merchant, tier and named shops (1), the consumer's eligibility context (3), then one statement
# that checks consent, preference and quiet hours and claims today's push (1; autocommit: no BEGIN or
# COMMIT of its own). The notification and its delivery are the task's, after commit. A regression (a
# query per shop or offer, a savepoint, a SELECT before the insert, the notification back on the
# request) makes these fail.
# PostgreSQL's counts: the embedded SQLite has no distance index and reads the gate before its claim.
PUSH_PATH_QUERIES = 6


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_report_that_pushes_takes_a_fixed_number_of_queries_whatever_the_shops(
    push_outbox, django_assert_num_queries, django_capture_on_commit_callbacks
):
    user = _consumer()
    chain = shop_with_offer(*north_of(OSLO, 40))[0].merchant
    for metres in (60, 90, 120):  # the chain's other shops
        shop_with_offer(*north_of(OSLO, metres), merchant=chain)
    for metres in (80, 110, 150, 200, 260):
        shop_with_offer(*north_of(OSLO, metres), audience="new_customers")
    client = _api(user)

    with django_capture_on_commit_callbacks() as after_commit, django_assert_num_queries(PUSH_PATH_QUERIES):
        body = client.post(URL, AT_OSLO, format="json").json()

    # Nine shops, nine offers (the chain's four apply at each of its shops): the nearest eight offers count.
    assert len(body["shops"]) == 8 and body["pushed_location_id"] == body["shops"][0]["location_id"]
    assert (
        body["shops"][0]["offer_ids"] == sorted(body["shops"][0]["offer_ids"])
        and len(body["shops"][0]["offer_ids"]) == 4
    )
    assert len(after_commit) == 1 and not Notification.objects.filter(user=user).exists()  # one task, enqueued
    with django_capture_on_commit_callbacks(execute=True):  # the task, and its push after its commit
        after_commit[0]()
    assert Notification.objects.filter(user=user, kind="nearby_offer").count() == 1 and len(push_outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_report_near_no_shop_takes_one_query_and_one_whose_push_is_ruled_out_no_more_than_one_that_pushes(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    client = _api(_consumer(location=False))

    with django_assert_num_queries(1):
        assert client.post(URL, AT_OSLO, format="json").json()["shops"] == []

    shop_with_offer(*north_of(OSLO, 100))
    with django_capture_on_commit_callbacks() as after_commit, django_assert_num_queries(PUSH_PATH_QUERIES):
        body = client.post(URL, AT_OSLO, format="json").json()
    assert len(body["shops"]) == 1 and body["pushed_location_id"] is None
    assert after_commit == [] and not NearbyPush.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_push_task_run_twice_writes_one_notification_and_sends_one_push(push_outbox):
    user = _consumer()
    shop_with_offer(*north_of(OSLO, 100))
    assert geofence_report(user=user, latitude=OSLO[0], longitude=OSLO[1], accuracy_m=10).pushed_location_id
    claim = NearbyPush.objects.get(user=user)

    assert nearby_push_send(claim_id=claim.pk) is False  # the report's task has run already (eager)
    assert nearby_push_send(claim_id=claim.pk + 1000) is False  # no such claim

    assert Notification.objects.filter(user=user, kind="nearby_offer").count() == 1 and len(push_outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_claim_whose_task_was_lost_is_sent_by_the_sweep_once_and_not_when_too_old(push_outbox, settings):
    user = _consumer()
    shop, _ = shop_with_offer(*north_of(OSLO, 100))
    far, _ = shop_with_offer(*north_of(OSLO, 200))
    with patch("geofencing.tasks.nearby_push_send.delay", side_effect=ConnectionError("broker down")):
        first = geofence_report(user=user, latitude=OSLO[0], longitude=OSLO[1], accuracy_m=10)
        second = geofence_report(user=user, latitude=OSLO[0], longitude=OSLO[1], accuracy_m=10)
    assert (first.pushed_location_id, second.pushed_location_id) == (shop.pk, far.pk)  # the claims stand
    assert push_outbox == [] and not Notification.objects.exists()
    now = timezone.now()
    old = now - timedelta(seconds=settings.GEOFENCE_PUSH_MAX_AGE_SECONDS + 1)
    NearbyPush.objects.filter(location=far).update(created_at=old, updated_at=old)

    assert nearby_pushes_due(now=now) == 0  # not stale yet: its task may still be on its way
    later = now + timedelta(seconds=settings.GEOFENCE_PUSH_STALE_SECONDS)
    assert nearby_pushes_due(now=later) == 1  # the lost one; the one too old to tell is left

    assert [message.data["kind"] for message in push_outbox] == ["nearby_offer"]
    assert NearbyPush.objects.get(location=shop).notification is not None
    assert NearbyPush.objects.get(location=far).notification is None
    assert nearby_pushes_due(now=later + timedelta(seconds=settings.GEOFENCE_PUSH_STALE_SECONDS)) == 0
