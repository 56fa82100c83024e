"""Every time in the API one way: ISO 8601 with the offset of the platform's zone (``TIME_ZONE``,
Europe/Oslo by default), e.g. ``"2026-11-23T10:59:00+01:00"`` (``+02:00`` in summer).

DRF's ``DateTimeField`` already renders so (it follows ``TIME_ZONE``). Bodies built by hand pass
``datetime`` objects, which the API's JSON renderer turns into the same text through the same
field (``ApiJSONRenderer``); a body stored as JSON before it is answered (the partner API's
idempotency store) calls ``api_datetime`` itself. Without this, a datetime from the database went
out in UTC and a serializer's in the local zone (issue 14).
"""

from datetime import datetime
from typing import Any

from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder


def api_datetime(value: datetime | None) -> str | None:
    """The API's text for an aware datetime (None stays None)."""
    if value is None:
        return None
    return serializers.DateTimeField().to_representation(value)


class ApiJSONEncoder(JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, datetime) and timezone.is_aware(obj):
            return api_datetime(obj)
        return super().default(obj)


class ApiJSONRenderer(JSONRenderer):
    encoder_class = ApiJSONEncoder
