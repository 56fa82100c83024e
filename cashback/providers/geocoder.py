"""Geocoder interface: an address in, coordinates (or None) out.

``settings.GEOCODER_PROVIDER`` picks the client: ``fake`` (default; a fixed table of Nordic
postcodes and cities, no network) or ``nominatim`` (OpenStreetMap's Nominatim through geopy;
``GEOCODER_USER_AGENT`` identifies us as its usage policy asks). A geocoder never raises for a
lookup that fails — an unknown address, a timeout, a service error all give None, and the caller
keeps the shop without a map position.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from django.conf import settings
from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

logger = logging.getLogger(__name__)

_SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class Coordinates:
    latitude: Decimal
    longitude: Decimal

    @classmethod
    def of(cls, latitude: Any, longitude: Any) -> "Coordinates":
        """Coordinates rounded to six decimals (about 0.1 m), as the location columns store them."""
        return cls(
            latitude=Decimal(str(latitude)).quantize(_SIX_PLACES, rounding=ROUND_HALF_UP),
            longitude=Decimal(str(longitude)).quantize(_SIX_PLACES, rounding=ROUND_HALF_UP),
        )


class Geocoder(Protocol):
    def geocode(self, *, street: str, postcode: str, city: str, country: str) -> Coordinates | None: ...


# Postcode (country, postcode) → coordinates of its centre; then city names. Enough for development,
# the demo and tests; everything else is "not found".
_FAKE_POSTCODES: dict[tuple[str, str], tuple[str, str]] = {
    ("NO", "0150"): ("59.910700", "10.746000"),
    ("NO", "0151"): ("59.911800", "10.747900"),
    ("NO", "0154"): ("59.911500", "10.750500"),
    ("NO", "0182"): ("59.917000", "10.758000"),
    ("NO", "0250"): ("59.911000", "10.729000"),
    ("NO", "0355"): ("59.929000", "10.716000"),
    ("NO", "0557"): ("59.924000", "10.759000"),
    ("NO", "5003"): ("60.393000", "5.324000"),
    ("NO", "7011"): ("63.432000", "10.396000"),
    ("NO", "4006"): ("58.970000", "5.733000"),
    ("NO", "9008"): ("69.649000", "18.956000"),
    ("SE", "11122"): ("59.332600", "18.064900"),
    ("DK", "1050"): ("55.679800", "12.585000"),
    ("FI", "00100"): ("60.169900", "24.938400"),
}
_FAKE_CITIES: dict[tuple[str, str], tuple[str, str]] = {
    ("NO", "oslo"): ("59.913900", "10.752200"),
    ("NO", "bergen"): ("60.391300", "5.322100"),
    ("NO", "trondheim"): ("63.430500", "10.395100"),
    ("NO", "stavanger"): ("58.969700", "5.733100"),
    ("NO", "tromsø"): ("69.649200", "18.955300"),
    ("SE", "stockholm"): ("59.329300", "18.068600"),
    ("DK", "københavn"): ("55.676100", "12.568300"),
    ("DK", "copenhagen"): ("55.676100", "12.568300"),
    ("FI", "helsinki"): ("60.169900", "24.938400"),
}


class FakeGeocoder:
    """Deterministic geocoder: a known postcode wins, then a known city; otherwise None."""

    def geocode(self, *, street: str, postcode: str, city: str, country: str) -> Coordinates | None:
        country = (country or "").upper()
        postcode = "".join((postcode or "").split())
        found = _FAKE_POSTCODES.get((country, postcode)) or _FAKE_CITIES.get((country, (city or "").strip().lower()))
        return Coordinates.of(*found) if found else None


class NominatimGeocoder:
    """OpenStreetMap Nominatim through geopy, with a structured query and a short timeout."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float = 5.0,
        domain: str = "nominatim.openstreetmap.org",
        adapter_factory: Callable[..., Any] | None = None,
    ) -> None:
        options: dict[str, Any] = {"user_agent": user_agent, "timeout": timeout, "domain": domain}
        if adapter_factory is not None:
            options["adapter_factory"] = adapter_factory
        self._client = Nominatim(**options)

    def geocode(self, *, street: str, postcode: str, city: str, country: str) -> Coordinates | None:
        query = {"street": street, "postalcode": postcode, "city": city, "country": country}
        query = {key: value.strip() for key, value in query.items() if value and value.strip()}
        try:
            found = self._client.geocode(query, exactly_one=True, country_codes=[country.lower()] if country else None)
        except GeopyError:
            logger.warning("Geocoding failed for %s", query, exc_info=True)
            return None
        if found is None:
            return None
        return Coordinates.of(found.latitude, found.longitude)


def get_geocoder() -> Geocoder:
    provider = settings.GEOCODER_PROVIDER
    if provider == "fake":
        return FakeGeocoder()
    if provider == "nominatim":
        return NominatimGeocoder(
            user_agent=settings.GEOCODER_USER_AGENT,
        )
    raise NotImplementedError(f"Geocoder provider {provider!r} is not available (use 'fake' or 'nominatim').")
