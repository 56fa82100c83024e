"""Ledger accounts: opening one on first use, and the platform's own accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wallet.errors import InvalidLedgerRequestError, UnknownCurrencyError
from wallet.models import KINDS_ALLOWING_NEGATIVE, PLATFORM_OWNER_KEY, AccountKind, Currency, LedgerAccount
from wallet.services.ledger_requests import require_choice

if TYPE_CHECKING:
    from accounts.models import User


def account_get_or_create(
    *,
    kind: str,
    currency: str,
    user: User | None = None,
    owner_key: str = "",
    allows_negative: bool | None = None,
) -> LedgerAccount:
    """The account of this owner, kind and currency, created on first use.

    Give either ``user`` (consumer accounts) or ``owner_key`` (``"platform"``,
    ``"merchant:42"``, ...). ``allows_negative`` defaults by kind and is only used when
    the account is created. Safe under concurrency: the unique constraint decides and
    the loser reads the winner's row (Django's get_or_create does this in a savepoint).
    """
    if (user is None) == (not owner_key):
        raise InvalidLedgerRequestError("An account has exactly one owner: a user or an owner key.")
    require_choice(kind, AccountKind, "kind")
    if currency not in Currency.values:
        raise UnknownCurrencyError(f"Unknown currency: {currency!r}.")
    if allows_negative is None:
        allows_negative = kind in KINDS_ALLOWING_NEGATIVE
    lookup: dict[str, Any] = {"kind": kind, "currency": currency}
    if user is not None:
        lookup["user"] = user
    else:
        lookup.update(user=None, owner_key=owner_key)
    account, _ = LedgerAccount.objects.get_or_create(**lookup, defaults={"allows_negative": allows_negative})
    return account


def platform_account(*, kind: str, currency: str) -> LedgerAccount:
    """The platform's own account of a kind (revenue, breakage, settlement, ...) in a currency."""
    return account_get_or_create(kind=kind, currency=currency, owner_key=PLATFORM_OWNER_KEY)
