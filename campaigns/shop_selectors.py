"""Reads for the public shop pages (F-S1, F-G1): which shops show, their live offers in words, their map markers.

A shop shows when its merchant is approved (never pending, rejected or suspended) and it has at least one
live offer now: status live, started, not ended. ``live_offer_q`` is that rule for every query here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Challenge, Offer, OfferStatus
from campaigns.offer_terms import challenge_in_words, offer_terms_text
from campaigns.rules import RewardType
from charity.selectors import charity_list
from merchants.categories import codes_in_some_category, shop_category_by_slug, shop_category_of
from merchants.models import Location, Merchant

MAX_MARKERS = 5_000  # more than any page of the map needs; the list is paginated, the map is not
HOME_OFFERS = 4


@dataclass(frozen=True)
class ShopFilters:
    """What a visitor searched for. Empty strings and False mean "any"; the form has checked the values."""

    q: str = ""
    city: str = ""
    category: str = ""
    offer_type: str = ""  # "", or a RewardType value
    charity_only: bool = False


@dataclass(frozen=True)
class OfferCard:
    """One live offer as the public pages show it."""

    offer: Offer
    terms: str
    is_charity: bool
    challenges: list[str] = field(default_factory=list)


def live_offer_q(*, at: datetime, prefix: str = "") -> Q:
    """Live now: the rule of every public page. ``prefix`` reaches offers through a relation ("offers__")."""
    return Q(
        **{f"{prefix}status": OfferStatus.LIVE, f"{prefix}starts_at__lte": at, f"{prefix}ends_at__gt": at},
    )


def _live_offers(*, at: datetime) -> QuerySet[Offer]:
    return Offer.objects.filter(live_offer_q(at=at))


def shop_cities() -> list[str]:
    """The cities that have a shop of a merchant showing now, for the city filter."""
    now = timezone.now()
    merchants = _showing_merchants(at=now)
    cities = Location.objects.filter(merchant__in=merchants).values_list("city", flat=True).distinct()
    return sorted({city.strip() for city in cities if city.strip()}, key=str.casefold)


def _showing_merchants(*, at: datetime, filters: ShopFilters = ShopFilters()) -> QuerySet[Merchant]:
    offers = _live_offers(at=at).filter(merchant=OuterRef("pk"))
    if filters.offer_type:
        offers = offers.filter(reward_type=filters.offer_type)
    merchants = Merchant.objects.filter(status=Merchant.Status.APPROVED).filter(Exists(offers))
    if filters.charity_only:
        charity_offers = _live_offers(at=at).filter(merchant=OuterRef("pk"), reward_type=RewardType.CHARITY)
        merchants = merchants.filter(Exists(charity_offers))
    if filters.category:
        category = shop_category_by_slug(filters.category)
        if category is not None and category.codes:
            merchants = merchants.filter(category_code__in=category.codes)
        elif category is not None:
            merchants = merchants.exclude(category_code__in=codes_in_some_category())
    if filters.city:
        in_city = Location.objects.filter(merchant=OuterRef("pk"), city__iexact=filters.city)
        merchants = merchants.filter(Exists(in_city))
    if filters.q:
        named = Q(display_name__icontains=filters.q)
        in_place = Exists(Location.objects.filter(merchant=OuterRef("pk")).filter(city__icontains=filters.q))
        merchants = merchants.filter(named | in_place)
    return merchants


def shop_search(*, filters: ShopFilters) -> QuerySet[Merchant]:
    """The shops that match, by name, with their shops and live offers loaded (paginate it)."""
    now = timezone.now()
    offers = (
        _live_offers(at=now)
        .select_related("min_tier")
        .prefetch_related("line_item_rules", "locations")
        .order_by("-created_at", "-id")
    )
    return (
        _showing_merchants(at=now, filters=filters)
        .prefetch_related(
            Prefetch("locations", queryset=Location.objects.order_by("city", "name", "id")),
            Prefetch("offers", queryset=offers, to_attr="live_offers"),
        )
        .order_by("display_name", "id")
    )


def shop_markers(*, filters: ShopFilters) -> list[dict]:
    """Map markers for every shop (location with a position) of the matching merchants, at most MAX_MARKERS."""
    merchants = _showing_merchants(at=timezone.now(), filters=filters)
    locations = (
        Location.objects.filter(merchant__in=merchants, latitude__isnull=False, longitude__isnull=False)
        .select_related("merchant")
        .order_by("merchant__display_name", "name", "id")[:MAX_MARKERS]
    )
    return [location_marker(location, location.merchant) for location in locations]


def location_marker(location: Location, merchant: Merchant) -> dict:
    """One shop as the map draws it: where, what, and the merchant's page. The shop has a map position."""
    if location.latitude is None or location.longitude is None:
        raise ValueError(f"Location {location.pk} has no map position.")
    return {
        "lat": float(location.latitude),  # for drawing only; coordinates are never money
        "lng": float(location.longitude),
        "name": location.name,
        "merchant": merchant.display_name,
        "address": f"{location.street}, {location.postcode} {location.city}",
        "url": reverse("shops:detail", args=[merchant.slug]),
    }


def showing_merchant_by_slug(*, slug: str) -> Merchant | None:
    """An approved merchant by its slug (its page shows even with no offer live today), or None."""
    return (
        Merchant.objects.filter(slug=slug, status=Merchant.Status.APPROVED)
        .prefetch_related(Prefetch("locations", queryset=Location.objects.order_by("city", "name", "id")))
        .first()
    )


def _charity_names(offers: Sequence[Offer]) -> dict[str, str]:
    refs = {offer.charity_ref for offer in offers if offer.reward_type == RewardType.CHARITY and offer.charity_ref}
    ids = [int(ref) for ref in refs if ref.isdigit()]
    if not ids:
        return {}
    return {str(pk): name for pk, name in charity_list(active_only=False).filter(pk__in=ids).values_list("pk", "name")}


def offer_cards(offers: Sequence[Offer]) -> list[OfferCard]:
    """Live offers in words, with their challenges. The offers come with their line-item rules, locations
    and ``min_tier`` loaded (``shop_search`` and ``merchant_offer_cards`` do so)."""
    names = _charity_names(offers)
    return [
        OfferCard(
            offer=offer,
            terms=offer_terms_text(
                offer,
                line_rules=list(offer.line_item_rules.all()),
                location_names=[location.name for location in offer.locations.all()],
                charity_name=names.get(offer.charity_ref, ""),
            ),
            is_charity=offer.reward_type == RewardType.CHARITY,
            challenges=[challenge_in_words(c, offer.currency) for c in getattr(offer, "live_challenges", [])],
        )
        for offer in offers
    ]


def merchant_offer_cards(*, merchant: Merchant) -> list[OfferCard]:
    """Every live offer of one merchant in words, with its challenges."""
    offers = list(
        _live_offers(at=timezone.now())
        .filter(merchant=merchant)
        .select_related("min_tier")
        .prefetch_related(
            "line_item_rules",
            "locations",
            Prefetch("challenges", queryset=Challenge.objects.order_by("id"), to_attr="live_challenges"),
        )
        .order_by("-created_at", "-id")
    )
    return offer_cards(offers)


def home_offer_cards() -> list[tuple[Merchant, OfferCard]]:
    """A few of the newest live offers at showing merchants, one per merchant, for the home page."""
    now = timezone.now()
    offers = (
        _live_offers(at=now)
        .filter(merchant__status=Merchant.Status.APPROVED)
        .select_related("merchant", "min_tier")
        .prefetch_related("line_item_rules", "locations")
        .order_by("-starts_at", "-id")[: HOME_OFFERS * 4]
    )
    chosen: list[Offer] = []
    seen: set[int] = set()
    for offer in offers:
        if offer.merchant_id not in seen:
            seen.add(offer.merchant_id)
            chosen.append(offer)
        if len(chosen) == HOME_OFFERS:
            break
    return [(offer.merchant, card) for offer, card in zip(chosen, offer_cards(chosen), strict=True)]


def category_label(merchant: Merchant) -> str:
    return shop_category_of(merchant.category_code).label
