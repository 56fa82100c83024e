import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from cashback.errors import page_not_found, server_error


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy from settings.CONTENT_SECURITY_POLICY on every response.

    Django 5.2 has no CSP support of its own; the policy is static (no nonces) because
    no page uses inline scripts or styles.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header_value = "; ".join(
            f"{directive} {' '.join(sources)}" for directive, sources in settings.CONTENT_SECURITY_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.header_value)
        return response


class HouseErrorPagesMiddleware:
    """With DEBUG on (``make run``), shows the house 404 and 500 pages instead of Django's technical
    ones: those are unstyled, break the Content-Security-Policy and overflow a phone, and a person
    trying the demo should see what production shows. The traceback still reaches the terminal.

    Off when ``HOUSE_ERROR_PAGES`` is false (a developer who wants the technical pages) and a no-op
    with DEBUG off, where Django already uses ``handler404``/``handler500``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def _active(self) -> bool:
        return bool(settings.DEBUG and settings.HOUSE_ERROR_PAGES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self._active() and response.status_code == 404 and getattr(request, "resolver_match", None) is None:
            # No URL matched: Django answered with its technical 404 (a view's own 404 has a match).
            return page_not_found(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not self._active():
            return None
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return None  # Django shows handler403 with DEBUG on too
        logging.getLogger("django.request").error(
            "Internal Server Error: %s", request.path, exc_info=exception, extra={"request": request}
        )
        return server_error(request)
