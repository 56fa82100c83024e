"""The rewards of a batch of inbox events, written to their hot rows once per batch (issue 19).

Opened by the inbox for every batch of events the worker processes in one transaction
(``cashback.batch_work``; registered in ``CampaignsConfig.ready()``). While it is open:

- ``reward_book`` hands its ledger postings to ``postings`` (``wallet.services.DeferredPostings``)
  instead of posting each at once; the split between the merchant's funding and receivable reads
  balances through it, so it is the split one-by-one posting would have made;
- a reward's first earning journal is linked to the reward when the batch posts (``earn_deferred``);
- an offer without a budget only counts what its rewards take (``budget_count``): the count is added
  in one statement at the end instead of an UPDATE of the offer's row per reward. Offers with a
  budget are still granted under their row lock, at once: the grant decides the reward.

At the end (``flush``, inside the batch's transaction, after everything else): the offers' counts,
locked in ascending id order, then the ledger batch (accounts locked once each, in ascending id
order), then the earning journals' links. The lock order is the one every writer keeps (offers, then
accounts), and the hot rows — the merchant's offer and funding account — are locked once per batch
and only for its last statements and commit: concurrent batches of one merchant queue there briefly
and never wait in a cycle. Anything refused here fails the whole batch, whose events the inbox then
processes one by one, posting at once as outside a batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import F

from campaigns.models import CustomerTier, MerchantDayChange, Offer, PurchaseEvent, Reward, Tier
from campaigns.purchase_keys import purchase_event_key
from cashback import batch_work
from wallet.models import AccountKind, LedgerAccount
from wallet.services import AccountKey, DeferredPostings, accounts_for_posting_find

if TYPE_CHECKING:
    from accounts.models import User
    from merchants.models import Merchant

_COUNT_SQL = """
WITH locked AS MATERIALIZED (
    SELECT id FROM campaigns_offer WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id FOR NO KEY UPDATE
)
UPDATE campaigns_offer AS o SET budget_spent_minor = o.budget_spent_minor + d.delta
FROM locked JOIN unnest(%(ids)s::bigint[], %(deltas)s::bigint[]) AS d (id, delta) ON d.id = locked.id
WHERE o.id = locked.id
"""

# The earning journals' links in one UPDATE joined to arrays (Django's bulk_update builds a CASE per row).
_EARN_LINK_SQL = """
UPDATE campaigns_reward AS r SET earn_journal_id = d.journal_id
FROM unnest(%s::bigint[], %s::bigint[]) AS d (id, journal_id) WHERE r.id = d.id
"""


class RewardBatch:
    def __init__(self) -> None:
        self.postings = DeferredPostings()
        self._counts: list[tuple[int, int]] = []
        self._earns: list[tuple[Reward, str]] = []
        self._days: list[tuple[int, date]] = []
        # Looked up once for the batch (``prefetch``); each falls back to its own query when it has no answer.
        self._absent_events: set[tuple[str, str]] = set()
        self._blocked: dict[int, bool] = {}
        self._tiers: dict[int, Tier | None] = {}
        self._accounts: dict[AccountKey, LedgerAccount] = {}

    def prepare(self, events: Sequence[Any]) -> None:
        """Nothing: the handlers that know their events' payloads call ``prefetch``."""

    def prefetch(
        self, *, source: str, event_ids: Iterable[str], users: Iterable[User], merchants: Iterable[Merchant] = ()
    ) -> None:
        """Look up once for the batch's events from ``source`` (a ``Purchase.Source``) which of them are
        stored as purchase events already (one query), for their consumers (``users``, loaded in
        this transaction) whether they are blocked and their tiers (one query), the ledger accounts the
        rewards post to — the merchants' funding and receivable, the consumers' pending — (one query
        for those this process does not know yet), and the balances of the merchants' funding
        accounts the rewards' split reads (one query)."""
        merchants = list(merchants)
        users = list(users)
        wanted: list[AccountKey] = []
        for merchant in merchants:
            for kind in (AccountKind.MERCHANT_FUNDING, AccountKind.MERCHANT_RECEIVABLE):
                wanted.append((merchant.ledger_owner_key, None, kind, merchant.currency))
        for currency in {merchant.currency for merchant in merchants}:
            wanted += [("", user.pk, AccountKind.CONSUMER_PENDING, currency) for user in users]
        if wanted:
            self._accounts.update(accounts_for_posting_find(keys=wanted))
            self.postings.preload(
                accounts=[
                    account.pk
                    for (_, _, kind, _), account in self._accounts.items()
                    if kind == AccountKind.MERCHANT_FUNDING
                ]
            )
        keys = {purchase_event_key(source=source, event_id=event_id) for event_id in event_ids}
        if keys:
            stored = PurchaseEvent.objects.filter(source=source, event_id__in=keys).values_list("event_id", flat=True)
            self._absent_events |= {(source, key) for key in keys.difference(stored)}
        self._blocked.update({user.pk: user.blocked_at is not None for user in users})
        missing = {user.pk for user in users} - set(self._tiers)
        if missing:
            rows = CustomerTier.objects.filter(user_id__in=missing).select_related("tier").order_by()
            found = {row.user_id: row.tier for row in rows}
            self._tiers.update({pk: found.get(pk) for pk in missing})

    def account(self, key: AccountKey) -> LedgerAccount | None:
        """The batch's consumers' and merchants' ledger account of ``key``, to post to, if it existed when
        the batch began; else None (``account_for_posting`` finds or opens it)."""
        return self._accounts.get(key)

    def event_absent(self, *, source: str, event_key: str) -> bool:
        """True once if the purchase event was not stored when the batch began; else False (ask). The
        inbox's row lock makes the batch the event's only processor; should another door store the
        same purchase event meanwhile, its unique key refuses the second insert and the event fails
        alone, to be retried, when it finds the event stored."""
        try:
            self._absent_events.remove((source, event_key))
        except KeyError:
            return False
        return True

    def blocked(self, user_id: int) -> bool | None:
        """Whether the consumer was blocked when the batch began, or None (not looked up: ask)."""
        return self._blocked.get(user_id)

    @property
    def tiers(self) -> Mapping[int, Tier | None]:
        """The tiers of the batch's consumers (None: no tier), by user id."""
        return self._tiers

    def mark(self) -> tuple[int, int, int, int]:
        return self.postings.mark(), len(self._counts), len(self._earns), len(self._days)

    def rollback(self, mark: object) -> None:
        assert isinstance(mark, tuple)
        postings, counts, earns, days = mark
        self.postings.rollback(postings)
        del self._counts[counts:]
        del self._earns[earns:]
        del self._days[days:]

    def days_changed(self, *, merchant_id: int, days: Iterable[date]) -> None:
        """``figures_changed``: recorded at the batch's end, each merchant's day once."""
        self._days += [(merchant_id, day) for day in days]

    def budget_count(self, *, offer_id: int, amount_minor: int) -> None:
        """Count ``amount_minor`` (negative: given back) on the budget of an offer that has none."""
        self._counts.append((offer_id, amount_minor))

    def earn_deferred(self, reward: Reward, *, key: str) -> None:
        """The journal posted under ``key`` is the reward's first earning (the reward is saved before
        the batch posts)."""
        self._earns.append((reward, key))

    def has_deferred_earn(self, reward: Reward) -> bool:
        return reward.pk is not None and any(other.pk == reward.pk for other, _ in self._earns)

    def flush(self) -> None:
        totals: dict[int, int] = defaultdict(int)
        for offer_id, amount in self._counts:
            totals[offer_id] += amount
        ids = sorted(offer_id for offer_id, amount in totals.items() if amount)
        if ids and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_COUNT_SQL, {"ids": ids, "deltas": [totals[offer_id] for offer_id in ids]})
        elif ids:
            for offer_id in ids:
                Offer.objects.filter(pk=offer_id).update(budget_spent_minor=F("budget_spent_minor") + totals[offer_id])
        journals = self.postings.flush()
        for reward, key in self._earns:
            reward.earn_journal_id = journals[key].pk
        if self._earns and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    _EARN_LINK_SQL,
                    [[reward.pk for reward, _ in self._earns], [reward.earn_journal_id for reward, _ in self._earns]],
                )
        elif self._earns:
            Reward.objects.bulk_update([reward for reward, _ in self._earns], ["earn_journal"])
        if self._days:
            MerchantDayChange.objects.bulk_create(
                [MerchantDayChange(merchant_id=merchant_id, day=day) for merchant_id, day in sorted(set(self._days))]
            )
        self._counts, self._earns, self._days = [], [], []


def current() -> RewardBatch | None:
    """The open batch's rewards, or None (outside a batch of inbox events: post at once)."""
    return batch_work.current(RewardBatch)
