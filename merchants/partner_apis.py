"""The partner API's shared door and its merchant endpoints, mounted at /api/v1/partner/.

``PartnerApi`` is the base of every partner endpoint (merchant API key only); the
``Idempotency-Key`` store is ``merchants.idempotency``. Endpoints: customer links here, spend holds
in ``merchants.spend_partner_apis`` (calling wallet's spending services), orders and refunds in
``campaigns.partner_apis`` (purchases belong to campaigns).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cashback.throttling import PartnerKeyThrottle
from merchants import services
from merchants.authentication import MerchantApiKeyAuthentication
from merchants.errors import CustomerNotFoundError
from merchants.idempotency import HEADER
from merchants.models import CustomerLink, Merchant, MerchantApiKey
from merchants.partner_serializers import CustomerLinkSerializer
from merchants.permissions import HasMerchantApiKey
from merchants.selectors import consumer_by_email

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER, location=OpenApiParameter.HEADER, required=True, description="1-255 characters; retries reuse it."
)


class PartnerApi(APIView):
    """Base of partner endpoints: merchant API key only (a logged-in person is not a partner system)."""

    authentication_classes = [MerchantApiKeyAuthentication]
    permission_classes = [HasMerchantApiKey]
    throttle_classes = [PartnerKeyThrottle]
    throttle_scope = "partner"

    @property
    def merchant(self) -> Merchant:
        key = self.request.auth
        if not isinstance(key, MerchantApiKey):  # HasMerchantApiKey lets no other request in
            raise exceptions.NotAuthenticated()
        return key.merchant


class CustomersApi(PartnerApi):
    @extend_schema(
        operation_id="partner_customers_link",
        request=CustomerLinkSerializer,
        responses={
            201: inline_serializer(
                "CustomerLinked",
                {
                    "reference": serializers.CharField(required=False),
                    "stripe_customer_id": serializers.CharField(required=False),
                    "linked": serializers.BooleanField(),
                },
            ),
            404: OpenApiResponse(description="customer_not_found"),
        },
    )
    def post(self, request: Request) -> Response:
        """Link your customer id (or a Stripe customer id of your connected account) to the platform
        member with this e-mail address; later orders and Stripe payments with that id earn for them.
        Linking again moves the id to the member now given."""
        serializer = CustomerLinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = consumer_by_email(email=data["email"])
        if user is None:
            raise CustomerNotFoundError()
        if data.get("stripe_customer_id"):
            source, external_id = CustomerLink.Source.STRIPE, data["stripe_customer_id"]
        else:
            source, external_id = CustomerLink.Source.PARTNER, data["reference"]
        services.customer_link_save(
            merchant=self.merchant,
            source=source,
            external_id=external_id,
            user=user,
            via=CustomerLink.Via.PARTNER_API,
            replace=True,
        )
        key = "stripe_customer_id" if source == CustomerLink.Source.STRIPE else "reference"
        return Response({key: external_id, "linked": True}, status=status.HTTP_201_CREATED)
