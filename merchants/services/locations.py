"""Shops: addresses, coordinates (geocoded when not given) and their card-network ids."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError

from cashback.events import announce
from cashback.providers.geocoder import Coordinates, get_geocoder
from merchants.errors import (
    DuplicateNetworkIdsError,
    InvalidCoordinatesError,
    InvalidNetworkIdsError,
    LocationInUseError,
)
from merchants.models import (
    Location,
    Merchant,
)
from merchants.services.audit import AuditAction, audit_record
from merchants.validators import (
    validate_country,
    validate_opening_hours,
    validate_time_zone,
)

if TYPE_CHECKING:
    from accounts.models import User

# --- Locations -------------------------------------------------------------------------------

ADDRESS_FIELDS = ("street", "postcode", "city", "country")
LOCATION_FIELDS = (
    "name",
    *ADDRESS_FIELDS,
    "latitude",
    "longitude",
    "time_zone",
    "opening_hours",
    "network_merchant_id",
    "network_store_id",
)


def _validate_coordinates(latitude: Decimal | None, longitude: Decimal | None) -> Coordinates | None:
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None or not (-90 <= latitude <= 90) or not (-180 <= longitude <= 180):
        raise InvalidCoordinatesError(fields={"latitude": [InvalidCoordinatesError.default_message]})
    return Coordinates.of(latitude, longitude)


def _validate_network_ids(*, merchant_id: str, store_id: str, exclude_pk: int | None) -> tuple[str, str]:
    merchant_id, store_id = merchant_id.strip(), store_id.strip()
    if bool(merchant_id) != bool(store_id):
        raise InvalidNetworkIdsError(
            fields={
                "network_store_id" if merchant_id else "network_merchant_id": [InvalidNetworkIdsError.default_message]
            }
        )
    if merchant_id:
        clash = Location.objects.filter(network_merchant_id=merchant_id, network_store_id=store_id)
        if exclude_pk is not None:
            clash = clash.exclude(pk=exclude_pk)
        if clash.exists():
            raise _duplicate_network_ids()
    return merchant_id, store_id


def _duplicate_network_ids() -> DuplicateNetworkIdsError:
    message = DuplicateNetworkIdsError.default_message
    return DuplicateNetworkIdsError(message, fields={"network_store_id": [message]})


def _geocode(*, street: str, postcode: str, city: str, country: str) -> Coordinates | None:
    return get_geocoder().geocode(street=street, postcode=postcode, city=city, country=country)


def _save_location(location: Location) -> None:
    try:
        with transaction.atomic():
            location.save()
    except IntegrityError as error:
        # Only the network-id pair is unique; the check before was overtaken by a concurrent save.
        raise _duplicate_network_ids() from error


def location_create(
    *,
    merchant: Merchant,
    actor: User,
    name: str,
    street: str,
    postcode: str,
    city: str,
    country: str,
    time_zone: str = "Europe/Oslo",
    opening_hours: dict | None = None,
    network_merchant_id: str = "",
    network_store_id: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Location:
    """Add a shop. Coordinates given by hand win; otherwise the address is geocoded, and a failed
    lookup leaves the shop without a map position (flagged in lists) rather than failing."""
    country = validate_country(country)
    time_zone = validate_time_zone(time_zone)
    opening_hours = validate_opening_hours(opening_hours or {})
    coordinates = _validate_coordinates(latitude, longitude)
    network_merchant_id, network_store_id = _validate_network_ids(
        merchant_id=network_merchant_id, store_id=network_store_id, exclude_pk=None
    )
    address = {"street": street.strip(), "postcode": postcode.strip(), "city": city.strip(), "country": country}
    geocoded = coordinates is None
    if geocoded:
        coordinates = _geocode(**address)
    location = Location(
        merchant=merchant,
        name=name.strip(),
        **address,
        latitude=coordinates.latitude if coordinates else None,
        longitude=coordinates.longitude if coordinates else None,
        time_zone=time_zone,
        opening_hours=opening_hours,
        network_merchant_id=network_merchant_id,
        network_store_id=network_store_id,
    )
    with transaction.atomic():
        _save_location(location)
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.LOCATION_CREATED,
            details={
                "location": location.pk,
                "name": location.name,
                "position": "geocoded" if geocoded and coordinates else "manual" if coordinates else "missing",
            },
        )
        if location.network_merchant_id:
            announce("location_registered", location_id=location.pk, merchant_id=merchant.pk)
    return location


def location_update(
    *,
    location: Location,
    actor: User,
    name: str,
    street: str,
    postcode: str,
    city: str,
    country: str,
    time_zone: str,
    opening_hours: dict | None,
    network_merchant_id: str,
    network_store_id: str,
    latitude: Decimal | None,
    longitude: Decimal | None,
) -> Location:
    """Change a shop. Coordinates changed by hand win; otherwise an address change is geocoded again
    (no result: the shop loses its now wrong map position)."""
    country = validate_country(country)
    time_zone = validate_time_zone(time_zone)
    opening_hours = validate_opening_hours(opening_hours or {})
    coordinates = _validate_coordinates(latitude, longitude)
    network_merchant_id, network_store_id = _validate_network_ids(
        merchant_id=network_merchant_id, store_id=network_store_id, exclude_pk=location.pk
    )
    address = {"street": street.strip(), "postcode": postcode.strip(), "city": city.strip(), "country": country}
    stored = Coordinates.of(location.latitude, location.longitude) if location.has_map_position else None
    address_changed = any(getattr(location, field) != value for field, value in address.items())
    if coordinates == stored and address_changed:
        coordinates = _geocode(**address)
    new = {
        "name": name.strip(),
        **address,
        "latitude": coordinates.latitude if coordinates else None,
        "longitude": coordinates.longitude if coordinates else None,
        "time_zone": time_zone,
        "opening_hours": opening_hours,
        "network_merchant_id": network_merchant_id,
        "network_store_id": network_store_id,
    }
    changes = {
        field: {"from": getattr(location, field), "to": value}
        for field, value in new.items()
        if getattr(location, field) != value
    }
    if not changes:
        return location
    with transaction.atomic():
        locked = Location.objects.select_for_update().get(pk=location.pk)
        for field, value in new.items():
            setattr(locked, field, value)
        _save_location(locked)
        audit_record(
            merchant=locked.merchant,
            actor=actor,
            action=AuditAction.LOCATION_UPDATED,
            details={"location": locked.pk, "name": locked.name, "changes": changes},
        )
        if locked.network_merchant_id and ({"network_merchant_id", "network_store_id"} & changes.keys()):
            announce("location_registered", location_id=locked.pk, merchant_id=locked.merchant_id)
    for field, value in new.items():
        setattr(location, field, value)
    return location


def location_delete(*, location: Location, actor: User) -> None:
    """Delete a shop that nothing refers to (purchases and offers keep theirs: then it cannot go)."""
    try:
        with transaction.atomic():
            audit_record(
                merchant=location.merchant,
                actor=actor,
                action=AuditAction.LOCATION_DELETED,
                details={
                    "location": location.pk,
                    "name": location.name,
                    "network_ids": [
                        location.network_merchant_id,
                        location.network_store_id,
                    ],
                },
            )
            location.delete()
    except (ProtectedError, RestrictedError) as error:
        raise LocationInUseError() from error
