"""The mobile API's shapes of challenge progress and the tier: money as decimal strings with their
currency, times in ISO 8601 with offset."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.models import Tier
from campaigns.progress_selectors import ChallengeProgressView, ChallengeStatus
from campaigns.rules import ChallengeTarget
from campaigns.tier_selectors import TierStanding

# The API's one money shape ({"currency", "amount"}), shared so the schema has one "Money" component.
from cashback.openapi import MoneySerializer
from wallet.money import minor_to_decimal_string


def money(amount_minor: int, currency: str) -> dict[str, str]:
    return {"amount": minor_to_decimal_string(amount_minor, currency), "currency": currency}


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ChallengeProgressSerializer(serializers.Serializer):
    """One challenge the consumer takes part in. A revenue target is money (``target``, ``progress``,
    ``remaining`` as amounts; the ``*_purchases`` fields null); a purchase-count target is a number of
    purchases (the other way round)."""

    id = serializers.IntegerField(source="challenge_id")
    title = serializers.CharField()
    offer = serializers.SerializerMethodField()
    merchant = serializers.SerializerMethodField()
    target_type = serializers.ChoiceField(choices=[t.value for t in ChallengeTarget])
    target = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    remaining = serializers.SerializerMethodField()
    target_purchases = serializers.SerializerMethodField()
    progress_purchases = serializers.SerializerMethodField()
    remaining_purchases = serializers.SerializerMethodField()
    percent = serializers.IntegerField(help_text="Whole percent of the target reached, 0-100.")
    bonus = serializers.SerializerMethodField(help_text="What reaching the target pays, once.")
    status = serializers.ChoiceField(
        choices=[s.value for s in ChallengeStatus],
        help_text="running; reached (bonus pending); paid (bonus matured); expired (ended short of the target).",
    )
    status_label = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    days_left = serializers.IntegerField(
        allow_null=True, help_text="Whole days until the end, rounded up; null once it is not running."
    )
    summary = serializers.CharField(help_text='In words: "650 of 1 000 kr spent, 12 days left".')

    @extend_schema_field(RefSerializer)
    def get_offer(self, view: ChallengeProgressView) -> dict[str, Any]:
        return {"id": view.offer_id, "name": view.offer_title}

    @extend_schema_field(RefSerializer)
    def get_merchant(self, view: ChallengeProgressView) -> dict[str, Any]:
        return {"id": view.merchant_id, "name": view.merchant_name}

    def _amount(self, view: ChallengeProgressView, value: int) -> dict[str, str] | None:
        return money(value, view.currency) if view.is_revenue else None

    def _count(self, view: ChallengeProgressView, value: int) -> int | None:
        return None if view.is_revenue else value

    @extend_schema_field(MoneySerializer(allow_null=True))
    def get_target(self, view: ChallengeProgressView) -> dict[str, str] | None:
        return self._amount(view, view.target)

    @extend_schema_field(MoneySerializer(allow_null=True))
    def get_progress(self, view: ChallengeProgressView) -> dict[str, str] | None:
        return self._amount(view, view.progress)

    @extend_schema_field(MoneySerializer(allow_null=True))
    def get_remaining(self, view: ChallengeProgressView) -> dict[str, str] | None:
        return self._amount(view, view.remaining)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_target_purchases(self, view: ChallengeProgressView) -> int | None:
        return self._count(view, view.target)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_progress_purchases(self, view: ChallengeProgressView) -> int | None:
        return self._count(view, view.progress)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_remaining_purchases(self, view: ChallengeProgressView) -> int | None:
        return self._count(view, view.remaining)

    @extend_schema_field(MoneySerializer)
    def get_bonus(self, view: ChallengeProgressView) -> dict[str, str]:
        return money(view.bonus_minor, view.currency)


class TierSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    rank = serializers.IntegerField(help_text="Higher is better; 1 is the first tier.")
    multiplier = serializers.DecimalField(max_digits=4, decimal_places=2, help_text="Cashback is multiplied by it.")
    basis = serializers.ChoiceField(choices=Tier.Basis.choices)
    threshold = serializers.SerializerMethodField(help_text="What the last 12 months must reach for this tier.")

    @extend_schema_field(MoneySerializer)
    def get_threshold(self, tier: Tier) -> dict[str, str]:
        return money(tier.threshold_minor, tier.currency)


class NextTierNeedSerializer(serializers.Serializer):
    basis = serializers.ChoiceField(choices=Tier.Basis.choices, help_text="What counts: spend or earned cashback.")
    counted = MoneySerializer(help_text="What counts now (the last 12 months).")
    need = MoneySerializer(help_text="What is still missing.")
    deadline = serializers.DateTimeField(
        allow_null=True,
        help_text="Reach it before this, when the oldest counted purchase leaves the 12-month window; "
        "null when nothing counts yet.",
    )
    percent = serializers.IntegerField(help_text="Whole percent of the next tier's threshold reached, 0-100.")
    text = serializers.CharField(help_text='In words: "Spend 2 300 kr more before 1 March 2027 to reach Gold."')


class TierStandingSerializer(serializers.Serializer):
    tiers_configured = serializers.BooleanField(help_text="False while the platform has no tiers.")
    tier = TierSerializer(allow_null=True, help_text="The tier the rules apply now; null below the first tier.")
    multiplier = serializers.DecimalField(
        max_digits=4, decimal_places=2, help_text="Your cashback multiplier now (1.00 without a tier)."
    )
    is_top = serializers.BooleanField(help_text="True in the highest tier: there is no next one.")
    next_tier = TierSerializer(allow_null=True)
    next_need = serializers.SerializerMethodField()

    @extend_schema_field(NextTierNeedSerializer(allow_null=True))
    def get_next_need(self, standing: TierStanding) -> dict[str, Any] | None:
        tier = standing.next_tier
        if tier is None:
            return None
        return NextTierNeedSerializer(
            {
                "basis": tier.basis,
                "counted": money(standing.next_progress_minor, tier.currency),
                "need": money(standing.next_need_minor, tier.currency),
                "deadline": standing.next_deadline,
                "percent": standing.next_percent,
                "text": standing.next_need_text,
            }
        ).data
