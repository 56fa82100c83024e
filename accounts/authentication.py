from typing import Any

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's ``X-Session-Token`` authentication that answers 401 (not 403) when the token is missing.

    DRF turns "not authenticated" into 401 only if the first authentication class names a
    ``WWW-Authenticate`` challenge; allauth's class names none.
    """

    def authenticate_header(self, request: HttpRequest) -> str:
        return 'Session-Token realm="api", header="X-Session-Token"'


class SessionTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema (/api/schema/) describes the mobile API's authentication."""

    target_class = "accounts.authentication.SessionTokenAuthentication"
    name = "sessionToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Session-Token",
            "description": "The session token from allauth's headless login (/_allauth/app/v1/auth/login).",
        }
