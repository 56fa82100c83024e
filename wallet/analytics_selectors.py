"""The ledger's figures for the staff panel's platform analytics (/staff/analytics/, F-X6): money
flows per day, the cashback liability now, and the trailing rate of new cashback. Each is one SQL
query, whatever the volume (tests/adminpanel/test_analytics.py counts them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from wallet.models import PLATFORM_OWNER_KEY, AccountKind, Direction, Entry, JournalKind, LedgerAccount

# Each flow is the credits of one journal kind to one kind of account (the side where the money lands).
FLOWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "issued": (JournalKind.REWARD_EARN, (AccountKind.CONSUMER_PENDING,)),
    "matured": (JournalKind.REWARD_MATURE, (AccountKind.CONSUMER_AVAILABLE,)),
    "paid_out": (JournalKind.PAYOUT, (AccountKind.PAYOUTS_IN_TRANSIT,)),
    "donated": (JournalKind.DONATION, (AccountKind.CHARITY_PAYABLE,)),
    "expired": (JournalKind.EXPIRY, (AccountKind.BREAKAGE,)),
    "referral_bonuses": (
        JournalKind.REFERRAL_BONUS,
        (AccountKind.CONSUMER_PENDING, AccountKind.CONSUMER_AVAILABLE),
    ),
    "commission": (JournalKind.FEE, (AccountKind.PLATFORM_REVENUE,)),
}
FLOW_BY_JOURNAL_KIND = {journal_kind: name for name, (journal_kind, _) in FLOWS.items()}


def _flow_filter() -> Q:
    condition = Q()
    for name, (journal_kind, account_kinds) in FLOWS.items():
        flow = Q(transaction__kind=journal_kind, account__kind__in=account_kinds)
        if name == "commission":
            flow &= Q(account__owner_key=PLATFORM_OWNER_KEY)
        condition |= flow
    return condition


def ledger_flows_by_day(*, start: datetime, end: datetime) -> dict[tuple[date, str, str], int]:
    """``{(day, currency, flow): minor units}`` for entries in ``[start, end)``, days in the current
    time zone; flows are the keys of ``FLOWS``."""
    rows = (
        Entry.objects.filter(_flow_filter(), direction=Direction.CREDIT, created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "currency", "transaction__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(row["day"], row["currency"], FLOW_BY_JOURNAL_KIND[row["transaction__kind"]]): row["total"] for row in rows}


@dataclass(frozen=True)
class Liability:
    """What the platform owes, in one currency, from the ledger's balances now (minor units)."""

    currency: str
    consumers_pending: int
    consumers_available: int
    charities: int

    @property
    def consumers(self) -> int:
        return self.consumers_pending + self.consumers_available

    @property
    def total(self) -> int:
        return self.consumers + self.charities


LIABILITY_KINDS = (AccountKind.CONSUMER_PENDING, AccountKind.CONSUMER_AVAILABLE, AccountKind.CHARITY_PAYABLE)


def cashback_liability() -> list[Liability]:
    """Per currency: consumers' pending and available cashback and what charities are owed (their
    posted balances; money reserved by a checkout hold is still owed until it is captured)."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LIABILITY_KINDS, 0))
    rows = (
        LedgerAccount.objects.filter(kind__in=LIABILITY_KINDS)
        .values("currency", "kind")
        .annotate(total=Sum("balance"))
        .order_by()
    )
    for row in rows:
        sums[row["currency"]][row["kind"]] = row["total"] or 0
    return [
        Liability(
            currency=currency,
            consumers_pending=kinds[AccountKind.CONSUMER_PENDING],
            consumers_available=kinds[AccountKind.CONSUMER_AVAILABLE],
            charities=kinds[AccountKind.CHARITY_PAYABLE],
        )
        for currency, kinds in sorted(sums.items())
    ]


def cashback_issued_per_currency(*, start: datetime, end: datetime) -> dict[str, int]:
    """Cashback issued (reward earnings credited to consumers' pending cashback) in ``[start, end)``."""
    journal_kind, account_kinds = FLOWS["issued"]
    rows = (
        Entry.objects.filter(
            direction=Direction.CREDIT,
            transaction__kind=journal_kind,
            account__kind__in=account_kinds,
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["currency"]: row["total"] or 0 for row in rows}


def available_per_currency(*, user_ids: Iterable[int] | QuerySet[Any, Any]) -> dict[str, int]:
    """Per currency, the available cashback of these people (their posted balances), in one query."""
    rows = (
        LedgerAccount.objects.filter(kind=AccountKind.CONSUMER_AVAILABLE, user_id__in=user_ids, balance__gt=0)
        .values("currency")
        .annotate(total=Sum("balance"))
        .order_by()
    )
    return {row["currency"]: row["total"] or 0 for row in rows}
