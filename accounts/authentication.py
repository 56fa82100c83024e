from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from django.http import HttpRequest


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's ``X-Session-Token`` authentication that answers 401 (not 403) when the token is missing.

    DRF turns "not authenticated" into 401 only if the first authentication class names a
    ``WWW-Authenticate`` challenge; allauth's class names none.
    """

    def authenticate_header(self, request: HttpRequest) -> str:
        return 'Session-Token realm="api", header="X-Session-Token"'
