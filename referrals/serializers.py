from rest_framework import serializers

from wallet.money import minor_to_decimal_string


class AmountSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.CharField(help_text='Decimal string, e.g. "50.00".')


class TermsSerializer(serializers.Serializer):
    """The programme version in force: what new referrals get."""

    version = serializers.IntegerField()
    qualification_window_days = serializers.IntegerField()
    monthly_cap = serializers.IntegerField()
    amounts = serializers.SerializerMethodField()

    def get_amounts(self, program) -> list[dict[str, str]]:
        return [
            {
                "currency": amount.currency,
                "referrer_bonus": minor_to_decimal_string(amount.referrer_bonus_minor, amount.currency),
                "friend_bonus": minor_to_decimal_string(amount.friend_bonus_minor, amount.currency),
                "business_bonus": minor_to_decimal_string(amount.business_bonus_minor, amount.currency),
                "min_purchase": minor_to_decimal_string(amount.min_purchase_minor, amount.currency),
            }
            for amount in program.amounts.all()
        ]


class FriendReferralSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    friend = serializers.CharField(help_text="First name and initial, or a masked e-mail address.")
    status = serializers.CharField()
    status_label = serializers.CharField()
    reason = serializers.CharField()
    program_version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    qualified_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    bonus = AmountSerializer(allow_null=True, help_text="The referrer's bonus, once paid.")


class BusinessReferralSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    business_name = serializers.CharField()
    country = serializers.CharField()
    organisation_number = serializers.CharField()
    # DRF's metaclass moves declared fields into _declared_fields, so this never shadows Field.source.
    source = serializers.CharField()  # type: ignore[assignment]  # a field named "source", see above
    status = serializers.CharField()
    status_label = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    bonus = AmountSerializer(allow_null=True)


class ReferralsSerializer(serializers.Serializer):
    code = serializers.CharField()
    link = serializers.CharField(help_text="Share with friends: /r/<code>/.")
    partner_link = serializers.CharField(help_text="Share with businesses: /partners/?ref=<code>.")
    terms = TermsSerializer()
    earned = AmountSerializer(many=True, help_text="Referral bonuses paid to you, per currency.")
    referred_by_status = serializers.CharField(
        allow_null=True, help_text="Your own referral's status if a friend invited you."
    )
    referrals_count = serializers.IntegerField()
    referrals = FriendReferralSerializer(many=True, help_text="The newest 100 friends you referred.")
    business_referrals = BusinessReferralSerializer(many=True, help_text="The newest 100 businesses.")


class ClaimSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)


class BusinessSubmitSerializer(serializers.Serializer):
    business_name = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=2)
    organisation_number = serializers.CharField(max_length=20)
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
