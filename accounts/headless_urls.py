"""allauth headless endpoints we replace with our subclasses (sign-up, the password reset request),
listed before allauth's own URLs, which then never see these paths. Both clients: app and browser."""

from allauth.headless.constants import Client
from django.urls import URLPattern, path

from accounts.password_reset import PasswordResetRequestView
from accounts.signup_enumeration import EnumerationSafeSignupView


def _client_patterns(client: Client) -> list[URLPattern]:
    return [
        path(
            f"{client.value}/v1/auth/password/request",
            PasswordResetRequestView.as_api_view(client=client),
            name=f"{client.value}_password_reset_request",
        ),
        path(
            f"{client.value}/v1/auth/signup",
            EnumerationSafeSignupView.as_api_view(client=client),
            name=f"{client.value}_signup",
        ),
    ]


urlpatterns = [pattern for client in (Client.APP, Client.BROWSER) for pattern in _client_patterns(client)]
