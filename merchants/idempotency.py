"""``Idempotency-Key`` for the partner API: a retried request gets the first response, once.

A partner's checkout or order system may time out and retry. Every partner endpoint that changes
state runs its work through ``idempotent_partner_call``:

- the key (header ``Idempotency-Key``, 1-255 printable ASCII characters) is scoped to the merchant;
- the first request inserts a ``PartnerRequest`` row *before* running the operation, in the same
  transaction, and stores the response (status and JSON body) with it. A concurrent request with
  the same key blocks on that row's unique index until the first commits, then replays its response
  — so the operation runs once however many copies arrive at once; if the first fails with an
  unexpected error its transaction (row included) rolls back and the next attempt runs afresh;
- a replay with the same request (same fingerprint) returns the stored status and body;
- the same key with a different request → 409 ``idempotency_conflict``; a missing, empty or
  oversized key → 400 ``idempotency_key_required``.

Domain errors raised by the operation (4xx) are stored and replayed like successes: a retry of a
refused request is refused the same way (send a new key to try again). Stored requests are kept
``PARTNER_IDEMPOTENCY_RETENTION_DAYS`` days (``partner_requests_purge``).
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from cashback.errors import DomainError, error_body
from merchants.errors import IdempotencyConflictError, IdempotencyKeyRequiredError
from merchants.models import MerchantApiKey, PartnerRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

Operation = Callable[[], tuple[int, Any]]


def _valid_key(idempotency_key: str | None) -> str:
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in key):
        raise IdempotencyKeyRequiredError()
    return key


def _canonical(value: Any) -> Any:
    """JSON round trip: what is stored is exactly what is answered, first time and on replay."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def fingerprint_hash(fingerprint: Any) -> str:
    """SHA-256 of a request fingerprint: bytes and str as given, anything else as canonical JSON
    (sorted keys), so key order and whitespace in the client's JSON do not matter."""
    if isinstance(fingerprint, bytes):
        data = fingerprint
    elif isinstance(fingerprint, str):
        data = fingerprint.encode()
    else:
        data = json.dumps(fingerprint, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()


def idempotent_call(
    *, api_key: MerchantApiKey, idempotency_key: str | None, request_fingerprint: Any, operation: Operation
) -> tuple[int, Any, bool]:
    """``idempotent_partner_call`` that also says whether the response was replayed."""
    key = _valid_key(idempotency_key)
    request_hash = fingerprint_hash(request_fingerprint)
    with transaction.atomic():
        # Insert first: a concurrent request with the same key waits here for ours to commit.
        PartnerRequest.objects.bulk_create(
            [
                PartnerRequest(
                    merchant_id=api_key.merchant_id, api_key=api_key, idempotency_key=key, request_hash=request_hash
                )
            ],
            ignore_conflicts=True,
        )
        stored = PartnerRequest.objects.select_for_update().get(merchant_id=api_key.merchant_id, idempotency_key=key)
        if stored.response_status is not None:
            # A committed row always has its response: it is someone else's, finished request.
            if stored.request_hash != request_hash:
                raise IdempotencyConflictError()
            return stored.response_status, stored.response_body, True
        try:
            with transaction.atomic():
                status, body = operation()
        except DomainError as error:
            status, body = error.http_status, error_body(code=error.code, message=error.message, fields=error.fields)
        body = _canonical(body)
        stored.response_status = status
        stored.response_body = body
        stored.completed_at = timezone.now()
        stored.save(update_fields=["response_status", "response_body", "completed_at", "updated_at"])
    return status, body, False


def idempotent_partner_call(
    *, api_key: MerchantApiKey, idempotency_key: str | None, request_fingerprint: Any, operation: Operation
) -> tuple[int, Any]:
    """Run ``operation() -> (status, body)`` at most once per (merchant, ``idempotency_key``).

    Returns the first response for this key (now or stored). Raises ``IdempotencyKeyRequiredError``
    (400) or ``IdempotencyConflictError`` (409). See the module docstring.
    """
    status, body, _ = idempotent_call(
        api_key=api_key, idempotency_key=idempotency_key, request_fingerprint=request_fingerprint, operation=operation
    )
    return status, body


def request_fingerprint(request: Request) -> dict[str, Any]:
    """What makes two partner requests "the same": method, path and the parsed JSON body."""
    return {"method": request.method, "path": request.path, "body": request.data}


def idempotent_response(request: Request, operation: Operation) -> Response:
    """The door for DRF views: reads the header, runs ``operation`` idempotently, answers with the
    (possibly replayed) status and body; a replay carries ``Idempotent-Replayed: true``."""
    status, body, replayed = idempotent_call(
        # MerchantApiKeyAuthentication, the partner API's only authentication, puts the key here.
        api_key=cast(MerchantApiKey, request.auth),
        idempotency_key=request.headers.get(HEADER),
        request_fingerprint=request_fingerprint(request),
        operation=operation,
    )
    response = Response(body, status=status)
    if replayed:
        response[REPLAYED_HEADER] = "true"
    return response


def partner_requests_purge(*, now: Any = None) -> int:
    """Delete stored partner requests older than the retention period; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PARTNER_IDEMPOTENCY_RETENTION_DAYS)
    deleted, _ = PartnerRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
