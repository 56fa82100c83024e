"""What a geofence report reads (docs/geofencing.md): the shops within the geofence radius that have a
live offer, nearest first, with the offers that apply at each — in one query — then those offers with
their merchant, minimum tier and named shops in a second.

A report comes from every phone about once a minute, so its reads are counted (the query-count test in
``tests/geofencing/test_geofence.py``). The wallet's nearby search (``selectors.nearby_offers``) pages
through offers over kilometres and loads their shops afterwards; a geofence needs only the few shops
within a few hundred metres, so the distance query itself returns the shops' columns and the ids of the
offers that apply there, and the offers come in one more query with everything eligibility reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import OuterRef, Subquery

from campaigns.eligibility import ELIGIBILITY_SELECT, named_locations
from campaigns.models import Offer, OfferStatus
from geofencing.selectors import (
    _CENTRE,
    _LOCATION,
    _MERCHANT,
    _OFFER,
    _OFFER_LOCATIONS,
    _POINT,
    SHOPS_PER_OFFER,
    NearbySearch,
    _bounding_box,
    chord_m,
    distance_index_available,
    haversine_m,
    surface_m,
)
from merchants.models import Location, Merchant

# Offers read per report: the nearest ones within the radius.
OFFERS_PER_REPORT = 8
# The nearest shops read per report; a geofence radius (a few hundred metres) rarely holds more.
STREAM_SHOPS = 50


@dataclass(frozen=True)
class GeofenceShop:
    """A shop within the radius and the ids of the chosen offers that apply there (in id order)."""

    location_id: int
    merchant_id: int
    name: str
    latitude: Decimal
    longitude: Decimal
    time_zone: str
    distance_m: int
    offer_ids: tuple[int, ...]


@dataclass(frozen=True)
class GeofenceCandidates:
    shops: list[GeofenceShop]  # nearest first (ties: the shop id)
    offers: dict[int, Offer]  # loaded with the merchant and ``ELIGIBILITY_SELECT``
    named: dict[int, frozenset[int]]  # the shops each offer names (absent: every shop of its merchant)


# A shop of the stream: id, merchant id, name, latitude, longitude, time zone, distance (m), offer ids.
_StreamRow = tuple[int, int, str, Decimal, Decimal, str, float, list[int]]


def geofence_candidates(*, search: NearbySearch, at: datetime) -> GeofenceCandidates:
    """The shops within ``search.radius_m`` that have a live offer of an approved merchant applying
    there, nearest first, limited to the nearest ``OFFERS_PER_REPORT`` offers and ``SHOPS_PER_OFFER``
    shops per offer; with those offers loaded. Two queries (one when no shop is near)."""
    stream = _pg_stream(search, at) if distance_index_available() else _portable_stream(search, at)
    chosen: list[int] = []
    shops_per_offer: dict[int, int] = {}
    shops: list[GeofenceShop] = []
    for location_id, merchant_id, name, latitude, longitude, time_zone, distance, offer_ids in stream:
        kept = []
        for offer_id in offer_ids:
            if offer_id not in shops_per_offer:
                if len(chosen) == OFFERS_PER_REPORT:
                    continue
                chosen.append(offer_id)
                shops_per_offer[offer_id] = 0
            if shops_per_offer[offer_id] < SHOPS_PER_OFFER:
                shops_per_offer[offer_id] += 1
                kept.append(offer_id)
        if kept:
            shops.append(
                GeofenceShop(
                    location_id=location_id,
                    merchant_id=merchant_id,
                    name=name,
                    latitude=latitude,
                    longitude=longitude,
                    time_zone=time_zone,
                    distance_m=round(distance),
                    offer_ids=tuple(kept),
                )
            )
    if not chosen:
        return GeofenceCandidates(shops=[], offers={}, named={})
    offers, named = _offers(chosen)
    return GeofenceCandidates(shops=shops, offers=offers, named=named)


def _offers(offer_ids: list[int]) -> tuple[dict[int, Offer], dict[int, frozenset[int]]]:
    """The offers with their merchant, what eligibility reads, and (on PostgreSQL, in the same query)
    the shops each names."""
    queryset = Offer.objects.filter(pk__in=offer_ids).select_related("merchant", *ELIGIBILITY_SELECT)
    if connection.vendor != "postgresql":
        return queryset.in_bulk(), named_locations(offer_ids=offer_ids)
    links = (
        Offer.locations.through.objects.filter(offer_id=OuterRef("pk"))
        .values("offer_id")
        .annotate(ids=ArrayAgg("location_id"))
        .values("ids")  # type: ignore[misc]  # the stubs do not see the annotation just made
    )
    offers: dict[int, Offer] = dict(queryset.annotate(named_ids=Subquery(links)).in_bulk())
    named = {pk: frozenset(getattr(offer, "named_ids", None) or ()) for pk, offer in offers.items()}
    return offers, {pk: ids for pk, ids in named.items() if ids}


def _pg_stream(search: NearbySearch, at: datetime) -> list[_StreamRow]:
    """The nearest ``STREAM_SHOPS`` shops through the distance index's nearest-first scan, cut at the
    radius, each with its columns and the live offers applying there (ids in order). The offers are
    looked up (the partial index ``offer_live_by_merchant``) only for the shops within the radius."""
    sql = (
        "SELECT near.id, near.merchant_id, near.name, near.latitude, near.longitude, near.time_zone, near.chord,"  # noqa: S608 - table names from the models; values are parameters
        f" ARRAY(SELECT o.id FROM {_OFFER} o JOIN {_MERCHANT} m ON m.id = o.merchant_id"
        " WHERE o.merchant_id = near.merchant_id AND m.status = %s"
        " AND o.status = %s AND o.starts_at <= %s AND o.ends_at > %s"
        f" AND (NOT EXISTS (SELECT 1 FROM {_OFFER_LOCATIONS} ol WHERE ol.offer_id = o.id)"
        f"  OR EXISTS (SELECT 1 FROM {_OFFER_LOCATIONS} ol WHERE ol.offer_id = o.id AND ol.location_id = near.id))"
        " ORDER BY o.id)"
        " FROM (SELECT l.id, l.merchant_id, l.name, l.latitude, l.longitude, l.time_zone,"
        f" {_POINT} <-> {_CENTRE} AS chord FROM {_LOCATION} l"
        " WHERE l.latitude IS NOT NULL AND l.longitude IS NOT NULL"
        f" ORDER BY {_POINT} <-> {_CENTRE} LIMIT %s) near"
        " WHERE near.chord <= %s ORDER BY near.chord, near.id"
    )
    centre = [search.latitude, search.longitude]
    params: list[Any] = [Merchant.Status.APPROVED, OfferStatus.LIVE, at, at, *centre, *centre, STREAM_SHOPS]
    params.append(chord_m(search.radius_m))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(*row[:6], surface_m(row[6]), row[7]) for row in cursor.fetchall()]


def _portable_stream(search: NearbySearch, at: datetime) -> list[_StreamRow]:
    """The same stream on any database (the embedded SQLite): a bounding box, distances in Python."""
    lat, lng = float(search.latitude), float(search.longitude)
    near = []
    for location in Location.objects.filter(_bounding_box(search)).only(
        "id", "merchant_id", "name", "latitude", "longitude", "time_zone"
    ):
        distance = haversine_m(lat, lng, float(location.latitude), float(location.longitude))  # type: ignore[arg-type]  # the box excludes empty coordinates
        if distance <= search.radius_m:
            near.append((distance, location.pk, location))
    near.sort(key=lambda item: (item[0], item[1]))
    near = near[:STREAM_SHOPS]
    live = Offer.objects.filter(
        merchant_id__in={location.merchant_id for _, _, location in near},
        merchant__status=Merchant.Status.APPROVED,
        status=OfferStatus.LIVE,
        starts_at__lte=at,
        ends_at__gt=at,
    ).order_by("id")
    by_merchant: dict[int, list[int]] = {}
    for offer_id, merchant_id in live.values_list("id", "merchant_id"):
        by_merchant.setdefault(merchant_id, []).append(offer_id)
    named = named_locations(offer_ids=[offer_id for ids in by_merchant.values() for offer_id in ids])
    return [
        (
            location.pk,
            location.merchant_id,
            location.name,
            location.latitude or Decimal(0),
            location.longitude or Decimal(0),
            location.time_zone,
            distance,
            [
                offer_id
                for offer_id in by_merchant.get(location.merchant_id, ())
                if offer_id not in named or location.pk in named[offer_id]
            ],
        )
        for distance, _, location in near
    ]
