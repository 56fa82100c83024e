"""Shared helpers of the purchase-lifecycle tests: events in, balances out."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from campaigns.models import Purchase, Reward
from campaigns.services import purchase_event_apply
from wallet.invariants import ledger_violations
from wallet.models import AccountKind, JournalKind, LedgerAccount
from wallet.services import account_get_or_create, transaction_post, transfer

_ids = count(1)


def event(
    *,
    user: Any,
    merchant: Any,
    kind: str,
    amount: int,
    txn: str = "txn_1",
    event_id: str | None = None,
    original: str = "",
    at: datetime | None = None,
    location: Any = None,
    source: str = "card",
) -> Purchase:
    """Apply one card event; ``txn`` is the purchase's transaction id (the refund's own id for refunds)."""
    return purchase_event_apply(
        source=source,
        event_id=event_id or f"evt_{next(_ids)}",
        kind=kind,
        external_id=txn,
        amount_minor=amount,
        currency="NOK",
        occurred_at=at or timezone.now() - timedelta(minutes=5),
        user=user,
        merchant=merchant,
        location=location,
        original_external_id=original,
    )


def clear(purchase: Purchase) -> list[Reward]:
    """Apply the clearing event of a purchase built by ``PurchaseFactory`` (its amount, time and
    consumer) through the public entry point; returns the rewards this call created. The event id
    is derived from the purchase, so calling it again is a replay."""
    before = set(Reward.objects.filter(purchase_id=purchase.pk).values_list("pk", flat=True))
    purchase_event_apply(
        source=purchase.source,
        event_id=f"clearing:{purchase.external_id}",
        kind="clearing",
        external_id=purchase.external_id,
        amount_minor=purchase.amount_minor,
        currency=purchase.currency,
        occurred_at=purchase.occurred_at,
        user=purchase.user,
        merchant=purchase.merchant,
        location=purchase.location,
    )
    return list(Reward.objects.filter(purchase_id=purchase.pk).exclude(pk__in=before).order_by("pk"))


def balance(user: Any, kind: str, currency: str = "NOK") -> int:
    row = (
        LedgerAccount.objects.filter(user=user, kind=kind, currency=currency).values_list("balance", flat=True).first()
    )
    return row or 0


def merchant_balance(merchant: Any, kind: str, currency: str = "NOK") -> int:
    row = (
        LedgerAccount.objects.filter(owner_key=f"merchant:{merchant.pk}", kind=kind, currency=currency)
        .values_list("balance", flat=True)
        .first()
    )
    return row or 0


def consumer_balances(user: Any) -> dict[str, int]:
    return {
        "pending": balance(user, AccountKind.CONSUMER_PENDING),
        "available": balance(user, AccountKind.CONSUMER_AVAILABLE),
        "receivable": balance(user, AccountKind.CONSUMER_RECEIVABLE),
    }


def fund_merchant(merchant: Any, amount: int) -> None:
    funding = account_get_or_create(
        kind=AccountKind.MERCHANT_FUNDING, currency="NOK", owner_key=f"merchant:{merchant.pk}"
    )
    outside = account_get_or_create(kind=AccountKind.SETTLEMENT, currency="NOK", owner_key="test:bank")
    transaction_post(
        idempotency_key=f"test:fund:{merchant.pk}:{next(_ids)}",
        kind=JournalKind.MERCHANT_FUNDING,
        entries=transfer(debit=outside, credit=funding, amount=amount),
    )


def spend(user: Any, amount: int) -> None:
    """The consumer spends ``amount`` of their available cashback (as checkout spending would)."""
    available = account_get_or_create(kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK", user=user)
    outside = account_get_or_create(kind=AccountKind.SETTLEMENT, currency="NOK", owner_key="test:bank")
    transaction_post(
        idempotency_key=f"test:spend:{user.pk}:{next(_ids)}",
        kind=JournalKind.SPEND,
        entries=transfer(debit=available, credit=outside, amount=amount),
    )


def reward_amounts(purchase: Purchase) -> dict[int, int]:
    return {
        r.offer_id: r.amount_minor for r in Reward.objects.filter(purchase=purchase, kind="offer") if r.amount_minor
    }


def assert_ledger_sound() -> None:
    assert ledger_violations() == []


TEN = Decimal("10")
