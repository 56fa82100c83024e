"""The card network's webhook signature (ARCHITECTURE.md, "Card-network webhook").

Header ``Visa-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``. During a
secret rotation the sender may put several ``v1`` values in one header, and we may accept several
secrets (the current one and the previous one): the body is genuine when any ``v1`` matches any
secret. The timestamp must be within ``tolerance`` seconds of now, either way, so a captured
request cannot be replayed later (the inbox's unique event id stops replays within the window).
"""

import hashlib
import hmac
from collections.abc import Sequence

from rest_framework import status

from cashback.errors import DomainError

SCHEME = "v1"
HEADER = "Visa-Signature"
DEFAULT_TOLERANCE = 300


class SignatureError(DomainError):
    http_status = status.HTTP_400_BAD_REQUEST


class SignatureMissingError(SignatureError):
    code = "signature_missing"
    default_message = "The Visa-Signature header is missing or has no t= and v1= parts."


class SignatureInvalidError(SignatureError):
    code = "signature_invalid"
    default_message = "The signature does not match the body."


class TimestampStaleError(SignatureError):
    code = "timestamp_stale"
    default_message = "The signature's timestamp is too far from the current time."


def _digest(*, body: bytes, secret: str, timestamp: int | str) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(*, body: bytes, secret: str, timestamp: int) -> str:
    """The full header value for ``body``: ``t=<timestamp>,v1=<hex>``."""
    return f"t={int(timestamp)},{SCHEME}={_digest(body=body, secret=secret, timestamp=int(timestamp))}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureMissingError("The signature's t= part is not a number.") from None
        elif key == SCHEME and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise SignatureMissingError()
    return timestamp, signatures


def verify(
    *,
    header: str | None,
    body: bytes,
    secrets: Sequence[str],
    now: int,
    tolerance: int = DEFAULT_TOLERANCE,
) -> None:
    """Raise ``SignatureMissingError``, ``TimestampStaleError`` or ``SignatureInvalidError`` unless
    one ``v1`` in ``header`` is the HMAC of ``"<t>.<body>"`` under one of ``secrets`` and ``t`` is
    within ``tolerance`` seconds of ``now`` (past or future). Empty secrets are never used."""
    timestamp, signatures = _parse(header or "")
    if abs(int(now) - timestamp) > tolerance:
        raise TimestampStaleError()
    usable = [secret for secret in secrets if secret]
    matched = False
    for secret in usable:
        expected = _digest(body=body, secret=secret, timestamp=timestamp)
        for candidate in signatures:
            # Every pair is compared (no early exit), each in constant time.
            matched |= hmac.compare_digest(expected.encode("ascii"), candidate.encode("utf-8"))
    if not matched:
        raise SignatureInvalidError()
