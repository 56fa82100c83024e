"""Geofence reports from the app (F-G2): which shops near the phone have an offer this consumer can
use, and one "nearby offer" push per shop per consumer per day (docs/geofencing.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
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
from notifications.selectors import in_quiet_hours, push_allowed_sql, push_gate
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
    """Claim today's push for the nearest shop not yet pushed, if a push may go to the person now
    (location consent, the push preference, outside quiet hours), and enqueue its sending after
    commit; the claimed shop's id, or None.

    On PostgreSQL the gate and the claim are one statement, and that is all the push costs the report:
    the notification and its delivery are written by the task (``nearby_push_send``), from the claim."""
    day = timezone.localdate(at)
    candidates = [(shop.location_id, shop.offer_ids[0]) for shop in shops]
    if connection.vendor == "postgresql":
        claimed = _claim_first_pg(user_id=user.pk, candidates=candidates, day=day, at=at)
    else:
        consented, push, quiet = push_gate(user=user, kind="nearby_offer", consent=Consent.Kind.LOCATION)
        if not consented or not push:
            return None
        if quiet is not None and in_quiet_hours(start=quiet[0], end=quiet[1], at=at) is not None:
            return None
        claimed = _claim_first_portable(user_id=user.pk, candidates=candidates, day=day, at=at)
    if claimed is None:
        return None
    claim_id, location_id = claimed
    _send_on_commit(claim_id)
    return location_id


def _send_on_commit(claim_id: int) -> None:
    def enqueue_nearby_push() -> None:
        # Imported here: geofencing.tasks imports this module (a cycle within the app).
        from geofencing.tasks import nearby_push_send as task

        task.delay(claim_id)

    # robust: a broker that is down must not turn the committed claim into an error; the sweep
    # (nearby_pushes_due) enqueues the claim again.
    transaction.on_commit(enqueue_nearby_push, robust=True)


def _claim_first_pg(
    *, user_id: int, candidates: list[tuple[int, int]], day: date, at: datetime
) -> tuple[int, int] | None:
    """One ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``: the first of ``candidates`` (shop id,
    offer id; nearest first) not yet pushed today is claimed, if ``push_allowed_sql`` holds. Returns the
    claim's id and the shop's, or None. Of concurrent reports, one wins each shop (the unique
    constraint decides); autocommit makes the single statement its own transaction."""
    table = NearbyPush._meta.db_table
    allowed, allowed_params = push_allowed_sql(
        user_id=user_id, kind="nearby_offer", consent=Consent.Kind.LOCATION, at=at
    )
    # The claim commits without waiting for its WAL to reach the disk (``synchronous_commit`` off for
    # this one transaction: an fsync, 0.6 ms on a quiet machine and several under load, off every report
    # that pushes). It cannot cost a second push: the task that sends the push reads the claim and
    # commits the notification synchronously, which flushes the WAL up to and past the claim. A crash in
    # between can only lose a claim whose push was not written yet: that report pushes nothing, and a
    # later one claims the shop again. Inside a caller's transaction (a test's) the setting would hold
    # for all of it, so it is left out there.
    asynchronous = not connection.in_atomic_block
    with_clause = "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)) " if asynchronous else ""
    from_clause = "async_commit, " if asynchronous else ""
    sql = (
        f"{with_clause}INSERT INTO {table} (user_id, location_id, offer_id, day, created_at, updated_at)"  # noqa: S608 - our table and fixed clauses; values are parameters
        f" SELECT %s, c.location_id, c.offer_id, %s, %s, %s FROM {from_clause}"
        "unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS c(location_id, offer_id, n)"
        f" WHERE {allowed} AND NOT EXISTS (SELECT 1 FROM {table} p"
        " WHERE p.user_id = %s AND p.day = %s AND p.location_id = c.location_id)"
        " ORDER BY c.n LIMIT 1 ON CONFLICT (user_id, location_id, day) DO NOTHING RETURNING id, location_id"
    )
    location_ids = [location_id for location_id, _ in candidates]
    offer_ids = [offer_id for _, offer_id in candidates]
    params = [user_id, day, at, at, location_ids, offer_ids, *allowed_params, user_id, day]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else None


def _claim_first_portable(
    *, user_id: int, candidates: list[tuple[int, int]], day: date, at: datetime
) -> tuple[int, int] | None:
    """The same claim on any database (the embedded SQLite), the gate having been read before."""
    done = set(
        NearbyPush.objects.filter(
            user_id=user_id, day=day, location_id__in=[location_id for location_id, _ in candidates]
        ).values_list("location_id", flat=True)
    )
    table = NearbyPush._meta.db_table
    for location_id, offer_id in candidates:
        if location_id in done:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (user_id, location_id, offer_id, day, created_at, updated_at) "  # noqa: S608 - our table
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, location_id, day) DO NOTHING RETURNING id",
                [user_id, location_id, offer_id, day, at, at],
            )
            row = cursor.fetchone()
        return (int(row[0]), location_id) if row is not None else None
    return None


def nearby_push_send(*, claim_id: int) -> bool:
    """Write the "nearby offer" notification of a claim and send its push; whether it was written now.

    Safe to run twice and concurrently: the claim is locked, and one that has its notification is left
    alone; the notification's key (``nearby:<shop>:<day>``, unique per person) is the claim's own, so
    even a claim made before claims recorded their notification tells nobody twice. The push is
    attempted here, after commit (this runs on the ``notifications`` queue already); a provider's
    temporary error leaves the delivery pending for the delivery sweep.
    """
    with transaction.atomic():
        claim = (
            NearbyPush.objects.select_for_update(of=("self",))
            .select_related("user", "location__merchant", "offer")
            .filter(pk=claim_id)
            .first()
        )
        if claim is None or claim.notification_id is not None:
            return False
        location = claim.location
        notification = notification_send(
            user=claim.user,
            kind="nearby_offer",
            context={
                "merchant": location.merchant.display_name,
                "shop": location.name,
                "offer": claim.offer.title if claim.offer else "",
            },
            url="/wallet/offers/",
            dedupe_key=f"nearby:{location.pk}:{claim.day.isoformat()}",
            channels=frozenset({Channel.PUSH}),
            preferences_checked=True,
            deliver_here=True,
        )
        claim.notification = notification
        claim.save(update_fields=["notification", "updated_at"])
    return True


def nearby_pushes_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Enqueue claims whose task was lost (no notification GEOFENCE_PUSH_STALE_SECONDS after the claim or
    the last sweep that enqueued it), unless
    older than GEOFENCE_PUSH_MAX_AGE_SECONDS (too late to tell someone a shop is near). Returns how many."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.GEOFENCE_PUSH_STALE_SECONDS)
    oldest = now - timedelta(seconds=settings.GEOFENCE_PUSH_MAX_AGE_SECONDS)
    unsent = NearbyPush.objects.filter(notification__isnull=True, created_at__gte=oldest, updated_at__lte=stale)
    ids = list(unsent.order_by("created_at", "pk").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    with transaction.atomic():
        # Touched, so that the next sweeps leave a claim alone for the stale window while it waits in
        # the queue (its created_at stays: the age limit counts from the report).
        NearbyPush.objects.filter(pk__in=ids).update(updated_at=now)
        for claim_id in ids:
            _send_on_commit(claim_id)
    return len(ids)
