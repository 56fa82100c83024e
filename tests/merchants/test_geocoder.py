"""The geocoder provider: the fake's table, Nominatim through geopy with a fake HTTP adapter (no network)."""

from decimal import Decimal

import pytest
from geopy.adapters import BaseSyncAdapter
from geopy.exc import GeocoderServiceError, GeocoderTimedOut

from cashback.providers.geocoder import Coordinates, FakeGeocoder, NominatimGeocoder, get_geocoder


def test_fake_geocoder_knows_norwegian_postcodes():
    found = FakeGeocoder().geocode(street="Karl Johans gate 1", postcode="0154", city="Oslo", country="NO")

    assert found == Coordinates(latitude=Decimal("59.911500"), longitude=Decimal("10.750500"))


def test_fake_geocoder_falls_back_to_the_city():
    found = FakeGeocoder().geocode(street="Bryggen 1", postcode="5999", city="Bergen", country="NO")

    assert found == Coordinates.of("60.391300", "5.322100")


def test_fake_geocoder_returns_none_for_unknown_addresses():
    assert FakeGeocoder().geocode(street="Nowhere 1", postcode="9999", city="Atlantis", country="NO") is None


class FakeNominatimAdapter(BaseSyncAdapter):
    """Stands in for geopy's HTTP adapter: records the request and answers from ``answer``."""

    requests: list[dict] = []
    answer: object = []

    def get_json(self, url, *, timeout, headers):
        type(self).requests.append({"url": url, "timeout": timeout, "headers": headers})
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def get_text(self, url, *, timeout, headers):  # pragma: no cover - Nominatim asks for JSON
        raise NotImplementedError


@pytest.fixture
def nominatim():
    FakeNominatimAdapter.requests = []
    FakeNominatimAdapter.answer = []
    return NominatimGeocoder(user_agent="cashback-tests/1.0", timeout=3, adapter_factory=FakeNominatimAdapter)


def test_nominatim_sends_a_structured_query_with_our_user_agent(nominatim):
    FakeNominatimAdapter.answer = [{"lat": "59.9115123", "lon": "10.7505987", "display_name": "Karl Johans gate 1"}]

    found = nominatim.geocode(street="Karl Johans gate 1", postcode="0154", city="Oslo", country="NO")

    assert found == Coordinates(latitude=Decimal("59.911512"), longitude=Decimal("10.750599"))
    [request] = FakeNominatimAdapter.requests
    assert "street=Karl+Johans+gate+1" in request["url"]
    assert "postalcode=0154" in request["url"]
    assert "countrycodes=no" in request["url"]
    assert request["headers"]["User-Agent"] == "cashback-tests/1.0"
    assert request["timeout"] == 3


def test_nominatim_returns_none_when_nothing_is_found(nominatim):
    FakeNominatimAdapter.answer = []

    assert nominatim.geocode(street="Nowhere 1", postcode="0000", city="Oslo", country="NO") is None


@pytest.mark.parametrize("failure", [GeocoderTimedOut("slow"), GeocoderServiceError("502")])
def test_nominatim_failures_give_none_instead_of_raising(nominatim, failure):
    FakeNominatimAdapter.answer = failure

    assert nominatim.geocode(street="Karl Johans gate 1", postcode="0154", city="Oslo", country="NO") is None


def test_get_geocoder_follows_the_setting(settings):
    settings.GEOCODER_PROVIDER = "fake"
    assert isinstance(get_geocoder(), FakeGeocoder)

    settings.GEOCODER_PROVIDER = "nominatim"
    assert isinstance(get_geocoder(), NominatimGeocoder)

    settings.GEOCODER_PROVIDER = "carrier-pigeon"
    with pytest.raises(NotImplementedError):
        get_geocoder()
