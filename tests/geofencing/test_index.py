"""The search on PostgreSQL: it reads shops through the distance index, never every shop, and for any
shops and any point it finds exactly the offers a brute-force great-circle search finds."""

import math
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import OfferStatus
from geofencing.selectors import haversine_m, nearby_offers
from merchants.models import Location, Merchant
from tests.campaigns.factories import OfferFactory
from tests.geofencing.factories import OSLO, search
from tests.merchants.factories import LocationFactory, MerchantFactory

SHOPS = 12_000


def _spread_shops(merchants, count: int) -> None:
    """``count`` shops on a grid over southern Norway, shared round the given merchants."""
    side = math.isqrt(count) + 1
    Location.objects.bulk_create(
        Location(
            merchant=merchants[n % len(merchants)],
            name=f"Shop {n}",
            street="Storgata 1",
            postcode="0150",
            city="Oslo",
            country="NO",
            latitude=Decimal("58.0") + Decimal(n // side) * Decimal("0.03"),
            longitude=Decimal("5.0") + Decimal(n % side) * Decimal("0.06"),
        )
        for n in range(count)
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_search_reads_shops_through_the_distance_index_not_every_shop():
    """The stream walks the GiST index nearest first; the shops listed with the page's offers are read by
    merchant; neither reads every shop."""
    merchants = MerchantFactory.create_batch(40)
    for merchant in merchants:
        OfferFactory(merchant=merchant)
    _spread_shops(merchants, SHOPS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE merchants_location; ANALYZE merchants_merchant; ANALYZE campaigns_offer")

    with CaptureQueriesContext(connection) as queries:
        page = nearby_offers(search=search(point=OSLO, radius_km=20))
    assert page.offers  # the grid reaches Oslo

    plans = []
    for query in queries.captured_queries:
        if "geofencing_earth_point" in query["sql"]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + query["sql"])
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert len(plans) == 2  # the stream of nearest shops, and the shops listed with the page's offers
    stream, listed = plans
    assert "Index Scan using geofencing_location_earth on merchants_location" in stream, stream
    assert "merchants_location_merchant_id" in listed, listed  # the page's merchants' shops, by merchant
    for plan in plans:
        assert "Seq Scan on merchants_location" not in plan, plan


# Shops within about 15 km of Oslo: offsets in metres north and east, an offer status, a merchant status.
shop_strategy = st.tuples(
    st.integers(-15_000, 15_000),
    st.integers(-15_000, 15_000),
    st.sampled_from([OfferStatus.LIVE, OfferStatus.LIVE, OfferStatus.PAUSED]),
    st.booleans(),
)


def _offset(metres_north: int, metres_east: int) -> tuple[Decimal, Decimal]:
    lat = OSLO[0] + Decimal(metres_north / 111_319.5)
    lng = OSLO[1] + Decimal(metres_east / (111_319.5 * math.cos(math.radians(float(lat)))))
    return lat.quantize(Decimal("0.000001")), lng.quantize(Decimal("0.000001"))


@pytest.mark.django_db
@pytest.mark.parametrize("portable", [False, True], ids=["index", "portable"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shops=st.lists(shop_strategy, max_size=12), radius_km=st.integers(1, 12), page_size=st.integers(1, 5))
def test_the_search_finds_what_a_brute_force_search_finds(monkeypatch, portable, shops, radius_km, page_size):
    if not portable and connection.vendor != "postgresql":
        pytest.skip("the distance index needs PostgreSQL")
    monkeypatch.setattr("geofencing.selectors.distance_index_available", lambda: not portable)
    with transaction.atomic():
        expected, borderline = {}, set()
        radius_m = radius_km * 1000
        for north, east, offer_status, suspended in shops:
            status = Merchant.Status.SUSPENDED if suspended else Merchant.Status.APPROVED
            merchant = MerchantFactory(status=status)
            lat, lng = _offset(north, east)
            LocationFactory(merchant=merchant, latitude=lat, longitude=lng)
            offer = OfferFactory(merchant=merchant, status=offer_status)
            distance = haversine_m(float(OSLO[0]), float(OSLO[1]), float(lat), float(lng))
            if offer_status == OfferStatus.LIVE and not suspended:
                if distance < radius_m - 1:
                    expected[offer.pk] = distance
                elif distance <= radius_m + 1:
                    borderline.add(offer.pk)  # within a metre of the edge: rounding may go either way

        found, page = [], 1
        while True:
            result = nearby_offers(search=search(radius_km=radius_km), page=page, page_size=page_size)
            found += [(item.offer.pk, item.distance_m) for item in result.offers]
            if not result.has_next:
                break
            page += 1

        found_ids = [offer_id for offer_id, _ in found]
        assert len(found_ids) == len(set(found_ids))
        assert set(expected) <= set(found_ids) <= set(expected) | borderline
        distances = [distance for _, distance in found]
        assert distances == sorted(distances)
        for offer_id, distance in found:
            if offer_id in expected:
                assert distance == pytest.approx(expected[offer_id], abs=1)
        transaction.set_rollback(True)
