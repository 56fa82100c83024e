"""Places a person names (a town, a postcode, their profile's city) as coordinates, through the geocoder."""

from __future__ import annotations

from cashback.providers.geocoder import Coordinates, get_geocoder

# The country places are looked up in: the platform's shops are in Norway for now (the geocoder needs one).
HOME_COUNTRY = "NO"


def place_coordinates(*, place: str, country: str = HOME_COUNTRY) -> Coordinates | None:
    """A typed place as coordinates: four digits are a postcode, anything else a town; None if not found."""
    place = " ".join(place.split())
    if not place:
        return None
    if place.isdigit():
        return get_geocoder().geocode(street="", postcode=place, city="", country=country)
    return get_geocoder().geocode(street="", postcode="", city=place, country=country)
