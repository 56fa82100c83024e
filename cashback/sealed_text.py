"""Short secrets stored so that a database reader cannot lift them: voucher codes not yet claimed.

``seal(text)`` encrypts with Fernet (AES-128-CBC with an HMAC-SHA256, from ``cryptography``) under the
first key of ``settings.FIELD_ENCRYPTION_KEYS``; ``unseal(token)`` tries every key of the list, so a key
is rotated by putting the new one first and keeping the old one until ``reseal`` has moved every row
(``MultiFernet.rotate``). A token carries its own random IV: the same text sealed twice gives two
different tokens, so equality (duplicates) is checked on a keyed digest beside it
(``cashback.keyed_ids.external_key``), never on the token.

The keys live in the environment, never in the database or the repository: a copy of the database
alone (a backup, a read replica, an SQL injection) gives tokens, not codes. With ``DEBUG`` and no key a
fixed development key is used; otherwise the system check ``cashback.E003`` refuses to start.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "field_encryption_keys_check", "reseal", "seal", "sealed_with_current_key", "unseal"]


def _fernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is not set: secrets cannot be sealed.")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def seal(text: str) -> str:
    """The text encrypted under the current key, as an ASCII token (about 100 characters for a code)."""
    return _fernet().encrypt(text.encode()).decode("ascii")


def unseal(token: str) -> str:
    """The text back; ``InvalidToken`` if the token was altered or no configured key opens it."""
    return _fernet().decrypt(token.encode("ascii")).decode()


def reseal(token: str) -> str:
    """The same text under the current (first) key: for a key rotation's sweep."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


def sealed_with_current_key(token: str) -> bool:
    """Whether the first (newest) key opens the token: a rotation's sweep skips such a row, so running
    it twice reseals nothing the second time."""
    first = settings.FIELD_ENCRYPTION_KEYS[0]
    try:
        Fernet(first.encode() if isinstance(first, str) else first).decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def field_encryption_keys_check(**kwargs: object) -> list[CheckMessage]:
    """System check (registered in CashbackConfig.ready): every key must be a Fernet key."""
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        return [
            Error(
                "FIELD_ENCRYPTION_KEYS is not set.",
                hint="Set it to a key made by `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'` (docs/operations.md).",
                id="cashback.E003",
            )
        ]
    try:
        _fernet()
    except (ValueError, TypeError):
        return [Error("FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key.", id="cashback.E004")]
    return []
