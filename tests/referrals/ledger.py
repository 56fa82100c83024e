"""What the ledger says about referral bonuses (the tests compare the referrals' own figures with it)."""

from typing import Any

from django.db.models import Sum

from referrals.services import BONUS_FUNDING_OWNER_KEY
from wallet.models import AccountKind, Direction, Entry, JournalKind, JournalTransaction, LedgerAccount


def bonus_credits(user: Any, currency: str = "NOK") -> int:
    """Referral-bonus money credited to the user's available account."""
    total = Entry.objects.filter(
        account__user=user,
        account__kind=AccountKind.CONSUMER_AVAILABLE,
        account__currency=currency,
        transaction__kind=JournalKind.REFERRAL_BONUS,
        direction=Direction.CREDIT,
    ).aggregate(total=Sum("amount"))["total"]
    return total or 0


def bonus_journals() -> list[str]:
    return sorted(
        JournalTransaction.objects.filter(kind=JournalKind.REFERRAL_BONUS).values_list("idempotency_key", flat=True)
    )


def funding_balance(currency: str = "NOK") -> int:
    account = LedgerAccount.objects.filter(
        owner_key=BONUS_FUNDING_OWNER_KEY, kind=AccountKind.PLATFORM_REVENUE, currency=currency
    ).first()
    return account.balance if account else 0
