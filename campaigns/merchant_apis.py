"""/api/v1/merchants/ and /api/v1/merchants/{id}/: the public directory of partner merchants with live
offers, for the app's browsing (signed in or not). Thin doors onto ``merchant_directory``."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import merchant_directory
from campaigns.merchant_serializers import (
    MerchantDetailSerializer,
    MerchantFilterSerializer,
    MerchantListSerializer,
)
from cashback.openapi import error_response
from merchants.models import Merchant


class MerchantListApi(ListAPIView):
    """Approved merchants with at least one live offer, by name; filter by ``category`` (MCC) and ``q``."""

    serializer_class = MerchantListSerializer
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Merchant]:
        filters = MerchantFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return merchant_directory.listed_merchants(
            category=filters.validated_data.get("category", ""), search=filters.validated_data.get("q", "")
        )

    @extend_schema(
        operation_id="merchants_list",
        parameters=[MerchantFilterSerializer],
        responses={
            200: MerchantListSerializer(many=True),
            400: error_response("invalid: a category not of four digits (MCC), q over 100 characters, bad page_size."),
            404: error_response("not_found: a page that does not exist."),
        },
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class MerchantDetailApi(RetrieveAPIView):
    """One approved merchant: its shops (address, coordinates, opening hours) and its live offers' terms."""

    serializer_class = MerchantDetailSerializer
    permission_classes = [AllowAny]

    def get_object(self) -> Merchant:
        return merchant_directory.listed_merchant(merchant_id=self.kwargs["merchant_id"])

    @extend_schema(
        operation_id="merchants_retrieve",
        responses={
            200: MerchantDetailSerializer,
            404: error_response("merchant_not_found: unknown, or not approved (pending, rejected, suspended)."),
        },
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)
