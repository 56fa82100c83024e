"""The webhook doors: ``POST /webhooks/visa/``, ``/webhooks/stripe/`` and ``/webhooks/stripe/connect/``.

Each view checks, in this order and before writing anything: the body size, the signature on the
raw body, the JSON, the event's id and type (and, for Visa, that the type is one of the four of the
contract and that no card field carries more than the first six and last four digits). Any failure
is a 4xx JSON error ``{"error": {"code", "message", "fields"}}`` and nothing is stored. Then the event
is stored once (cashback.inbox.event_receive) and acknowledged:

- new event: ``202 {"status": "received"}`` — processing is enqueued after commit;
- new Stripe event of a type no handler takes: ``202 {"status": "ignored"}`` (stored, not processed);
- the same ``(source, id)`` again: ``200 {"status": "duplicate"}``, nothing changes.

Policy (docs/api.md, "Webhooks"): an unknown Visa type is refused with 400 ``unknown_event_type``
(the contract lists four types, so anything else is a sender error worth surfacing); Stripe sends
many types to one endpoint, so unhandled Stripe types are stored as ``ignored`` with a 2xx.
"""

import json
import math
import re
import time
from typing import Any

import stripe
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status

from cashback import inbox
from cashback.errors import DomainError, error_body
from cashback.models import WebhookSource
from cashback.providers import visa_signature

VISA_EVENT_TYPES = frozenset({"transaction.auth", "transaction.clearing", "transaction.refund", "transaction.reversal"})
MAX_ID_LENGTH = 255
MAX_TYPE_LENGTH = 100
# A run of 13 or more digits (optionally split by spaces or dashes) in a card field is a card number.
_LONG_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){12,}")


class WebhookNotConfiguredError(DomainError):
    code = "webhook_not_configured"
    http_status = status.HTTP_503_SERVICE_UNAVAILABLE
    default_message = "This webhook endpoint has no signing secret configured."


class PayloadTooLargeError(DomainError):
    code = "payload_too_large"
    http_status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_message = "The body is larger than this endpoint accepts."


class MalformedJsonError(DomainError):
    code = "malformed_json"
    default_message = "The body is not a JSON object."


class InvalidEventError(DomainError):
    code = "invalid_event"
    default_message = "The event lacks a valid id or type."


class UnknownEventTypeError(DomainError):
    code = "unknown_event_type"
    default_message = "This endpoint does not accept events of this type."


class CardNumberPresentError(DomainError):
    code = "card_number_present"
    default_message = "Card fields may carry only the first six and last four digits and the network token."


class MissingAccountError(DomainError):
    code = "missing_account"
    default_message = "A Connect event must name the connected account it happened on."


def _error_response(error: DomainError) -> JsonResponse:
    return JsonResponse(
        error_body(code=error.code, message=error.message, fields=error.fields), status=error.http_status
    )


def _method_not_allowed() -> JsonResponse:
    response = JsonResponse(error_body(code="method_not_allowed", message="Use POST."), status=405)
    response["Allow"] = "POST"
    return response


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise PayloadTooLargeError(fields={"limit_bytes": [str(limit)]})
    body = request.body
    if len(body) > limit:
        raise PayloadTooLargeError(fields={"limit_bytes": [str(limit)]})
    return body


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError("number out of range")
    return number


def _no_constant(text: str) -> None:
    raise ValueError(f"{text} is not JSON")


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object that PostgreSQL's jsonb accepts: no NaN/Infinity, no NUL character."""
    if b"\\u0000" in body:
        raise MalformedJsonError("The body contains a NUL character.")
    try:
        parsed = json.loads(body, parse_float=_finite, parse_constant=_no_constant)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, NaN, Infinity, 1e999
        raise MalformedJsonError() from None
    if not isinstance(parsed, dict):
        raise MalformedJsonError()
    return parsed


def _envelope(event: dict[str, Any]) -> tuple[str, str]:
    event_id, event_type = event.get("id"), event.get("type")
    fields: dict[str, list[str]] = {}
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > MAX_ID_LENGTH:
        fields["id"] = [f"A non-empty string of at most {MAX_ID_LENGTH} characters."]
    if not isinstance(event_type, str) or not event_type.strip() or len(event_type) > MAX_TYPE_LENGTH:
        fields["type"] = [f"A non-empty string of at most {MAX_TYPE_LENGTH} characters."]
    if fields:
        raise InvalidEventError(fields=fields)
    return event_id, event_type


def _refuse_card_numbers(event: dict[str, Any]) -> None:
    """The card object may hold the token, 6 first and 4 last digits: never a full number (not stored)."""
    data = event.get("data")
    card = data.get("card") if isinstance(data, dict) else None
    if card is None:
        return
    if not isinstance(card, dict):
        raise InvalidEventError(fields={"data.card": ["An object."]})
    first, last = card.get("firstNumbers", ""), card.get("lastNumbers", "")
    too_long = (isinstance(first, str) and len(first) > 6) or (isinstance(last, str) and len(last) > 4)
    digit_runs = any(isinstance(value, str) and _LONG_DIGIT_RUN.search(value) for value in card.values())
    if too_long or digit_runs or any(isinstance(value, int) and value >= 10**12 for value in card.values()):
        raise CardNumberPresentError(fields={"data.card": [CardNumberPresentError.default_message]})


def _acknowledge(stored: Any) -> JsonResponse:
    if stored is None:
        return JsonResponse({"status": "duplicate"}, status=200)
    return JsonResponse({"status": "ignored" if stored.status == "ignored" else "received"}, status=202)


@csrf_exempt  # signed by the sender (verified on the raw body below); no cookie session is used
def visa_webhook(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return _method_not_allowed()
    try:
        secrets = [settings.VISA_WEBHOOK_SECRET, settings.VISA_WEBHOOK_SECRET_PREVIOUS]
        if not any(secrets):
            raise WebhookNotConfiguredError()
        body = _read_body(request)
        visa_signature.verify(
            header=request.headers.get(visa_signature.HEADER), body=body, secrets=secrets, now=int(time.time())
        )
        event = _json_object(body)
        event_id, event_type = _envelope(event)
        if event_type not in VISA_EVENT_TYPES:
            raise UnknownEventTypeError(fields={"type": [f"One of {', '.join(sorted(VISA_EVENT_TYPES))}."]})
        if not isinstance(event.get("data"), dict):
            raise InvalidEventError(fields={"data": ["An object."]})
        _refuse_card_numbers(event)
    except DomainError as error:
        return _error_response(error)
    stored = inbox.event_receive(source=WebhookSource.VISA, event_id=event_id, event_type=event_type, payload=event)
    return _acknowledge(stored)


def _stripe_webhook(request: HttpRequest, *, source: str, secret: str) -> JsonResponse:
    if request.method != "POST":
        return _method_not_allowed()
    try:
        if not secret:
            raise WebhookNotConfiguredError()
        body = _read_body(request)
        header = request.headers.get("Stripe-Signature")
        if not header:
            raise visa_signature.SignatureMissingError("The Stripe-Signature header is missing.")
        try:
            stripe.Webhook.construct_event(body, header, secret)
        except stripe.SignatureVerificationError as error:
            if "tolerance" in str(error):
                raise visa_signature.TimestampStaleError() from None
            raise visa_signature.SignatureInvalidError() from None
        except (ValueError, AttributeError, TypeError):  # not UTF-8, not JSON, not an object
            raise MalformedJsonError() from None
        event = _json_object(body)
        event_id, event_type = _envelope(event)
        account = event.get("account") or ""
        if not isinstance(account, str) or len(account) > MAX_ID_LENGTH:
            raise InvalidEventError(fields={"account": ["A Stripe account id."]})
        if source == WebhookSource.STRIPE_CONNECT and not account:
            raise MissingAccountError(fields={"account": [MissingAccountError.default_message]})
    except DomainError as error:
        return _error_response(error)
    stored = inbox.event_receive(
        source=source, event_id=event_id, event_type=event_type, payload=event, account=account
    )
    return _acknowledge(stored)


@csrf_exempt  # signed by the sender (verified on the raw body below); no cookie session is used
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    return _stripe_webhook(request, source=WebhookSource.STRIPE, secret=settings.STRIPE_WEBHOOK_SECRET)


@csrf_exempt  # signed by the sender (verified on the raw body below); no cookie session is used
def stripe_connect_webhook(request: HttpRequest) -> JsonResponse:
    return _stripe_webhook(request, source=WebhookSource.STRIPE_CONNECT, secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET)
