"""Bonuses as ledger transactions: each one credits the consumer's *available* account from the
platform's referral-marketing account (``BONUS_FUNDING_OWNER_KEY``, kind ``platform_revenue``, allowed
to go negative: its balance is what the programme has cost), under a key that makes a replay post
nothing, and announces ``referral_bonus_paid`` once per key (notifications tells the consumer)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from cashback import events
from wallet.models import AccountKind, JournalKind
from wallet.services import account_get_or_create, transaction_post_with_created, transfer

if TYPE_CHECKING:
    from accounts.models import User

BONUS_FUNDING_OWNER_KEY = "platform:referral-marketing"


def _funding_account(currency: str) -> Any:
    return account_get_or_create(
        kind=AccountKind.PLATFORM_REVENUE, currency=currency, owner_key=BONUS_FUNDING_OWNER_KEY, allows_negative=True
    )


def bonus_pay(*, key: str, user: User, amount_minor: int, currency: str, memo: str, causes: dict[str, int]) -> None:
    """Post one bonus under ``key`` and announce it, in one transaction; a replay posts and announces
    nothing; nothing for 0."""
    if amount_minor <= 0:
        return
    with transaction.atomic():
        journal, created = transaction_post_with_created(
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
        if created:
            events.announce(
                "referral_bonus_paid",
                once_key=key,
                user_id=user.pk,
                key=key,
                journal_id=journal.pk,
                amount_minor=amount_minor,
                currency=currency,
                memo=memo,
            )
