from collections.abc import Callable

from allauth.core.exceptions import RateLimited
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.authentication import SessionTokenAuthentication
from accounts.models import User
from accounts.time_zones import time_zone_of
from cashback.errors import error_body

# Pages a staff member without two-factor authentication may still reach: those needed to set it
# up (MFA pages, re-authentication before activation), to leave (logout) and to render them.
ALLOWED_URL_NAMES = ("account_logout", "account_reauthenticate")
ALLOWED_PREFIX_URL_NAMES = ("mfa_index",)
# allauth's headless API handles its own authentication flows (including MFA setup for the app);
# webhooks are signed by their sender and never carry a user.
ALLOWED_PREFIXES = ("/_allauth/", "/healthz/", "/webhooks/")


class StaffMfaRequiredMiddleware:
    """Staff (``is_staff``) must activate an authenticator (TOTP) before using anything else.

    Pages redirect to the TOTP setup page; the JSON API under /api/ answers 403 with code
    ``mfa_required``. Must come after allauth's AccountMiddleware (and authentication).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The user is checked before the exempt pages: those are found by reversing URL names,
        # which is work every request (webhooks, the API) would otherwise pay for nothing.
        if not request.path.startswith(ALLOWED_PREFIXES):
            user = self._user(request)
            if (
                user.is_authenticated
                and user.is_staff
                and not self._exempt(request.path)
                and not self._has_authenticator(user)
            ):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        error_body(
                            code="mfa_required",
                            message=_("Staff accounts must set up two-factor authentication before using the API."),
                        ),
                        status=403,
                    )
                return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        static_prefixes = tuple(prefix for prefix in (settings.STATIC_URL, settings.MEDIA_URL) if prefix)
        url_prefixes = tuple(reverse(name) for name in ALLOWED_PREFIX_URL_NAMES)
        if path.startswith(static_prefixes + url_prefixes):
            return True
        return any(path == reverse(name) for name in ALLOWED_URL_NAMES)

    @staticmethod
    def _user(request: HttpRequest) -> User | AnonymousUser:
        if request.user.is_authenticated:
            return request.user
        if request.path.startswith("/api/"):
            # The mobile app authenticates per request with a session token, which DRF only
            # reads inside the view; look it up here so the rule covers the app too.
            result = SessionTokenAuthentication().authenticate(request)
            if result is not None:
                return result[0]
        return AnonymousUser()

    @staticmethod
    def _has_authenticator(user: User) -> bool:
        return Authenticator.objects.filter(user=user).exclude(type=Authenticator.Type.RECOVERY_CODES).exists()


# allauth does not say how long its limiter's window still runs; its shortest window is a minute.
RATE_LIMITED_RETRY_AFTER_SECONDS = 60


class RateLimitedMiddleware:
    """allauth raises ``RateLimited`` from deep inside a flow when an SMS would break its limit (a second
    sign-up with the same number within a minute texts its owner again); its views catch it only in
    some places, so the rest would be a 500. Answer 429 instead: allauth's JSON shape under
    ``/_allauth/``, our error format under ``/api/``, the 429 page otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RateLimited):
            return None
        wait = RATE_LIMITED_RETRY_AFTER_SECONDS
        message = f"Too many requests: try again in {wait} seconds."
        response: HttpResponse
        if request.path.startswith("/_allauth/"):
            response = JsonResponse({"status": 429, "errors": [{"code": "too_many_requests", "message": message}]})
        elif request.path.startswith("/api/"):
            response = JsonResponse(error_body(code="throttled", message=message))
        else:
            response = render(request, "errors/429.html", {"retry_after": wait})
        response.status_code = 429
        response["Retry-After"] = str(wait)
        return response


class PersonalLocaleMiddleware:
    """A signed-in person's pages speak their profile's language and show their profile's time zone.

    ``LocaleMiddleware`` (before this) has already picked the language from the switcher's cookie or
    the browser's ``Accept-Language``; a language saved on the profile wins over both, because the
    person chose it (the switcher saves it there too: ``accounts.views.set_language``). Times are
    shown in the profile's time zone, else ``settings.TIME_ZONE`` (Europe/Oslo).

    The JSON API is left to ``Accept-Language``: the app sends the phone's language on each request.
    Must come after ``AuthenticationMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith("/api/"):
            return self.get_response(request)
        if user.language and translation.check_for_language(user.language):
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()  # set by LocaleMiddleware, read by views
        zone = time_zone_of(user)
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
