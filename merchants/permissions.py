"""DRF permission for the partner API: the request carries an active merchant API key."""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from merchants.models import MerchantApiKey


class HasMerchantApiKey(BasePermission):
    """Allows a request authenticated by ``MerchantApiKeyAuthentication`` (``request.auth`` is a key).

    A session or session-token user — even the merchant's owner — is not a partner system.
    """

    message = "This endpoint needs a merchant API key: 'Authorization: Bearer <key>'."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, MerchantApiKey) and request.auth.revoked_at is None
