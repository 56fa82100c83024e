"""The ledger's invariants, checked from scratch against the entries (``manage.py ledger_check``).

Each check is one aggregate query over the whole ledger; none trusts a cached figure
to check another cached figure.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce

from wallet.models import Direction, Entry, Hold, JournalTransaction, LedgerAccount


@dataclass(frozen=True)
class Violation:
    check: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.subject}: {self.detail}"


def _signed_amount() -> Case:
    return Case(When(direction=Direction.CREDIT, then=F("amount")), default=-F("amount"))


def _entry_sum_per_account() -> Coalesce:
    sums = (
        Entry.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(total=Sum(_signed_amount()))
        .values("total")
    )
    return Coalesce(Subquery(sums, output_field=IntegerField()), 0)


def check_transactions_balance() -> list[Violation]:
    violations = [
        Violation(
            "unbalanced_transaction",
            f"journal transaction {row['transaction_id']}",
            f"credits minus debits in {row['currency']} is {row['net']}, not 0",
        )
        for row in Entry.objects.order_by()
        .values("transaction_id", "currency")
        .annotate(net=Sum(_signed_amount()))
        .exclude(net=0)
        .order_by("transaction_id", "currency")
    ]
    violations += [
        Violation("unbalanced_transaction", f"journal transaction {journal_id}", "has no entries")
        for journal_id in JournalTransaction.objects.filter(entries__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
    return violations


def check_cached_balances() -> list[Violation]:
    return [
        Violation(
            "cached_balance_mismatch",
            f"account {row['pk']} ({row['kind']} {row['currency']})",
            f"cached balance {row['balance']} but entries sum to {row['entry_sum']}",
        )
        for row in LedgerAccount.objects.annotate(entry_sum=_entry_sum_per_account())
        .exclude(balance=F("entry_sum"))
        .order_by("pk")
        .values("pk", "kind", "currency", "balance", "entry_sum")
    ]


def check_no_overdraft() -> list[Violation]:
    rows = (
        LedgerAccount.objects.filter(allows_negative=False)
        .annotate(entry_sum=_entry_sum_per_account())
        .filter(Q(balance__lt=F("pending_debits")) | Q(entry_sum__lt=0))
        .order_by("pk")
        .values("pk", "kind", "currency", "balance", "pending_debits", "entry_sum")
    )
    return [
        Violation(
            "negative_balance",
            f"account {row['pk']} ({row['kind']} {row['currency']}) may not go negative",
            f"entries sum to {row['entry_sum']}, cached balance {row['balance']} "
            f"less pending holds {row['pending_debits']} is {row['balance'] - row['pending_debits']}",
        )
        for row in rows
    ]


def check_entry_currencies() -> list[Violation]:
    return [
        Violation(
            "currency_mismatch",
            f"entry {row['pk']}",
            f"in {row['currency']} on account {row['account_id']} which holds {row['account__currency']}",
        )
        for row in Entry.objects.exclude(currency=F("account__currency"))
        .order_by("pk")
        .values("pk", "currency", "account_id", "account__currency")
    ]


def check_holds() -> list[Violation]:
    pending_sums = (
        Hold.objects.filter(account=OuterRef("pk"), status=Hold.Status.PENDING)
        .order_by()
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    violations = [
        Violation(
            "hold_mismatch",
            f"account {row['pk']} ({row['kind']} {row['currency']})",
            f"pending debits {row['pending_debits']} but pending holds reserve {row['held']}",
        )
        for row in LedgerAccount.objects.annotate(held=Coalesce(Subquery(pending_sums, output_field=IntegerField()), 0))
        .exclude(pending_debits=F("held"))
        .order_by("pk")
        .values("pk", "kind", "currency", "pending_debits", "held")
    ]
    posted = Hold.objects.filter(status=Hold.Status.POSTED).annotate(
        moved=Coalesce(
            Sum(
                "posted_transaction__entries__amount",
                filter=Q(
                    posted_transaction__entries__account=F("account"),
                    posted_transaction__entries__direction=Direction.DEBIT,
                ),
            ),
            0,
        )
    )
    violations += [
        Violation(
            "hold_mismatch",
            f"hold {row['pk']}",
            f"posted {row['posted_amount']} of {row['amount']} but its transaction debits {row['moved']}",
        )
        for row in posted.exclude(moved=F("posted_amount"))
        .order_by("pk")
        .values("pk", "posted_amount", "amount", "moved")
    ]
    violations += [
        Violation(
            "hold_mismatch", f"hold {row['pk']}", f"in {row['currency']} on an account in {row['account__currency']}"
        )
        for row in Hold.objects.exclude(currency=F("account__currency"))
        .order_by("pk")
        .values("pk", "currency", "account__currency")
    ]
    return violations


CHECKS: dict[str, Callable[[], list[Violation]]] = {
    "every journal transaction balances per currency": check_transactions_balance,
    "cached balances equal the sum of entries": check_cached_balances,
    "no account that may not go negative is negative": check_no_overdraft,
    "entries are in their account's currency": check_entry_currencies,
    "holds agree with pending debits and their postings": check_holds,
}


def ledger_violations() -> list[Violation]:
    """Every broken invariant, in the order of ``CHECKS``; empty when the ledger is sound."""
    return [violation for check in CHECKS.values() for violation in check()]
