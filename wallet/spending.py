"""Spending cashback at checkout: one-time spend codes and the merchant's hold on them.

1. The consumer asks for a spend code (``spend_code_issue``): 8 characters from an
   alphabet without look-alikes, live for ``SPEND_CODE_TTL_SECONDS``, unique among live
   codes; a new code replaces the consumer's earlier live code in that currency.
2. The merchant's checkout sends the code and the amount to apply (``spend_hold_place``):
   the code is used up, and a ledger hold reserves ``min(amount, available)`` on the
   consumer's available balance for the merchant (partial or full payment).
3. The checkout captures all or less of the hold (``spend_hold_capture``: consumer
   available → the merchant's receivable account, journal kind ``spend``) or releases it
   (``spend_hold_release``). An unresolved hold expires after ``SPEND_HOLD_TTL_SECONDS``
   (``wallet.tasks.holds_expire``) and the money is available again.

Accounting: what a consumer spends at a merchant is a debt of the platform to that
merchant. It is credited to the merchant's ``merchant_receivable`` account — the
merchant's running position with the platform (negative: the merchant owes us, e.g.
invoiced fees; positive: we owe the merchant) — and settled by a bank transfer
(``merchant_settlement``: debit merchant_receivable, credit settlement).

The wallet sits below the merchants app and does not depend on it: this module imports
nothing from merchants, and no wallet model has a foreign key to a merchant (a merchant's
accounts, and the merchant that used a spend code, are named by its ledger owner key,
``"merchant:42"``, a plain string). The caller (merchants' partner-API door) passes the
merchant in, and only its ``pk``, ``display_name``, ``currency`` and ``ledger_owner_key`` are
read (``SpendingMerchant``). The partner spend door is ``merchants/spend_partner_apis.py``: no wallet
module imports merchants, which the import-linter contract (``make lint``, ``tests/test_architecture.py``) holds.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.blocking import ensure_not_blocked, is_blocked
from accounts.errors import AccountBlockedError
from cashback import events
from cashback.api_times import api_datetime
from wallet.errors import (
    CurrencyMismatchError,
    InsufficientFundsError,
    NothingToSpendError,
    SpendCodeExpiredError,
    SpendCodeNotFoundError,
    SpendCodeUsedError,
    SpendHoldNotFoundError,
    UnknownCurrencyError,
)
from wallet.models import AccountKind, Hold, JournalKind, JournalTransaction, LedgerAccount, SpendCode
from wallet.money import CURRENCY_EXPONENTS, minor_to_decimal_string
from wallet.services import account_get_or_create, hold_place, hold_post, hold_void

if TYPE_CHECKING:
    from accounts.models import User


class SpendingMerchant(Protocol):
    """What the wallet reads of a merchant. A protocol, not ``merchants.models.Merchant``: the wallet
    sits below merchants and may not import it, not even for the type checker (import-linter)."""

    @property
    def pk(self) -> int: ...
    @property
    def display_name(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def ledger_owner_key(self) -> str: ...


# No 0/O, 1/I/L: a code read aloud or typed from a phone screen cannot be misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_ISSUE_ATTEMPTS = 8


def normalize_code(raw: str) -> str:
    """What a cashier typed (``"abcd-efgh"``, spaces) → the stored form (``"ABCDEFGH"``)."""
    return "".join(ch for ch in str(raw or "").upper() if ch.isalnum())


def display_code(code: str) -> str:
    """``"ABCDEFGH"`` → ``"ABCD-EFGH"``, easier to read out."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def spend_code_issue(*, user: User, currency: str, now: datetime | None = None) -> SpendCode:
    """A fresh spend code for the consumer; their earlier live code in this currency stops working.
    Refused (``nothing_to_spend``) while nothing is available: a code worth 0.00 would only fail at
    the checkout."""
    ensure_not_blocked(user=user)  # a blocked person cannot spend
    if currency not in CURRENCY_EXPONENTS:
        raise UnknownCurrencyError(gettext("Unknown currency: %(currency)s.") % {"currency": repr(currency)})
    available = (
        LedgerAccount.objects.filter(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency)
        .values_list("balance", "pending_debits")
        .first()
    )
    if available is None or available[0] - available[1] <= 0:
        raise NothingToSpendError()
    now = now or timezone.now()
    expires_at = now + timedelta(seconds=settings.SPEND_CODE_TTL_SECONDS)
    with transaction.atomic():
        SpendCode.objects.filter(user=user, currency=currency, status=SpendCode.Status.ACTIVE).update(
            status=SpendCode.Status.CANCELLED, updated_at=now
        )
        for _ in range(_ISSUE_ATTEMPTS):
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            try:
                with transaction.atomic():
                    return SpendCode.objects.create(code=code, user=user, currency=currency, expires_at=expires_at)
            except IntegrityError:
                # Taken by a live code — or by an expired one nobody used: retire that and draw again.
                SpendCode.objects.filter(code=code, status=SpendCode.Status.ACTIVE, expires_at__lte=now).update(
                    status=SpendCode.Status.CANCELLED, updated_at=now
                )
    raise RuntimeError("Could not draw a free spend code.")  # 31^8 codes: practically unreachable


def _code_for_use(*, code: str, now: datetime) -> SpendCode:
    """The code a checkout sent, locked; raises for unknown, used, replaced or expired codes."""
    normalized = normalize_code(code)
    if len(normalized) != CODE_LENGTH:
        raise SpendCodeNotFoundError(fields={"code": [gettext("A spend code has 8 letters and digits.")]})
    spend = SpendCode.objects.select_for_update().filter(code=normalized, status=SpendCode.Status.ACTIVE).first()
    if spend is None:
        latest = SpendCode.objects.filter(code=normalized).order_by("-id").first()
        if latest is None:
            raise SpendCodeNotFoundError()
        if latest.status == SpendCode.Status.USED:
            raise SpendCodeUsedError()
        raise SpendCodeExpiredError(gettext("The customer has asked for a newer code; use that one."))
    if spend.expires_at <= now:
        raise SpendCodeExpiredError()
    return spend


def spend_hold_place(
    *, merchant: SpendingMerchant, code: str, amount_minor: int, currency: str, now: datetime | None = None
) -> SpendCode:
    """Use a spend code at ``merchant``: hold up to ``amount_minor`` of the consumer's available cashback.

    Holds ``min(amount_minor, available)``; refuses with ``CurrencyMismatchError`` (the
    request's or the code's currency is not the merchant's), ``SpendCodeNotFoundError``,
    ``SpendCodeUsedError``, ``SpendCodeExpiredError`` or ``InsufficientFundsError``
    (nothing available; the code stays usable). Returns the used code with its hold.
    """
    now = now or timezone.now()
    if currency != merchant.currency:
        message = f"{merchant.display_name} takes {merchant.currency}, not {currency}."
        raise CurrencyMismatchError(message, fields={"currency": [message]})
    with transaction.atomic():
        spend = _code_for_use(code=code, now=now)
        if is_blocked(user_id=spend.user_id):
            raise AccountBlockedError(
                gettext("This customer's account is blocked: their cashback cannot be spent now.")
            )
        if spend.currency != currency:
            raise CurrencyMismatchError(
                gettext("This spend code is for %(currency)s; %(display_name)s takes %(accepted)s.")
                % {"currency": spend.currency, "display_name": merchant.display_name, "accepted": currency},
                fields={"code": [gettext("The code is for %(currency)s.") % {"currency": spend.currency}]},
            )
        account = account_get_or_create(user=spend.user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency)
        # Lock the balance so the amount held is exactly what is available now.
        account = LedgerAccount.objects.select_for_update(no_key=True).get(pk=account.pk)
        held = min(amount_minor, account.available)
        if held <= 0:
            raise InsufficientFundsError(gettext("The customer has no cashback available."))
        receivable = account_get_or_create(
            kind=AccountKind.MERCHANT_RECEIVABLE, currency=currency, owner_key=merchant.ledger_owner_key
        )
        hold = hold_place(
            idempotency_key=f"spend:{spend.pk}:hold",
            account=account,
            counterparty=receivable,
            amount=held,
            expires_at=now + timedelta(seconds=settings.SPEND_HOLD_TTL_SECONDS),
            memo=f"Spent at {merchant.display_name}"[:255],
            causes={"spend_code": spend.pk, "merchant": merchant.pk},
        )
        spend.status = SpendCode.Status.USED
        spend.used_at = now
        spend.hold = hold
        spend.merchant_owner_key = merchant.ledger_owner_key
        spend.requested_amount = amount_minor
        spend.save(update_fields=["status", "used_at", "hold", "merchant_owner_key", "requested_amount", "updated_at"])
        return spend


def _spend_of(*, merchant: SpendingMerchant, hold_id: int) -> SpendCode:
    if not 0 < hold_id < 2**63:  # no such id; SQLite cannot even be asked (its integers are 64-bit)
        raise SpendHoldNotFoundError()
    spend = (
        SpendCode.objects.select_related("hold")
        .filter(hold_id=hold_id, merchant_owner_key=merchant.ledger_owner_key)
        .first()
    )
    if spend is None:
        raise SpendHoldNotFoundError()
    return spend


def spend_hold_of(spend: SpendCode) -> Hold:
    """The hold of a used spend code (``spend_hold_get`` returns only those)."""
    # A spend code found by its hold (a used code) always has one.
    assert spend.hold is not None
    return spend.hold


def spend_hold_get(*, merchant: SpendingMerchant, hold_id: int) -> SpendCode:
    """The merchant's spend hold (404 for anyone else's)."""
    return _spend_of(merchant=merchant, hold_id=hold_id)


def spend_hold_capture(
    *, merchant: SpendingMerchant, hold_id: int, amount_minor: int | None = None, now: datetime | None = None
) -> JournalTransaction:
    """Take all of the hold, or less; the rest goes back to the consumer at once.

    Capturing again with the same amount returns the first capture (nothing moves twice);
    otherwise a resolved hold raises ``HoldNotPendingError``; more than held
    ``HoldAmountExceededError``; an expired hold ``HoldExpiredError``.
    """
    spend = _spend_of(merchant=merchant, hold_id=hold_id)
    hold = spend_hold_of(spend)
    with transaction.atomic():
        journal = hold_post(
            hold=hold,
            idempotency_key=f"spend:{spend.pk}:capture",
            amount=amount_minor,
            kind=JournalKind.SPEND,
            memo=f"Spent at {merchant.display_name}"[:255],
            now=now,
        )
        captured = Hold.objects.filter(pk=hold.pk).values_list("posted_amount", flat=True).first() or 0
        # A replay announces again; notifications keys its message on the journal, so one is sent.
        events.announce(
            "cashback_spent",
            user_id=spend.user_id,
            journal_id=journal.pk,
            amount_minor=captured,
            currency=spend.currency,
            merchant_name=merchant.display_name,
        )
    return journal


def spend_hold_release(*, merchant: SpendingMerchant, hold_id: int, now: datetime | None = None) -> Hold:
    """Give the whole hold back to the consumer (idempotent; a captured hold raises ``HoldNotPendingError``)."""
    spend = _spend_of(merchant=merchant, hold_id=hold_id)
    return hold_void(hold=spend_hold_of(spend), now=now)


def spend_hold_body(spend: SpendCode) -> dict[str, Any]:
    """The partner API's view of a spend hold: decimal strings, never floats."""
    hold = spend_hold_of(spend)
    currency = hold.currency
    return {
        "id": hold.pk,
        "status": hold.status,
        "currency": currency,
        "requested": minor_to_decimal_string(spend.requested_amount or 0, currency),
        "held": minor_to_decimal_string(hold.amount, currency),
        "partial": (spend.requested_amount or 0) > hold.amount,
        "captured": minor_to_decimal_string(hold.posted_amount or 0, currency),
        "expires_at": api_datetime(hold.expires_at),
    }
