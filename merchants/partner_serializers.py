"""Request shapes of the partner API's merchant endpoints (/api/v1/partner/customers/); the order
shapes are in ``campaigns.partner_serializers``."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers


class CustomerLinkSerializer(serializers.Serializer):
    """``POST /api/v1/partner/customers/``: your customer id (or their Stripe customer id) → the
    platform member with this e-mail address."""

    email = serializers.EmailField(max_length=254)
    reference = serializers.CharField(required=False, max_length=255)
    stripe_customer_id = serializers.RegexField(r"^cus_[A-Za-z0-9]{1,250}$", required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("reference")) == bool(attrs.get("stripe_customer_id")):
            raise serializers.ValidationError(_("Give either reference or stripe_customer_id."))
        return attrs
