from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.models import Card, Consent, User
from accounts.validators import validate_birth_date, validate_birth_year
from cashback.providers.card_network import looks_like_card_number


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = ["kind", "granted", "version", "created_at"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    """The signed-in person; only the optional profile fields are writable."""

    consents = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "phone",
            "phone_verified",
            "full_name",
            "birth_year",
            "birth_date",
            "gender",
            "city",
            "language",
            "time_zone",
            "consents",
        ]
        read_only_fields = ["id", "email", "phone", "phone_verified", "consents"]
        extra_kwargs = {
            "birth_year": {"validators": [validate_birth_year]},
            "birth_date": {"validators": [validate_birth_date]},
        }

    def get_consents(self, user: User) -> list[dict]:
        # many=True gives a ListSerializer, whose data is a list; the stubs cannot tell from the call.
        return list(ConsentSerializer(self.context["consents"], many=True).data)


class CardSerializer(serializers.ModelSerializer):
    """A linked card as the app shows it: never more than first six, last four and expiry."""

    class Meta:
        model = Card
        fields = ["id", "scheme", "first_six", "last_four", "exp_month", "exp_year", "status", "created_at"]
        read_only_fields = fields


class CardLinkSerializer(serializers.Serializer):
    """``{"token": "ctok_..."}``: the network token from the card network's enrolment."""

    token = serializers.CharField(max_length=128, trim_whitespace=True)

    def validate_token(self, value: str) -> str:
        # Someone sending the card number itself gets told so, and the number goes no further
        # (the message does not repeat it).
        if looks_like_card_number(value):
            raise serializers.ValidationError(
                _("Send the token from the card network's enrolment, never the card number."), code="card_number_sent"
            )
        return value
