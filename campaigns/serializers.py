"""The mobile API's shapes for purchases: what each earned or why not, amounts as decimal strings."""

from typing import Any, cast

from django.conf import settings
from rest_framework import serializers

from campaigns.describe import describe_purchase
from campaigns.models import Purchase, Reward
from wallet.money import minor_to_decimal_string


def _money(amount: int | None, currency: str) -> str | None:
    return None if amount is None else minor_to_decimal_string(amount, currency)


class RewardSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField(help_text="What it earns now, after any refunds.")

    class Meta:
        model = Reward
        fields = ["id", "kind", "offer_id", "title", "beneficiary", "amount", "currency", "status", "matures_at"]
        read_only_fields = fields

    def get_title(self, reward: Reward) -> str:
        if reward.kind == "challenge" and reward.challenge is not None:
            return reward.challenge.title
        return reward.offer.title

    def get_amount(self, reward: Reward) -> str:
        return minor_to_decimal_string(reward.amount_minor, reward.currency)


class DecisionSerializer(serializers.Serializer):
    offer_id = serializers.IntegerField()
    title = serializers.CharField()
    applied = serializers.BooleanField()
    code = serializers.CharField(help_text="Stable reason code (docs/rules.md), e.g. earned, below_minimum.")
    message = serializers.CharField(help_text="The reason in words.")
    earned = serializers.CharField(help_text="What the rules gave, before refunds.")


class PurchaseSerializer(serializers.ModelSerializer):
    merchant = serializers.SerializerMethodField()
    location = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField(help_text="The cleared amount, else the authorised one.")
    refunded = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    earned = serializers.SerializerMethodField(help_text="Cashback it earns you now, in total.")
    explanation = serializers.SerializerMethodField(help_text="What it earned, or why not, in words.")
    reasons = serializers.SerializerMethodField(help_text="One line per reward and per offer that did not earn.")
    rewards = RewardSerializer(many=True, read_only=True)
    decisions = serializers.SerializerMethodField()

    class Meta:
        model = Purchase
        fields = [
            "id",
            "source",
            "merchant",
            "location",
            "occurred_at",
            "status",
            "status_label",
            "amount",
            "refunded",
            "currency",
            "earned",
            "explanation",
            "reasons",
            "rewards",
            "decisions",
        ]
        read_only_fields = fields

    def _explained(self, purchase: Purchase):
        # The view's serializer context is a dict; the stubs type it as a read-only Mapping.
        cache = cast(dict[str, Any], self.context).setdefault("_explained", {})
        if purchase.pk not in cache:
            reward_on_auth = bool(getattr(settings, "REWARD_ON_AUTH", True))
            cache[purchase.pk] = describe_purchase(
                purchase, list(purchase.rewards.all()), reward_on_auth=reward_on_auth
            )
        return cache[purchase.pk]

    def get_merchant(self, purchase: Purchase) -> dict[str, Any]:
        return {"id": purchase.merchant_id, "name": purchase.merchant.display_name}

    def get_location(self, purchase: Purchase) -> dict[str, Any] | None:
        location = purchase.location  # None without a query when there is no location
        if location is None:
            return None
        return {"id": purchase.location_id, "name": location.name}

    def get_amount(self, purchase: Purchase) -> str:
        return minor_to_decimal_string(purchase.amount_minor, purchase.currency)

    def get_refunded(self, purchase: Purchase) -> str:
        return minor_to_decimal_string(purchase.refunded_minor, purchase.currency)

    def get_earned(self, purchase: Purchase) -> str:
        return minor_to_decimal_string(self._explained(purchase).earned_minor, purchase.currency)

    def get_explanation(self, purchase: Purchase) -> str:
        return self._explained(purchase).headline

    def get_reasons(self, purchase: Purchase) -> list[str]:
        return self._explained(purchase).lines

    def get_decisions(self, purchase: Purchase) -> list[dict[str, Any]]:
        return [
            {
                "offer_id": d.get("offer_id"),
                "title": d.get("title", ""),
                "applied": bool(d.get("applied")),
                "code": d.get("code", ""),
                "message": d.get("message", ""),
                "earned": minor_to_decimal_string(int(d.get("earned_minor") or 0), purchase.currency),
            }
            for d in purchase.decisions or []
        ]
