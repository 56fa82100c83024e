"""Ledger accounts: opening one on first use, and the platform's own accounts."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from wallet.errors import InvalidLedgerRequestError, UnknownCurrencyError
from wallet.models import (
    KINDS_ALLOWING_NEGATIVE,
    PLATFORM_OWNER_KEY,
    POINTS,
    POINTS_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerCurrency,
)
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
    if currency not in LedgerCurrency.values:
        raise UnknownCurrencyError(f"Unknown currency: {currency!r}.")
    if (currency == POINTS) != (kind in POINTS_KINDS):
        # Points are not money: only the points kinds hold them, and they hold nothing else.
        raise UnknownCurrencyError(f"A {kind} account cannot hold {currency}.")
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


# Accounts are never deleted, and their id, owner, kind and currency never change: once an
# account's row is committed, its id can be kept for the life of the process. The reward worker
# asks for the same merchant and consumer accounts for every purchase (issue 19).
_committed: dict[tuple[str, int | None, str, str], LedgerAccount] = {}
_COMMITTED_MAX = 50_000


def account_for_posting(*, kind: str, currency: str, user_id: int | None = None, owner_key: str = "") -> LedgerAccount:
    """``account_get_or_create`` for a hot path that only posts to the account: the instance's id,
    owner, kind and currency are right, its balance columns are not to be read (they may be old).

    Known accounts cost no query; a new one is remembered after its creating transaction commits,
    so a rolled-back creation is never remembered."""
    key = (owner_key, user_id, kind, currency)
    known = _committed.get(key)
    if known is not None:
        return known
    if user_id is not None:
        user = _user_reference(user_id)
        account = account_get_or_create(kind=kind, currency=currency, user=user)
    else:
        account = account_get_or_create(kind=kind, currency=currency, owner_key=owner_key)

    def remember() -> None:
        if len(_committed) >= _COMMITTED_MAX:
            _committed.clear()
        _committed[key] = account

    transaction.on_commit(remember)
    return account


AccountKey = tuple[str, int | None, str, str]
"""An account as ``account_for_posting`` names it: (owner key, user id, kind, currency); a user's
accounts have the owner key ``""``, the others the user id None."""


def accounts_for_posting_find(*, keys: Collection[AccountKey]) -> dict[AccountKey, LedgerAccount]:
    """The accounts of ``keys`` that exist, by key, for a batch about to post to them (the reward
    worker's, issue 19): the ones this process knows cost no query, the others one query for all.
    As with ``account_for_posting``, the instances are to post to, not to read balances from; those
    read here are remembered after this transaction commits. An account that does not exist yet is
    not in the answer (``account_for_posting`` opens it)."""
    found = {key: _committed[key] for key in keys if key in _committed}
    missing = set(keys).difference(found)
    if not missing:
        return found
    users = {user_id for _, user_id, _, _ in missing if user_id is not None}
    owners = {owner_key for owner_key, user_id, _, _ in missing if user_id is None}
    owned = Q(user_id__in=users) if users else Q(pk__in=[])
    if owners:
        owned |= Q(user=None, owner_key__in=owners)
    rows = LedgerAccount.objects.filter(
        owned,
        kind__in={kind for _, _, kind, _ in missing},
        currency__in={currency for _, _, _, currency in missing},
    ).order_by()
    read: dict[AccountKey, LedgerAccount] = {}
    for account in rows:
        owner_key = "" if account.user_id is not None else account.owner_key
        key = (owner_key, account.user_id, account.kind, account.currency)
        if key in missing:
            read[key] = account

    def remember() -> None:
        if len(_committed) + len(read) >= _COMMITTED_MAX:
            _committed.clear()
        _committed.update(read)

    if read:
        transaction.on_commit(remember)
    return found | read


def accounts_forget() -> None:
    """Forget every remembered account id (a test database flushed or recreated: ids restart)."""
    _committed.clear()


def _user_reference(user_id: int) -> User:
    """A user instance that stands for the id only (an account's owner), without loading the row."""
    user = get_user_model()(pk=user_id)
    user._state.adding = False
    return user
