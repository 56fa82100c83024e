"""The wallet's "offers near me" page: nearest first, whether this consumer qualifies and why not, a map."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.request_types import AuthenticatedHttpRequest
from campaigns.describe import describe_offer
from campaigns.progress_selectors import challenge_progress_of
from geofencing.forms import NearbyForm
from geofencing.places import place_coordinates
from geofencing.selectors import DEFAULT_RADIUS_KM, NearbySearch, nearby_offers, page_eligibility

OFFERS_PER_PAGE = 20


@dataclass(frozen=True)
class Origin:
    """Where the search is centred and how the page names it."""

    latitude: Decimal
    longitude: Decimal
    label: str
    source: str  # "browser", "place" or "profile"


def _origin(request: AuthenticatedHttpRequest, form: NearbyForm) -> Origin | None:
    position = form.position()
    if position is not None:
        return Origin(*position, label="your position", source="browser")
    place = form.cleaned_data.get("place", "")
    if place:
        found = place_coordinates(place=place)
        if found is None:
            form.add_error("place", _("We could not find that place. Try a town or a four-digit postcode."))
            return None
        return Origin(found.latitude, found.longitude, label=place, source="place")
    city = request.user.city
    found = place_coordinates(place=city) if city else None
    if found is not None:
        return Origin(found.latitude, found.longitude, label=city, source="profile")
    return None


@login_required
def nearby(request: AuthenticatedHttpRequest) -> HttpResponse:
    data = request.GET.copy()
    data.setdefault("radius_km", str(DEFAULT_RADIUS_KM))  # a bound form shows no initial value
    form = NearbyForm(data)
    context: dict = {"form": form, "map_tile_url": settings.MAP_TILE_ORIGIN.rstrip("/") + "/{z}/{x}/{y}.png"}
    origin = _origin(request, form) if form.is_valid() else None
    status = 400 if form.errors else 200
    if origin is None:
        return render(request, "geofencing/nearby.html", context, status=status)

    radius_km = form.cleaned_data.get("radius_km") or DEFAULT_RADIUS_KM
    search = NearbySearch(
        latitude=origin.latitude,
        longitude=origin.longitude,
        radius_m=radius_km * 1000,
        category=form.cleaned_data.get("category", ""),
        q=form.cleaned_data.get("q", "").strip(),
    )
    at = timezone.now()
    page = nearby_offers(search=search, page=form.cleaned_data.get("page") or 1, page_size=OFFERS_PER_PAGE, at=at)
    eligibility = page_eligibility(user=request.user, page=page, at=at)
    # The consumer's progress in each offer's challenges, shown on the offer (one query for the page).
    challenges: dict[int, list] = {}
    for view in challenge_progress_of(user=request.user, now=at, offer_ids=[item.offer.pk for item in page.offers]):
        challenges.setdefault(view.offer_id, []).append(view)
    offers = [
        {
            "item": item,
            "summary": describe_offer(item.offer),
            "eligibility": eligibility[item.offer.pk],
            "challenges": challenges.get(item.offer.pk, []),
        }
        for item in page.offers
    ]
    query = request.GET.copy()
    query.pop("page", None)
    wider = query.copy()
    wider["radius_km"] = str(form.next_radius_km() or radius_km)
    context.update(
        origin=origin,
        radius_km=radius_km,
        offers=offers,
        page=page,
        query=query.urlencode(),
        wider_query=wider.urlencode(),
        next_radius_km=form.next_radius_km(),
        markers=_markers(origin, offers),
    )
    return render(request, "geofencing/nearby.html", context)


def _markers(origin: Origin, offers: list[dict]) -> dict:
    """What the map shows, for the page's script (json_script): the centre and one marker per shop."""
    shops: dict[int, dict] = {}
    for row in offers:
        item = row["item"]
        for shop in item.shops:
            marker = shops.setdefault(
                shop.location.pk,
                {
                    "lat": float(shop.location.latitude),
                    "lng": float(shop.location.longitude),
                    "name": f"{item.offer.merchant.display_name} — {shop.location.name}",
                    "offers": [],
                },
            )
            marker["offers"].append(row["summary"].headline)
    return {"centre": [float(origin.latitude), float(origin.longitude)], "shops": list(shops.values())}
