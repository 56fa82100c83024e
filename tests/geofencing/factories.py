"""Shops with live offers at given points, for the nearby-search tests."""

from decimal import Decimal

from geofencing.selectors import NearbySearch
from tests.campaigns.factories import OfferFactory
from tests.merchants.factories import LocationFactory, MerchantFactory

OSLO = (Decimal("59.913900"), Decimal("10.752200"))


def shop_with_offer(lat, lng, *, merchant=None, **offer_fields):
    """A shop at (lat, lng) of an approved merchant (a new one unless given) with one live offer."""
    merchant = merchant or MerchantFactory()
    location = LocationFactory(merchant=merchant, latitude=Decimal(str(lat)), longitude=Decimal(str(lng)))
    offer = OfferFactory(merchant=merchant, **offer_fields)
    return location, offer


def north_of(point, metres: float) -> tuple[Decimal, Decimal]:
    """A point ``metres`` due north (one degree of latitude is 111.32 km on earthdistance's sphere)."""
    lat, lng = point
    return (lat + Decimal(metres / 111_319.5).quantize(Decimal("0.000001")), lng)


def search(point=OSLO, radius_km: float = 10, **filters) -> NearbySearch:
    return NearbySearch(latitude=point[0], longitude=point[1], radius_m=int(radius_km * 1000), **filters)
