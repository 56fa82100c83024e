"""The partner API for spending cashback at checkout, mounted at /api/v1/partner/spend/.

A merchant's checkout (merchant API key, ``Idempotency-Key`` on every POST):

- ``POST holds/`` ``{code, amount, currency}`` → 201: a hold of up to ``amount`` on the
  customer's available cashback (``held`` may be less: a partial payment);
- ``GET holds/<id>/`` → the hold;
- ``POST holds/<id>/capture/`` ``{amount?}`` (at most what is held; default all) → 200;
- ``POST holds/<id>/release/`` → 200.

Doors only: validation, the idempotency wrapper (a retried request gets the first answer),
then one call into wallet.spending. The door lives with the partner API in merchants (which may
call wallet); the wallet does not know about partners' API keys.
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cashback.amount_fields import AmountField
from cashback.amounts import AmountError, money_from_outside
from merchants.idempotency import idempotent_response
from merchants.partner_apis import IDEMPOTENCY_PARAMETER, PartnerApi
from wallet import spending
from wallet.models import Currency


def _amount_minor(raw: Any, currency: str) -> int:
    """A spend amount (cashback.amounts: plain decimal, positive, within a purchase's maximum), or a 400
    with the parser's code naming ``amount`` — raised before the idempotency store, so a refused
    request stores nothing."""
    try:
        return money_from_outside(raw, currency=currency, positive=True)
    except AmountError as error:
        raise type(error)(error.message, fields={"amount": [error.message]}) from None


class HoldRequestSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text="The customer's spend code, e.g. ABCD-EFGH.")
    amount = AmountField(help_text='Most to apply, decimal string, e.g. "120.00".')
    currency = serializers.ChoiceField(choices=Currency.choices)


class CaptureRequestSerializer(serializers.Serializer):
    amount = AmountField(required=False, help_text="At most the amount held; all of it when left out.")


class SpendHoldSerializer(serializers.Serializer):
    """What the spend-hold endpoints answer (documentation of ``wallet.spending.spend_hold_body``)."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["pending", "posted", "voided", "expired"])
    currency = serializers.CharField()
    requested = serializers.CharField(help_text="Decimal string: the amount asked for.")
    held = serializers.CharField(help_text="Decimal string: what is held (less when the balance was short).")
    # DRF's metaclass takes declared fields off the class: the serializer's own .partial is untouched.
    partial = serializers.BooleanField()  # type: ignore[assignment]  # the stubs see the class attribute
    captured = serializers.CharField(help_text="Decimal string.")
    expires_at = serializers.DateTimeField()


class SpendHoldsApi(PartnerApi):
    @extend_schema(
        operation_id="partner_spend_holds_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=HoldRequestSerializer,
        responses={
            201: SpendHoldSerializer,
            400: OpenApiResponse(description="invalid fields, too_many_decimals, currency_mismatch"),
            404: OpenApiResponse(description="spend_code_not_found"),
            409: OpenApiResponse(description="spend_code_used, spend_code_expired, insufficient_funds"),
        },
    )
    def post(self, request: Request) -> Response:
        """Place a hold on the customer's cashback with their spend code."""
        merchant = self.merchant

        data = HoldRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        currency = data.validated_data["currency"]
        amount_minor = _amount_minor(data.validated_data["amount"], currency)

        def place() -> tuple[int, Any]:
            spend = spending.spend_hold_place(
                merchant=merchant, code=data.validated_data["code"], amount_minor=amount_minor, currency=currency
            )
            return status.HTTP_201_CREATED, spending.spend_hold_body(spend)

        return idempotent_response(request, place)


class SpendHoldDetailApi(PartnerApi):
    @extend_schema(
        operation_id="partner_spend_holds_retrieve",
        responses={200: SpendHoldSerializer, 404: OpenApiResponse(description="spend_hold_not_found")},
    )
    def get(self, request: Request, hold_id: int) -> Response:
        spend = spending.spend_hold_get(merchant=self.merchant, hold_id=hold_id)
        return Response(spending.spend_hold_body(spend))


class SpendHoldCaptureApi(PartnerApi):
    @extend_schema(
        operation_id="partner_spend_holds_capture",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=CaptureRequestSerializer,
        responses={
            200: OpenApiResponse(SpendHoldSerializer, description="The hold, status posted, with the amount captured."),
            400: OpenApiResponse(description="hold_amount_exceeded, too_many_decimals"),
            404: OpenApiResponse(description="spend_hold_not_found"),
            409: OpenApiResponse(description="hold_not_pending (released, expired or captured), hold_expired"),
        },
    )
    def post(self, request: Request, hold_id: int) -> Response:
        """Capture all of the hold, or less (the rest goes back to the customer)."""
        merchant = self.merchant

        data = CaptureRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        raw = data.validated_data.get("amount")
        amount = None
        if raw not in (None, ""):
            spend = spending.spend_hold_get(merchant=merchant, hold_id=hold_id)
            amount = _amount_minor(raw, spending.spend_hold_of(spend).currency)

        def capture() -> tuple[int, Any]:
            spending.spend_hold_capture(merchant=merchant, hold_id=hold_id, amount_minor=amount)
            return status.HTTP_200_OK, spending.spend_hold_body(
                spending.spend_hold_get(merchant=merchant, hold_id=hold_id)
            )

        return idempotent_response(request, capture)


class SpendHoldReleaseApi(PartnerApi):
    @extend_schema(
        operation_id="partner_spend_holds_release",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=None,
        responses={
            200: OpenApiResponse(SpendHoldSerializer, description="The hold, status voided."),
            404: OpenApiResponse(description="spend_hold_not_found"),
            409: OpenApiResponse(description="hold_not_pending"),
        },
    )
    def post(self, request: Request, hold_id: int) -> Response:
        """Release the hold: all of it goes back to the customer."""
        merchant = self.merchant

        def release() -> tuple[int, Any]:
            spending.spend_hold_release(merchant=merchant, hold_id=hold_id)
            return status.HTTP_200_OK, spending.spend_hold_body(
                spending.spend_hold_get(merchant=merchant, hold_id=hold_id)
            )

        return idempotent_response(request, release)
