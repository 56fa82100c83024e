"""``POST /api/v1/geofence/``: the app reports its position; the answer lists the shops it matched
(for OS-level geofences) and whether a "nearby offer" push went out (docs/geofencing.md)."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Device
from accounts.request_types import AuthenticatedRequest
from cashback.openapi import error_response
from cashback.throttling import ActionThrottle
from geofencing import services

SIX_PLACES = Decimal("0.000001")


class GeofenceReportSerializer(serializers.Serializer):
    lat = serializers.DecimalField(
        max_digits=None, decimal_places=None, min_value=Decimal(-90), max_value=Decimal(90), coerce_to_string=False
    )
    lng = serializers.DecimalField(
        max_digits=None, decimal_places=None, min_value=Decimal(-180), max_value=Decimal(180), coerce_to_string=False
    )
    accuracy_m = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        min_value=Decimal(0),
        max_value=Decimal(100_000),
        coerce_to_string=False,
        help_text="The position's accuracy radius in metres, as the OS reports it.",
    )
    device_token = serializers.CharField(
        max_length=Device.MAX_TOKEN_LENGTH,
        required=False,
        help_text="This phone's push token: reports are rate-limited per device.",
    )


class MatchedShopSerializer(serializers.Serializer):
    location_id = serializers.IntegerField()
    merchant_id = serializers.IntegerField()
    name = serializers.CharField()
    merchant = serializers.CharField()
    lat = serializers.CharField()
    lng = serializers.CharField()
    distance_m = serializers.IntegerField()
    offer_ids = serializers.ListField(child=serializers.IntegerField())


class GeofenceAnswerSerializer(serializers.Serializer):
    ignored = serializers.BooleanField(help_text="True when the position was too inaccurate to use.")
    reason = serializers.CharField(help_text='Why it was ignored ("accuracy"), or "".', allow_blank=True)
    radius_m = serializers.IntegerField()
    shops = MatchedShopSerializer(many=True)
    pushed_location_id = serializers.IntegerField(allow_null=True)


class DeviceThrottle(ActionThrottle):
    """Reports counted per device (its push token when given), else per person."""

    def subject(self, request: Any) -> str:
        token = request.data.get("device_token") if hasattr(request, "data") else None
        if isinstance(token, str) and token:
            return f"device:{token[-64:]}"
        return super().subject(request)


class GeofenceApi(APIView):
    throttle_scope = "geofence"
    throttle_classes = [DeviceThrottle]

    @extend_schema(
        operation_id="geofence_report",
        request=GeofenceReportSerializer,
        responses={
            200: GeofenceAnswerSerializer,
            400: error_response("`lat`, `lng` or `accuracy_m` missing, not a number or out of range."),
            429: error_response("Too many reports from this device."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = GeofenceReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        outcome = services.geofence_report(
            user=request.user,
            latitude=data["lat"].quantize(SIX_PLACES),
            longitude=data["lng"].quantize(SIX_PLACES),
            accuracy_m=int(data["accuracy_m"]),
        )
        return Response(
            {
                "ignored": outcome.ignored,
                "reason": outcome.reason,
                "radius_m": settings.GEOFENCE_RADIUS_M,
                "shops": [
                    {
                        "location_id": shop.location_id,
                        "merchant_id": shop.merchant_id,
                        "name": shop.name,
                        "merchant": shop.merchant_name,
                        "lat": str(shop.latitude),
                        "lng": str(shop.longitude),
                        "distance_m": shop.distance_m,
                        "offer_ids": shop.offer_ids,
                    }
                    for shop in outcome.shops
                ],
                "pushed_location_id": outcome.pushed_location_id,
            }
        )
