"""The partner API's order endpoints (F-T3): a merchant's web shop or till reports orders, with line
items and categories, and their refunds; each becomes a purchase (source ``partner``) through
``campaigns.services.partner_order_record`` and ``partner_refund_record``, so offers and line-item
rules apply as for card purchases. The ids are described in ``campaigns.services.partner_orders``.

Doors only: authentication by merchant API key and the base view (``merchants.partner_apis``),
validation (400 with field errors), the ``Idempotency-Key`` (``merchants.idempotency``), then one
service call; the services decide under the purchase's row lock and raise domain errors.
"""

from typing import Any

from django.db.models import Sum
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.errors import OrderNotFoundError
from campaigns.models import Purchase
from campaigns.partner_serializers import (
    OrderResponseSerializer,
    OrderSerializer,
    RefundResponseSerializer,
    RefundSerializer,
)
from campaigns.rules import LineItem
from cashback.api_times import api_datetime
from merchants.idempotency import HEADER, idempotent_response
from merchants.partner_apis import IDEMPOTENCY_PARAMETER, PartnerApi
from wallet.money import minor_to_decimal_string


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
        "occurred_at": api_datetime(purchase.occurred_at),
        "cashback": {"amount": minor_to_decimal_string(int(cashback), currency), "currency": currency},
    }


class OrdersApi(PartnerApi):
    @extend_schema(
        operation_id="partner_orders_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=OrderSerializer,
        responses={
            201: OpenApiResponse(
                OrderResponseSerializer, description="The order became a purchase; what it earned so far."
            ),
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
            purchase = services.partner_order_record(
                merchant=merchant,
                order_id=order["order_id"],
                customer_email=order["customer"].get("email", ""),
                customer_reference=order["customer"].get("reference", ""),
                amount_minor=order["amount_minor"],
                currency=order["currency"],
                occurred_at=order["occurred_at"],
                location_id=order["location_id"],
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
            return status.HTTP_201_CREATED, _order_body(purchase, order["order_id"])

        return idempotent_response(request, report)


class OrderDetailApi(PartnerApi):
    @extend_schema(
        operation_id="partner_orders_retrieve",
        responses={200: OrderResponseSerializer, 404: OpenApiResponse(description="order_not_found")},
    )
    def get(self, request: Request, order_id: str) -> Response:
        """An order reported earlier: its status, refunds and the cashback it earned."""
        purchase = selectors.partner_order_get(merchant=self.merchant, order_id=order_id)
        if purchase is None:
            raise OrderNotFoundError()
        return Response(_order_body(purchase, order_id))


class OrderRefundsApi(PartnerApi):
    @extend_schema(
        operation_id="partner_orders_refund",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=RefundSerializer,
        responses={
            201: OpenApiResponse(
                RefundResponseSerializer, description="The refund was applied; the cashback was reduced in proportion."
            ),
            400: OpenApiResponse(description="Invalid refund, or no Idempotency-Key."),
            404: OpenApiResponse(description="order_not_found"),
            409: OpenApiResponse(description="refund_exceeds_order or idempotency_conflict"),
        },
    )
    def post(self, request: Request, order_id: str) -> Response:
        """Refund (part of) an order: the cashback it earned is clawed back in proportion."""
        merchant = self.merchant
        order = selectors.partner_order_get(merchant=merchant, order_id=order_id)
        if order is None:
            raise OrderNotFoundError()
        # The amount is parsed in the order's currency; the service checks it again under the lock.
        serializer = RefundSerializer(data=request.data, context={"currency": order.currency})
        serializer.is_valid(raise_exception=True)
        refund = serializer.validated_data
        refund_id = refund.get("refund_id") or (request.headers.get(HEADER) or "").strip()

        def apply_refund() -> tuple[int, dict[str, Any]]:
            purchase = services.partner_refund_record(
                merchant=merchant,
                order_id=order_id,
                refund_id=refund_id,
                amount_minor=refund["amount_minor"],
                occurred_at=refund.get("occurred_at") or timezone.now(),
            )
            body = _order_body(purchase, order_id)
            body["refund_id"] = refund_id
            return status.HTTP_201_CREATED, body

        return idempotent_response(request, apply_refund)
