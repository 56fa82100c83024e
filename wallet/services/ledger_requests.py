"""What a ledger request is, and the checks and hash every writer applies to it before the database.

``EntrySpec`` and ``TransferRequest`` are the values callers build; the ``require_*`` checks
refuse a malformed request with a domain error; ``request_hash`` is the SHA-256 of a request's
canonical JSON, which idempotency compares on a replayed key.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

from wallet.errors import (
    InvalidAmountError,
    InvalidLedgerRequestError,
    UnbalancedTransactionError,
    UnknownAccountError,
    UnknownCurrencyError,
)
from wallet.models import POINTS, Direction, LedgerAccount
from wallet.money import CURRENCY_EXPONENTS, MAX_MINOR_UNITS

MAX_ENTRIES = 64
MAX_KEY_LENGTH = 200
# Choices as a set: TextChoices.values builds a new list on every call, on the hot path.
_DIRECTIONS = frozenset(Direction.values)
# Money currencies and points (whole points, so no exponent is needed for them here).
_LEDGER_CURRENCIES = frozenset(CURRENCY_EXPONENTS) | {POINTS}


@dataclass(frozen=True)
class EntrySpec:
    """One side of a transaction to post: a positive amount debited from or credited to an account."""

    account: LedgerAccount
    amount: int
    direction: str

    @classmethod
    def debit(cls, account: LedgerAccount, amount: int) -> "EntrySpec":
        return cls(account=account, amount=amount, direction=Direction.DEBIT)

    @classmethod
    def credit(cls, account: LedgerAccount, amount: int) -> "EntrySpec":
        return cls(account=account, amount=amount, direction=Direction.CREDIT)


def transfer(*, debit: LedgerAccount, credit: LedgerAccount, amount: int) -> list[EntrySpec]:
    """The two entries that move ``amount`` from one account to another."""
    return [EntrySpec.debit(debit, amount), EntrySpec.credit(credit, amount)]


@dataclass(frozen=True)
class TransferRequest:
    """One balanced transaction to post: what ``transaction_post`` takes, as a value (for batches)."""

    idempotency_key: str
    kind: str
    entries: Sequence[EntrySpec]
    memo: str = ""
    causes: Mapping[str, str | int] | None = None


def require_key(idempotency_key: str) -> None:
    if not isinstance(idempotency_key, str) or not idempotency_key.strip():
        raise InvalidLedgerRequestError("An idempotency key is required.")
    if len(idempotency_key) > MAX_KEY_LENGTH:
        raise InvalidLedgerRequestError(f"An idempotency key has at most {MAX_KEY_LENGTH} characters.")


def require_choice(value: str, choices: type[models.Choices], name: str) -> None:
    if value not in choices.values:
        raise InvalidLedgerRequestError(f"Unknown {name}: {value!r}.")


def require_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmountError(f"Amounts are positive integers of minor units, not {amount!r}.")
    if amount > MAX_MINOR_UNITS:
        raise InvalidAmountError(f"The amount {amount} does not fit the ledger.")


def require_valid_entries(entries: list[EntrySpec]) -> None:
    if len(entries) < 2:
        raise UnbalancedTransactionError("A transaction has at least two entries.")
    if len(entries) > MAX_ENTRIES:
        raise InvalidLedgerRequestError(f"A transaction has at most {MAX_ENTRIES} entries.")
    net_by_currency: dict[str, int] = defaultdict(int)
    for spec in entries:
        require_amount(spec.amount)
        if spec.direction not in _DIRECTIONS:
            raise InvalidLedgerRequestError(f"Unknown direction: {spec.direction!r}.")
        if spec.account.pk is None:
            raise UnknownAccountError("Entries need saved accounts.")
        if spec.account.currency not in _LEDGER_CURRENCIES:
            raise UnknownCurrencyError(f"Unknown currency: {spec.account.currency!r}.")
        net_by_currency[spec.account.currency] += spec.amount if spec.direction == Direction.CREDIT else -spec.amount
    unbalanced = {currency: net for currency, net in net_by_currency.items() if net}
    if unbalanced:
        detail = ", ".join(f"{currency} off by {net}" for currency, net in sorted(unbalanced.items()))
        raise UnbalancedTransactionError(f"Debits and credits do not balance: {detail}.")


def clean_causes(causes: Mapping[str, str | int] | None) -> dict[str, str | int]:
    cleaned = dict(causes or {})
    for key, value in cleaned.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidLedgerRequestError("Causes map names to ids, e.g. {'purchase': 17}.")
    return cleaned


def request_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
