"""The card-number guard and the JSON bounds for what Django's own request cycle stores without a
DRF parser or a form in between (docs/cards.md, "Card numbers are refused at every door").

- Headers that get stored (``CARD_GUARD_HEADERS``: the ``User-Agent`` allauth's user sessions
  keep, the ``Idempotency-Key`` the partner API, payouts and donations keep, the app's
  ``X-Device-Id``) and every query value, on every request: a full card number in one is refused
  with 400 ``card_number_present`` before any view runs.
- django-allauth's headless API (``/_allauth/…``) parses ``request.body`` itself: its JSON bodies
  are bounded here (``API_MAX_BODY_BYTES``, ``JSON_MAX_DEPTH``) and guarded (passwords
  and allauth's validated phone numbers excepted: cashback/card_guard.py), and malformed JSON is refused here too, so
  these endpoints never answer with an HTML page.

Answers use the error shape the caller already reads: allauth headless' ``{"status", "errors":
[{"code", "message", "param"}]}`` under ``/_allauth/``, ours ``{"error": {"code", "message",
"fields"}}`` under ``/api/``, and the 400 page elsewhere.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from cashback import bounded_json
from cashback.card_guard import VALIDATED_PHONE_FIELDS, refuse_card_numbers, refuse_card_numbers_in_json
from cashback.errors import DomainError, error_body

HEADLESS_PREFIX = "/_allauth/"


class MalformedJsonError(DomainError):
    code = "malformed_json"
    default_message = "The body is not a JSON object."


def _headless_error(error: DomainError) -> JsonResponse:
    errors = [
        {"code": error.code, "message": message, "param": field}
        for field, messages in error.fields.items()
        for message in messages
    ] or [{"code": error.code, "message": error.message}]
    return JsonResponse({"status": error.http_status, "errors": errors}, status=error.http_status)


def _answer(request: HttpRequest, error: DomainError) -> HttpResponse:
    if request.path.startswith(HEADLESS_PREFIX):
        return _headless_error(error)
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(code=error.code, message=error.message, fields=error.fields), status=error.http_status
        )
    return render(request, "errors/400.html", status=error.http_status)


def _stored_values(request: HttpRequest) -> dict[str, object]:
    values: dict[str, object] = {
        name: request.headers[name] for name in settings.CARD_GUARD_HEADERS if name in request.headers
    }
    for key, items in request.GET.lists():
        values[key] = items
    return values


def _headless_body(request: HttpRequest) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    limit = settings.API_MAX_BODY_BYTES
    if declared > limit:
        raise bounded_json.PayloadTooLargeError(limit)
    if not request.body:
        return
    try:
        text = request.body.decode("utf-8")
        data = bounded_json.loads(text)
    except ValueError:
        raise MalformedJsonError() from None
    if not isinstance(data, dict):
        raise MalformedJsonError()
    refuse_card_numbers_in_json(text, data, allowed_fields=VALIDATED_PHONE_FIELDS)  # allauth validates them


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refuse_card_numbers(_stored_values(request))
            if request.path.startswith(HEADLESS_PREFIX):
                _headless_body(request)
        except DomainError as error:
            return _answer(request, error)
        return self.get_response(request)
