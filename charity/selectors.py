"""Reads of the charity app, and impact computed from the ledger.

What a charity has been given is never stored here: it is the net of the entries on the
charity's ``charity_payable`` accounts (one per currency, ``owner_key="charity:<id>"``) in every
journal transaction except disbursements. Those transactions are:

- ``donation``: a consumer's gift from their available balance (causes ``{"user", "charity"}``,
  plus ``"reward"`` for an automatic share of a reward);
- ``reward_earn`` / ``reward_reverse``: charity-reward offers, credited from the merchant's
  funding (causes ``{"purchase", "offer", "user"}``) and reversed on a refund.

``donation_disbursement`` transactions (the monthly transfer out, and its return if Stripe
refuses it) move money the charity was already given, so they do not count as impact.
Attribution comes from the journal's ``causes``: ``user`` for a consumer, ``offer`` for a
merchant campaign.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from fractions import Fraction
from typing import TYPE_CHECKING

from django.db.models import Case, F, Prefetch, Q, QuerySet, Sum, When
from django.utils import timezone

from charity.errors import CharityNotFoundError
from charity.models import AutoDonateSetting, Charity, Disbursement, ImpactCost
from wallet.models import AccountKind, Direction, Entry, JournalKind, LedgerAccount

if TYPE_CHECKING:
    from accounts.models import User

OWNER_PREFIX = "charity:"
# Transactions that move money a charity was already given (to its bank and back).
DISBURSEMENT_KINDS = (JournalKind.DONATION_DISBURSEMENT,)


def charity_owner_key(charity_id: int) -> str:
    return f"{OWNER_PREFIX}{int(charity_id)}"


def charity_payable_account(*, charity_id: int, currency: str) -> LedgerAccount | None:
    """The ledger account holding what is owed to the charity in ``currency``; None before its first
    money. Raises ``CharityNotFoundError`` for an unknown charity. Reads only:
    ``charity.services.charity_payable_account_open`` opens it.
    """
    if not Charity.objects.filter(pk=charity_id).exists():
        raise CharityNotFoundError()
    return LedgerAccount.objects.filter(
        kind=AccountKind.CHARITY_PAYABLE, currency=currency, owner_key=charity_owner_key(charity_id)
    ).first()


# --- Charities -------------------------------------------------------------------------


def _with_costs(charities: QuerySet[Charity]) -> QuerySet[Charity]:
    return charities.prefetch_related(Prefetch("impact_costs", queryset=ImpactCost.objects.order_by("currency")))


def charity_list(*, active_only: bool = True) -> QuerySet[Charity]:
    charities = Charity.objects.all()
    if active_only:
        charities = charities.filter(is_active=True)
    return _with_costs(charities.order_by("name", "id"))


def charity_get(*, charity_id: int | None = None, slug: str | None = None, active_only: bool = False) -> Charity:
    """One charity by id or slug, with its impact costs; raises ``CharityNotFoundError``."""
    charities = Charity.objects.all()
    if active_only:
        charities = charities.filter(is_active=True)
    lookup = {"pk": charity_id} if charity_id is not None else {"slug": slug}
    try:
        return _with_costs(charities).get(**lookup)
    except (Charity.DoesNotExist, ValueError):
        raise CharityNotFoundError() from None


# --- Impact ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Impact:
    """What a charity was given (in a scope: everyone, one consumer, one campaign) and what it became.

    ``given`` maps currency → minor units. ``units`` is the whole number of impact units funded
    and ``next_percent`` how far the next one is (0 to 99), counting every currency that has a unit
    cost (a fraction adds up exactly across currencies).
    """

    charity: Charity
    given: dict[str, int] = field(default_factory=dict)

    @property
    def _funded(self) -> Fraction:
        costs = {cost.currency: cost.unit_cost_minor for cost in self.charity.impact_costs.all()}
        return sum(
            (
                Fraction(amount, costs[currency])
                for currency, amount in self.given.items()
                if currency in costs and amount > 0
            ),
            Fraction(0),
        )

    @property
    def units(self) -> int:
        return math.floor(self._funded)

    @property
    def next_percent(self) -> int:
        funded = self._funded
        return math.floor((funded - math.floor(funded)) * 100)

    @property
    def unit_label(self) -> str:
        return self.charity.impact_unit if self.units == 1 else self.charity.impact_unit_plural

    @property
    def is_zero(self) -> bool:
        return not any(self.given.values())

    @property
    def given_sorted(self) -> list[tuple[str, int]]:
        return sorted(self.given.items())


def _given_entries() -> QuerySet[Entry]:
    return Entry.objects.filter(account__kind=AccountKind.CHARITY_PAYABLE, account__user__isnull=True).exclude(
        transaction__kind__in=DISBURSEMENT_KINDS
    )


def _signed() -> Case:
    return Case(When(direction=Direction.CREDIT, then=F("amount")), default=-F("amount"))


def _given_by_charity(entries: QuerySet[Entry]) -> dict[int, dict[str, int]]:
    """Net given per charity id and currency, in one aggregate query."""
    rows = (
        entries.filter(account__owner_key__startswith=OWNER_PREFIX)
        .values("account__owner_key", "currency")
        .annotate(total=Sum(_signed()))
        .order_by()
    )
    given: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        if row["total"]:  # a reward reversed in full gave nothing
            charity_id = int(row["account__owner_key"].removeprefix(OWNER_PREFIX))
            given[charity_id][row["currency"]] = row["total"]
    return given


def _cause_is(name: str, value: int) -> Q:
    # Causes hold ids as JSON numbers; a string id (written by hand, or by an older caller) counts too.
    return Q(**{f"transaction__causes__{name}": int(value)}) | Q(**{f"transaction__causes__{name}": str(value)})


def _impacts(given: dict[int, dict[str, int]], charities: Iterable[Charity] | None = None) -> list[Impact]:
    if charities is None:
        charities = _with_costs(Charity.objects.filter(pk__in=given.keys()))
    by_id = {charity.pk: charity for charity in charities}
    impacts = [
        Impact(charity=by_id[charity_id], given=amounts) for charity_id, amounts in given.items() if charity_id in by_id
    ]
    return sorted(impacts, key=lambda impact: (impact.charity.name, impact.charity.pk))


def charity_impact(*, charity: Charity) -> Impact:
    """Everything the charity has been given, from everyone, since it joined."""
    entries = _given_entries().filter(account__owner_key=charity_owner_key(charity.pk))
    return Impact(charity=charity, given=_given_by_charity(entries).get(charity.pk, {}))


def charities_impact(*, charities: Iterable[Charity]) -> dict[int, Impact]:
    """Impact of several charities in one query (list pages)."""
    charities = list(charities)
    entries = _given_entries().filter(account__owner_key__in=[charity_owner_key(c.pk) for c in charities])
    given = _given_by_charity(entries)
    return {charity.pk: Impact(charity=charity, given=given.get(charity.pk, {})) for charity in charities}


def consumer_impact(*, user: User) -> list[Impact]:
    """What the consumer's donations and the charity rewards their purchases earned gave, per charity."""
    return _impacts(_given_by_charity(_given_entries().filter(_cause_is("user", user.pk))))


def campaign_impact(*, offer_id: int) -> list[Impact]:
    """What a merchant's charity-reward offer gave, per charity (net of refunds)."""
    return _impacts(_given_by_charity(_given_entries().filter(_cause_is("offer", offer_id))))


def consumer_impact_by_source(*, user: User) -> dict[str, dict[str, int]]:
    """The consumer's giving split by source: ``{"donations": {cur: minor}, "rewards": {cur: minor}}``."""
    rows = (
        _given_entries()
        .filter(_cause_is("user", user.pk))
        .values("transaction__kind", "currency")
        .annotate(total=Sum(_signed()))
        .order_by()
    )
    split: dict[str, dict[str, int]] = {"donations": {}, "rewards": {}}
    for row in rows:
        source = "donations" if row["transaction__kind"] == JournalKind.DONATION else "rewards"
        split[source][row["currency"]] = split[source].get(row["currency"], 0) + (row["total"] or 0)
    return split


# --- A consumer's donations ----------------------------------------------------------------


@dataclass(frozen=True)
class DonationRow:
    """One donation as the consumer sees it: a debit of their available balance to a charity."""

    journal_id: int
    created_at: datetime
    amount_minor: int
    currency: str
    charity: Charity | None
    automatic: bool
    reward_id: int | None


def donation_entries(*, user: User, date_from: date | None = None, date_to: date | None = None) -> QuerySet[Entry]:
    """The consumer's donation entries (debits of their available balance), newest first."""
    entries = (
        Entry.objects.filter(
            account__user=user,
            account__kind=AccountKind.CONSUMER_AVAILABLE,
            transaction__kind=JournalKind.DONATION,
            direction=Direction.DEBIT,
        )
        .select_related("transaction")
        .order_by("-created_at", "-id")
    )
    if date_from:
        entries = entries.filter(created_at__gte=_start_of_day(date_from))
    if date_to:
        entries = entries.filter(created_at__lt=_start_of_day(date_to))
    return entries


def donation_rows(entries: Iterable[Entry]) -> list[DonationRow]:
    """Donation entries (one page of them) with their charities, loaded in one query."""
    entries = list(entries)
    charity_ids = {int(entry.transaction.causes.get("charity", 0)) for entry in entries}
    charities = Charity.objects.in_bulk([charity_id for charity_id in charity_ids if charity_id])
    rows = []
    for entry in entries:
        causes = entry.transaction.causes
        reward = causes.get("reward")
        rows.append(
            DonationRow(
                journal_id=entry.transaction_id,
                created_at=entry.created_at,
                amount_minor=entry.amount,
                currency=entry.currency,
                charity=charities.get(int(causes.get("charity", 0))),
                automatic=reward is not None,
                reward_id=int(reward) if reward is not None else None,
            )
        )
    return rows


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


@dataclass(frozen=True)
class ReceiptLine:
    charity: Charity
    currency: str
    amount_minor: int
    count: int


@dataclass(frozen=True)
class DonationReceipt:
    """A consumer's donations from their own balance in one calendar year (site time zone)."""

    user: User
    year: int
    lines: list[ReceiptLine]
    donations: list[DonationRow]

    @property
    def totals(self) -> list[tuple[str, int]]:
        totals: dict[str, int] = defaultdict(int)
        for line in self.lines:
            totals[line.currency] += line.amount_minor
        return sorted(totals.items())

    @property
    def is_empty(self) -> bool:
        return not self.donations


def donation_receipt(*, user: User, year: int) -> DonationReceipt:
    """The year's donations per charity and currency. Charity rewards are the merchant's money, not the consumer's
    gift, so they are not on the receipt (they are in the impact figures)."""
    entries = donation_entries(user=user, date_from=date(year, 1, 1), date_to=date(year + 1, 1, 1))
    rows = list(reversed(donation_rows(entries)))
    # Model instances hash and compare by primary key: one group per charity and currency.
    grouped: dict[tuple[Charity, str], list[DonationRow]] = defaultdict(list)
    for row in rows:
        if row.charity is not None:
            grouped[(row.charity, row.currency)].append(row)
    lines = [
        ReceiptLine(
            charity=charity,
            currency=currency,
            amount_minor=sum(r.amount_minor for r in items),
            count=len(items),
        )
        for (charity, currency), items in grouped.items()
    ]
    lines.sort(key=lambda line: (line.charity.name, line.currency))
    return DonationReceipt(user=user, year=year, lines=lines, donations=rows)


def donation_years(*, user: User) -> list[int]:
    """Years in which the consumer donated, newest first (for the receipt links)."""
    dates = donation_entries(user=user).dates("created_at", "year", order="DESC")
    return [day.year for day in dates]


# --- Balances, settings, disbursements -------------------------------------------------------


def consumer_available_minor(*, user: User, currency: str) -> int:
    """What the consumer may donate now in ``currency``: the available balance less pending holds."""
    account = LedgerAccount.objects.filter(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency=currency).first()
    return account.available if account else 0


def consumer_available_balances(*, user: User) -> dict[str, int]:
    """Available-to-donate per currency, only currencies with money in them."""
    accounts = LedgerAccount.objects.filter(user=user, kind=AccountKind.CONSUMER_AVAILABLE).order_by("currency")
    return {account.currency: account.available for account in accounts if account.available > 0}


def auto_donate_get(*, user: User) -> AutoDonateSetting | None:
    return AutoDonateSetting.objects.select_related("charity").filter(user=user).first()


def charity_payables_owed() -> list[LedgerAccount]:
    """Charities' payable accounts with money in them (what the monthly disbursement pays)."""
    return list(
        LedgerAccount.objects.filter(
            kind=AccountKind.CHARITY_PAYABLE, user__isnull=True, owner_key__startswith=OWNER_PREFIX, balance__gt=0
        ).order_by("id")
    )


def charity_owed(*, charity: Charity) -> dict[str, int]:
    """What the platform owes the charity now, per currency (payable balance less holds)."""
    accounts = LedgerAccount.objects.filter(
        kind=AccountKind.CHARITY_PAYABLE, user__isnull=True, owner_key=charity_owner_key(charity.pk)
    ).order_by("currency")
    return {account.currency: account.available for account in accounts}


def disbursement_list(*, charity: Charity | None = None, status: str = "") -> QuerySet[Disbursement]:
    disbursements = Disbursement.objects.select_related("charity").order_by("-period", "-id")
    if charity is not None:
        disbursements = disbursements.filter(charity=charity)
    if status:
        disbursements = disbursements.filter(status=status)
    return disbursements


def disbursements_open() -> QuerySet[Disbursement]:
    """Disbursements whose transfer has not been confirmed yet (sent again by the retry task)."""
    return Disbursement.objects.filter(status=Disbursement.Status.PROCESSING).order_by("id")
