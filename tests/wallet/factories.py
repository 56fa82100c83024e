"""Factories for the ledger's tests. Money moves only through wallet.services, as in production."""

import itertools
import uuid

import factory
from django.contrib.auth import get_user_model

from wallet.models import AccountKind, JournalKind, LedgerAccount
from wallet.services import account_get_or_create, transaction_post, transfer

_owner_numbers = itertools.count(1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    email = factory.Sequence(lambda n: f"wallet-user-{n}-{uuid.uuid4().hex[:8]}@example.com")
    password = factory.django.Password("correct-horse-battery")


class LedgerAccountFactory(factory.django.DjangoModelFactory):
    """A non-consumer account with a unique owner key, so parallel tests never share one."""

    class Meta:
        model = LedgerAccount

    owner_key = factory.LazyFunction(lambda: f"test:{uuid.uuid4().hex[:12]}:{next(_owner_numbers)}")
    kind = AccountKind.MERCHANT_FUNDING
    currency = "NOK"
    allows_negative = False


def new_key(prefix: str = "test") -> str:
    return f"{prefix}:{uuid.uuid4().hex}"


def settlement_account(currency: str = "NOK") -> LedgerAccount:
    """An outside-world account of its own for a test (may go negative)."""
    return LedgerAccountFactory(kind=AccountKind.SETTLEMENT, currency=currency, allows_negative=True)


def consumer_accounts(user, currency: str = "NOK") -> tuple[LedgerAccount, LedgerAccount]:
    pending = account_get_or_create(user=user, kind=AccountKind.CONSUMER_PENDING, currency=currency)
    available = account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency)
    return pending, available


def fund(
    account: LedgerAccount, amount: int, *, source: LedgerAccount | None = None, kind: str = JournalKind.ADJUSTMENT
):
    """Credit ``account`` with ``amount`` from an outside-world account; returns the journal transaction."""
    source = source or settlement_account(account.currency)
    return transaction_post(
        idempotency_key=new_key("fund"), kind=kind, entries=transfer(debit=source, credit=account, amount=amount)
    )
