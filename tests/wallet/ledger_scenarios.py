"""A consumer's typical ledger history, built through the services, shared by several test modules."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from tests.wallet.factories import LedgerAccountFactory, consumer_accounts, fund, new_key, settlement_account
from wallet.models import AccountKind, JournalKind, LedgerAccount
from wallet.services import hold_place, transaction_post, transfer


@dataclass
class ConsumerLedger:
    pending: LedgerAccount
    available: LedgerAccount
    merchant: LedgerAccount
    charity: LedgerAccount
    outside: LedgerAccount


def post(kind: str, *, debit: LedgerAccount, credit: LedgerAccount, amount: int, memo: str = "", causes=None):
    return transaction_post(
        idempotency_key=new_key(kind),
        kind=kind,
        entries=transfer(debit=debit, credit=credit, amount=amount),
        memo=memo,
        causes=causes,
    )


def consumer_history(user, currency: str = "NOK") -> ConsumerLedger:
    """Earn 10.00, mature 6.00, reverse 1.00, donate 2.00, pay out 1.50, get 0.50 back, hold 1.00.

    Ends with pending 3.00, available 2.00, lifetime earned 9.00, donated 2.00, paid out 1.00.
    """
    pending, available = consumer_accounts(user, currency)
    merchant = LedgerAccountFactory(kind=AccountKind.MERCHANT_FUNDING, currency=currency)
    charity = LedgerAccountFactory(kind=AccountKind.CHARITY_PAYABLE, currency=currency)
    outside = settlement_account(currency)
    fund(merchant, 100_000, source=outside, kind=JournalKind.MERCHANT_FUNDING)

    post(JournalKind.REWARD_EARN, debit=merchant, credit=pending, amount=1000, memo="Coffee", causes={"purchase": 1})
    post(JournalKind.REWARD_MATURE, debit=pending, credit=available, amount=600)
    post(JournalKind.REWARD_REVERSE, debit=pending, credit=merchant, amount=100, memo="Refund")
    post(JournalKind.DONATION, debit=available, credit=charity, amount=200)
    post(JournalKind.PAYOUT, debit=available, credit=outside, amount=150)
    post(JournalKind.PAYOUT_RETURN, debit=outside, credit=available, amount=50)
    hold_place(
        idempotency_key=new_key("hold"),
        account=available,
        counterparty=merchant,
        amount=100,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    return ConsumerLedger(pending=pending, available=available, merchant=merchant, charity=charity, outside=outside)
