"""The mobile API's shapes for nearby offers: the query (validated at the door) and the page of offers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from campaigns.describe import describe_offer
from campaigns.eligibility import Eligibility
from geofencing.selectors import DEFAULT_RADIUS_KM, MAX_RADIUS_KM, NearbyOffer, NearbySearch, NearbyShop
from merchants.categories import shop_category_choices, shop_category_of
from wallet.money import minor_to_decimal_string

MAX_PAGE_SIZE = 100
# How deep pages go: each page reads the stream from the nearest shop, so page 1 000 of 100 would read
# every shop within the radius. Nobody scrolls past the thousandth-nearest offer; a narrower search helps.
MAX_DEPTH = 1000
MAX_QUERY_LENGTH = 100
SIX_PLACES = Decimal("0.000001")


class NearbyQuerySerializer(serializers.Serializer):
    """``GET /api/v1/offers/``'s query: where, how far, which offers, which page."""

    # Any precision a GPS gives is accepted (and rounded to the 6 decimals shops are stored with); NaN and
    # infinities are refused by DecimalField itself.
    lat = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        min_value=Decimal(-90),
        max_value=Decimal(90),
        coerce_to_string=False,
        help_text="Latitude of the point to search around, -90 to 90 (WGS 84, decimal degrees).",
    )
    lng = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        min_value=Decimal(-180),
        max_value=Decimal(180),
        coerce_to_string=False,
        help_text="Longitude, -180 to 180.",
    )
    radius_km = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        required=False,
        default=Decimal(DEFAULT_RADIUS_KM),
        max_value=Decimal(MAX_RADIUS_KM),
        coerce_to_string=False,
        help_text=f"How far to look, in km: more than 0, at most {MAX_RADIUS_KM}; {DEFAULT_RADIUS_KM} if not given.",
    )
    merchant = serializers.IntegerField(required=False, min_value=1, help_text="Only this merchant's offers (its id).")
    category = serializers.ChoiceField(
        choices=shop_category_choices(), required=False, help_text="Only merchants of this category (slug)."
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_QUERY_LENGTH,
        help_text="Only offers whose merchant name or title contains this text (any case).",
    )
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=MAX_DEPTH)
    page_size = serializers.IntegerField(required=False, default=25, min_value=1, max_value=MAX_PAGE_SIZE)

    def validate_radius_km(self, value: Decimal) -> Decimal:
        if value <= 0:
            raise serializers.ValidationError(_("Ensure this value is greater than 0."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["page"] * attrs["page_size"] > MAX_DEPTH:
            raise serializers.ValidationError(
                {"page": [f"Pages go {MAX_DEPTH} offers deep at most; narrow the search (radius, category, q)."]}
            )
        return attrs

    def search(self) -> NearbySearch:
        data = self.validated_data
        return NearbySearch(
            latitude=data["lat"].quantize(SIX_PLACES),
            longitude=data["lng"].quantize(SIX_PLACES),
            radius_m=max(1, int(data["radius_km"] * 1000)),
            merchant_id=data.get("merchant"),
            category=data.get("category", ""),
            q=data.get("q", "").strip(),
        )


class EligibilityReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable reason code of the rules engine (docs/rules.md).")
    message = serializers.CharField(help_text="The reason in words.")


class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField(help_text="Whether you would earn from it if you shopped now.")
    reasons = EligibilityReasonSerializer(
        many=True, help_text="Why not: every condition you do not meet (empty when eligible)."
    )

    def to_representation(self, instance: Eligibility) -> dict[str, Any]:
        return _eligibility_json(instance)


class NearbyShopSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    street = serializers.CharField()
    postcode = serializers.CharField()
    city = serializers.CharField()
    lat = serializers.DecimalField(max_digits=9, decimal_places=6)
    lng = serializers.DecimalField(max_digits=10, decimal_places=6)
    distance_m = serializers.IntegerField(help_text="Great-circle distance from the point searched, in metres.")

    def to_representation(self, instance: NearbyShop) -> dict[str, Any]:
        return _shop_json(instance)


# A page builds its JSON with these functions rather than a nested serializer per shop and offer: the
# serializers above describe the shapes for the schema; building them 25 times over costs more than the
# search itself.


def _eligibility_json(eligibility: Eligibility) -> dict[str, Any]:
    return {
        "eligible": eligibility.eligible,
        "reasons": [{"code": str(reason.code), "message": reason.message} for reason in eligibility.reasons],
    }


def _shop_json(shop: NearbyShop) -> dict[str, Any]:
    location = shop.location
    return {
        "id": location.pk,
        "name": location.name,
        "street": location.street,
        "postcode": location.postcode,
        "city": location.city,
        "lat": f"{location.latitude:.6f}",
        "lng": f"{location.longitude:.6f}",
        "distance_m": shop.distance_m,
    }


class NearbyMerchantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField(help_text="Its public page is /shops/<slug>/.")
    category = serializers.CharField(help_text="Category slug (the `category` filter's values).")


class NearbyOfferTermsSerializer(serializers.Serializer):
    reward_type = serializers.ChoiceField(choices=["percent", "fixed", "charity"])
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    fixed_amount = serializers.CharField(help_text="Decimal string in the offer's currency.")
    currency = serializers.CharField()
    min_spend = serializers.CharField(help_text="Decimal string; 0.00 when there is no minimum.")
    max_reward_per_purchase = serializers.CharField(allow_null=True)
    max_rewards_per_customer = serializers.IntegerField(allow_null=True)
    days_of_week = serializers.ListField(child=serializers.IntegerField(), help_text="0 = Monday; empty: every day.")
    hour_from = serializers.IntegerField(allow_null=True)
    hour_to = serializers.IntegerField(allow_null=True)
    audience = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    headline = serializers.CharField(help_text='In words, e.g. "10 % cashback".')
    conditions = serializers.ListField(child=serializers.CharField(), help_text="Each condition in words.")


_DATETIME = serializers.DateTimeField()


class NearbyOfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    merchant = NearbyMerchantSerializer()
    terms = NearbyOfferTermsSerializer()
    distance_m = serializers.IntegerField(help_text="To the nearest of its shops, in metres.")
    shops = NearbyShopSerializer(many=True, help_text="Its shops within the radius, nearest first (at most 5).")
    eligibility = EligibilitySerializer()

    def to_representation(self, instance: NearbyOffer) -> dict[str, Any]:
        offer, currency = instance.offer, instance.offer.currency
        summary = describe_offer(offer)
        eligibility = self.context["eligibility"][offer.pk]
        max_reward = offer.max_reward_per_purchase_minor
        return {
            "id": offer.pk,
            "title": offer.title,
            "description": offer.description,
            "merchant": {
                "id": offer.merchant_id,
                "name": offer.merchant.display_name,
                "slug": offer.merchant.slug,
                "category": shop_category_of(offer.merchant.category_code).slug,
            },
            "terms": {
                "reward_type": offer.reward_type,
                "percent": f"{offer.percent:.2f}",
                "fixed_amount": minor_to_decimal_string(offer.fixed_amount_minor, currency),
                "currency": currency,
                "min_spend": minor_to_decimal_string(offer.min_spend_minor, currency),
                "max_reward_per_purchase": None
                if max_reward is None
                else minor_to_decimal_string(max_reward, currency),
                "max_rewards_per_customer": offer.max_rewards_per_customer,
                "days_of_week": sorted(int(day) for day in offer.days_of_week or ()),
                "hour_from": offer.hour_from,
                "hour_to": offer.hour_to,
                "audience": offer.audience,
                "starts_at": _DATETIME.to_representation(offer.starts_at),
                "ends_at": _DATETIME.to_representation(offer.ends_at),
                "headline": summary.headline,
                "conditions": summary.conditions,
            },
            "distance_m": instance.distance_m,
            "shops": [_shop_json(shop) for shop in instance.shops],
            "eligibility": _eligibility_json(eligibility),
        }


def _money_or_none(amount: int | None, currency: str) -> str | None:
    return None if amount is None else minor_to_decimal_string(amount, currency)


class NearbyOfferPageSerializer(serializers.Serializer):
    """A page of nearby offers. No total count: counting every offer within the radius would cost what
    the nearest-first search saves (docs/nearby.md); follow ``next`` until it is null."""

    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last one.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null on the first one.")
    results = NearbyOfferSerializer(many=True)
