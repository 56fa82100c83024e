"""Helpers for the payout and spend tests: ready consumers, Stripe events, ledger figures."""

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from wallet.models import AccountKind, JournalTransaction, LedgerAccount, Payout, PayoutAccount
from wallet.services import account_get_or_create, platform_account

from .factories import UserFactory, fund

PAYLOADS = Path(__file__).resolve().parent / "webhook_payloads"


def ready_consumer(*, balance: int = 50000, currency: str = "NOK", ready: bool = True, **user_fields: Any):
    """A consumer with a Connect account (ready for payouts unless told) and ``balance`` available."""
    user = UserFactory(**user_fields)
    PayoutAccount.objects.create(
        user=user,
        stripe_account_id=f"acct_test{uuid.uuid4().hex[:12]}",
        payouts_enabled=ready,
        details_submitted=ready,
    )
    if balance:
        fund(account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency), balance)
    return user


def available(user, currency: str = "NOK") -> int:
    account = LedgerAccount.objects.filter(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency).first()
    return account.available if account else 0


def platform_balance(kind: str, currency: str = "NOK") -> int:
    return platform_account(kind=kind, currency=currency).balance


def ledger_keys(payout: Payout) -> list[str]:
    prefix = f"payout:{payout.pk}:"
    return sorted(
        JournalTransaction.objects.filter(idempotency_key__startswith=prefix).values_list("idempotency_key", flat=True)
    )


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def payout_event(name: str, payout: Payout, *, event_id: str | None = None, **object_changes: Any) -> dict[str, Any]:
    """A Stripe event fixture about ``payout``: its account, our metadata and its Stripe ids."""
    event = copy.deepcopy(load(name))
    event["id"] = event_id or f"evt_{uuid.uuid4().hex}"
    obj = event["data"]["object"]
    obj["metadata"] = {"payout": str(payout.pk), "user": str(payout.user_id)}
    obj["amount"] = payout.amount
    obj["currency"] = payout.currency.lower()
    if obj["object"] == "payout":
        event["account"] = payout.stripe_account_id
        obj["id"] = payout.stripe_payout_id or obj["id"]
        if event["type"] == "payout.canceled":
            obj["status"] = "canceled"
    else:
        obj["id"] = payout.stripe_transfer_id or obj["id"]
        obj["destination"] = payout.stripe_account_id
    obj.update(object_changes)
    return event
