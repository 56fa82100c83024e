"""The public directory of partner merchants for the mobile app: who has a live offer, their shops and
their live offers' terms. Reads only.

It lives in campaigns, not merchants: "has a live offer" is the campaigns' knowledge, and merchants
may not import campaigns (docs/architecture.md). A merchant is listed while it is approved (never
pending, rejected or suspended) and has at least one offer live now; the detail shows any approved
merchant (its offers may have just ended), and "not found" for every other one.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from campaigns.errors import MerchantNotListedError
from campaigns.models import Challenge, Offer, OfferStatus
from merchants.models import Location, Merchant, MerchantStatus


def live_offers(*, now: datetime) -> QuerySet[Offer]:
    """Offers live at ``now``: status live and within their period (through ``offer_status_start``)."""
    return Offer.objects.filter(status=OfferStatus.LIVE, starts_at__lte=now, ends_at__gt=now)


def listed_merchants(*, now: datetime | None = None, category: str = "", search: str = "") -> QuerySet[Merchant]:
    """Approved merchants with a live offer, by name: ``category`` an MCC, ``search`` a piece of the
    merchant's name or of a shop's city. Each carries ``live_offer_count`` and its shops' cities
    (prefetched as ``listed_locations``): two queries a page."""
    now = now or timezone.now()
    offers = live_offers(now=now)
    queryset = Merchant.objects.filter(status=MerchantStatus.APPROVED).filter(
        Exists(offers.filter(merchant=OuterRef("pk")))
    )
    if category:
        queryset = queryset.filter(category_code=category)
    if search:
        in_city = Location.objects.filter(merchant=OuterRef("pk"), city__icontains=search)
        queryset = queryset.filter(Q(display_name__icontains=search) | Q(Exists(in_city)))
    return (
        queryset.annotate(
            live_offer_count=Count(
                "offers",
                filter=Q(offers__status=OfferStatus.LIVE, offers__starts_at__lte=now, offers__ends_at__gt=now),
            )
        )
        .prefetch_related(
            Prefetch(
                "locations",
                queryset=Location.objects.only("id", "merchant_id", "city").order_by("city", "id"),
                to_attr="listed_locations",
            )
        )
        .order_by("display_name", "id")
    )


def listed_merchant(*, merchant_id: int, now: datetime | None = None) -> Merchant:
    """One approved merchant with its shops (``locations``) and live offers (``live_offers``, each
    with the ids of the shops it applies at, its lowest tier and its challenges). Four queries."""
    now = now or timezone.now()
    offers = (
        live_offers(now=now)
        .select_related("min_tier")
        .prefetch_related(
            Prefetch("locations", queryset=Location.objects.only("id")),
            Prefetch("challenges", queryset=Challenge.objects.order_by("id")),
        )
        .order_by("ends_at", "id")
    )
    merchant = (
        Merchant.objects.filter(pk=merchant_id, status=MerchantStatus.APPROVED)
        .prefetch_related(
            Prefetch("locations", queryset=Location.objects.order_by("name", "id")),
            Prefetch("offers", queryset=offers, to_attr="live_offers"),
        )
        .first()
    )
    if merchant is None:
        raise MerchantNotListedError()
    return merchant
