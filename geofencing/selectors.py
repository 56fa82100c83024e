"""Nearby offers: the live offers of approved merchants at their shops near a point, nearest first.

How (docs/nearby.md): on PostgreSQL one query walks the GiST index ``geofencing_location_earth``
nearest shop first (a k-nearest-neighbour scan that stops after ``limit`` shops) and lists, for each
of those shops, the live offers of its approved merchant that apply there. An offer's distance is
that of its nearest such shop, so the first time an offer comes up in that stream is its place in the
list; the stream ends at the radius. A page of offers therefore reads about a page's worth of shops
near the point, whatever the number of shops in the country (filters that few offers match read more
of the stream, never more than the shops within the radius). Then the page's offers, their nearest
shops and (in the caller) the consumer's eligibility are loaded in a bounded number of queries.

SQLite (the embedded ``make run``) takes a bounding box on the coordinates and computes distances in
Python: the same answers, for a small database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from campaigns.eligibility import ELIGIBILITY_SELECT, Eligibility, Shop, named_locations, offers_eligibility
from campaigns.models import Offer, OfferStatus
from merchants.categories import OTHER, codes_in_some_category, shop_category_by_slug
from merchants.models import Location, Merchant

if TYPE_CHECKING:
    from accounts.models import User

# The radius the earthdistance extension gives the Earth (``earth()``), in metres: distances here and
# in the index agree to the metre.
EARTH_RADIUS_M = 6_378_168.0
DEFAULT_RADIUS_KM = 10
MAX_RADIUS_KM = 50
SHOPS_PER_OFFER = 5  # the nearest shops listed with each offer
# Shops of the stream read at first per offer wanted (chains repeat their offers), at least
# STREAM_MIN_SHOPS; doubled while short.
STREAM_SHOPS_PER_OFFER = 2
STREAM_MIN_SHOPS = 50

_LOCATION = Location._meta.db_table
_MERCHANT = Merchant._meta.db_table
_OFFER = Offer._meta.db_table
_OFFER_LOCATIONS = Offer.locations.through._meta.db_table


@dataclass(frozen=True)
class NearbySearch:
    """A validated search: a point, a radius in metres and optional filters (see ``geofencing.serializers``)."""

    latitude: Decimal
    longitude: Decimal
    radius_m: int
    merchant_id: int | None = None
    category: str = ""
    q: str = ""


@dataclass(frozen=True)
class NearbyShop:
    location: Location
    distance_m: int


@dataclass
class NearbyOffer:
    offer: Offer
    distance_m: int  # to its nearest shop
    shops: list[NearbyShop] = field(default_factory=list)
    named: frozenset[int] = frozenset()  # the shops the offer is limited to; empty: every shop of its merchant


@dataclass(frozen=True)
class NearbyPage:
    offers: list[NearbyOffer]
    page: int
    page_size: int
    has_next: bool


def distance_index_available() -> bool:
    """Whether the database has the distance index (PostgreSQL, migration geofencing 0001)."""
    return connection.vendor == "postgresql"


def chord_m(distance_m: float) -> float:
    """The straight-line distance through the Earth between two points ``distance_m`` apart on its surface."""
    return 2 * EARTH_RADIUS_M * math.sin(min(distance_m / (2 * EARTH_RADIUS_M), math.pi / 2))


def surface_m(chord: float) -> float:
    """The great-circle distance of a chord (the inverse of ``chord_m``)."""
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, chord / (2 * EARTH_RADIUS_M)))


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def nearby_offers(
    *, search: NearbySearch, page: int = 1, page_size: int = 25, at: datetime | None = None
) -> NearbyPage:
    """One page of the live offers near ``search``'s point, nearest first (ties: offer id).

    Each offer comes with its distance (to its nearest shop where it applies) and up to
    ``SHOPS_PER_OFFER`` of its shops within the radius, nearest first, each with its distance.
    Offers come with their merchant and what ``campaigns.eligibility`` reads. Suspended (or not
    approved) merchants and offers not live at ``at`` never appear.
    """
    at = at or timezone.now()
    wanted = page * page_size + 1  # one more than the page: is there a next one?
    ranked = _ranked_offers(search, at, wanted)
    has_next = len(ranked) > page * page_size
    chosen = ranked[(page - 1) * page_size : page * page_size]
    if not chosen:
        return NearbyPage(offers=[], page=page, page_size=page_size, has_next=False)
    offers = (
        Offer.objects.filter(pk__in=[offer_id for offer_id, _ in chosen])
        .select_related("merchant", *ELIGIBILITY_SELECT)
        .in_bulk()
    )
    result = [NearbyOffer(offer=offers[offer_id], distance_m=round(distance)) for offer_id, distance in chosen]
    _attach_shops(result, search)
    return NearbyPage(offers=result, page=page, page_size=page_size, has_next=has_next)


def page_eligibility(*, user: User, page: NearbyPage, at: datetime) -> dict[int, Eligibility]:
    """Whether ``user`` qualifies for each offer of the page, judged at its nearest shop (three queries)."""
    nearest = {item.offer.pk: item.shops[0].location for item in page.offers if item.shops}
    return offers_eligibility(
        user=user,
        offers=[item.offer for item in page.offers],
        at=at,
        shops={offer_id: Shop(location_id=shop.pk, time_zone=shop.time_zone) for offer_id, shop in nearest.items()},
        named={item.offer.pk: item.named for item in page.offers},
    )


# --- The stream of shops, nearest first, each with the offers that apply there --------------------

# One shop of the stream: its distance in metres and the ids of the offers found at it, in id order.
StreamShop = tuple[float, list[int]]


def _ranked_offers(search: NearbySearch, at: datetime, wanted: int) -> list[tuple[int, float]]:
    """The first ``wanted`` distinct offers within the radius, each with its distance, nearest first
    (ties: the nearer shop's id, then the offer id).

    Reads the nearest ``limit`` shops and, when they hold too few offers, reads again with twice the
    limit (from the start: one query sees one consistent order). Shops at exactly the distance of the
    last one read may have equals beyond the limit, so a full read trusts only the shops before them.
    """
    stream = _pg_shops if distance_index_available() else _portable_shops
    limit = max(STREAM_MIN_SHOPS, wanted * STREAM_SHOPS_PER_OFFER)
    while True:
        shops = stream(search, at, limit=limit)
        complete = len(shops) < limit
        if not complete:
            shops = [shop for shop in shops if shop[0] < shops[-1][0]]
        seen: dict[int, float] = {}
        for distance, offer_ids in shops:
            if distance > search.radius_m:
                return list(seen.items())
            for offer_id in offer_ids:
                seen.setdefault(offer_id, distance)
            if len(seen) >= wanted:
                return list(seen.items())[:wanted]
        if complete:
            return list(seen.items())
        limit *= 2


def _filters_sql(search: NearbySearch) -> tuple[str, list[Any]]:
    """The offer filters (category, q) as SQL on ``m`` (merchant) and ``o`` (offer), with their parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    if search.category == OTHER.slug:
        clauses.append("NOT (m.category_code = ANY(%s))")
        params.append(sorted(codes_in_some_category()))
    elif search.category:
        clauses.append("m.category_code = ANY(%s)")
        params.append(sorted(_category_codes(search.category)))
    if search.q:
        clauses.append("(m.display_name ILIKE %s OR o.title ILIKE %s)")
        pattern = "%" + _escape_like(search.q) + "%"
        params += [pattern, pattern]
    return "".join(f" AND {clause}" for clause in clauses), params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_POINT = "geofencing_earth_point(l.latitude, l.longitude)"
# What a listed shop shows and eligibility reads (the rest of the row stays deferred).
_SHOP_COLUMNS = ", ".join(
    f"l.{name}"
    for name in ("id", "merchant_id", "name", "street", "postcode", "city", "latitude", "longitude", "time_zone")
)
_CENTRE = "geofencing_earth_point(%s::numeric, %s::numeric)"


def _pg_shops(search: NearbySearch, at: datetime, *, limit: int) -> list[StreamShop]:
    """The nearest ``limit`` shops, nearest first, through the index's nearest-first scan.

    The inner query has nothing but the order and the limit (and the merchant, when asked for), so the
    planner has no better plan than the index scan, which stops after ``limit`` shops. (A second sort
    key, such as the shop id, would make PostgreSQL sort every shop instead: ties are ordered outside.)
    The offers of each shop are looked up by merchant (the partial index ``offer_live_by_merchant``).
    """
    filters, filter_params = _filters_sql(search)
    merchant = " AND l.merchant_id = %s" if search.merchant_id is not None else ""
    sql = (
        f"SELECT near.chord, ARRAY("  # noqa: S608 - table names from the models; values are parameters
        f" SELECT o.id FROM {_OFFER} o JOIN {_MERCHANT} m ON m.id = o.merchant_id"
        " WHERE o.merchant_id = near.merchant_id AND m.status = %s"
        " AND o.status = %s AND o.starts_at <= %s AND o.ends_at > %s"
        f" AND (NOT EXISTS (SELECT 1 FROM {_OFFER_LOCATIONS} ol WHERE ol.offer_id = o.id)"
        f"  OR EXISTS (SELECT 1 FROM {_OFFER_LOCATIONS} ol WHERE ol.offer_id = o.id AND ol.location_id = near.id))"
        f"{filters} ORDER BY o.id)"
        f" FROM (SELECT l.id, l.merchant_id, {_POINT} <-> {_CENTRE} AS chord FROM {_LOCATION} l"
        f" WHERE l.latitude IS NOT NULL AND l.longitude IS NOT NULL{merchant}"
        f" ORDER BY {_POINT} <-> {_CENTRE} LIMIT %s) near"
        " ORDER BY near.chord, near.id"
    )
    centre = [search.latitude, search.longitude]
    params: list[Any] = [Merchant.Status.APPROVED, OfferStatus.LIVE, at, at, *filter_params, *centre]
    params += [search.merchant_id] if search.merchant_id is not None else []
    params += [*centre, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(surface_m(chord), offer_ids) for chord, offer_ids in cursor.fetchall()]


def _bounding_box(search: NearbySearch) -> Q:
    lat, lng = float(search.latitude), float(search.longitude)
    dlat = math.degrees(search.radius_m / EARTH_RADIUS_M)
    box = Q(latitude__gte=lat - dlat, latitude__lte=lat + dlat)
    cos_lat = math.cos(math.radians(lat))
    if cos_lat > 1e-6 and dlat / cos_lat < 180:
        dlng = dlat / cos_lat
        if lng - dlng >= -180 and lng + dlng <= 180:  # a box across the antimeridian: keep every longitude
            box &= Q(longitude__gte=lng - dlng, longitude__lte=lng + dlng)
    return box


def _portable_shops(search: NearbySearch, at: datetime, *, limit: int) -> list[StreamShop]:
    """The same stream on any database: shops in a bounding box, distances and order in Python."""
    shops = Location.objects.filter(_bounding_box(search)).values_list("id", "merchant_id", "latitude", "longitude")
    if search.merchant_id is not None:
        shops = shops.filter(merchant_id=search.merchant_id)
    lat, lng = float(search.latitude), float(search.longitude)
    near = []
    for location_id, merchant_id, shop_lat, shop_lng in shops:
        # The box leaves out shops without coordinates.
        distance = haversine_m(lat, lng, float(shop_lat), float(shop_lng))  # type: ignore[arg-type]
        if distance <= search.radius_m:
            near.append((distance, location_id, merchant_id))
    near.sort()
    near = near[:limit]
    offers = Offer.objects.filter(
        merchant_id__in={merchant_id for _, _, merchant_id in near},
        merchant__status=Merchant.Status.APPROVED,
        status=OfferStatus.LIVE,
        starts_at__lte=at,
        ends_at__gt=at,
    )
    if search.category == OTHER.slug:
        offers = offers.exclude(merchant__category_code__in=codes_in_some_category())
    elif search.category:
        offers = offers.filter(merchant__category_code__in=_category_codes(search.category))
    if search.q:
        offers = offers.filter(Q(merchant__display_name__icontains=search.q) | Q(title__icontains=search.q))
    by_merchant: dict[int, list[int]] = {}
    for offer_id, merchant_id in offers.order_by("id").values_list("id", "merchant_id"):
        by_merchant.setdefault(merchant_id, []).append(offer_id)
    named: dict[int, set[int]] = {}
    for offer_id, location_id in Offer.locations.through.objects.filter(
        offer_id__in=[offer_id for ids in by_merchant.values() for offer_id in ids]
    ).values_list("offer_id", "location_id"):
        named.setdefault(offer_id, set()).add(location_id)
    return [
        (
            distance,
            [
                offer_id
                for offer_id in by_merchant.get(merchant_id, ())
                if offer_id not in named or location_id in named[offer_id]
            ],
        )
        for distance, location_id, merchant_id in near
    ]


# --- The shops listed with each offer --------------------------------------------------------------


def _attach_shops(result: list[NearbyOffer], search: NearbySearch) -> None:
    """The shops each offer names, and up to ``SHOPS_PER_OFFER`` of its shops within the radius, nearest
    first (two queries)."""
    named = named_locations(offer_ids=[item.offer.pk for item in result])
    # Enough shops per merchant for every offer: the nearest few, and every shop an offer names.
    must = sorted({location_id for ids in named.values() for location_id in ids})
    shops = _shops_near(search, sorted({item.offer.merchant_id for item in result}), must)
    for item in result:
        item.named = named.get(item.offer.pk, frozenset())
        listed = [
            shop
            for shop in shops
            if shop.location.merchant_id == item.offer.merchant_id
            and (not item.named or shop.location.pk in item.named)
        ]
        item.shops = listed[:SHOPS_PER_OFFER]


def _shops_near(search: NearbySearch, merchant_ids: list[int], must: list[int]) -> list[NearbyShop]:
    if distance_index_available():
        centre = [search.latitude, search.longitude]
        sql = (
            "SELECT * FROM ("  # noqa: S608 - table names from the models; values are parameters
            f" SELECT {_SHOP_COLUMNS}, {_POINT} <-> {_CENTRE} AS chord,"
            f" row_number() OVER (PARTITION BY l.merchant_id ORDER BY {_POINT} <-> {_CENTRE}, l.id) AS rank"
            f" FROM {_LOCATION} l"
            f" WHERE l.merchant_id = ANY(%s) AND {_POINT} <-> {_CENTRE} <= %s"
            ") near WHERE rank <= %s OR id = ANY(%s) ORDER BY chord, id"
        )
        params = [*centre, *centre, merchant_ids, *centre, chord_m(search.radius_m)]
        rows = Location.objects.raw(sql, [*params, SHOPS_PER_OFFER, must])
        # ``chord`` is a column of the raw query, unknown to the model's type.
        return [NearbyShop(location=row, distance_m=round(surface_m(row.chord))) for row in rows]  # type: ignore[attr-defined]
    lat, lng = float(search.latitude), float(search.longitude)
    shops = []
    for location in Location.objects.filter(_bounding_box(search), merchant_id__in=merchant_ids):
        distance = haversine_m(lat, lng, float(location.latitude), float(location.longitude))  # type: ignore[arg-type]  # the box excludes empty coordinates
        if distance <= search.radius_m:
            shops.append(NearbyShop(location=location, distance_m=round(distance)))
    shops.sort(key=lambda shop: (shop.distance_m, shop.location.pk))
    return shops


def _category_codes(slug: str) -> frozenset[str]:
    category = shop_category_by_slug(slug)
    if category is None:  # the doors accept only the choices (forms, serializers)
        raise ValueError(f"unknown category {slug!r}")
    return category.codes
