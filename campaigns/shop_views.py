"""The public shop pages (F-S1, F-G1): the list with its search and map, the map's markers, one merchant's page.

Thin doors onto ``campaigns.shop_selectors``. The list works without JavaScript (a GET form, paginated);
the map enhances it from ``shops:markers``.
"""

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from campaigns import shop_selectors
from campaigns.shop_forms import ShopSearchForm
from cashback.errors import error_body
from cashback.maps import map_tile_attribution, map_tile_url
from merchants.categories import shop_category_of

SHOPS_PER_PAGE = 12


def _map_context() -> dict[str, str]:
    return {"map_tile_url": map_tile_url(), "map_tile_attribution": map_tile_attribution()}


def _search_form(request: HttpRequest) -> ShopSearchForm:
    return ShopSearchForm(request.GET, cities=shop_selectors.shop_cities())


@require_GET
def shop_list(request: HttpRequest) -> HttpResponse:
    """Every shop with a live offer, searchable; a bad filter is a message on the form and a 400."""
    form = _search_form(request)
    if not form.is_valid():
        context: dict[str, Any] = {"form": form, "page": None, "rows": [], "searched": True, **_map_context()}
        return render(request, "campaigns/shops/list.html", context, status=400)
    filters = form.filters()
    page = Paginator(shop_selectors.shop_search(filters=filters), SHOPS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        (merchant, shop_category_of(merchant.category_code).label, shop_selectors.offer_cards(offers))
        for merchant in page.object_list
        for offers in [getattr(merchant, "live_offers", [])]  # loaded by shop_search's prefetch
    ]
    searched = any(request.GET.get(name) for name in ("q", "city", "category", "offer_type", "charity"))
    context = {"form": form, "page": page, "rows": rows, "searched": searched, **_map_context()}
    return render(request, "campaigns/shops/list.html", context)


@require_GET
def shop_markers(request: HttpRequest) -> JsonResponse:
    """The map's markers for the same search as the list (every match, not one page)."""
    form = _search_form(request)
    if not form.is_valid():
        fields = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
        message = next(iter(fields.values()))[0]
        return JsonResponse(error_body(code="invalid_search", message=message, fields=fields), status=400)
    return JsonResponse({"markers": shop_selectors.shop_markers(filters=form.filters())})


@require_GET
def shop_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One merchant: its shops with addresses and opening hours on a map, its live offers and challenges."""
    merchant = shop_selectors.showing_merchant_by_slug(slug=slug)
    if merchant is None:
        raise Http404("No partner shop has this address.")
    cards = shop_selectors.merchant_offer_cards(merchant=merchant)
    locations = list(merchant.locations.all())
    context = {
        "merchant": merchant,
        "category": shop_category_of(merchant.category_code).label,
        "locations": locations,
        "mapped": any(location.has_map_position for location in locations),
        "markers": [shop_selectors.location_marker(place, merchant) for place in locations if place.has_map_position],
        "offers": [card for card in cards if not card.is_charity],
        "charity_offers": [card for card in cards if card.is_charity],
        "challenges": [challenge for card in cards for challenge in card.challenges],
        **_map_context(),
    }
    return render(request, "campaigns/shops/detail.html", context)
