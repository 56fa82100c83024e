"""Keyed hashes of identifiers that come from outside (docs/ledger.md, "Keys from outside identifiers").

A webhook event's id, a purchase's transaction id, a partner's order or refund id, a client's
``Idempotency-Key``: texts a sender chooses. Where such a text would become permanent — a ledger
idempotency key, a reward's key prefix, an append-only row — the platform stores
``external_key(namespace=..., value=...)`` instead: HMAC-SHA256 under ``EXTERNAL_ID_KEY``, cut to
20 bytes and written in 32 lower-case base32 characters. The same value always gives the same key,
so a replay is still recognised; nothing that slipped past a door's guard (a card number sent as an
order id) can be read back out of a table that can never be erased, and without the secret the key
cannot be tested against guessed values either.

The secret is never rotated: a replay after a rotation would hash to a new key and be posted again.
"""

import base64
import hashlib
import hmac

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured

KEY_LENGTH = 32  # characters: base32 of 20 bytes, no padding


def external_key(*, namespace: str, value: str) -> str:
    """The permanent stand-in for ``value``, an identifier from outside, within ``namespace``.

    ``namespace`` is ours (e.g. ``"card:event"``) and keeps equal values of different kinds apart;
    it holds no newline, so ``namespace + "\\n" + value`` names one pair only.
    """
    if "\n" in namespace:
        raise ValueError("A namespace holds no newline.")
    secret = settings.EXTERNAL_ID_KEY
    if not secret:
        raise ImproperlyConfigured("EXTERNAL_ID_KEY is not set: identifiers from outside cannot be keyed.")
    digest = hmac.new(secret.encode(), f"{namespace}\n{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode().lower()


def external_id_key_check(**kwargs: object) -> list[CheckMessage]:
    """System check (registered in CashbackConfig.ready): without the secret, or with SECRET_KEY's value
    (which is rotated as a matter of course), the platform refuses to start (runserver, migrate, check)."""
    if not settings.EXTERNAL_ID_KEY:
        return [
            Error(
                "EXTERNAL_ID_KEY is not set.",
                hint="Set it once, to a long random value, and never change it (docs/ledger.md).",
                id="cashback.E001",
            )
        ]
    if settings.EXTERNAL_ID_KEY == settings.SECRET_KEY:
        return [
            Error(
                "EXTERNAL_ID_KEY must not be SECRET_KEY.",
                hint="SECRET_KEY may be rotated; EXTERNAL_ID_KEY never is. Give each its own value.",
                id="cashback.E002",
            )
        ]
    return []
