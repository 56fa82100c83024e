"""Purchases the way they arrive: card events through campaigns' one door, with the card they were made with."""

from datetime import datetime, timedelta
from itertools import count
from typing import Any

from django.utils import timezone

from campaigns.models import Purchase
from campaigns.services import purchase_event_apply

_ids = count(1)


def card_purchase(
    *, card: Any, merchant: Any, amount: int = 20_000, at: datetime | None = None, kind: str = "clearing"
) -> Purchase:
    n = next(_ids)
    return purchase_event_apply(
        source="card",
        event_id=f"mon_evt_{n}",
        kind=kind,
        external_id=f"mon_txn_{n}",
        amount_minor=amount,
        currency="NOK",
        occurred_at=at or timezone.now() - timedelta(minutes=5),
        user=card.user,
        card=card,
        merchant=merchant,
    )


def refund(purchase: Purchase, *, amount: int | None = None) -> Purchase:
    n = next(_ids)
    return purchase_event_apply(
        source=purchase.source,
        event_id=f"mon_refund_{n}",
        kind="refund",
        external_id=f"mon_refund_txn_{n}",
        original_external_id=purchase.external_id,
        amount_minor=amount if amount is not None else purchase.amount_minor,
        currency=purchase.currency,
        occurred_at=purchase.occurred_at + timedelta(minutes=30),
        user=purchase.user,
        merchant=purchase.merchant,
    )
