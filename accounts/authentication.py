from typing import Any

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from allauth.headless.internal import sessionkit
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension

# Where a request keeps what its session token resolved to (see ``SessionTokenAuthentication``).
_RESOLVED = "_session_token_authentication"
_UNSET: Any = object()


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's ``X-Session-Token`` authentication that answers 401 (not 403) when the token is missing.

    DRF turns "not authenticated" into 401 only if the first authentication class names a
    ``WWW-Authenticate`` challenge; allauth's class names none.

    The token is resolved once per request: ``accounts.middleware.StaffMfaRequiredMiddleware`` looks it up
    before the view (to hold staff without two-factor authentication back) and DRF again inside it; the
    second asks the first's answer instead of reading the session and the user again (two queries on
    every API request, the mobile app's hottest paths among them: docs/benchmarks.md, geofence reports).
    """

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        django_request = getattr(request, "_request", request)  # DRF's Request wraps Django's
        resolved = getattr(django_request, _RESOLVED, _UNSET)
        if resolved is _UNSET:
            resolved = super().authenticate(request)
            setattr(django_request, _RESOLVED, resolved)
        return resolved

    def authenticate_header(self, request: HttpRequest) -> str:
        return 'Session-Token realm="api", header="X-Session-Token"'


class OneQuerySessionTokenStrategy(SessionTokenStrategy):
    """allauth's session-token strategy, reading the session in one query, not two.

    allauth's own looks a token up with ``exists()`` and then loads the session; its
    ``sessionkit.lookup_session`` loads it once (a missing or expired session clears the key). Same
    answer, one round trip fewer on every request from the app (``HEADLESS_TOKEN_STRATEGY``).
    """

    def lookup_session(self, session_token: str) -> SessionBase | None:
        return sessionkit.lookup_session(session_token)


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
