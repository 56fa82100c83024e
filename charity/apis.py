"""/api/v1/charities/, /api/v1/donations/, /api/v1/auto-donate/ for the mobile app: thin doors onto the services."""

from datetime import date
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.request_types import AuthenticatedRequest
from cashback.errors import NotFoundError
from cashback.pagination import StandardPagination
from charity import receipts, selectors, services
from charity.errors import IdempotencyKeyRequiredError
from charity.serializers import (
    AutoDonateSerializer,
    CharitySerializer,
    DonationRequestSerializer,
    DonationSerializer,
)


def _charity_context(request: Request, charities: list[Any]) -> dict[str, Any]:
    context: dict[str, Any] = {"impacts": selectors.charities_impact(charities=charities)}
    if request.user and request.user.is_authenticated:
        context["your_impacts"] = {impact.charity.pk: impact for impact in selectors.consumer_impact(user=request.user)}
    return context


class CharityListApi(APIView):
    """Partner charities taking donations, each with its total impact (and yours when signed in)."""

    permission_classes = [AllowAny]
    pagination_class = StandardPagination

    @extend_schema(operation_id="charities_list", responses=CharitySerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.charity_list(), request, view=self)
        assert page is not None  # None only when no page size is set; PAGE_SIZE is
        data = CharitySerializer(page, many=True, context=_charity_context(request, page)).data
        return paginator.get_paginated_response(data)


class CharityDetailApi(APIView):
    """One charity (also an inactive one, whose history stays visible)."""

    permission_classes = [AllowAny]

    @extend_schema(operation_id="charities_retrieve", responses={200: CharitySerializer, 404: OpenApiResponse()})
    def get(self, request: Request, charity_id: int) -> Response:
        charity = selectors.charity_get(charity_id=charity_id)
        return Response(CharitySerializer(charity, context=_charity_context(request, [charity])).data)


class DonationListCreateApi(APIView):
    """Your donations (newest first), and donating part or all of your available balance."""

    throttle_scope = "donations"
    pagination_class = StandardPagination

    @extend_schema(operation_id="donations_list", responses=DonationSerializer(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.donation_entries(user=request.user), request, view=self)
        assert page is not None  # None only when no page size is set; PAGE_SIZE is
        return paginator.get_paginated_response(DonationSerializer(selectors.donation_rows(page), many=True).data)

    @extend_schema(
        operation_id="donations_create",
        request=DonationRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", str, OpenApiParameter.HEADER, description="Same key, same donation: never twice."
            )
        ],
        responses={
            201: DonationSerializer,
            200: OpenApiResponse(DonationSerializer, description="A replayed key: the first donation."),
            400: OpenApiResponse(description="Bad amount, currency, charity, inactive charity."),
            409: OpenApiResponse(description="insufficient_funds, nothing_to_donate or idempotency_conflict."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        body = DonationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        key = request.headers.get("Idempotency-Key") or values.get("idempotency_key") or ""
        if not key:
            raise IdempotencyKeyRequiredError(fields={"idempotency_key": [_("This field is required.")]})
        outcome = services.donation_give(
            user=request.user,
            charity_id=values["charity"],
            currency=values["currency"],
            amount_minor=values["amount_minor"],
            idempotency_key=key,
        )
        journal, created = outcome.journal, outcome.created
        [row] = selectors.donation_rows(selectors.donation_entries(user=request.user).filter(transaction=journal))
        return Response(DonationSerializer(row).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class DonationReceiptApi(APIView):
    """Your donation receipt for a calendar year, as a PDF."""

    @extend_schema(
        operation_id="donations_receipt",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: OpenApiResponse()},
    )
    def get(self, request: AuthenticatedRequest, year: int) -> HttpResponse:
        receipt = selectors.donation_receipt(user=request.user, year=_valid_year(year))
        response = HttpResponse(receipts.receipt_pdf(receipt), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{receipts.receipt_filename(receipt)}"'
        return response


def _valid_year(year: int) -> int:
    if not 2000 <= year <= date.today().year + 1:
        raise NotFoundError(_("No receipt for that year."))
    return year


class AutoDonateApi(APIView):
    """Your automatic share of every future reward: a charity and 0 to 100 percent (0 turns it off)."""

    @extend_schema(operation_id="auto_donate_retrieve", responses=AutoDonateSerializer)
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(AutoDonateSerializer().to_representation(selectors.auto_donate_get(user=request.user)))

    @extend_schema(
        operation_id="auto_donate_update",
        request=AutoDonateSerializer,
        responses={200: AutoDonateSerializer, 400: OpenApiResponse(description="invalid_share_percent, charity_*.")},
    )
    def put(self, request: AuthenticatedRequest) -> Response:
        body = AutoDonateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        setting = services.auto_donate_set(
            user=request.user,
            charity_id=body.validated_data.get("charity"),
            share_percent=body.validated_data["share_percent"],
        )
        return Response(AutoDonateSerializer().to_representation(setting))
