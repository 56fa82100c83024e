"""allauth headless endpoints we replace with our subclasses, listed before allauth's own URLs (which
then never see these paths). Same paths for both clients, so the mobile app and the browser API agree."""

from allauth.headless.constants import Client
from django.urls import URLPattern, path

from accounts.password_reset import PasswordResetRequestView


def _client_patterns(client: Client) -> list[URLPattern]:
    return [
        path(
            f"{client.value}/v1/auth/password/request",
            PasswordResetRequestView.as_api_view(client=client),
            name=f"{client.value}_password_reset_request",
        ),
    ]


urlpatterns = [pattern for client in (Client.APP, Client.BROWSER) for pattern in _client_patterns(client)]
