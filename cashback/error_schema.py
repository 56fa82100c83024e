"""The error contract's shape for the OpenAPI schema: ``{"error": {"code", "message", "fields"}}``.

Endpoints name it in ``extend_schema(responses={400: error_response("…"), …})`` so every 4xx they
return is documented with the body it has (cashback/errors.py makes that body).
"""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable code, e.g. invalid, not_found, merchant_not_found.")
    message = serializers.CharField(help_text="What went wrong, in words.")
    # The body's key is "fields"; DRF's metaclass takes declared fields out of the class attributes.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per input field, its problems (empty when the error is not about a field).",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)
