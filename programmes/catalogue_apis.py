"""The rewards catalogue and e-vouchers for the mobile app (``/api/v1/catalogue/``, ``/api/v1/vouchers/``):
the wallet pages' twins (``catalogue_views``), thin doors onto the same services — ``catalogue`` for
redemption, ``vouchers`` for the SMS claim — and reads through ``catalogue_selectors``.

Prices: ``price`` is a decimal string in ``currency`` (``"12.50"`` ``NOK`` for cashback) or whole points
(``"500"`` ``PTS``). Redeeming moves points or cashback, so it needs an ``Idempotency-Key``: the same key
again returns the first redemption. A voucher's code is shown masked everywhere except in the answer to
the right SMS code, once (``Cache-Control: no-store``); another look needs another SMS code.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.request_types import AuthenticatedRequest
from cashback.api_times import api_datetime
from programmes import catalogue, catalogue_selectors, vouchers
from programmes.catalogue_errors import IdempotencyKeyRequiredError
from programmes.catalogue_models import PriceKind, Redemption, RewardItem, VoucherCode
from wallet.money import minor_to_decimal_string

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _price(amount: int, price_kind: str, currency: str) -> str:
    return str(amount) if price_kind == PriceKind.POINTS else minor_to_decimal_string(amount, currency)


class CatalogueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="discount, free_product, prepaid_voucher or event_invitation.")
    kind_label = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    brand = serializers.CharField(help_text="The brand owner's name.")
    price_kind = serializers.ChoiceField(choices=PriceKind.choices)
    price = serializers.CharField(help_text='Whole points ("500", currency PTS) or an amount ("12.50").')
    currency = serializers.CharField(help_text='"PTS" for points, else the cashback\'s currency.')
    stock = serializers.IntegerField(help_text="How many are left; 0: out of stock.")
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(help_text="The last day it can be redeemed.")
    image_url = serializers.CharField(allow_null=True)

    def to_representation(self, instance: RewardItem) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "kind": instance.kind,
            "kind_label": str(instance.get_kind_display()),
            "name": instance.name,
            "description": instance.description,
            "brand": instance.brand_owner.merchant.display_name,
            "price_kind": instance.price_kind,
            "price": _price(instance.price, instance.price_kind, instance.currency),
            "currency": instance.currency,
            "stock": instance.stock,
            "valid_from": instance.valid_from.isoformat(),
            "valid_until": instance.valid_until.isoformat(),
            "image_url": reverse("catalogue:image", args=[instance.pk]) if instance.image else None,
        }


class CatalogueItemDetailSerializer(CatalogueItemSerializer):
    refusal = serializers.CharField(allow_null=True, help_text="Why you cannot redeem it now; null: you can.")

    def to_representation(self, instance: RewardItem) -> dict[str, Any]:
        return {**super().to_representation(instance), "refusal": self.context["refusal"]}


class VoucherSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField(help_text="The catalogue item's id.")
    name = serializers.CharField()
    brand = serializers.CharField()
    masked = serializers.CharField(help_text='Never the code: "••••" and its last four characters.')
    status = serializers.CharField(help_text="issued (not yet claimed), claimed or voided.")
    status_label = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    claimed_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: VoucherCode) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "item": instance.item_id,
            "name": instance.item.name,
            "brand": instance.item.brand_owner.merchant.display_name,
            "masked": instance.masked,
            "status": instance.status,
            "status_label": str(instance.get_status_display()),
            "issued_at": api_datetime(instance.issued_at),
            "claimed_at": api_datetime(instance.claimed_at),
        }


class RedemptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="issued, or failed (nothing was taken).")
    status_label = serializers.CharField()
    item = serializers.IntegerField()
    price = serializers.CharField()
    currency = serializers.CharField()
    failure = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    voucher = VoucherSerializer(allow_null=True)

    def to_representation(self, instance: Redemption) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "status": instance.status,
            "status_label": str(instance.get_status_display()),
            "item": instance.item_id,
            "price": _price(instance.price, instance.item.price_kind, instance.currency),
            "currency": instance.currency,
            "failure": instance.failure,
            "created_at": api_datetime(instance.created_at),
            "voucher": VoucherSerializer(instance.voucher).data if instance.voucher is not None else None,
        }


class VoucherClaimSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^\s*\d{6}\s*$", help_text="The 6-digit code from the SMS.")


class CatalogueApi(ListAPIView):
    """The rewards you may redeem now (your tier, segment and programmes allow them), cheapest first."""

    serializer_class = CatalogueItemSerializer
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[RewardItem]:
        return catalogue_selectors.catalogue_items_for(user=self.request.user)

    @extend_schema(operation_id="catalogue_list")
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _live_item(item_id: int) -> RewardItem:
    return get_object_or_404(catalogue_selectors.catalogue_items(), pk=item_id)


class CatalogueItemApi(APIView):
    """One live reward, and whether you may redeem it (``refusal``)."""

    @extend_schema(operation_id="catalogue_retrieve", responses={200: CatalogueItemDetailSerializer})
    def get(self, request: AuthenticatedRequest, item_id: int) -> Response:
        item = _live_item(item_id)
        refusal = catalogue.item_refusal(item=item, user=request.user)
        return Response(CatalogueItemDetailSerializer(item, context={"refusal": refusal}).data)


def _request_key(header: str) -> str:
    """The redemption's key: the header's text hashed into the 64 characters a redemption keeps (a key
    of any length fits; ``api:`` keeps them apart from the web page's keys)."""
    return "api:" + hashlib.sha256(header.encode()).hexdigest()[:60]


class CatalogueRedeemApi(APIView):
    """Redeem a reward: its price is held on your points or cashback while a voucher is issued, then
    taken. The voucher comes back masked; claim it with an SMS code (``/api/v1/vouchers/<id>/claim/``)."""

    throttle_scope = "catalogue"

    @extend_schema(
        operation_id="catalogue_redeem",
        request=None,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="1 to 255 printable characters; the same key again returns the first redemption.",
            )
        ],
        responses={
            201: RedemptionSerializer,
            200: OpenApiResponse(RedemptionSerializer, description="A replayed key: the first redemption."),
            400: OpenApiResponse(description="idempotency_key_required"),
            403: OpenApiResponse(description="not_eligible"),
            404: OpenApiResponse(description="not_found: no live reward with that id"),
            409: OpenApiResponse(
                description="out_of_stock, insufficient_points, insufficient_cashback, reward_unavailable, "
                "no_voucher_code_left, idempotency_conflict"
            ),
        },
    )
    def post(self, request: AuthenticatedRequest, item_id: int) -> Response:
        header = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        if not 1 <= len(header) <= 255 or not header.isprintable() or not header.isascii():
            raise IdempotencyKeyRequiredError()
        item = _live_item(item_id)
        key = _request_key(header)
        replayed = catalogue_selectors.member_redemptions(user=request.user).filter(request_key=key).exists()
        redemption = catalogue.catalogue_redeem(user=request.user, item=item, request_key=key)
        body = RedemptionSerializer(redemption).data
        return Response(body, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)


class VouchersApi(ListAPIView):
    """Your vouchers, newest first, codes masked."""

    serializer_class = VoucherSerializer
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[VoucherCode]:
        return catalogue_selectors.member_vouchers(user=self.request.user)

    @extend_schema(operation_id="vouchers_list")
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class VoucherCodeSendApi(APIView):
    """Send a one-time code by SMS to your verified mobile number, to open the voucher's code."""

    throttle_scope = "catalogue"

    @extend_schema(
        operation_id="vouchers_send_code",
        request=None,
        responses={
            202: inline_serializer(
                "VoucherCodeSent",
                {
                    "sent_to": serializers.CharField(help_text="The number's last digits."),
                    "expires_at": serializers.DateTimeField(),
                },
            ),
            404: OpenApiResponse(description="voucher_not_found"),
            409: OpenApiResponse(description="phone_not_verified"),
            423: OpenApiResponse(description="claim_locked"),
            429: OpenApiResponse(description="claim_resend_limit"),
            503: OpenApiResponse(description="sms_not_sent"),
        },
    )
    def post(self, request: AuthenticatedRequest, voucher_id: int) -> Response:
        claim = vouchers.claim_code_send(user=request.user, voucher_id=voucher_id)
        phone = request.user.phone or ""  # claim_code_send refused a member without a verified number
        body = {"sent_to": "••••" + phone[-3:], "expires_at": api_datetime(claim.expires_at)}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class VoucherClaimApi(APIView):
    """The voucher's code in full, for the right SMS code: in this answer only (never stored by the app's
    caches: ``no-store``); the SMS code is then used up."""

    throttle_scope = "catalogue"

    @extend_schema(
        operation_id="vouchers_claim",
        request=VoucherClaimSerializer,
        responses={
            200: inline_serializer("VoucherClaimed", {"code": serializers.CharField(), "voucher": VoucherSerializer()}),
            400: OpenApiResponse(description="claim_code_wrong, claim_code_expired"),
            404: OpenApiResponse(description="voucher_not_found"),
            423: OpenApiResponse(description="claim_locked"),
        },
    )
    def post(self, request: AuthenticatedRequest, voucher_id: int) -> Response:
        body = VoucherClaimSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        code = vouchers.claim_verify(user=request.user, voucher_id=voucher_id, code=body.validated_data["code"])
        voucher = catalogue_selectors.member_vouchers(user=request.user).get(pk=voucher_id)
        response = Response({"code": code, "voucher": VoucherSerializer(voucher).data})
        response["Cache-Control"] = "no-store"
        return response
