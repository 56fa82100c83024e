"""A process-local cache of a merchant's reward inputs that change rarely (issue 19).

Every card purchase needs its merchant's live offers as engine inputs (offers, their shops, line-item
rules, minimum tier), the offers themselves (title, return period, the merchant's name for the
ledger memo) and the merchant's challenges. Read from the database that is four queries and a few
hundred model instances per purchase; the values change when a merchant edits a campaign, a few
times a month. So a worker process keeps them per merchant, and every change invalidates them:

- **In this process, at once**: ``post_save``/``post_delete`` of offers, challenges, line-item
  rules, tiers and merchants, and ``m2m_changed`` of an offer's shops drop the merchant's entry
  immediately (a later read in the same transaction sees the change) and again after the commit (a
  concurrent reader may have cached the old rows meanwhile).
- **In other processes**: the same receivers bump a version per merchant in Django's cache (Redis in
  production) after commit. A process checks the version of an entry older than
  ``CAMPAIGNS_MERCHANT_CACHE_CHECK_SECONDS`` (default 1) — one cache read per merchant per second at
  most — and reloads when it moved. A change is therefore seen everywhere within that second; a
  cache that cannot be reached means a reload from the database, never a stale answer kept longer.

The entry also says whether a later app wants to be told of the merchant's card and Stripe purchases
(``purchases_watched``: programmes counts card purchases at a business customer's linked shops, and
the Stripe invoices of its linked Stripe customer, towards its sales targets). A later app registers
a watcher (``purchase_watcher_register``, in its ``AppConfig.ready()``; a function of merchant ids,
asked when their entries load) and calls ``invalidate`` when its answer changes. So the card path
asks nothing more per purchase.

What is *not* cached: what concurrent purchases change. An offer's remaining budget is read fresh
for offers with a budget (``budgets_fresh``), and granted under the offer's row lock as before; the
customer's history, the purchase and the ledger are never cached. The receivers are cache upkeep,
not business logic (house style keeps logic out of signals): they change nothing but this cache.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from campaigns.models import Challenge, LineItemRule, Offer, OfferBasis, OfferStatus, Tier
from campaigns.rules import OfferTerms
from campaigns.selectors import offer_terms
from merchants.models import Location, Merchant

logger = logging.getLogger(__name__)

# Offers that may still reward or adjust a purchase: a purchase made while the offer was live counts
# for its challenges even after the offer paused or ended (campaigns.services.challenges).
STATUSES_WITH_HISTORY = (OfferStatus.LIVE, OfferStatus.PAUSED, OfferStatus.ENDED)


@dataclass(frozen=True)
class MerchantInputs:
    """A merchant's live per-purchase offers (terms and rows, by id) and its challenges."""

    terms: tuple[OfferTerms, ...]
    offers: dict[int, Offer]
    challenges: tuple[Challenge, ...]
    purchases_watched: bool = False

    def live_terms(self, at: datetime) -> list[OfferTerms]:
        """The offers live at ``at`` (``starts_at <= at < ends_at``), ascending by id."""
        return [t for t in self.terms if t.starts_at and t.ends_at and t.starts_at <= at < t.ends_at]

    def challenges_at(self, at: datetime, currency: str) -> list[Challenge]:
        """The challenges a purchase at ``at`` in ``currency`` counts for, ascending by id."""
        return [
            c for c in self.challenges if c.offer.starts_at <= at < c.offer.ends_at and c.offer.currency == currency
        ]


@dataclass
class _Entry:
    inputs: MerchantInputs
    version: Any
    checked_at: float


_entries: dict[int, _Entry] = {}
_lock = threading.Lock()
_purchase_watchers: list[Callable[[Collection[int]], Iterable[int]]] = []


def purchase_watcher_register(watcher: Callable[[Collection[int]], Iterable[int]]) -> None:
    """``watcher(merchant_ids)`` says which of the merchants its app wants ``purchase_recorded`` for:
    their card purchases and Stripe invoices (they carry no line items). Asked once for all the merchants
    whose entries load together, so it should answer in one query; the app calls ``invalidate(merchant_id)``
    when its answer for a merchant changes. Registering twice is a no-op."""
    if watcher not in _purchase_watchers:
        _purchase_watchers.append(watcher)


def _version_key(merchant_id: int) -> str:
    return f"campaigns:merchant-inputs:{merchant_id}"


def _check_seconds() -> float:
    return float(getattr(settings, "CAMPAIGNS_MERCHANT_CACHE_CHECK_SECONDS", 1.0))


def _shared_version(merchant_id: int) -> Any:
    try:
        return cache.get(_version_key(merchant_id))
    except Exception:  # a cache that cannot be reached: treat as changed, read the database
        logger.debug("merchant cache version unreadable", exc_info=True)
        return uuid.uuid4().hex


def _load(merchant_id: int) -> MerchantInputs:
    return _load_many([merchant_id])[merchant_id]


def _load_many(merchant_ids: Collection[int]) -> dict[int, MerchantInputs]:
    """The inputs of ``merchant_ids`` in a fixed number of queries, however many merchants (offers
    with their shops and line-item rules, challenges, and one question per watcher)."""
    ids = sorted(set(merchant_ids))
    offers: dict[int, list[Offer]] = {merchant_id: [] for merchant_id in ids}
    for offer in (
        Offer.objects.filter(merchant_id__in=ids, status=OfferStatus.LIVE, basis=OfferBasis.PURCHASE)
        .select_related("min_tier", "merchant")
        .prefetch_related(Prefetch("locations", queryset=Location.objects.only("id")), "line_item_rules")
        .order_by("id")
    ):
        offers[offer.merchant_id].append(offer)
    challenges: dict[int, list[Challenge]] = {merchant_id: [] for merchant_id in ids}
    for challenge in (
        Challenge.objects.filter(offer__merchant_id__in=ids, offer__status__in=STATUSES_WITH_HISTORY)
        .select_related("offer", "offer__merchant")
        .order_by("id")
    ):
        challenges[challenge.offer.merchant_id].append(challenge)
    watched: set[int] = set()
    for watcher in _purchase_watchers:
        watched.update(watcher(ids))
    return {
        merchant_id: MerchantInputs(
            terms=tuple(offer_terms(offer) for offer in offers[merchant_id]),
            offers={offer.pk: offer for offer in offers[merchant_id]},
            challenges=tuple(challenges[merchant_id]),
            purchases_watched=merchant_id in watched,
        )
        for merchant_id in ids
    }


def merchant_inputs(merchant_id: int) -> MerchantInputs:
    """The merchant's cached inputs, reloaded when a change was announced (see the module docstring).

    Callers must treat the rows as read-only: they are shared by every purchase of the merchant."""
    now = time.monotonic()
    entry = _entries.get(merchant_id)
    if entry is not None and now - entry.checked_at < _check_seconds():
        return entry.inputs
    version = _shared_version(merchant_id)
    if entry is not None and version == entry.version:
        entry.checked_at = now
        return entry.inputs
    inputs = _load(merchant_id)
    if not _dirty_in_this_transaction(merchant_id):
        with _lock:
            _entries[merchant_id] = _Entry(inputs=inputs, version=version, checked_at=now)
    return inputs


def merchant_inputs_check(merchant_ids: Iterable[int]) -> None:
    """Make the entries of ``merchant_ids`` current for a batch of the reward worker, before its
    events run: the versions of the entries due a check and of the merchants without an entry in one
    cache read, and the inputs of every merchant without an entry (or whose version moved) in one
    load (``_load_many``). Events spread over many merchants would otherwise read one version and
    load one merchant at a time — a worker process's first round pays that for every merchant."""
    now = time.monotonic()
    wanted = set(merchant_ids)
    due = {
        merchant_id
        for merchant_id in wanted
        if (entry := _entries.get(merchant_id)) is None or now - entry.checked_at >= _check_seconds()
    }
    if not due:
        return
    try:
        versions = cache.get_many([_version_key(merchant_id) for merchant_id in due])
    except Exception:  # a cache that cannot be reached: each entry is checked (and reloaded) at its use
        logger.debug("merchant cache versions unreadable", exc_info=True)
        return
    stale = []
    for merchant_id in sorted(due):
        version = versions.get(_version_key(merchant_id))
        entry = _entries.get(merchant_id)
        if entry is not None and version == entry.version:
            entry.checked_at = now
        else:
            stale.append(merchant_id)
    if not stale:
        return
    _drop(stale)
    for merchant_id, inputs in _load_many(stale).items():
        if not _dirty_in_this_transaction(merchant_id):
            with _lock:
                _entries[merchant_id] = _Entry(
                    inputs=inputs, version=versions.get(_version_key(merchant_id)), checked_at=now
                )


def budgets_fresh(terms: list[OfferTerms]) -> list[OfferTerms]:
    """``terms`` with the remaining budget of every budgeted offer read now (one query, none when
    no offer has a budget): concurrent purchases spend budgets, so they are never cached."""
    budgeted = [t.id for t in terms if t.budget_remaining_minor is not None]
    if not budgeted:
        return terms
    remaining = {
        pk: None if total is None else total - spent
        for pk, total, spent in Offer.objects.filter(pk__in=budgeted)
        .values_list("pk", "budget_total_minor", "budget_spent_minor")
        .order_by()
    }
    return [replace(t, budget_remaining_minor=remaining[t.id]) if t.id in remaining else t for t in terms]


# --- Invalidation --------------------------------------------------------------------------------


def _dirty_in_this_transaction(merchant_id: int) -> bool:
    """A change of this merchant's inputs waits for this transaction's commit: what it reads now may
    never be committed, so it is not cached. Django drops a rolled-back transaction's (or savepoint's)
    on-commit callbacks, so a rollback ends this state too."""
    for _, callback, _ in transaction.get_connection().run_on_commit:
        ids = getattr(callback, "merchant_ids", ())
        if ids is None or merchant_id in ids:
            return True
    return False


def invalidate(merchant_id: int | None) -> None:
    """Drop a merchant's entry (every entry for ``None``) now and after commit; tell other processes
    after commit."""
    ids = None if merchant_id is None else [merchant_id]
    _drop(ids)

    def after_commit() -> None:
        _drop(ids)
        _publish(ids)

    after_commit.merchant_ids = ids  # type: ignore[attr-defined]
    transaction.on_commit(after_commit, robust=True)


def _drop(ids: list[int] | None) -> None:
    with _lock:
        if ids is None:
            _entries.clear()
        else:
            for merchant_id in ids:
                _entries.pop(merchant_id, None)


def entries_forget() -> None:
    """Forget every entry in this process, telling no one (a test database flushed or rolled back:
    merchant ids may be used again)."""
    _drop(None)


def _publish(ids: list[int] | None) -> None:
    try:
        if ids is None:
            ids = list(Merchant.objects.values_list("pk", flat=True))
        cache.set_many({_version_key(i): uuid.uuid4().hex for i in ids}, timeout=None)
    except Exception:  # other processes then reload when they next check, at the latest
        logger.warning("could not publish a merchant cache invalidation", exc_info=True)


def _on_offer(sender: type, instance: Offer, **kwargs: Any) -> None:
    invalidate(instance.merchant_id)


def _on_offer_child(sender: type, instance: Challenge | LineItemRule, **kwargs: Any) -> None:
    merchant_id = Offer.objects.filter(pk=instance.offer_id).values_list("merchant_id", flat=True).first()
    invalidate(merchant_id)  # None (the offer is gone too): every merchant


def _on_offer_locations(sender: type, instance: Any, **kwargs: Any) -> None:
    invalidate(instance.merchant_id if isinstance(instance, Offer) else None)


def _on_merchant(sender: type, instance: Merchant, **kwargs: Any) -> None:
    invalidate(instance.pk)


def _on_tier(sender: type, instance: Tier, **kwargs: Any) -> None:
    invalidate(None)  # an offer's minimum tier carries the tier's rank and name


def _forget_all(**kwargs: Any) -> None:
    """A database was migrated or flushed (tests): ids may start again, nothing cached can stay."""
    _drop(None)


def connect_invalidation() -> None:
    """Called from CampaignsConfig.ready()."""
    post_migrate.connect(_forget_all, dispatch_uid="merchant_cache_migrated")
    for signal in (post_save, post_delete):
        signal.connect(_on_offer, sender=Offer, dispatch_uid="merchant_cache_offer_" + signal_name(signal))
        for model in (Challenge, LineItemRule):
            uid = f"merchant_cache_{model.__name__}_{signal_name(signal)}"
            signal.connect(_on_offer_child, sender=model, dispatch_uid=uid)
        signal.connect(_on_merchant, sender=Merchant, dispatch_uid="merchant_cache_merchant_" + signal_name(signal))
        signal.connect(_on_tier, sender=Tier, dispatch_uid="merchant_cache_tier_" + signal_name(signal))
    m2m_changed.connect(_on_offer_locations, sender=Offer.locations.through, dispatch_uid="merchant_cache_locations")


def signal_name(signal: Any) -> str:
    return "save" if signal is post_save else "delete"
