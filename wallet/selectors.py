"""Reads of the ledger that the wallet page and the mobile API need.

Consumer figures per currency (definitions, also in docs/ledger.md):

- ``pending``: the consumer_pending account's posted balance (earned, not yet matured).
- ``available``: the consumer_available account's posted balance less pending holds.
- ``lifetime_earned``: net credits to the consumer's accounts in earning transactions
  (reward_earn, referral_bonus, challenge_bonus, programme_reward) less net debits in reward_reverse.
- ``donated``: net debits of the consumer's accounts in donation transactions.
- ``paid_out``: net debits of the consumer's accounts in payout and payout_return
  transactions (a returned payout gives the money back and lowers the figure).

Moves between a consumer's own accounts (reward_mature) change none of the last three.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Case, F, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from wallet.models import CONSUMER_KINDS, AccountKind, Direction, Entry, JournalKind, LedgerAccount
from wallet.money import minor_to_decimal_string

if TYPE_CHECKING:
    from accounts.models import User

EARNING_KINDS = (
    JournalKind.REWARD_EARN,
    JournalKind.REFERRAL_BONUS,
    JournalKind.CHALLENGE_BONUS,
    JournalKind.PROGRAMME_REWARD,
)
REVERSAL_KINDS = (JournalKind.REWARD_REVERSE,)
DONATION_KINDS = (JournalKind.DONATION,)
PAYOUT_KINDS = (JournalKind.PAYOUT, JournalKind.PAYOUT_RETURN)


@dataclass(frozen=True)
class CurrencyBalances:
    """A consumer's figures in one currency, in minor units."""

    currency: str
    pending: int = 0
    available: int = 0
    lifetime_earned: int = 0
    donated: int = 0
    paid_out: int = 0

    def as_decimal_strings(self) -> dict[str, str]:
        """The API's and the page's form: decimal strings, never floats."""
        return {
            "currency": self.currency,
            **{
                name: minor_to_decimal_string(getattr(self, name), self.currency)
                for name in ("pending", "available", "lifetime_earned", "donated", "paid_out")
            },
        }

    @property
    def is_zero(self) -> bool:
        return not any((self.pending, self.available, self.lifetime_earned, self.donated, self.paid_out))


def _credit_minus_debit() -> Case:
    return Case(When(direction=Direction.CREDIT, then=F("amount")), default=-F("amount"))


def _debit_minus_credit() -> Case:
    return Case(When(direction=Direction.DEBIT, then=F("amount")), default=-F("amount"))


def wallet_balances(*, user: User) -> list[CurrencyBalances]:
    """The consumer's figures per currency, in two queries whatever the history's length.

    One row per currency in which the user has an account, ordered by currency; a user
    with no account yet gets a row of zeros in the default currency.
    """
    figures: dict[str, dict[str, int]] = {}
    accounts = LedgerAccount.objects.filter(user=user, kind__in=CONSUMER_KINDS).values_list(
        "currency", "kind", "balance", "pending_debits"
    )
    for currency, kind, balance, pending_debits in accounts:
        row = figures.setdefault(currency, {})
        if kind == AccountKind.CONSUMER_PENDING:
            row["pending"] = balance
        elif kind == AccountKind.CONSUMER_AVAILABLE:
            row["available"] = balance - pending_debits

    if figures:
        flows = (
            Entry.objects.filter(account__user=user, account__kind__in=CONSUMER_KINDS)
            .filter(transaction__kind__in=EARNING_KINDS + REVERSAL_KINDS + DONATION_KINDS + PAYOUT_KINDS)
            .values("currency")
            .annotate(
                lifetime_earned=Coalesce(
                    Sum(_credit_minus_debit(), filter=Q(transaction__kind__in=EARNING_KINDS + REVERSAL_KINDS)), 0
                ),
                donated=Coalesce(Sum(_debit_minus_credit(), filter=Q(transaction__kind__in=DONATION_KINDS)), 0),
                paid_out=Coalesce(Sum(_debit_minus_credit(), filter=Q(transaction__kind__in=PAYOUT_KINDS)), 0),
            )
            .order_by()
        )
        for flow in flows:
            row = figures.setdefault(flow["currency"], {})
            row.update(lifetime_earned=flow["lifetime_earned"], donated=flow["donated"], paid_out=flow["paid_out"])
    else:
        figures[settings.DEFAULT_CURRENCY] = {}

    return [CurrencyBalances(currency=currency, **row) for currency, row in sorted(figures.items())]


def wallet_entries(
    *,
    user: User,
    kind: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Entry]:
    """The consumer's movements, newest first, with their account and (prefetched) transaction.

    ``date_from`` and ``date_to`` are inclusive calendar days in the current time zone.
    """
    # Transactions are prefetched for the page rather than joined: joined, PostgreSQL tends
    # to fetch the transaction of every entry of the history before it sorts and cuts a page.
    entries = (
        Entry.objects.filter(account__user=user, account__kind__in=CONSUMER_KINDS)
        .select_related("account")
        .prefetch_related("transaction")
        .order_by("-created_at", "-id")
    )
    if kind:
        entries = entries.filter(transaction__kind=kind)
    if date_from:
        entries = entries.filter(created_at__gte=_start_of_day(date_from))
    if date_to:
        entries = entries.filter(created_at__lt=_start_of_day(date_to + timedelta(days=1)))
    return entries


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


# --- What caused an entry ------------------------------------------------------------------

# A provider names the things of one or more cause kinds (e.g. purchases and offers): called with
# ``<cause>_ids=[...]`` for each kind it registered, it returns ``{"<cause>s": {id: {...}}}``.
EntryContextProvider = Callable[..., Mapping[str, Mapping[int, dict[str, Any]]]]
_entry_context_providers: list[tuple[tuple[str, ...], EntryContextProvider]] = []


def entry_context_provider_register(*, causes: tuple[str, ...], provider: EntryContextProvider) -> None:
    """Let an app above the wallet describe the causes it owns (``causes=("purchase", "offer")``).

    The ledger records causes as ids in a journal's ``causes`` and knows nothing of what they are;
    the app that owns them registers a provider from its ``AppConfig.ready()``, so the wallet never
    imports it. Registering the same provider twice keeps one.
    """
    if (causes, provider) not in _entry_context_providers:
        _entry_context_providers.append((causes, provider))


def entry_contexts(*, entries: Iterable[Entry]) -> dict[str, Mapping[int, dict[str, Any]]]:
    """What the entries' causes are, from the registered providers: ``{"purchases": {17: {...}}, ...}``.

    One call per provider with the integer ids of its cause kinds found on these entries (the
    entries' transactions are expected to be loaded, as ``wallet_entries`` does).
    """
    causes = [entry.transaction.causes or {} for entry in entries]
    contexts: dict[str, Mapping[int, dict[str, Any]]] = {}
    for names, provider in _entry_context_providers:
        ids = {f"{name}_ids": [c[name] for c in causes if isinstance(c.get(name), int)] for name in names}
        contexts.update(provider(**ids))
    return contexts
