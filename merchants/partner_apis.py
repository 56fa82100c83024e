"""The partner API's order endpoints (F-T3): a merchant's web shop or till reports orders, with line
items and categories, and their refunds; each becomes a purchase through
``campaigns.services.purchase_event_apply`` (source ``partner``), so offers and line-item rules
apply as for card purchases.

Doors only: authentication by merchant API key, validation (400 with field errors), the
``Idempotency-Key`` (``merchants.idempotency``), then one call into the purchases pipeline.

Ids: a merchant's order ``<order_id>`` is the purchase ``partner:<merchant id>:<order_id>``
(order ids are the merchant's own, so they are scoped by merchant); reporting it is the clearing
event ``<merchant id>:order:<order_id>`` — the same order reported again is the same event and
changes nothing. A refund is the event ``<merchant id>:<order_id>:refund:<refund_id>``.
"""

import hashlib
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import services as purchases
from campaigns.models import Purchase
from campaigns.rules import LineItem
from merchants import services
from merchants.authentication import MerchantApiKeyAuthentication
from merchants.errors import (
    CustomerNotFoundError,
    OrderAlreadyReportedError,
    OrderNotFoundError,
    RefundExceedsOrderError,
)
from merchants.idempotency import HEADER, idempotent_response
from merchants.models import CustomerLink, Merchant
from merchants.partner_serializers import CustomerLinkSerializer, OrderSerializer, RefundSerializer
from merchants.permissions import HasMerchantApiKey
from merchants.selectors import consumer_by_email
from wallet.money import minor_to_decimal_string

SOURCE = "partner"
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER, location=OpenApiParameter.HEADER, required=True, description="1-255 characters; retries reuse it."
)
MAX_EVENT_ID = 100


def order_external_id(merchant_id: int, order_id: str) -> str:
    return f"{merchant_id}:{order_id}"


def _refund_event_id(merchant_id: int, order_id: str, refund_id: str) -> str:
    event_id = f"{merchant_id}:{order_id}:refund:{refund_id}"
    if len(event_id) <= MAX_EVENT_ID:
        return event_id
    digest = hashlib.sha256(f"{order_id}\n{refund_id}".encode()).hexdigest()
    return f"{merchant_id}:refund:{digest}"


def _order_of(merchant: Merchant, order_id: str) -> Purchase | None:
    return (
        Purchase.objects.filter(source=SOURCE, merchant=merchant, external_id=order_external_id(merchant.pk, order_id))
        .select_related("merchant")
        .first()
    )


def _order_body(purchase: Purchase, order_id: str) -> dict[str, Any]:
    currency = purchase.currency
    cashback = purchase.rewards.aggregate(total=Sum("amount_minor"))["total"] or 0
    return {
        "order_id": order_id,
        "purchase_id": purchase.pk,
        "status": purchase.status,
        "amount": minor_to_decimal_string(purchase.amount_minor, currency),
        "refunded": minor_to_decimal_string(purchase.refunded_minor, currency),
        "currency": currency,
        "occurred_at": purchase.occurred_at.isoformat(),
        "cashback": {"amount": minor_to_decimal_string(int(cashback), currency), "currency": currency},
    }


class PartnerApi(APIView):
    """Base of partner endpoints: merchant API key only (a logged-in person is not a partner system)."""

    authentication_classes = [MerchantApiKeyAuthentication]
    permission_classes = [HasMerchantApiKey]

    @property
    def merchant(self) -> Merchant:
        return self.request.auth.merchant


class OrdersApi(PartnerApi):
    @extend_schema(
        operation_id="partner_orders_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=OrderSerializer,
        responses={
            201: OpenApiResponse(description="The order became a purchase; what it earned so far."),
            400: OpenApiResponse(description="Invalid order (fields), or no Idempotency-Key."),
            404: OpenApiResponse(description="customer_not_found"),
            409: OpenApiResponse(description="idempotency_conflict or order_already_reported"),
        },
    )
    def post(self, request: Request) -> Response:
        """Report an order (with line items and categories); it earns the customer cashback."""
        merchant = self.merchant
        serializer = OrderSerializer(data=request.data, context={"merchant": merchant})
        serializer.is_valid(raise_exception=True)
        order = serializer.validated_data

        def report() -> tuple[int, dict[str, Any]]:
            customer = order["customer"]
            user = services.customer_match(
                merchant=merchant,
                source=CustomerLink.Source.PARTNER,
                external_id=customer.get("reference", ""),
                email=customer.get("email", ""),
            )
            if user is None:
                raise CustomerNotFoundError()
            purchase = purchases.purchase_event_apply(
                source=SOURCE,
                event_id=f"{merchant.pk}:order:{order['order_id']}",
                kind="clearing",
                external_id=order_external_id(merchant.pk, order["order_id"]),
                amount_minor=order["amount_minor"],
                currency=order["currency"],
                occurred_at=order["occurred_at"],
                user=user,
                merchant=merchant,
                location=merchant.locations.filter(pk=order["location_id"]).first() if order["location_id"] else None,
                line_items=[
                    LineItem(
                        amount_minor=line["amount_minor"],
                        quantity=line["quantity"],
                        category=line["category"],
                        product=line["sku"],
                    )
                    for line in order["line_items"]
                ],
            )
            purchase.refresh_from_db()
            if purchase.user_id != user.pk or purchase.cleared_minor != order["amount_minor"]:
                # The same order id was reported before with another customer or amount.
                raise OrderAlreadyReportedError()
            return status.HTTP_201_CREATED, _order_body(purchase, order["order_id"])

        return idempotent_response(request, report)


class OrderDetailApi(PartnerApi):
    @extend_schema(operation_id="partner_orders_retrieve", responses={200: OpenApiResponse(), 404: OpenApiResponse()})
    def get(self, request: Request, order_id: str) -> Response:
        """An order reported earlier: its status, refunds and the cashback it earned."""
        purchase = _order_of(self.merchant, order_id)
        if purchase is None:
            raise OrderNotFoundError()
        return Response(_order_body(purchase, order_id))


class OrderRefundsApi(PartnerApi):
    @extend_schema(
        operation_id="partner_orders_refund",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=RefundSerializer,
        responses={
            201: OpenApiResponse(description="The refund was applied; the cashback was reduced in proportion."),
            400: OpenApiResponse(description="Invalid refund, or no Idempotency-Key."),
            404: OpenApiResponse(description="order_not_found"),
            409: OpenApiResponse(description="refund_exceeds_order or idempotency_conflict"),
        },
    )
    def post(self, request: Request, order_id: str) -> Response:
        """Refund (part of) an order: the cashback it earned is clawed back in proportion."""
        merchant = self.merchant
        purchase = _order_of(merchant, order_id)
        if purchase is None:
            raise OrderNotFoundError()
        serializer = RefundSerializer(data=request.data, context={"currency": purchase.currency})
        serializer.is_valid(raise_exception=True)
        refund = serializer.validated_data
        refund_id = refund.get("refund_id") or (request.headers.get(HEADER) or "").strip()

        def apply_refund() -> tuple[int, dict[str, Any]]:
            current = _order_of(merchant, order_id)
            if refund["amount_minor"] > current.amount_minor - current.refunded_minor:
                raise RefundExceedsOrderError()
            event_id = _refund_event_id(merchant.pk, order_id, refund_id)
            updated = purchases.purchase_event_apply(
                source=SOURCE,
                event_id=event_id,
                kind="refund",
                external_id=event_id,
                original_external_id=current.external_id,
                amount_minor=refund["amount_minor"],
                currency=current.currency,
                occurred_at=refund.get("occurred_at") or timezone.now(),
                user=current.user,
                merchant=merchant,
                location=current.location,
            )
            updated.refresh_from_db()
            body = _order_body(updated, order_id)
            body["refund_id"] = refund_id
            return status.HTTP_201_CREATED, body

        return idempotent_response(request, apply_refund)


class CustomersApi(PartnerApi):
    @extend_schema(
        operation_id="partner_customers_link",
        request=CustomerLinkSerializer,
        responses={201: OpenApiResponse(), 400: OpenApiResponse(), 404: OpenApiResponse()},
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
