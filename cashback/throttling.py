"""Rate limits on the endpoints that send a message or cost money (docs/security.md).

One limiter for the API and the web pages: a view names its scope (``throttle_scope``), the rate is
``settings.API_THROTTLE_RATES[scope]`` ("5/m": five a minute), counted in Django's cache (Redis when
``REDIS_URL`` is set, so every web process shares the count). A scope without a rate is not limited,
which is how the test settings keep the suite from tripping limits (``API_THROTTLES=false``).

- ``ActionThrottle``: a DRF throttle for a view's writes (reads are free), per person (per client
  address when anonymous). A throttled call is 429 with ``Retry-After`` and the error format
  (``cashback.errors.api_exception_handler`` words the message).
- ``PartnerKeyThrottle``: every call of the partner API, per API key.
- ``throttled_post(scope)``: the same limit for a page's form posts; a throttled post gets the
  429 page saying when to try again.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle


class ActionThrottle(SimpleRateThrottle):
    """Limits the writes of a view that names a ``throttle_scope``."""

    limits_reads = False

    def __init__(self) -> None:
        # The scope is the view's, so the rate is found per request (allow_request), not here.
        self.history: list[float] = []

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS and not self.limits_reads:
            return True
        self.scope = getattr(view, "throttle_scope", None)
        self.rate = settings.API_THROTTLE_RATES.get(self.scope) if self.scope else None
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.subject(request)}

    def subject(self, request: Any) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{self.get_ident(request)}"


class PartnerKeyThrottle(ActionThrottle):
    """Every call of the partner API, counted per API key (the key is the caller)."""

    limits_reads = True

    def subject(self, request: Any) -> str:
        key = getattr(request, "auth", None)
        key_id = getattr(key, "pk", None)
        return f"key:{key_id}" if key_id is not None else f"ip:{self.get_ident(request)}"


class _PageScope:
    """What ActionThrottle reads from a view: its scope."""

    def __init__(self, scope: str) -> None:
        self.throttle_scope = scope


def throttled_post(scope: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """The API's limit for a page: its POSTs share the scope's count with the API's writes."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            throttle = ActionThrottle()
            if throttle.allow_request(request, _PageScope(scope)):
                return view(request, *args, **kwargs)
            wait = retry_after_seconds(throttle.wait())
            response = render(request, "errors/429.html", {"retry_after": wait}, status=429)
            response["Retry-After"] = str(wait)
            return response

        return wrapper

    return decorator


def retry_after_seconds(wait: float | None) -> int:
    """Whole seconds to wait, at least one (what Retry-After and the messages say)."""
    return max(1, int(wait or 0) + (1 if wait and wait % 1 else 0))
