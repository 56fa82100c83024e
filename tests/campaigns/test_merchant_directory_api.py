"""GET /api/v1/merchants/ and /api/v1/merchants/{id}/: the public directory of approved merchants with a
live offer — never a suspended, pending or rejected one, never an offer that is not live; filters,
bad input as 400 in the error format, unknown or suspended as 404."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import OfferStatus
from merchants.models import Merchant
from tests.campaigns.factories import ChallengeFactory, LocationFactory, MerchantFactory, OfferFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory():
    cafe = MerchantFactory(display_name="Fjord Coffee", category_code="5814")
    LocationFactory(merchant=cafe, name="Torget", city="Bergen", latitude=Decimal("60.394"), longitude=Decimal("5.325"))
    LocationFactory(merchant=cafe, name="Bryggen", city="Bergen", latitude=None, longitude=None)
    LocationFactory(merchant=cafe, name="Karl Johan", city="Oslo")
    live = OfferFactory(merchant=cafe, title="10 % back", percent=Decimal("10"), max_reward_per_purchase_minor=10_000)
    ChallengeFactory(offer=live, title="Spend 1 000 kr", target_value=100_000, bonus_minor=5_000)
    OfferFactory(merchant=cafe, title="Draft", status=OfferStatus.DRAFT)
    OfferFactory(merchant=cafe, title="Over", starts_at=timezone.now() - timedelta(days=9), ends_at=timezone.now())
    books = MerchantFactory(display_name="Bokhuset", category_code="5942")
    LocationFactory(merchant=books, city="Trondheim")
    OfferFactory(merchant=books)
    suspended = MerchantFactory(display_name="Shady", status=Merchant.Status.SUSPENDED, status_reason="Fraud")
    OfferFactory(merchant=suspended)
    pending = MerchantFactory(display_name="Newcomer", status=Merchant.Status.PENDING_REVIEW)
    OfferFactory(merchant=pending)
    quiet = MerchantFactory(display_name="Quiet")
    OfferFactory(merchant=quiet, status=OfferStatus.PAUSED)
    return cafe, books, suspended, live


def test_list_shows_approved_merchants_with_a_live_offer_only_without_signing_in(directory):
    cafe, *_ = directory

    body = APIClient().get("/api/v1/merchants/").json()

    assert [row["name"] for row in body["results"]] == ["Bokhuset", "Fjord Coffee"]
    row = body["results"][1]
    assert row == {
        "id": cafe.pk,
        "name": "Fjord Coffee",
        "slug": cafe.slug,
        "category": "5814",
        "country": "NO",
        "currency": "NOK",
        "cities": ["Bergen", "Oslo"],
        "live_offer_count": 1,
    }


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("category=5814", ["Fjord Coffee"]),
        ("category=1234", []),
        ("q=fjord", ["Fjord Coffee"]),
        ("q=trondheim", ["Bokhuset"]),
        ("q=shady", []),
        ("q=&category=", ["Bokhuset", "Fjord Coffee"]),
    ],
)
def test_list_filters(directory, query, names):
    body = APIClient().get(f"/api/v1/merchants/?{query}").json()

    assert [row["name"] for row in body["results"]] == names


@pytest.mark.parametrize("query", ["category=cafe", "category=58140", "category=58%2014", "q=" + "x" * 101])
def test_bad_filters_are_400_in_the_error_format(directory, query):
    response = APIClient().get(f"/api/v1/merchants/?{query}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) <= {"category", "q"} and error["fields"]


def test_detail_has_shops_with_coordinates_and_live_offers_with_terms(directory):
    cafe, _, _, live = directory

    body = APIClient().get(f"/api/v1/merchants/{cafe.pk}/").json()

    assert (body["id"], body["name"], body["category"]) == (cafe.pk, "Fjord Coffee", "5814")
    shops = {shop["name"]: shop for shop in body["shops"]}
    assert set(shops) == {"Torget", "Bryggen", "Karl Johan"}
    assert (shops["Torget"]["latitude"], shops["Torget"]["longitude"]) == (60.394, 5.325)
    assert (shops["Bryggen"]["latitude"], shops["Bryggen"]["city"]) == (None, "Bergen")
    assert {"street", "postcode", "country", "time_zone", "opening_hours"} <= set(shops["Torget"])
    (offer,) = body["offers"]
    assert (offer["id"], offer["title"]) == (live.pk, "10 % back")
    assert (offer["reward_type"], offer["percent"]) == ("percent", "10.00")
    assert offer["max_reward_per_purchase"] == {"currency": "NOK", "amount": "100.00"}
    assert offer["min_spend"] == {"currency": "NOK", "amount": "0.00"}
    assert (offer["audience"], offer["basis"]) == ("everyone", "purchase")
    assert (offer["shop_ids"], offer["min_tier"]) == ([], None)
    assert offer["ends_at"].endswith(("+01:00", "+02:00", "Z", "+00:00"))
    (challenge,) = offer["challenges"]
    assert challenge["target"] == {"currency": "NOK", "amount": "1000.00"}
    assert challenge["bonus"] == {"currency": "NOK", "amount": "50.00"}


def test_detail_of_an_offer_for_some_shops_and_a_tier(directory):
    cafe, *_ = directory
    shop = cafe.locations.get(name="Torget")
    tier_offer = OfferFactory(merchant=cafe, audience="tier", min_tier=TierFactory(rank=1, name="Silver"))
    tier_offer.locations.set([shop])

    offers = APIClient().get(f"/api/v1/merchants/{cafe.pk}/").json()["offers"]

    row = next(offer for offer in offers if offer["id"] == tier_offer.pk)
    assert (row["shop_ids"], row["min_tier"]) == ([shop.pk], {"name": "Silver", "rank": 1})


def test_detail_of_unknown_suspended_or_pending_merchants_is_404_in_the_error_format(directory):
    _, _, suspended, _ = directory
    pending = Merchant.objects.get(display_name="Newcomer")

    for merchant_id in (suspended.pk, pending.pk, 999_999):
        response = APIClient().get(f"/api/v1/merchants/{merchant_id}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "merchant_not_found"


def test_list_and_detail_take_a_bounded_number_of_queries(directory):
    cafe, *_ = directory
    for n in range(10):
        merchant = MerchantFactory(display_name=f"Extra {n}")
        LocationFactory(merchant=merchant)
        ChallengeFactory(offer=OfferFactory(merchant=merchant))
    client = APIClient()

    with CaptureQueriesContext(connection) as listing:
        assert client.get("/api/v1/merchants/?page_size=100").json()["count"] == 12
    with CaptureQueriesContext(connection) as detail:
        client.get(f"/api/v1/merchants/{cafe.pk}/")

    assert len(listing) <= 4
    assert len(detail) <= 6
