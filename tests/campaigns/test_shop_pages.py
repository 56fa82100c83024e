"""The public shop pages over HTTP: who shows, search, filters, pages, markers, a merchant's page, bad input."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import OfferStatus
from merchants.models import Merchant
from tests.campaigns.factories import ChallengeFactory, LocationFactory, MerchantFactory, OfferFactory
from tests.charity.factories import CharityFactory

pytestmark = pytest.mark.django_db

SHOPS = reverse("shops:list")
MARKERS = reverse("shops:markers")


def _shop(
    name: str, *, city: str = "Oslo", category_code: str = "5814", lat: str = "59.91", lng: str = "10.75", **offer
):
    merchant = MerchantFactory(display_name=name, slug=name.lower().replace(" ", "-"), category_code=category_code)
    LocationFactory(merchant=merchant, name=f"{name} {city}", city=city, latitude=Decimal(lat), longitude=Decimal(lng))
    OfferFactory(merchant=merchant, **offer)
    return merchant


def _names(response) -> list[str]:
    return re.findall(r'<h3 class="card-title"><a href="/shops/[^"]+/">([^<]+)</a>', response.content.decode())


def _markers(client, query: str = "") -> list[dict]:
    response = client.get(f"{MARKERS}{query}")
    assert response.status_code == 200
    return response.json()["markers"]


def test_only_approved_merchants_with_a_live_offer_show(client):
    _shop("Live Cafe")
    suspended, pending = _shop("Suspended Cafe"), _shop("Pending Cafe")
    Merchant.objects.filter(pk=suspended.pk).update(status=Merchant.Status.SUSPENDED, status_reason="Unpaid invoices")
    Merchant.objects.filter(pk=pending.pk).update(status=Merchant.Status.PENDING_REVIEW)
    for status in (OfferStatus.DRAFT, OfferStatus.IN_REVIEW, OfferStatus.SCHEDULED, OfferStatus.PAUSED):
        _shop(f"{status} shop", status=status)
    _shop("Ended shop", status=OfferStatus.ENDED)
    _shop("Not started shop", starts_at=timezone.now() + timedelta(days=1))
    _shop("Past end shop", starts_at=timezone.now() - timedelta(days=40))  # live in the table, but over

    response = client.get(SHOPS)

    assert response.status_code == 200
    assert _names(response) == ["Live Cafe"]
    assert [marker["merchant"] for marker in _markers(client)] == ["Live Cafe"]


def test_a_shop_lists_its_live_offers_in_words_and_not_the_others(client):
    merchant = _shop(
        "Bakery",
        max_reward_per_purchase_minor=10_000,
        days_of_week=[0, 1, 2, 3, 4],
        hour_from=7,
        hour_to=10,
        audience="new_customers",
        return_period_days=0,
    )
    OfferFactory(merchant=merchant, title="Paused one", status=OfferStatus.PAUSED)

    html = client.get(SHOPS).content.decode()

    assert "10 % back, up to 100 kr per purchase, Mon\u2013Fri 07\u201310, new customers only" in html
    assert "Paused one" not in html


def test_search_by_name_or_city(client):
    _shop("Fjord Coffee", city="Oslo")
    _shop("Bryggen Kaffebar", city="Bergen", lat="60.39", lng="5.32")

    assert _names(client.get(SHOPS, {"q": "fjord"})) == ["Fjord Coffee"]
    assert _names(client.get(SHOPS, {"q": "BERG"})) == ["Bryggen Kaffebar"]
    assert _names(client.get(SHOPS, {"city": "Bergen"})) == ["Bryggen Kaffebar"]
    assert [marker["merchant"] for marker in _markers(client, "?q=bergen")] == ["Bryggen Kaffebar"]


def test_filter_by_category_offer_type_and_charity(client):
    charity = CharityFactory(name="Skolebenken")
    _shop("Cafe", category_code="5814")
    _shop("Grocer", category_code="5411", reward_type="fixed", percent=Decimal(0), fixed_amount_minor=5_000)
    giving = _shop("Bookshop", category_code="5942", reward_type="charity", charity_ref=str(charity.pk))
    _shop("Odd shop", category_code="7999")

    assert _names(client.get(SHOPS, {"category": "cafes"})) == ["Cafe"]
    assert _names(client.get(SHOPS, {"category": "other"})) == ["Odd shop"]
    assert _names(client.get(SHOPS, {"offer_type": "fixed"})) == ["Grocer"]
    assert _names(client.get(SHOPS, {"offer_type": "charity"})) == ["Bookshop"]
    assert _names(client.get(SHOPS, {"charity": "on"})) == ["Bookshop"]
    assert _names(client.get(SHOPS, {"category": "cafes", "offer_type": "fixed"})) == []
    assert "10 % goes to Skolebenken" in client.get(reverse("shops:detail", args=[giving.slug])).content.decode()


def test_no_shops_match_says_so_and_offers_a_way_back(client):
    _shop("Cafe")

    response = client.get(SHOPS, {"q": "nothing like this"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "No shops match" in html
    assert f'href="{SHOPS}"' in html


def test_with_no_offers_running_the_page_says_so(client):
    html = client.get(SHOPS).content.decode()

    assert "No offers running right now" in html


def test_the_list_is_paginated_and_the_map_shows_every_match(client):
    for n in range(14):
        _shop(f"Shop {n:02d}")

    first, second = client.get(SHOPS), client.get(SHOPS, {"page": 2})

    assert len(_names(first)) == 12
    assert _names(second) == ["Shop 12", "Shop 13"]
    assert "14 shops." in first.content.decode()
    assert 'rel="next"' in first.content.decode()
    assert len(_markers(client, "?page=2")) == 14
    assert client.get(SHOPS, {"page": "many"}).status_code == 200  # a bad page number shows the first page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"category": "spaceships"}, "category", "There is no category \u201cspaceships\u201d"),
        ({"offer_type": "free-money"}, "offer_type", "There is no kind of offer \u201cfree-money\u201d"),
        ({"city": "Atlantis"}, "city", "We have no partner shops in \u201cAtlantis\u201d yet."),
        ({"q": "x" * 101}, "q", "at most 100 characters"),
    ],
)
def test_bad_search_input_is_a_clear_message_not_a_500(client, query, field, message):
    _shop("Cafe")

    page = client.get(SHOPS, query)
    markers = client.get(MARKERS, query)

    assert page.status_code == 400
    assert message in page.content.decode()
    assert markers.status_code == 400
    error = markers.json()["error"]
    assert error["code"] == "invalid_search"
    assert message in error["fields"][field][0]


def test_markers_carry_position_name_address_and_the_merchant_page(client):
    merchant = _shop("Cafe", lat="59.913600", lng="10.740500")
    LocationFactory(merchant=merchant, latitude=None, longitude=None)  # no map position: no marker

    (marker,) = _markers(client)

    location = merchant.locations.exclude(latitude=None).get()
    assert marker == {
        "lat": 59.9136,
        "lng": 10.7405,
        "name": location.name,
        "merchant": "Cafe",
        "address": f"{location.street}, {location.postcode} {location.city}",
        "url": reverse("shops:detail", args=["cafe"]),
    }


def test_the_list_page_points_the_map_at_the_tile_setting_and_the_same_search(client, settings):
    settings.MAP_TILE_URL = "https://tiles.example/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "Tiles by Example"
    _shop("Cafe")

    html = client.get(SHOPS, {"q": "cafe", "page": "1"}).content.decode()

    assert 'data-tile-url="https://tiles.example/{z}/{x}/{y}.png"' in html
    assert 'data-attribution="Tiles by Example"' in html
    assert f'data-markers-url="{MARKERS}?q=cafe"' in html
    assert "vendor/leaflet.markercluster/leaflet.markercluster.js" in html


def test_the_merchant_page_shows_shops_hours_offers_charity_rewards_and_challenges(client):
    charity = CharityFactory(name="Lesehesten")
    merchant = MerchantFactory(display_name="Fjord Coffee", slug="fjord-coffee")
    LocationFactory(
        merchant=merchant,
        name="Fjord Coffee Aker Brygge",
        street="Stranden 1",
        postcode="0250",
        opening_hours={"mon": {"open": "07:30", "close": "18:00"}, "sun": {"closed": True}},
    )
    offer = OfferFactory(merchant=merchant, title="Coffee", max_reward_per_purchase_minor=3_000)
    ChallengeFactory(offer=offer, title="Ten coffees", target_type="purchase_count", target_value=10)
    OfferFactory(
        merchant=merchant, title="Books", reward_type="charity", percent=Decimal(5), charity_ref=str(charity.pk)
    )
    OfferFactory(merchant=merchant, title="Old draft", status=OfferStatus.DRAFT)

    response = client.get(reverse("shops:detail", args=["fjord-coffee"]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Stranden 1" in html and "0250 Oslo" in html
    assert "07:30\u201318:00" in html and "Closed" in html
    assert "10 % back, up to 30 kr per purchase" in html
    assert "Charity rewards" in html and "5 % goes to Lesehesten" in html
    assert "Ten coffees: make 10 purchases while the offer runs and get a 50 kr bonus" in html
    assert "Old draft" not in html
    assert 'id="shop-markers"' in html


def test_the_merchant_page_of_a_shop_with_no_live_offer_says_so(client):
    MerchantFactory(display_name="Quiet", slug="quiet")

    html = client.get(reverse("shops:detail", args=["quiet"])).content.decode()

    assert "No cashback offer is running here right now." in html


@pytest.mark.parametrize(
    "status", [Merchant.Status.SUSPENDED, Merchant.Status.PENDING_REVIEW, Merchant.Status.REJECTED]
)
def test_unknown_or_hidden_merchants_are_a_404(client, status):
    MerchantFactory(display_name="Hidden", slug="hidden", status=status)

    assert client.get(reverse("shops:detail", args=["hidden"])).status_code == 404
    assert client.get(reverse("shops:detail", args=["no-such-shop"])).status_code == 404


def test_the_list_costs_the_same_queries_for_many_shops(client, django_assert_max_num_queries):
    for n in range(12):
        merchant = _shop(f"Shop {n:02d}")
        OfferFactory(merchant=merchant, days_of_week=[5, 6])

    with django_assert_max_num_queries(12):
        response = client.get(SHOPS)

    assert len(_names(response)) == 12


def test_the_home_page_shows_a_few_live_offers_and_links_to_the_shops(client):
    for n in range(6):
        _shop(f"Shop {n}")
    _shop("Paused", status=OfferStatus.PAUSED)

    html = client.get(reverse("home")).content.decode()

    assert "Offers running now" in html
    assert len(re.findall(r'<h3 class="card-title"><a href="/shops/shop-\d/">', html)) == 4
    assert "Paused" not in html
    assert f'href="{SHOPS}"' in html


def test_the_faq_answers_consumers_and_shops_and_is_linked_from_the_footer(client):
    response = client.get(reverse("faq"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="shoppers"' in html and 'id="shops"' in html
    assert "Is it safe to link my card?" in html and "How do we become a partner?" in html
    assert f'href="{reverse("faq")}"' in client.get(reverse("home")).content.decode()


def test_the_merchant_page_has_no_inline_script_but_its_markers_as_a_data_block(client):
    _shop("Cafe")

    html = client.get(reverse("shops:detail", args=["cafe"])).content.decode()

    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert scripts == [' id="shop-markers" type="application/json"']
    assert 'style="' not in html
