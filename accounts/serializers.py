from rest_framework import serializers

from accounts.models import Consent, User
from accounts.validators import validate_birth_year


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
            "gender",
            "city",
            "language",
            "consents",
        ]
        read_only_fields = ["id", "email", "phone", "phone_verified", "consents"]
        extra_kwargs = {"birth_year": {"validators": [validate_birth_year]}}

    def get_consents(self, user: User) -> list[dict]:
        return ConsentSerializer(self.context["consents"], many=True).data
