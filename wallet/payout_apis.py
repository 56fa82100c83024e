"""The mobile API for payouts and spend codes (the signed-in consumer): thin doors onto
wallet.payouts and wallet.spending. Amounts are decimal strings with their currency."""

import contextlib
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.request_types import AuthenticatedRequest
from cashback.openapi import ApiErrorSerializer
from cashback.providers.stripe_gateway import StripeGatewayError
from wallet import payout_app_links, payouts, spending
from wallet.errors import StripeUnavailableError
from wallet.models import Currency, Payout, PayoutAccount, SpendCode
from wallet.money import minor_to_decimal_string, parse_amount
from wallet.selectors import wallet_balances
from wallet.spend_qr import spend_code_svg

IDEMPOTENCY_HEADER = "Idempotency-Key"


class PayoutSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField(help_text='What left the wallet, fee included: "150.00".')
    fee = serializers.SerializerMethodField(help_text='The platform\'s fee taken from it, e.g. "5.00" ("0.00": none).')
    net_amount = serializers.SerializerMethodField(help_text="What reaches the bank account: amount less fee.")
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Payout
        fields = [
            "id",
            "status",
            "status_label",
            "amount",
            "fee",
            "net_amount",
            "currency",
            "failure_code",
            "failure_message",
            "created_at",
            "processing_at",
            "paid_at",
            "failed_at",
        ]
        read_only_fields = fields

    def get_amount(self, payout: Payout) -> str:
        return minor_to_decimal_string(payout.amount, payout.currency)

    def get_fee(self, payout: Payout) -> str:
        return minor_to_decimal_string(payout.fee, payout.currency)

    def get_net_amount(self, payout: Payout) -> str:
        return minor_to_decimal_string(payout.net_amount, payout.currency)


class PayoutRequestSerializer(serializers.Serializer):
    amount = serializers.CharField(max_length=32, help_text='Decimal string in the currency, e.g. "150.00".')
    currency = serializers.ChoiceField(choices=Currency.choices)


class PayoutsApi(ListAPIView):
    """The consumer's payouts, newest first; POST asks for a new one."""

    throttle_scope = "payouts"

    serializer_class = PayoutSerializer
    # IsAuthenticated (the default permission) runs before get_queryset/get_object.
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[Payout]:
        return Payout.objects.filter(user=self.request.user).order_by("-created_at", "-id")

    @extend_schema(operation_id="payouts_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="payouts_create",
        request=PayoutRequestSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                location=OpenApiParameter.HEADER,
                required=False,
                description="Optional: a resent request with the same key returns the first payout.",
            )
        ],
        responses={
            201: PayoutSerializer,
            400: OpenApiResponse(description="invalid_amount, too_many_decimals, payout_below_minimum, ..."),
            409: OpenApiResponse(description="insufficient_funds, payouts_not_set_up, idempotency_conflict"),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = PayoutRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        currency = data.validated_data["currency"]
        amount = parse_amount(data.validated_data["amount"], currency)
        payout = payouts.payout_request(
            user=request.user,
            amount_minor=amount,
            currency=currency,
            client_key=(request.headers.get(IDEMPOTENCY_HEADER) or "").strip()[:255],
        )
        return Response(PayoutSerializer(payout).data, status=status.HTTP_201_CREATED)


class PayoutAccountSerializer(serializers.Serializer):
    set_up = serializers.BooleanField(help_text="Payouts can be requested (Stripe has both flags below).")
    payouts_enabled = serializers.BooleanField()
    details_submitted = serializers.BooleanField()
    minimum = serializers.DictField(
        child=serializers.CharField(), help_text='The smallest payout per currency, e.g. {"NOK": "100.00"}.'
    )
    fee = serializers.DictField(
        child=serializers.CharField(),
        help_text='The fee a payout costs per currency, taken from its amount, e.g. {"NOK": "0.00"}: show it before '
        "the consumer confirms.",
    )


class PayoutOnboardingSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Stripe's hosted onboarding: open it in a browser.")
    status_url = serializers.CharField(help_text="Poll it (GET) until `set_up` is true.")


class PayoutAccountApi(APIView):
    """Whether payouts are set up; POST starts (or resumes) Stripe's onboarding and returns its URL.

    The onboarding works with the app's session token alone: Stripe sends the consumer back to a
    signed link that needs no cookie (wallet/payout_app_links.py), and GET asks Stripe for the
    account's state while onboarding is not complete, so the app can poll it."""

    throttle_scope = "payouts"  # POST creates the Stripe account

    @extend_schema(operation_id="payouts_account_retrieve", responses={200: PayoutAccountSerializer})
    def get(self, request: AuthenticatedRequest) -> Response:
        account = PayoutAccount.objects.filter(user=request.user).first()
        if account is not None and not account.is_ready:
            # Unreachable Stripe: the stored state, until Stripe answers (or sends account.updated).
            with contextlib.suppress(StripeGatewayError):
                account = payouts.payout_account_refresh(user=request.user) or account
        data = {
            "set_up": bool(account and account.is_ready),
            "payouts_enabled": bool(account and account.payouts_enabled),
            "details_submitted": bool(account and account.details_submitted),
            "minimum": {
                currency: minor_to_decimal_string(payouts.payout_minimum(currency), currency)
                for currency in Currency.values
            },
            "fee": {
                currency: minor_to_decimal_string(payouts.payout_fee(currency), currency)
                for currency in Currency.values
            },
        }
        return Response(PayoutAccountSerializer(data).data)

    @extend_schema(
        operation_id="payouts_account_onboard",
        request=None,
        responses={
            200: PayoutOnboardingSerializer,
            502: OpenApiResponse(ApiErrorSerializer, description="Stripe could not be reached (`stripe_unavailable`)."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        links = payout_app_links.payout_app_link_urls(user=request.user)
        try:
            url = payouts.payout_account_start(
                user=request.user,
                refresh_url=request.build_absolute_uri(links["refresh_url"]),
                return_url=request.build_absolute_uri(links["return_url"]),
            )
        except StripeGatewayError as error:
            raise StripeUnavailableError() from error
        return Response({"url": url, "status_url": reverse("api-payouts-account")})


class SpendCodeRequestSerializer(serializers.Serializer):
    currency = serializers.ChoiceField(choices=Currency.choices, required=False)


def spend_code_body(spend: SpendCode, *, available: int) -> dict[str, Any]:
    return {
        "code": spend.code,
        "display": spending.display_code(spend.code),
        "currency": spend.currency,
        "expires_at": spend.expires_at,
        "available": minor_to_decimal_string(available, spend.currency),
        "qr_svg": spend_code_svg(spend.code),
    }


class SpendCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    display = serializers.CharField(help_text="The code as people read it, e.g. ABCD-EFGH.")
    currency = serializers.CharField()
    expires_at = serializers.DateTimeField()
    available = serializers.CharField(help_text="Decimal string: what the code can spend now.")
    qr_svg = serializers.CharField(help_text="An inline SVG of the code's QR, without styles or scripts.")


class SpendCodesApi(APIView):
    """A one-time code to pay with cashback at a checkout (replaces the previous one)."""

    throttle_scope = "spend_codes"

    @extend_schema(
        operation_id="spend_codes_create",
        request=SpendCodeRequestSerializer,
        responses={
            201: SpendCodeSerializer,
            409: OpenApiResponse(description="nothing_to_spend: no cashback available yet."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = SpendCodeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        currency = data.validated_data.get("currency") or settings.DEFAULT_CURRENCY
        spend = spending.spend_code_issue(user=request.user, currency=currency)
        available = next((b.available for b in wallet_balances(user=request.user) if b.currency == currency), 0)
        return Response(spend_code_body(spend, available=available), status=status.HTTP_201_CREATED)
