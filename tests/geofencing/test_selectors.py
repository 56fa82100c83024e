"""The nearby-offer search through its selector: nearest first, only live offers of approved merchants,
filters, pages, the shops listed with each offer; the same answers on PostgreSQL's index and on the
portable path."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.models import OfferStatus
from geofencing.selectors import SHOPS_PER_OFFER, haversine_m, nearby_offers
from merchants.models import Merchant
from tests.campaigns.factories import OfferFactory
from tests.geofencing.factories import OSLO, north_of, search, shop_with_offer
from tests.merchants.factories import LocationFactory, MerchantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["index", "portable"])
def search_path(request, monkeypatch):
    """Every test runs twice: through the distance index (PostgreSQL) and through the portable path
    (a bounding box and distances in Python, as on SQLite), which must give the same answers."""
    if request.param == "index" and connection.vendor != "postgresql":
        pytest.skip("the distance index needs PostgreSQL")
    if request.param == "portable":
        monkeypatch.setattr("geofencing.selectors.distance_index_available", lambda: False)
    return request.param


def _ids(page):
    return [item.offer.pk for item in page.offers]


def test_offers_come_nearest_first_with_their_distance():
    _, far = shop_with_offer(*north_of(OSLO, 8_000))
    _, near = shop_with_offer(*north_of(OSLO, 300))
    _, middle = shop_with_offer(*north_of(OSLO, 2_500))
    shop_with_offer(*north_of(OSLO, 12_000))  # outside the 10 km radius

    page = nearby_offers(search=search(radius_km=10))

    assert _ids(page) == [near.pk, middle.pk, far.pk]
    assert [item.distance_m for item in page.offers] == pytest.approx([300, 2_500, 8_000], abs=2)
    assert [shop.distance_m for shop in page.offers[0].shops] == [page.offers[0].distance_m]
    assert not page.has_next


def test_suspended_merchants_and_offers_not_live_never_appear():
    point = north_of(OSLO, 100)
    _, shown = shop_with_offer(*point)
    for status in (Merchant.Status.SUSPENDED, Merchant.Status.PENDING_REVIEW, Merchant.Status.REJECTED):
        shop_with_offer(*point, merchant=MerchantFactory(status=status))
    for status in set(OfferStatus) - {OfferStatus.LIVE}:
        shop_with_offer(*point, status=status)
    now = timezone.now()
    shop_with_offer(*point, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=5))  # not started
    shop_with_offer(*point, starts_at=now - timedelta(days=5), ends_at=now - timedelta(minutes=1))  # over

    assert _ids(nearby_offers(search=search())) == [shown.pk]


def test_an_offer_for_some_shops_is_as_near_as_the_nearest_of_those():
    merchant = MerchantFactory()
    near_shop = LocationFactory(merchant=merchant, latitude=north_of(OSLO, 200)[0], longitude=OSLO[1])
    named_shop = LocationFactory(merchant=merchant, latitude=north_of(OSLO, 4_000)[0], longitude=OSLO[1])
    everywhere = OfferFactory(merchant=merchant)
    only_there = OfferFactory(merchant=merchant)
    only_there.locations.set([named_shop])

    page = nearby_offers(search=search())

    by_id = {item.offer.pk: item for item in page.offers}
    assert _ids(page) == [everywhere.pk, only_there.pk]
    assert [s.location.pk for s in by_id[everywhere.pk].shops] == [near_shop.pk, named_shop.pk]
    assert [s.location.pk for s in by_id[only_there.pk].shops] == [named_shop.pk]
    assert by_id[only_there.pk].distance_m == pytest.approx(4_000, abs=2)


def test_each_offer_lists_its_nearest_shops_only():
    merchant = MerchantFactory()
    for metres in range(100, 1_100, 100):
        LocationFactory(merchant=merchant, latitude=north_of(OSLO, metres)[0], longitude=OSLO[1])
    OfferFactory(merchant=merchant)

    [item] = nearby_offers(search=search()).offers

    assert [shop.distance_m for shop in item.shops] == pytest.approx([100, 200, 300, 400, 500], abs=2)
    assert len(item.shops) == SHOPS_PER_OFFER


def test_filters_by_merchant_category_and_name():
    cafe = MerchantFactory(display_name="Kaffebrenneriet", category_code="5814")
    grocer = MerchantFactory(display_name="Rema 1000", category_code="5411")
    odd = MerchantFactory(display_name="100% Odd_shop", category_code="7399")
    _, coffee = shop_with_offer(*north_of(OSLO, 100), merchant=cafe, title="Morning coffee")
    _, food = shop_with_offer(*north_of(OSLO, 200), merchant=grocer, title="Weekly shop")
    _, other = shop_with_offer(*north_of(OSLO, 300), merchant=odd, title="Anything")

    assert _ids(nearby_offers(search=search(merchant_id=grocer.pk))) == [food.pk]
    assert _ids(nearby_offers(search=search(category="cafes"))) == [coffee.pk]
    assert _ids(nearby_offers(search=search(category="groceries"))) == [food.pk]
    assert _ids(nearby_offers(search=search(category="other"))) == [other.pk]
    assert _ids(nearby_offers(search=search(q="KAFFE"))) == [coffee.pk]
    assert _ids(nearby_offers(search=search(q="weekly"))) == [food.pk]
    assert _ids(nearby_offers(search=search(q="100%"))) == [other.pk]
    assert _ids(nearby_offers(search=search(q="d_s"))) == [other.pk]  # "_" is a letter, not a wildcard
    assert _ids(nearby_offers(search=search(q="%"))) == [other.pk]


def test_pages_follow_on_without_gaps_or_repeats():
    offers = [shop_with_offer(*north_of(OSLO, 100 * (n + 1)))[1] for n in range(7)]
    merchant = offers[0].merchant
    offers.insert(1, OfferFactory(merchant=merchant))  # a second offer at the nearest shop: same distance

    pages = [nearby_offers(search=search(), page=n, page_size=3) for n in (1, 2, 3, 4)]

    assert [page.has_next for page in pages] == [True, True, False, False]
    assert [offer_id for page in pages for offer_id in _ids(page)] == [offer.pk for offer in offers]


def test_no_shops_near_gives_an_empty_page():
    shop_with_offer(*north_of(OSLO, 60_000))

    page = nearby_offers(search=search(radius_km=50))

    assert page.offers == [] and not page.has_next


def test_distances_are_great_circle_distances():
    tromso = ("69.649200", "18.955300")
    location, offer = shop_with_offer("69.681000", "18.977000")

    [item] = nearby_offers(search=search(point=(Decimal(tromso[0]), Decimal(tromso[1])), radius_km=5)).offers

    expected = haversine_m(float(tromso[0]), float(tromso[1]), float(location.latitude), float(location.longitude))
    assert item.offer == offer
    assert item.distance_m == pytest.approx(expected, abs=1)
