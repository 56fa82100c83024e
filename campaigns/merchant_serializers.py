"""The public shapes of partner merchants, their shops and their live offers' terms (mobile API)."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.models import Challenge, Offer, OfferBasis
from campaigns.progress_serializers import MoneySerializer, money
from campaigns.rules import Audience, ChallengeTarget, RewardType
from merchants.models import Location, Merchant
from merchants.validators import validate_category_code


class MerchantFilterSerializer(serializers.Serializer):
    """The list's query: both optional; blank means no filter."""

    category = serializers.CharField(
        required=False, allow_blank=True, help_text="A four-digit merchant category code (MCC), e.g. 5814."
    )
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Part of the merchant's name or a shop's city."
    )

    def validate_category(self, value: str) -> str:
        value = value.strip()
        if value and not (len(value) == 4 and value.isascii() and value.isdigit()):
            raise serializers.ValidationError(_("A category is a four-digit merchant category code (MCC)."))
        return validate_category_code(value) if value else ""

    def validate_q(self, value: str) -> str:
        return value.strip()


class MerchantListSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    slug = serializers.SlugField(help_text="Its public page is /shops/<slug>/.")
    category = serializers.CharField(source="category_code", help_text="Merchant category code (MCC).")
    cities = serializers.SerializerMethodField(help_text="The cities of its shops, in order, each once.")
    live_offer_count = serializers.IntegerField()

    class Meta:
        model = Merchant
        fields = ["id", "name", "slug", "category", "country", "currency", "cities", "live_offer_count"]
        read_only_fields = fields

    def get_cities(self, merchant: Merchant) -> list[str]:
        return list(dict.fromkeys(location.city for location in merchant.listed_locations))  # type: ignore[attr-defined]  # prefetched by listed_merchants


class ShopSerializer(serializers.ModelSerializer):
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=False, allow_null=True)
    opening_hours = serializers.JSONField(
        help_text='{"mon": {"open": "08:00", "close": "17:00"} or {"closed": true}, …}; {} when not given.'
    )

    class Meta:
        model = Location
        fields = ["id", "name", "street", "postcode", "city", "country", "latitude", "longitude", "time_zone"]
        fields += ["opening_hours"]
        read_only_fields = fields


class ChallengeTermsSerializer(serializers.ModelSerializer):
    target_type = serializers.ChoiceField(choices=[t.value for t in ChallengeTarget])
    target = serializers.SerializerMethodField(help_text="A revenue target as money; null for a purchase count.")
    target_purchases = serializers.SerializerMethodField(help_text="A purchase-count target; null for revenue.")
    bonus = serializers.SerializerMethodField()

    class Meta:
        model = Challenge
        fields = ["id", "title", "target_type", "target", "target_purchases", "bonus"]
        read_only_fields = fields

    @extend_schema_field(MoneySerializer(allow_null=True))
    def get_target(self, challenge: Challenge) -> dict[str, str] | None:
        if challenge.target_type != ChallengeTarget.REVENUE:
            return None
        return money(challenge.target_value, challenge.offer.currency)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_target_purchases(self, challenge: Challenge) -> int | None:
        return None if challenge.target_type == ChallengeTarget.REVENUE else challenge.target_value

    @extend_schema_field(MoneySerializer)
    def get_bonus(self, challenge: Challenge) -> dict[str, str]:
        return money(challenge.bonus_minor, challenge.offer.currency)


# A plain string in the schema: an enum would collide with the tiers' "basis" enum among its components.
@extend_schema_field(OpenApiTypes.STR)
class OfferBasisField(serializers.CharField):
    pass


class MinTierSerializer(serializers.Serializer):
    name = serializers.CharField()
    rank = serializers.IntegerField()


class OfferTermsSerializer(serializers.ModelSerializer):
    """A live offer's terms as the rules engine applies them (docs/rules.md)."""

    reward_type = serializers.ChoiceField(choices=[t.value for t in RewardType])
    percent = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Percent of the purchase.")
    fixed_amount = serializers.SerializerMethodField(help_text="A fixed reward per purchase (fixed offers).")
    basis = OfferBasisField(
        help_text=f"One of {', '.join(OfferBasis.values)}: each purchase earns, or a month's spend after the month."
    )
    min_spend = serializers.SerializerMethodField(help_text="A purchase must reach it to earn.")
    max_reward_per_purchase = serializers.SerializerMethodField(help_text="Null: no maximum.")
    max_rewards_per_customer = serializers.IntegerField(allow_null=True, help_text="Null: no maximum.")
    days_of_week = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), help_text="0 = Monday … 6 = Sunday; empty: every day."
    )
    hour_from = serializers.IntegerField(allow_null=True, help_text="Local hour the offer starts each day (0-24).")
    hour_to = serializers.IntegerField(allow_null=True, help_text="Local hour it stops; before hour_from wraps.")
    audience = serializers.ChoiceField(choices=[a.value for a in Audience])
    min_tier = serializers.SerializerMethodField(help_text='The lowest tier, for the audience "tier".')
    shop_ids = serializers.SerializerMethodField(help_text="The shops it applies at; empty: every shop.")
    challenges = ChallengeTermsSerializer(many=True)

    class Meta:
        model = Offer
        fields = ["id", "title", "description", "reward_type", "percent", "fixed_amount", "currency", "basis"]
        fields += ["starts_at", "ends_at", "min_spend", "max_reward_per_purchase", "max_rewards_per_customer"]
        fields += ["days_of_week", "hour_from", "hour_to", "audience", "min_tier", "stackable", "shop_ids"]
        fields += ["return_period_days", "challenges"]
        read_only_fields = fields

    @extend_schema_field(MoneySerializer)
    def get_fixed_amount(self, offer: Offer) -> dict[str, str]:
        return money(offer.fixed_amount_minor, offer.currency)

    @extend_schema_field(MoneySerializer)
    def get_min_spend(self, offer: Offer) -> dict[str, str]:
        return money(offer.min_spend_minor, offer.currency)

    @extend_schema_field(MoneySerializer(allow_null=True))
    def get_max_reward_per_purchase(self, offer: Offer) -> dict[str, str] | None:
        cap = offer.max_reward_per_purchase_minor
        return None if cap is None else money(cap, offer.currency)

    @extend_schema_field(MinTierSerializer(allow_null=True))
    def get_min_tier(self, offer: Offer) -> dict[str, Any] | None:
        tier = offer.min_tier
        return None if tier is None else {"name": tier.name, "rank": tier.rank}

    def get_shop_ids(self, offer: Offer) -> list[int]:
        return [location.pk for location in offer.locations.all()]


class MerchantDetailSerializer(MerchantListSerializer):
    shops = ShopSerializer(many=True, source="locations")
    offers = OfferTermsSerializer(many=True, source="live_offers", help_text="Offers live now, ending soonest first.")

    class Meta:
        model = Merchant
        fields = ["id", "name", "slug", "category", "country", "currency", "shops", "offers"]
        read_only_fields = fields
