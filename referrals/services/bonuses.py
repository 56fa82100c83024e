"""Bonuses as ledger transactions: each one credits the consumer's *available* account from the
platform's referral-marketing account (``BONUS_FUNDING_OWNER_KEY``, kind ``platform_revenue``, allowed
to go negative: its balance is what the programme has cost), under a key that makes a replay post
nothing, and tells the consumer once per key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from notifications.services import notification_send
from wallet.models import AccountKind, JournalKind
from wallet.money import minor_to_decimal_string
from wallet.services import account_get_or_create, transaction_post, transfer

if TYPE_CHECKING:
    from accounts.models import User

BONUS_FUNDING_OWNER_KEY = "platform:referral-marketing"
NOTIFICATION_KIND = "referral_bonus"
REFERRALS_URL = "/wallet/referrals/"


def _funding_account(currency: str) -> Any:
    return account_get_or_create(
        kind=AccountKind.PLATFORM_REVENUE, currency=currency, owner_key=BONUS_FUNDING_OWNER_KEY, allows_negative=True
    )


def bonus_pay(*, key: str, user: User, amount_minor: int, currency: str, memo: str, causes: dict[str, int]) -> None:
    """Post one bonus under ``key`` (a replay posts nothing) and tell the consumer; nothing for 0."""
    if amount_minor <= 0:
        return
    transaction_post(
        idempotency_key=key,
        kind=JournalKind.REFERRAL_BONUS,
        entries=transfer(
            debit=_funding_account(currency),
            credit=account_get_or_create(kind=AccountKind.CONSUMER_AVAILABLE, currency=currency, user=user),
            amount=amount_minor,
        ),
        memo=memo,
        causes=causes,
    )
    _notify(user=user, key=key, amount_minor=amount_minor, currency=currency, memo=memo)


def _notify(*, user: User, key: str, amount_minor: int, currency: str, memo: str) -> None:
    notification_send(
        user=user,
        kind=NOTIFICATION_KIND,
        title=f"You earned a {minor_to_decimal_string(amount_minor, currency)} {currency} referral bonus",
        body=f"{memo}. It is in your available balance now.",
        url=REFERRALS_URL,
        dedupe_key=key,
        context={"amount": f"{minor_to_decimal_string(amount_minor, currency)} {currency}"},
    )
