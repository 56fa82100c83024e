"""The mobile API's shapes for charities, donations and auto-donate: money as decimal strings with its currency."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.templatetags.static import static
from rest_framework import serializers

from cashback.openapi import MoneySerializer
from charity.donation_input import donation_amount_parse
from charity.selectors import DonationRow, Impact
from wallet.money import minor_to_decimal_string

if TYPE_CHECKING:
    from charity.models import Charity


def _money(amounts: dict[str, int]) -> list[dict[str, str]]:
    return [
        {"currency": currency, "amount": minor_to_decimal_string(amount, currency)}
        for currency, amount in sorted(amounts.items())
    ]


class ImpactSerializer(serializers.Serializer):
    given = MoneySerializer(many=True, help_text="Net given per currency (donations and charity rewards).")
    units = serializers.IntegerField(help_text="Whole impact units funded, counting every currency with a unit cost.")
    next_percent = serializers.IntegerField(help_text="How far the next unit is, 0 to 99.")
    unit_label = serializers.CharField(help_text="The unit's name in the right number, e.g. “school desks”.")

    def to_representation(self, impact: Impact) -> dict[str, Any]:
        return {
            "given": _money(impact.given),
            "units": impact.units,
            "next_percent": impact.next_percent,
            "unit_label": impact.unit_label,
        }


class CharitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    cause = serializers.CharField()
    description = serializers.CharField()
    organisation_number = serializers.CharField()
    country = serializers.CharField()
    website = serializers.CharField()
    logo_url = serializers.CharField(allow_null=True)
    impact_unit = serializers.CharField()
    impact_unit_plural = serializers.CharField()
    unit_costs = MoneySerializer(many=True, help_text="What one impact unit costs, per currency.")
    is_active = serializers.BooleanField()
    impact = ImpactSerializer(help_text="Everything the charity has been given, from everyone.")
    your_impact = ImpactSerializer(allow_null=True, help_text="What you gave (null when signed out).")

    def to_representation(self, charity: Charity) -> dict[str, Any]:
        impacts = self.context.get("impacts", {})
        yours = self.context.get("your_impacts")
        your_impact = None
        if yours is not None:
            your_impact = yours.get(charity.pk) or Impact(charity=charity)
        return {
            "id": charity.pk,
            "slug": charity.slug,
            "name": charity.name,
            "cause": charity.cause,
            "description": charity.description,
            "organisation_number": charity.organisation_number,
            "country": charity.country,
            "website": charity.website,
            "logo_url": static(charity.logo_path) if charity.logo_path else None,
            "impact_unit": charity.impact_unit,
            "impact_unit_plural": charity.impact_unit_plural,
            "unit_costs": _money({cost.currency: cost.unit_cost_minor for cost in charity.impact_costs.all()}),
            "is_active": charity.is_active,
            "impact": ImpactSerializer(impacts.get(charity.pk) or Impact(charity=charity)).data,
            "your_impact": ImpactSerializer(your_impact).data if your_impact is not None else None,
        }


class DonationSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The ledger transaction's id.")
    created_at = serializers.DateTimeField()
    charity = serializers.DictField(help_text="id, slug and name of the charity.")
    currency = serializers.CharField()
    amount = serializers.CharField()
    automatic = serializers.BooleanField(help_text="True for an automatic share of a reward.")
    reward_id = serializers.IntegerField(allow_null=True)

    def to_representation(self, row: DonationRow) -> dict[str, Any]:
        charity = row.charity
        return {
            "id": row.journal_id,
            "created_at": serializers.DateTimeField().to_representation(row.created_at),
            "charity": {"id": charity.pk, "slug": charity.slug, "name": charity.name} if charity else None,
            "currency": row.currency,
            "amount": minor_to_decimal_string(row.amount_minor, row.currency),
            "automatic": row.automatic,
            "reward_id": row.reward_id,
        }


class DonationRequestSerializer(serializers.Serializer):
    charity = serializers.JSONField(help_text="The charity's id.")
    currency = serializers.CharField(max_length=3)
    amount = serializers.CharField(max_length=40, help_text='Decimal string ("12.50") or "all" for the whole balance.')
    idempotency_key = serializers.CharField(
        max_length=100, required=False, help_text="Or the Idempotency-Key header; the same key never donates twice."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Parsed here, at the door; a bad currency or amount is the service's error code (400).
        currency, amount_minor = donation_amount_parse(currency=attrs["currency"], amount=attrs["amount"])
        return {**attrs, "currency": currency, "amount_minor": amount_minor}


class AutoDonateSerializer(serializers.Serializer):
    charity = serializers.JSONField(allow_null=True, help_text="The charity's id, or null to turn it off.")
    share_percent = serializers.JSONField(allow_null=True, help_text="Whole number from 0 to 100; 0 turns it off.")

    def to_representation(self, setting: Any) -> dict[str, Any]:
        if setting is None:
            return {"charity": None, "share_percent": 0}
        charity = setting.charity
        return {
            "charity": {"id": charity.pk, "slug": charity.slug, "name": charity.name, "is_active": charity.is_active},
            "share_percent": setting.share_percent,
        }
