"""Partner API keys: created (the plaintext shown once), hashed, revoked."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from merchants.errors import (
    ApiKeyNotFoundError,
    InvalidApiKeyNameError,
    TooManyApiKeysError,
)
from merchants.models import (
    Merchant,
    MerchantApiKey,
)
from merchants.services.audit import AuditAction, audit_record
from merchants.services.locks import merchant_lock

if TYPE_CHECKING:
    from accounts.models import User

# --- Partner API keys ---------------------------------------------------------------------------

API_KEY_PREFIX = "mk_live_"
# Characters of the plaintext kept in ``MerchantApiKey.prefix`` to tell keys apart in lists: the
# fixed prefix plus 6 random characters (36 bits: says which key, reveals nothing usable).
API_KEY_SHOWN_CHARACTERS = len(API_KEY_PREFIX) + 6
MAX_ACTIVE_API_KEYS = 20


def api_key_hash(plaintext: str) -> str:
    """The SHA-256 hex digest stored for a key. Keys have 256 random bits, so a plain hash is enough
    (no slow KDF needed), and looking a key up by its hash compares no secret byte by byte."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_key_create(*, merchant: Merchant, actor: User, name: str) -> tuple[MerchantApiKey, str]:
    """A new partner API key for ``merchant``. Returns the key and its plaintext, which is shown to
    the owner once and never stored. At most ``MAX_ACTIVE_API_KEYS`` active keys per merchant."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidApiKeyNameError(fields={"name": [InvalidApiKeyNameError.default_message]})
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        merchant_lock(merchant)  # serialises key creation per merchant so the limit holds
        if MerchantApiKey.objects.filter(merchant=merchant, revoked_at__isnull=True).count() >= MAX_ACTIVE_API_KEYS:
            raise TooManyApiKeysError()
        key = MerchantApiKey.objects.create(
            merchant=merchant,
            name=name,
            prefix=plaintext[:API_KEY_SHOWN_CHARACTERS],
            secret_hash=api_key_hash(plaintext),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.API_KEY_CREATED,
            details={"key_id": key.pk, "name": name, "prefix": key.prefix},
        )
    return key, plaintext


def api_key_revoke(*, key_id: int, merchant: Merchant, actor: User) -> MerchantApiKey:
    """Revoke one of ``merchant``'s keys: from now on it is refused (401). Revoking a revoked key
    changes nothing. A key of another merchant is "not found"."""
    with transaction.atomic():
        key = MerchantApiKey.objects.select_for_update().filter(pk=key_id, merchant=merchant).first()
        if key is None:
            raise ApiKeyNotFoundError()
        if key.revoked_at is not None:
            return key
        key.revoked_at = timezone.now()
        key.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
        key.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.API_KEY_REVOKED,
            details={"key_id": key.pk, "name": key.name, "prefix": key.prefix},
        )
    return key
