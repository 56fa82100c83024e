"""The mobile app's referral endpoints (session-token auth like /api/v1/me/)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import visitor
from accounts.request_types import AuthenticatedRequest
from referrals import selectors, services
from referrals.serializers import (
    BusinessReferralSerializer,
    BusinessSubmitSerializer,
    ClaimSerializer,
    ReferralsSerializer,
)
from referrals.views import share_links
from wallet.money import minor_to_decimal_string

if TYPE_CHECKING:
    from referrals.models import BusinessReferral, Referral

LIST_LIMIT = 100


def _amount(minor: int, currency: str) -> dict[str, str] | None:
    return {"currency": currency, "amount": minor_to_decimal_string(minor, currency)} if currency else None


def _friend_row(referral: Referral) -> dict[str, Any]:
    paid = referral.status == "paid"
    return {
        "id": referral.pk,
        "friend": selectors.friend_label(referral.friend),
        "status": referral.status,
        "status_label": referral.get_status_display(),
        "reason": referral.status_reason if referral.status in ("cancelled", "capped", "expired") else "",
        "program_version": referral.program.version,
        "created_at": referral.created_at,
        "qualified_at": referral.qualified_at,
        "paid_at": referral.paid_at,
        "bonus": _amount(referral.referrer_bonus_minor, referral.currency) if paid else None,
    }


def _business_row(referral: BusinessReferral) -> dict[str, Any]:
    return {
        "id": referral.pk,
        "business_name": referral.business_name,
        "country": referral.country,
        "organisation_number": referral.organisation_number,
        "source": referral.source,
        "status": referral.status,
        "status_label": referral.get_status_display(),
        "reason": referral.status_reason,
        "created_at": referral.created_at,
        "paid_at": referral.paid_at,
        "bonus": _amount(referral.bonus_minor, referral.currency) if referral.status == "paid" else None,
    }


class ReferralsApi(APIView):
    """The consumer's referral code and links, the terms in force, what they earned, and the status
    of each friend and business they referred."""

    @extend_schema(operation_id="referrals_retrieve", responses=ReferralsSerializer)
    def get(self, request: AuthenticatedRequest) -> Response:
        user = request.user
        code = services.referral_code_for(user=user)
        services.device_sighting_record(user=user, device_id=visitor.device_id(request), ip=visitor.client_ip(request))
        referrals = selectors.referrals_made(user=user).select_related("program")
        referred_by = selectors.referral_of_friend(friend=user)
        data = {
            "code": code.code,
            **share_links(code.code),
            "terms": services.program_current(),
            "earned": selectors.referral_earnings(user=user).as_decimal_strings(),
            "referred_by_status": referred_by.status if referred_by else None,
            "referrals_count": referrals.count(),
            "referrals": [_friend_row(referral) for referral in referrals[:LIST_LIMIT]],
            "business_referrals": [
                _business_row(referral) for referral in selectors.business_referrals_made(user=user)[:LIST_LIMIT]
            ],
        }
        return Response(ReferralsSerializer(data).data)


class ReferralClaimApi(APIView):
    """Attaching a referrer to an existing account. Always refused with the precise reason (unknown
    code, own code, already referred, or ``referral_after_signup``): codes count only at sign-up —
    send ``referral_code`` with ``POST /_allauth/app/v1/auth/signup`` instead."""

    throttle_scope = "referrals"

    @extend_schema(
        operation_id="referrals_claim",
        request=ClaimSerializer,
        responses={
            400: OpenApiResponse(description="own_referral_code"),
            404: OpenApiResponse(description="unknown_referral_code"),
            409: OpenApiResponse(description="referral_after_signup or already_referred"),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = ClaimSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.referral_claim(user=request.user, code=serializer.validated_data["code"])
        return Response(status=status.HTTP_204_NO_CONTENT)  # not reached: the service always refuses


class BusinessReferralsApi(APIView):
    """Refer a business by its details; the bonus is paid when it is approved and its first offer is live."""

    throttle_scope = "referrals"

    @extend_schema(
        operation_id="referrals_businesses_create",
        request=BusinessSubmitSerializer,
        responses={201: BusinessReferralSerializer},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = BusinessSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.business_referral_submit(referrer=request.user, **serializer.validated_data)
        return Response(BusinessReferralSerializer(_business_row(referral)).data, status=status.HTTP_201_CREATED)
