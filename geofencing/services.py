"""Geofence reports from the app (F-G2): which shops near the phone have an offer this consumer can
use, and one "nearby offer" push per shop per consumer per day (docs/geofencing.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Consent
from campaigns.eligibility import Eligibility, Shop, offers_eligibility
from geofencing.geofence_selectors import GeofenceCandidates, geofence_candidates
from geofencing.models import NearbyPush
from geofencing.selectors import NearbySearch
from notifications.kinds import Channel
from notifications.selectors import in_quiet_hours, push_gate
from notifications.services import notification_send

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class MatchedShop:
    location_id: int
    merchant_id: int
    name: str
    merchant_name: str
    latitude: Decimal
    longitude: Decimal
    distance_m: int
    offer_ids: list[int] = field(default_factory=list)
    offer_title: str = ""


@dataclass(frozen=True)
class ReportOutcome:
    ignored: bool
    reason: str = ""
    shops: list[MatchedShop] = field(default_factory=list)
    pushed_location_id: int | None = None


def geofence_report(
    *, user: User, latitude: Decimal, longitude: Decimal, accuracy_m: int, at: datetime | None = None
) -> ReportOutcome:
    """Match the phone's position against shops within GEOFENCE_RADIUS_M that have a live offer this
    consumer qualifies for (the rules engine's audience and caps), nearest first; push the nearest
    one not yet pushed today, if the person consented to location, wants nearby pushes and is not in
    quiet hours. A position less accurate than GEOFENCE_MAX_ACCURACY_M is accepted and ignored."""
    if accuracy_m > settings.GEOFENCE_MAX_ACCURACY_M:
        return ReportOutcome(ignored=True, reason="accuracy")
    at = at or timezone.now()
    search = NearbySearch(latitude=latitude, longitude=longitude, radius_m=settings.GEOFENCE_RADIUS_M)
    candidates = geofence_candidates(search=search, at=at)
    eligibility = _eligibility(user=user, candidates=candidates, at=at)
    shops: list[MatchedShop] = []
    for shop in candidates.shops:
        usable = [offer_id for offer_id in shop.offer_ids if eligibility[offer_id].eligible]
        if not usable:
            continue
        first = candidates.offers[usable[0]]
        shops.append(
            MatchedShop(
                location_id=shop.location_id,
                merchant_id=shop.merchant_id,
                name=shop.name,
                merchant_name=first.merchant.display_name,
                latitude=shop.latitude,
                longitude=shop.longitude,
                distance_m=shop.distance_m,
                offer_ids=usable,
                offer_title=first.title,
            )
        )
    pushed = _push_nearest(user=user, shops=shops, at=at) if shops else None
    return ReportOutcome(ignored=False, shops=shops, pushed_location_id=pushed)


def _eligibility(*, user: User, candidates: GeofenceCandidates, at: datetime) -> dict[int, Eligibility]:
    """Each candidate offer's eligibility for ``user``, judged at its nearest shop (three queries)."""
    if not candidates.offers:
        return {}
    nearest: dict[int, Shop] = {}
    for shop in candidates.shops:
        for offer_id in shop.offer_ids:
            nearest.setdefault(offer_id, Shop(location_id=shop.location_id, time_zone=shop.time_zone))
    return offers_eligibility(
        user=user, offers=list(candidates.offers.values()), at=at, shops=nearest, named=candidates.named
    )


def _push_nearest(*, user: User, shops: list[MatchedShop], at: datetime) -> int | None:
    """Claim today's push for the nearest shop not yet pushed and send it; None if nothing may be sent.

    The claim is one ``INSERT … ON CONFLICT DO NOTHING RETURNING``: of concurrent reports, one wins.
    """
    consented, push, quiet = push_gate(user=user, kind="nearby_offer", consent=Consent.Kind.LOCATION)
    if not consented or not push:
        return None
    if quiet is not None and in_quiet_hours(start=quiet[0], end=quiet[1], at=at) is not None:
        return None
    day = timezone.localdate(at)
    with transaction.atomic():
        claimed = _claim_first(user_id=user.pk, location_ids=[shop.location_id for shop in shops], day=day, at=at)
        if claimed is None:
            return None
        candidate = next(shop for shop in shops if shop.location_id == claimed)
        notification_send(
            user=user,
            kind="nearby_offer",
            context={"merchant": candidate.merchant_name, "shop": candidate.name, "offer": candidate.offer_title},
            url="/wallet/offers/",
            dedupe_key=f"nearby:{candidate.location_id}:{day.isoformat()}",
            channels=frozenset({Channel.PUSH}),
            preferences_checked=True,
        )
    return candidate.location_id


def _claim_first(*, user_id: int, location_ids: list[int], day: date, at: datetime) -> int | None:
    """Claim today's push for the first of ``location_ids`` (nearest first) not yet pushed: the shop's id,
    or None. On PostgreSQL one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``; of concurrent
    reports, one wins each shop (the unique constraint decides)."""
    table = NearbyPush._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (user_id, location_id, day, created_at, updated_at) "  # noqa: S608 - our table
                "SELECT %s, ids.id, %s, %s, %s FROM unnest(%s::bigint[]) WITH ORDINALITY AS ids(id, n) "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} p "
                "WHERE p.user_id = %s AND p.day = %s AND p.location_id = ids.id) "
                "ORDER BY ids.n LIMIT 1 ON CONFLICT (user_id, location_id, day) DO NOTHING RETURNING location_id",
                [user_id, day, at, at, location_ids, user_id, day],
            )
            row = cursor.fetchone()
        return int(row[0]) if row else None
    done = set(
        NearbyPush.objects.filter(user_id=user_id, day=day, location_id__in=location_ids).values_list(
            "location_id", flat=True
        )
    )
    for location_id in location_ids:
        if location_id in done:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (user_id, location_id, day, created_at, updated_at) "  # noqa: S608 - our table
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (user_id, location_id, day) DO NOTHING RETURNING id",
                [user_id, location_id, day, at, at],
            )
            if cursor.fetchone() is not None:
                return location_id
        return None
    return None
