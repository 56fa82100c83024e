"""GET /api/v1/offers/ through HTTP: nearest first with terms, shops and the caller's eligibility; pages;
every bad query a 400 in the error format (never a 500); signed-in callers only; a bounded number of
queries per page; described by the OpenAPI schema."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import Consent
from campaigns.models import CustomerTier
from tests.accounts.conftest import AppClient
from tests.accounts.factories import PASSWORD, ConsentFactory, UserFactory
from tests.campaigns.factories import OfferFactory, PurchaseFactory, TierFactory
from tests.geofencing.factories import OSLO, north_of, shop_with_offer
from tests.merchants.factories import LocationFactory, MerchantFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/offers/"
NEAR_OSLO = {"lat": str(OSLO[0]), "lng": str(OSLO[1])}


@pytest.fixture
def consumer():
    return UserFactory()


@pytest.fixture
def api(consumer):
    client = APIClient()
    client.force_authenticate(consumer)
    return client


def test_offers_near_a_point_with_terms_shops_and_eligibility(api, consumer):
    cafe = MerchantFactory(display_name="Kaffebrenneriet", category_code="5814")
    shop, offer = shop_with_offer(
        *north_of(OSLO, 400), merchant=cafe, title="Morning coffee", min_spend_minor=5_000, audience="new_customers"
    )
    _, far = shop_with_offer(*north_of(OSLO, 3_000))
    PurchaseFactory(user=consumer, merchant=cafe)

    response = api.get(URL, {**NEAR_OSLO, "radius_km": "5"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    first, second = body["results"]
    assert (first["id"], second["id"]) == (offer.pk, far.pk)
    assert first["merchant"] == {
        "id": cafe.pk,
        "name": "Kaffebrenneriet",
        "slug": cafe.slug,
        "category": "cafes",
    }
    assert 398 <= first["distance_m"] <= 402
    assert first["shops"] == [
        {
            "id": shop.pk,
            "name": shop.name,
            "street": shop.street,
            "postcode": shop.postcode,
            "city": shop.city,
            "lat": f"{shop.latitude:.6f}",
            "lng": f"{shop.longitude:.6f}",
            "distance_m": first["distance_m"],
        }
    ]
    terms = first["terms"]
    assert terms["reward_type"] == "percent" and terms["percent"] == "10.00"
    assert terms["min_spend"] == "50.00" and terms["currency"] == "NOK"
    assert terms["headline"] == "10 % cashback"
    assert first["eligibility"] == {
        "eligible": False,
        "reasons": [{"code": "not_new_customer", "message": "Only for new customers — you have shopped here before."}],
    }
    assert second["eligibility"] == {"eligible": True, "reasons": []}


def test_the_mobile_app_calls_it_with_its_session_token():
    user = UserFactory(email="walker@example.com")
    ConsentFactory(user=user, kind=Consent.Kind.TERMS, version=settings.TERMS_VERSION)
    app = AppClient()
    app.post("/_allauth/app/v1/auth/login", {"email": "walker@example.com", "password": PASSWORD})
    _, offer = shop_with_offer(*north_of(OSLO, 100))

    response = app.get(URL + "?lat=59.9139&lng=10.7522")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [offer.pk]


def test_anonymous_callers_are_refused():
    shop_with_offer(*OSLO)

    response = APIClient().get(URL, NEAR_OSLO)

    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_pages_link_to_each_other(api):
    offers = [shop_with_offer(*north_of(OSLO, 100 * (n + 1)))[1] for n in range(5)]

    first = api.get(URL, {**NEAR_OSLO, "page_size": 2}).json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()

    assert [o["id"] for page in (first, second, third) for o in page["results"]] == [o.pk for o in offers]
    assert first["previous"] is None and "page=2" in first["next"]
    assert api.get(second["previous"]).json() == first
    assert third["next"] is None
    assert api.get(URL, {**NEAR_OSLO, "page_size": 2, "page": 9}).json()["results"] == []


def test_filters(api):
    grocer = MerchantFactory(display_name="Rema 1000", category_code="5411")
    _, food = shop_with_offer(*north_of(OSLO, 100), merchant=grocer)
    _, coffee = shop_with_offer(*north_of(OSLO, 200), title="Kaffe og kake")

    def ids(**query):
        return [o["id"] for o in api.get(URL, {**NEAR_OSLO, **query}).json()["results"]]

    assert ids(merchant=grocer.pk) == [food.pk]
    assert ids(category="groceries") == [food.pk]
    assert ids(q="kake") == [coffee.pk]
    assert ids(q="") == [food.pk, coffee.pk]
    assert ids(radius_km="0.05") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"lat": "91", "lng": "10"}, "lat"),
        ({"lat": "-90.000001", "lng": "10"}, "lat"),
        ({"lat": "59", "lng": "180.5"}, "lng"),
        ({"lat": "59", "lng": "-181"}, "lng"),
        ({"lat": "north", "lng": "10"}, "lat"),
        ({"lat": "59", "lng": "NaN"}, "lng"),
        ({"lat": "Infinity", "lng": "10"}, "lat"),
        ({"lat": "1e400", "lng": "10"}, "lat"),
        ({"lat": "59"}, "lng"),
        ({"lng": "10"}, "lat"),
        ({}, "lat"),
        ({"lat": "59", "lng": "10", "radius_km": "0"}, "radius_km"),
        ({"lat": "59", "lng": "10", "radius_km": "-3"}, "radius_km"),
        ({"lat": "59", "lng": "10", "radius_km": "50.001"}, "radius_km"),
        ({"lat": "59", "lng": "10", "radius_km": "far"}, "radius_km"),
        ({"lat": "59", "lng": "10", "category": "spaceships"}, "category"),
        ({"lat": "59", "lng": "10", "merchant": "abc"}, "merchant"),
        ({"lat": "59", "lng": "10", "merchant": "0"}, "merchant"),
        ({"lat": "59", "lng": "10", "page": "0"}, "page"),
        ({"lat": "59", "lng": "10", "page_size": "x"}, "page_size"),
        ({"lat": "59", "lng": "10", "page_size": "101"}, "page_size"),
        ({"lat": "59", "lng": "10", "page_size": "100", "page": "11"}, "page"),  # deeper than 1 000 offers
        ({"lat": "59", "lng": "10", "page": "41"}, "page"),
        ({"lat": "59", "lng": "10", "q": "x" * 101}, "q"),
    ],
)
def test_bad_queries_are_400_in_the_error_format(api, query, field):
    response = api.get(URL, query)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error


def test_a_page_costs_the_same_queries_for_25_offers_as_for_2(api, consumer, django_assert_max_num_queries):
    tier = TierFactory(rank=1)
    CustomerTier.objects.create(user=consumer, tier=tier, computed_at="2026-01-01T00:00:00Z")
    for n in range(2):
        shop_with_offer(*north_of(OSLO, 100 + n))
    with django_assert_max_num_queries(20) as few:
        assert len(api.get(URL, NEAR_OSLO).json()["results"]) == 2

    for n in range(30):
        merchant = MerchantFactory()
        LocationFactory(merchant=merchant, latitude=north_of(OSLO, 200 + n)[0], longitude=OSLO[1])
        LocationFactory(merchant=merchant, latitude=north_of(OSLO, 900 + n)[0], longitude=OSLO[1])
        offer = OfferFactory(merchant=merchant, audience="tier", min_tier=tier)
        offer.locations.set(merchant.locations.all()[:1])
        PurchaseFactory(user=consumer, merchant=merchant)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get(URL, NEAR_OSLO).json()["results"]) == 25


def test_the_schema_describes_the_endpoint(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operation = schema["paths"]["/api/v1/offers/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"lat", "lng", "radius_km", "merchant", "category", "q", "page", "page_size"} <= set(parameters)
    assert parameters["lat"]["required"] and parameters["lng"]["required"]
    assert not parameters["radius_km"].get("required", False)
    assert "spaceships" not in parameters["category"]["schema"].get("enum", [])
    assert "groceries" in parameters["category"]["schema"]["enum"]
    assert {"200", "400", "401", "403"} <= set(operation["responses"])


def test_a_coordinate_printed_in_full_is_not_taken_for_a_card_number(api):
    # A double's 16 fraction digits may be a Luhn-valid run starting with 2-6 (4242424242424242 is one).
    response = api.get(URL, {"lat": "59.4242424242424242", "lng": "10.4242424242424242"})

    assert response.status_code == 200, response.content
