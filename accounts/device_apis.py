"""``POST/DELETE /api/v1/devices/``: the app registers and removes its push token (FCM, Android and iOS)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import Device
from accounts.request_types import AuthenticatedRequest


class DeviceSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=Device.MAX_TOKEN_LENGTH, trim_whitespace=True)
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    app_version = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class DeviceTokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=Device.MAX_TOKEN_LENGTH, trim_whitespace=True)


class DevicesApi(APIView):
    """Register this phone's push token (again: its platform and app version are refreshed), or remove it."""

    @extend_schema(
        operation_id="devices_register",
        request=DeviceSerializer,
        responses={
            201: DeviceSerializer,
            400: OpenApiResponse(description="A token that is empty or too long, or an unknown platform."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = DeviceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device = services.device_register(user=request.user, **serializer.validated_data)
        return Response(
            {"token": device.token, "platform": device.platform, "app_version": device.app_version},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="devices_remove",
        request=DeviceTokenSerializer,
        responses={204: None, 400: OpenApiResponse(description="A token that is empty or too long.")},
    )
    def delete(self, request: AuthenticatedRequest) -> Response:
        serializer = DeviceTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.device_remove(user=request.user, token=serializer.validated_data["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)
