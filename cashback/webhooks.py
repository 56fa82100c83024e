"""The webhook doors: ``POST /webhooks/visa/``, ``/webhooks/stripe/`` and ``/webhooks/stripe/connect/``.

``WebhookDoors`` is a WSGI application that cashback/wsgi.py puts in front of Django. A delivery
is a signature check, a JSON parse and one INSERT; Django's request cycle around it (middleware,
sessions, URL resolving, request signals and their per-request connection health check) cost
several times that, and a card network sends bursts (docs/benchmarks.md, "Webhook intake"). The
doors use no cookie, session, user or template, so nothing of that cycle applies to them; every
other path goes to Django unchanged.

Each door checks, in this order and before writing anything: the method, HTTPS (when
SECURE_SSL_REDIRECT is on), the body size, the signature on the raw body, the JSON (at most
JSON_MAX_DEPTH levels deep, and no full card number in any field: cashback/card_guard.py), the event's
id and type (and, for Visa, that the type is one of the four of the contract and that no card
field carries more than the first six and last four digits), then the whole documented body of the
event's type (cashback/webhook_contract.py: amounts, currencies, times, ids). Any failure is a 4xx JSON error
``{"error": {"code", "message", "fields"}}`` and nothing is stored. Then the event is stored once
(cashback.inbox.event_receive, the body kept as sent) and acknowledged:

- new event: ``202 {"status": "received"}`` — processing is enqueued after commit;
- new Stripe event of a type no handler takes: ``202 {"status": "ignored"}`` (stored, not processed);
- the same ``(source, id)`` again: ``200 {"status": "duplicate"}``, nothing changes;
- the database unreachable: ``503 {"error": {"code": "storage_unavailable"}}``, so the sender
  delivers again later.

Policy (docs/webhooks.md): an unknown Visa type is refused with 400 ``unknown_event_type`` (the
contract lists four types, so anything else is a sender error worth surfacing); Stripe sends many
types to one endpoint, so unhandled Stripe types are stored as ``ignored`` with a 2xx.
"""

import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import stripe
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from rest_framework import status

from cashback import bounded_json, inbox, metrics, request_ids, webhook_contract
from cashback.bounded_json import PayloadTooLargeError
from cashback.card_guard import CardNumberPresentError, refuse_card_numbers_in_json
from cashback.errors import DomainError, error_body
from cashback.models import WebhookSource, WebhookStatus
from cashback.providers import visa_signature

logger = logging.getLogger(__name__)

VISA_EVENT_TYPES = frozenset({"transaction.auth", "transaction.clearing", "transaction.refund", "transaction.reversal"})
MAX_ID_LENGTH = 255
MAX_TYPE_LENGTH = 100
# A run of 13 or more digits (optionally split by spaces or dashes) in a card field is a card number.
CARD_FIELDS_MESSAGE = "Card fields may carry only the first six and last four digits and the network token."
_LONG_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){12,}")
# A \u escape of a UTF-16 surrogate: valid JSON, but PostgreSQL's jsonb refuses one that is unpaired.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class HttpsRequiredError(DomainError):
    code = "https_required"
    http_status = status.HTTP_403_FORBIDDEN
    default_message = "Deliver webhooks over https://."


class WebhookNotConfiguredError(DomainError):
    code = "webhook_not_configured"
    http_status = status.HTTP_503_SERVICE_UNAVAILABLE
    default_message = "This webhook endpoint has no signing secret configured."


class MalformedJsonError(DomainError):
    code = "malformed_json"
    default_message = "The body is not a JSON object."


class InvalidEventError(DomainError):
    code = "invalid_event"
    default_message = "The event lacks a valid id or type."


class UnknownEventTypeError(DomainError):
    code = "unknown_event_type"
    default_message = "This endpoint does not accept events of this type."


class MissingAccountError(DomainError):
    code = "missing_account"
    default_message = "A Connect event must name the connected account it happened on."


class StorageUnavailableError(DomainError):
    code = "storage_unavailable"
    http_status = status.HTTP_503_SERVICE_UNAVAILABLE
    default_message = "The event could not be stored; deliver it again later."


@dataclass(frozen=True)
class Delivery:
    """A verified event, ready to store: ``body`` is the JSON text exactly as the sender signed it."""

    source: str
    event_id: str
    event_type: str
    account: str
    body: str


# --- Checks shared by the doors ----------------------------------------------------------------


def _finite(text: str) -> float:
    number = float(text)  # only to refuse 1e999; the stored payload is the sender's text
    if math.isinf(number):
        raise ValueError("number out of range")
    return number


def _no_constant(text: str) -> None:
    raise ValueError(f"{text} is not JSON")


def _json_object(body: bytes) -> tuple[dict[str, Any], str]:
    """The body as a JSON object and as text, both such that PostgreSQL's jsonb accepts them: UTF-8,
    no NaN/Infinity, no NUL character, no unpaired surrogate."""
    if b"\\u0000" in body:
        raise MalformedJsonError("The body contains a NUL character.")
    try:
        text = body.decode("utf-8")
        parsed = bounded_json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except ValueError:  # UnicodeDecodeError, JSONDecodeError, NaN, Infinity, 1e999
        raise MalformedJsonError() from None
    if not isinstance(parsed, dict):
        raise MalformedJsonError()
    refuse_card_numbers_in_json(text, parsed)  # every field, not only the card's; and JSON_MAX_DEPTH
    if _SURROGATE_ESCAPE.search(body):
        try:  # pairs were joined into one character by the parser; an unpaired one cannot be encoded
            json.dumps(parsed, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedJsonError("The body contains an unpaired UTF-16 surrogate.") from None
    return parsed, text


def _envelope(event: dict[str, Any]) -> tuple[str, str]:
    event_id, event_type = event.get("id"), event.get("type")
    fields: dict[str, list[str]] = {}
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > MAX_ID_LENGTH:
        fields["id"] = [f"A non-empty string of at most {MAX_ID_LENGTH} characters."]
    if not isinstance(event_type, str) or not event_type.strip() or len(event_type) > MAX_TYPE_LENGTH:
        fields["type"] = [f"A non-empty string of at most {MAX_TYPE_LENGTH} characters."]
    # With no fields in error both are strings; the isinstance checks say so to the type checker.
    if fields or not isinstance(event_id, str) or not isinstance(event_type, str):
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
        raise CardNumberPresentError(fields={"data.card": [CARD_FIELDS_MESSAGE]})


# --- The three doors: (headers, body) -> Delivery, or a DomainError ------------------------------


def _visa(headers: Mapping[str, str], body: bytes) -> Delivery:
    secrets = [settings.VISA_WEBHOOK_SECRET, settings.VISA_WEBHOOK_SECRET_PREVIOUS]
    if not any(secrets):
        raise WebhookNotConfiguredError()
    visa_signature.verify(header=headers.get("visa-signature"), body=body, secrets=secrets, now=int(time.time()))
    event, text = _json_object(body)
    event_id, event_type = _envelope(event)
    if event_type not in VISA_EVENT_TYPES:
        raise UnknownEventTypeError(fields={"type": [f"One of {', '.join(sorted(VISA_EVENT_TYPES))}."]})
    if not isinstance(event.get("data"), dict):
        raise InvalidEventError(fields={"data": ["An object."]})
    _refuse_card_numbers(event)
    webhook_contract.visa_event_check(event, event_type=event_type)
    return Delivery(source=WebhookSource.VISA, event_id=event_id, event_type=event_type, account="", body=text)


def _stripe(headers: Mapping[str, str], body: bytes, *, source: str, secret: str) -> Delivery:
    if not secret:
        raise WebhookNotConfiguredError()
    header = headers.get("stripe-signature")
    if not header:
        raise visa_signature.SignatureMissingError("The Stripe-Signature header is missing.")
    try:
        stripe.WebhookSignature.verify_header(body.decode("utf-8", "replace"), header, secret, tolerance=300)
    except stripe.SignatureVerificationError as error:
        if "tolerance" in str(error):
            raise visa_signature.TimestampStaleError() from None
        raise visa_signature.SignatureInvalidError() from None
    event, text = _json_object(body)
    event_id, event_type = _envelope(event)
    account = event.get("account") or ""
    if not isinstance(account, str) or len(account) > MAX_ID_LENGTH:
        raise InvalidEventError(fields={"account": ["A Stripe account id."]})
    if source == WebhookSource.STRIPE_CONNECT and not account:
        raise MissingAccountError(fields={"account": [MissingAccountError.default_message]})
    webhook_contract.stripe_event_check(event, event_type=event_type)
    return Delivery(source=source, event_id=event_id, event_type=event_type, account=account, body=text)


def _stripe_platform(headers: Mapping[str, str], body: bytes) -> Delivery:
    return _stripe(headers, body, source=WebhookSource.STRIPE, secret=settings.STRIPE_WEBHOOK_SECRET)


def _stripe_connect(headers: Mapping[str, str], body: bytes) -> Delivery:
    return _stripe(headers, body, source=WebhookSource.STRIPE_CONNECT, secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET)


DOORS: dict[str, Callable[[Mapping[str, str], bytes], Delivery]] = {
    "/webhooks/visa/": _visa,
    "/webhooks/stripe/": _stripe_platform,
    "/webhooks/stripe/connect/": _stripe_connect,
}
# The source label of each door on /metrics (cashback_webhook_deliveries_total).
DOOR_SOURCES = {
    "/webhooks/visa/": WebhookSource.VISA.value,
    "/webhooks/stripe/": WebhookSource.STRIPE.value,
    "/webhooks/stripe/connect/": WebhookSource.STRIPE_CONNECT.value,
}


# --- Storing ---------------------------------------------------------------------------------------


def _store(delivery: Delivery) -> inbox.Stored | None:
    """Store through the thread's Django connection. A connection the server closed (a restart, an
    idle timeout) is only found on use: it is closed and the INSERT tried once more on a new one —
    safe, because a second INSERT of the same event id is a no-op."""
    for attempt in (1, 2):
        try:
            return inbox.event_receive(
                source=delivery.source,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                account=delivery.account,
                payload=delivery.body,
            )
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or attempt == 2:
                break
            connection.close()
        except DatabaseError:
            break
    logger.exception("webhook %s %s could not be stored", delivery.source, delivery.event_id)
    connection.close_if_unusable_or_obsolete()
    raise StorageUnavailableError()


def _read_body(environ: dict[str, Any]) -> bytes:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        declared = -1
    if declared > limit:
        raise PayloadTooLargeError(limit)
    # Without a length (chunked), read one byte past the limit to tell "too large" from "just fits".
    body = environ["wsgi.input"].read(declared if declared >= 0 else limit + 1)
    if len(body) > limit:
        raise PayloadTooLargeError(limit)
    return body


def _is_secure(environ: dict[str, Any]) -> bool:
    """Django's HttpRequest.is_secure() on the environ (no request object on this path): a trusted
    proxy header, when configured and present, decides; otherwise the connection's own scheme."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        if (value := environ.get(header)) is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The signature headers the doors read, by lower-case name."""
    return {
        "visa-signature": environ.get("HTTP_VISA_SIGNATURE", ""),
        "stripe-signature": environ.get("HTTP_STRIPE_SIGNATURE", ""),
    }


def answer(environ: dict[str, Any], door: Callable[[Mapping[str, str], bytes], Delivery]) -> tuple[int, dict, list]:
    """The status, JSON body and extra headers for one request to ``door``."""
    if environ.get("REQUEST_METHOD") != "POST":
        return 405, error_body(code="method_not_allowed", message="Use POST."), [("Allow", "POST")]
    try:
        if settings.SECURE_SSL_REDIRECT and not _is_secure(environ):
            raise HttpsRequiredError()
        delivery = door(_headers(environ), _read_body(environ))
        stored = _store(delivery)
    except DomainError as error:
        return error.http_status, error_body(code=error.code, message=error.message, fields=error.fields), []
    if stored is None:
        return 200, {"status": "duplicate"}, []
    return 202, {"status": "ignored" if stored.status == WebhookStatus.IGNORED else "received"}, []


class WebhookDoors:
    """WSGI: the webhook doors, and ``application`` (Django) for every other path."""

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        door = DOORS.get(path)
        if door is None:
            return self.application(environ, start_response)
        request_id, bound = request_ids.wsgi_bound(environ)  # Django's middleware does this for other paths
        try:
            code, payload, extra_headers = answer(environ, door)
        finally:
            request_ids.reset(bound)
        error = payload.get("error")
        metrics.webhook_answered(source=DOOR_SOURCES[path], answer=error["code"] if error else payload["status"])
        content = json.dumps(payload, separators=(",", ":")).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(content))),
            ("X-Content-Type-Options", "nosniff"),
            ("Cache-Control", "no-store"),
            (request_ids.HEADER, request_id),
            *extra_headers,
        ]
        start_response(f"{code} {HTTPStatus(code).phrase}", headers)
        return [content]
