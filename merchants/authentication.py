"""Authentication of partner systems (the partner API, /api/v1/partner/) by merchant API key.

``Authorization: Bearer <key>``. The key is looked up by its SHA-256 hash, so no secret is ever
compared byte by byte in Python and a timing difference reveals nothing about a stored key.
Unknown or revoked keys are refused with 401 and the platform's JSON error body.
"""

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from merchants.models import MerchantApiKey
from merchants.selectors import active_api_key_by_hash
from merchants.services import api_key_hash

# ``last_used_at`` is written at most this often per key, so busy integrations do not turn every
# request into a row update.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_KEY_LENGTH = 200


class MerchantApiKeyAuthentication(BaseAuthentication):
    """``request.auth`` is the ``MerchantApiKey``; ``request.auth.merchant`` the merchant.

    ``request.user`` is anonymous: a key acts for the merchant, not for a person.
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, MerchantApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the API key as 'Authorization: Bearer <key>'.", code="invalid_api_key"
            )
        try:
            plaintext = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("Invalid API key.", code="invalid_api_key") from error
        if len(plaintext) > MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed("Invalid API key.", code="invalid_api_key")
        key = active_api_key_by_hash(secret_hash=api_key_hash(plaintext))
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.", code="invalid_api_key")
        _touch(key)
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        # Naming a challenge makes DRF answer 401 (not 403) when no key is sent.
        return 'Bearer realm="partner-api"'


def _touch(key: MerchantApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        # A guarded UPDATE of one column: no lock wait, no lost update of other fields.
        MerchantApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


class MerchantApiKeyScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema (/api/schema/) describes the partner API's authentication."""

    target_class = "merchants.authentication.MerchantApiKeyAuthentication"
    name = "merchantApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A merchant API key (mk_live_…), created by the merchant's owner in the portal.",
        }
