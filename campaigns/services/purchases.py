"""Purchases in: the purchase lifecycle, a purchase's state derived from its events (issue 5, F-T1).

``purchase_event_apply`` is the one door for every source (card network, Stripe, partner API,
demo). It stores the event (unique per source and event id), locks the purchase row, derives the
purchase's state from the *set* of its events — never from their order — and then reconciles the
ledger to that state: each reward's target amount is computed and the difference to what the
ledger already holds for it is posted. Replays and permutations of the same events therefore end
in the same balances. docs/rewards.md describes the rules and the keys.

Lock order (every writer here): purchase row → challenge-progress rows (ascending) → offer rows
(ascending, budgets) → reward rows → ledger accounts (ascending, by ``wallet.services``). The
maturity and expiry tasks take the same order, starting from the reward's purchase.

Policies (settings):

- ``REWARD_ON_AUTH`` (default on): an authorisation already earns a pending reward, so the
  consumer sees it at once; the clearing amount (which wins) recomputes it, a reversal undoes it.
  Off: only a clearing earns.
- Merchant funding: a reward is paid from the merchant's prepaid ``merchant_funding`` account as
  far as it has money; the rest is booked to ``merchant_receivable`` (what the merchant owes, to be
  invoiced). A reward is never held back or lost for want of funding.
- Refunds reduce every reward of the purchase in proportion; a refund beyond what is left is
  capped (``refund_excess_minor``). Reversals reverse everything. What was already spent by the
  consumer is booked to their ``consumer_receivable``; their available balance never goes negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from campaigns.errors import InvalidPurchaseEventError, RefundUnmatchedError
from campaigns.merchant_cache import merchant_inputs
from campaigns.models import Purchase, PurchaseEvent, PurchaseEventKind
from campaigns.purchase_keys import purchase_event_key, purchase_id_key
from campaigns.rules import LineItem
from campaigns.services import reward_batch
from campaigns.services.figure_changes import figures_changed, figures_day
from campaigns.services.purchase_rewards import purchase_rewards_reconcile
from campaigns.services.tiers import tier_recompute_on_commit
from cashback.events import announce
from cashback.fast_rows import row_insert, rows_insert_pair
from wallet.models import Currency
from wallet.services import retrying_deadlocks

if TYPE_CHECKING:
    from accounts.models import Card, User
    from merchants.models import Location, Merchant

# The sources' names in events map to Purchase.Source values ("visa" is the card network).
SOURCE_ALIASES = {"visa": Purchase.Source.CARD}
KINDS = frozenset(PurchaseEventKind.values)


# --- Events in ---------------------------------------------------------------------------------


def purchase_event_apply(
    *,
    source: str,
    event_id: str,
    kind: str,
    external_id: str,
    amount_minor: int,
    currency: str,
    occurred_at: datetime,
    user: User | None,
    merchant: Merchant | None,
    location: Location | None = None,
    original_external_id: str = "",
    line_items: Sequence[LineItem] = (),
    card: Card | None = None,
) -> Purchase:
    """Apply one event of a purchase; idempotent per ``(source, event_id)`` and order-independent.

    ``kind`` is ``auth``, ``clearing``, ``refund`` or ``reversal``. Auth and clearing name the
    purchase by ``external_id``; refunds and reversals by ``original_external_id`` (the refund's own
    id is ``external_id``). A refund or reversal whose original has not arrived yet creates the
    purchase in the ``awaiting`` state; one without an original id is matched by consumer, shop,
    amount and time (``REFUND_MATCH_DAYS``), or ``RefundUnmatchedError`` is raised (the inbox parks
    the event as unmatched). For a refund ``amount_minor`` is this refund's amount.
    """
    source = SOURCE_ALIASES.get(source, source)
    problems = {}
    if source not in Purchase.Source.values:
        problems["source"] = [f"One of {', '.join(Purchase.Source.values)}."]
    if kind not in KINDS:
        problems["kind"] = [f"One of {', '.join(sorted(KINDS))}."]
    if not event_id or len(event_id) > 100:
        problems["event_id"] = ["1 to 100 characters."]
    if not external_id or len(external_id) > 100 or len(original_external_id) > 100:
        problems["external_id"] = ["1 to 100 characters."]
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor < 0:
        problems["amount_minor"] = ["A whole number of minor units, 0 or more."]
    if occurred_at is None or occurred_at.tzinfo is None:
        problems["occurred_at"] = ["A time with its time zone."]
    if merchant is None:
        problems["merchant"] = ["Required."]
    elif currency not in Currency.values:
        problems["currency"] = ["A currency the platform holds."]
    if problems:
        raise InvalidPurchaseEventError(fields=problems)
    items = [
        {"amount_minor": i.amount_minor, "quantity": i.quantity, "category": i.category, "product": i.product}
        for i in line_items
    ]

    # The append-only event row keeps keyed hashes of the sender's ids, never the ids themselves.
    event_key = purchase_event_key(source=source, event_id=event_id)

    def work() -> Purchase:
        # In a batch of inbox events the inbox's savepoint around this event is the one that counts.
        batch = reward_batch.current()
        with transaction.atomic(savepoint=batch is None):
            if batch is not None and batch.event_absent(source=source, event_key=event_key):
                done = None  # looked up with the batch's other events
            else:
                done = (
                    PurchaseEvent.objects.filter(source=source, event_id=event_key).select_related("purchase").first()
                )
            if done is not None:
                return done.purchase  # a replay: nothing changes
            if kind in (PurchaseEventKind.AUTH, PurchaseEventKind.CLEARING):
                purchase_key = external_id
            elif original_external_id:
                purchase_key = original_external_id
            else:
                purchase_key = _refund_match(
                    source=source,
                    user=user,
                    merchant=merchant,
                    location=location,
                    amount_minor=amount_minor,
                    currency=currency,
                    occurred_at=occurred_at,
                )
            # The event row; its purchase is set once the purchase row is known.
            event = PurchaseEvent(
                source=source,
                event_id=event_key,
                kind=kind,
                external_id=purchase_id_key(source=source, external_id=external_id),
                original_external_id=(
                    purchase_id_key(source=source, external_id=original_external_id) if original_external_id else ""
                ),
                amount_minor=amount_minor,
                currency=currency,
                occurred_at=occurred_at,
                line_items=items,
            )
            purchase, created = _purchase_locked(
                source=source,
                external_id=purchase_key,
                defaults={
                    "merchant": merchant,
                    "location": location,
                    "user": user,
                    "amount_minor": 0,
                    "currency": currency,
                    "occurred_at": occurred_at,
                    "status": Purchase.Status.AWAITING,
                    "card": card,
                },
                read_first=kind in (PurchaseEventKind.REFUND, PurchaseEventKind.REVERSAL),
                event=event,
            )
            if created:  # inserted with its event, in one statement: it has exactly that one event
                _purchase_update(purchase, events=[event])
                return purchase
            if card is not None and purchase.card_id is None:  # a refund arrived first, without its card
                purchase.card = card
                purchase.save(update_fields=["card", "updated_at"])
            # A concurrent delivery of the same event may have committed while this one waited. Not
            # when this call created the purchase: an event names its purchase by a fixed id, so a
            # concurrent twin is still waiting on the row this transaction inserted.
            if PurchaseEvent.objects.filter(source=source, event_id=event_key).exists():
                return purchase
            event.purchase = purchase
            row_insert(event)
            _purchase_update(purchase)
            return purchase

    return retrying_deadlocks(work)()


def _purchase_locked(
    *, source: str, external_id: str, defaults: dict[str, Any], read_first: bool, event: PurchaseEvent
) -> tuple[Purchase, bool]:
    """The purchase row, created if new, locked until the end of the transaction; and whether this
    call created it — then with ``event``, its first event, inserted too (else ``event`` is not saved).

    One ``INSERT … ON CONFLICT DO NOTHING`` of the purchase and, in the same statement, of its event
    (issue 19: a new purchase and its event cost one round trip, not a locking read, a savepoint, two
    inserts and the savepoint's release): a row this call inserted is locked by the insert. Concurrent
    first events of one purchase race on the unique ``(source, external_id)``: the loser's insert
    waits for the winner's commit and inserts nothing (nor its event), and the loser then reads the
    winner's row with a lock; had the winner rolled back, the loser's insert would have gone in. An
    event that names a purchase which usually exists already (a refund, a reversal: ``read_first``)
    reads it first.
    """
    manager = Purchase.objects.select_for_update()
    if read_first:
        found = manager.filter(source=source, external_id=external_id).first()
        if found is not None:
            return found, False
    purchase = Purchase(source=source, external_id=external_id, **defaults)
    if rows_insert_pair(purchase, event, link="purchase"):
        return purchase, True
    return manager.get(source=source, external_id=external_id), False


def _refund_match(
    *,
    source: str,
    user: User | None,
    merchant: Merchant | None,
    location: Location | None,
    amount_minor: int,
    currency: str,
    occurred_at: datetime,
) -> str:
    """The external id of the purchase a refund without its original's id belongs to.

    Same consumer (card), shop, currency; made before the refund within ``REFUND_MATCH_DAYS``; not
    reversed or refunded in full. A purchase whose remainder equals the refund wins, else the latest
    whose remainder covers it; none → ``RefundUnmatchedError``.
    """
    if user is None:
        raise RefundUnmatchedError(_("A refund without its original needs a known card to be matched."))
    window = timedelta(days=getattr(settings, "REFUND_MATCH_DAYS", 120))
    candidates = (
        Purchase.objects.filter(
            source=source,
            user=user,
            merchant=merchant,
            currency=currency,
            reversed=False,
            occurred_at__lte=occurred_at,
            occurred_at__gte=occurred_at - window,
        )
        .exclude(status__in=[Purchase.Status.AWAITING, Purchase.Status.REFUNDED])
        .annotate(remaining=F("amount_minor") - F("refunded_minor"))
        .filter(remaining__gte=amount_minor)
        .order_by("-occurred_at", "-id")
    )
    if location is not None:
        candidates = candidates.filter(location=location)
    rows = list(candidates.values_list("external_id", "remaining")[:50])
    for external_id, remaining in rows:
        if remaining == amount_minor:
            return external_id
    if rows:
        return rows[0][0]
    raise RefundUnmatchedError()


def _latest(events: list[PurchaseEvent]) -> PurchaseEvent | None:
    return max(events, key=lambda e: (e.occurred_at, e.event_id)) if events else None


def _derive(purchase: Purchase, events: list[PurchaseEvent]) -> None:
    """Set the purchase's state columns from its events (a function of the set, not the order)."""
    by_kind: dict[str, list[PurchaseEvent]] = {k: [] for k in KINDS}
    for event in events:
        by_kind[event.kind].append(event)
    auth = _latest(by_kind[PurchaseEventKind.AUTH])
    clearing = _latest(by_kind[PurchaseEventKind.CLEARING])
    # One refund transaction counts once, whatever number of events carried it.
    refunds: dict[str, PurchaseEvent] = {}
    for event in by_kind[PurchaseEventKind.REFUND]:
        current = refunds.get(event.external_id)
        if current is None or (event.occurred_at, event.event_id) > (current.occurred_at, current.event_id):
            refunds[event.external_id] = event
    asked = sum(event.amount_minor for event in refunds.values())
    base_event = clearing or auth
    base = base_event.amount_minor if base_event else 0
    purchase.authorised_minor = auth.amount_minor if auth else None
    purchase.cleared_minor = clearing.amount_minor if clearing else None
    purchase.amount_minor = base
    purchase.refunded_minor = min(asked, base)
    purchase.refund_excess_minor = asked - purchase.refunded_minor
    purchase.reversed = bool(by_kind[PurchaseEventKind.REVERSAL])
    purchase.line_items = list(base_event.line_items) if base_event else []
    originals = [e for e in events if e.kind in (PurchaseEventKind.AUTH, PurchaseEventKind.CLEARING)]
    purchase.occurred_at = min(e.occurred_at for e in (originals or events))
    if purchase.reversed:
        status = Purchase.Status.REVERSED
    elif base_event is None:
        status = Purchase.Status.AWAITING
    elif base > 0 and purchase.refunded_minor >= base:
        status = Purchase.Status.REFUNDED
    elif purchase.refunded_minor > 0:
        status = Purchase.Status.PARTLY_REFUNDED
    elif clearing is not None:
        status = Purchase.Status.CLEARED
    else:
        status = Purchase.Status.AUTHORISED
    purchase.status = status


def _watched_without_lines(purchase: Purchase) -> bool:
    """A card purchase or Stripe invoice at a merchant a later app watches (from the worker's merchant
    cache: no statement of its own)."""
    if purchase.source == Purchase.Source.CARD or (
        purchase.source == Purchase.Source.STRIPE and purchase.external_id.startswith("in_")
    ):
        return merchant_inputs(purchase.merchant_id).purchases_watched
    return False


_STATE_FIELDS = (
    "authorised_minor",
    "cleared_minor",
    "amount_minor",
    "refunded_minor",
    "refund_excess_minor",
    "reversed",
    "line_items",
    "occurred_at",
    "status",
)


def _purchase_update(purchase: Purchase, *, events: list[PurchaseEvent] | None = None) -> None:
    """Derive the locked purchase's state from its events (``events``: all of them, when the caller
    knows; else read), save it and reconcile its rewards. The state is saved together with the
    rewards' decisions, in one UPDATE (``purchase_rewards_reconcile``)."""
    before = {name: getattr(purchase, name) for name in _STATE_FIELDS}
    _derive(purchase, events if events is not None else list(purchase.events.all()))
    changed = [name for name in _STATE_FIELDS if getattr(purchase, name) != before[name]]
    purchase_rewards_reconcile(purchase, changed_fields=changed, new=events is not None)
    # Every applied event: its day (and the day it left, when an earlier event moved the purchase).
    days = {figures_day(purchase.occurred_at)}
    if before["occurred_at"] is not None:
        days.add(figures_day(before["occurred_at"]))
    figures_changed(merchant_id=purchase.merchant_id, days=days)
    if purchase.user_id and (
        purchase.refunded_minor > (before["refunded_minor"] or 0) or (purchase.reversed and not before["reversed"])
    ):
        announce("purchase_refunded", purchase_id=purchase.pk, user_id=purchase.user_id)
    if changed and purchase.user_id:
        tier_recompute_on_commit(purchase.user_id)
        if purchase.line_items or before["line_items"] or _watched_without_lines(purchase):
            # Purchases with line items count towards a brand's sales target; a card purchase or Stripe
            # invoice at a merchant a later app watches (a business customer's own shop, a brand owner
            # billing it) counts towards a value target (programmes/linked_sources.py). Other card and
            # Stripe purchases stay two statements shorter.
            announce(
                "purchase_recorded", purchase_id=purchase.pk, user_id=purchase.user_id, merchant_id=purchase.merchant_id
            )
