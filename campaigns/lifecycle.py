"""Purchases in, rewards out: the purchase lifecycle and the rewards' money (issue 5, F-T1/F-T4).

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

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from campaigns.errors import CharityRewardError, InvalidPurchaseEventError, RefundUnmatchedError
from campaigns.models import (
    Challenge,
    ChallengeProgress,
    Offer,
    OfferBasis,
    OfferStatus,
    Purchase,
    PurchaseEvent,
    PurchaseEventKind,
    Reward,
    RewardKind,
    RewardStatus,
)
from campaigns.rules import Code, Decision, LineItem, evaluate
from cashback.events import announce
from charity.errors import CharityNotFoundError
from charity.services import charity_payable_account_open
from wallet.errors import InsufficientFundsError
from wallet.models import AccountKind, Direction, Entry, JournalKind, JournalTransaction, LedgerAccount
from wallet.services import EntrySpec, account_get_or_create, platform_account, retrying_deadlocks, transaction_post

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The sources' names in events map to Purchase.Source values ("visa" is the card network).
SOURCE_ALIASES = {"visa": Purchase.Source.CARD}
KINDS = frozenset(PurchaseEventKind.values)
# Offers whose challenges can still move: they went live at some point.
OFFER_STATUSES_WITH_HISTORY = (OfferStatus.LIVE, OfferStatus.PAUSED, OfferStatus.ENDED)
_SPLIT_ATTEMPTS = 3


def reward_on_auth() -> bool:
    return bool(getattr(settings, "REWARD_ON_AUTH", True))


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _proportion(amount: int, part: int, whole: int) -> int:
    """``amount * part / whole``, half to even; the whole amount when nothing was taken away."""
    if whole <= 0 or part <= 0:
        return 0
    if part >= whole:
        return amount
    return _round(Decimal(amount) * part / whole)


def _retrying(work: Callable[[], T]) -> T:
    """Run ``work`` (which opens its own transaction) under the platform's one deadlock retry."""
    return retrying_deadlocks(work)()


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
    user: Any,
    merchant: Any,
    location: Any = None,
    original_external_id: str = "",
    line_items: Sequence[LineItem] = (),
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
    elif currency not in dict(Purchase._meta.get_field("currency").choices):
        problems["currency"] = ["A currency the platform holds."]
    if problems:
        raise InvalidPurchaseEventError(fields=problems)
    items = [
        {"amount_minor": i.amount_minor, "quantity": i.quantity, "category": i.category, "product": i.product}
        for i in line_items
    ]

    def work() -> Purchase:
        with transaction.atomic():
            done = PurchaseEvent.objects.filter(source=source, event_id=event_id).select_related("purchase").first()
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
            purchase = _purchase_locked(
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
                },
            )
            # A concurrent delivery of the same event may have committed while this one waited.
            if PurchaseEvent.objects.filter(source=source, event_id=event_id).exists():
                return purchase
            PurchaseEvent.objects.create(
                purchase=purchase,
                source=source,
                event_id=event_id,
                kind=kind,
                external_id=external_id,
                original_external_id=original_external_id,
                amount_minor=amount_minor,
                currency=currency,
                occurred_at=occurred_at,
                line_items=items,
            )
            _purchase_update(purchase)
            return purchase

    return _retrying(work)


def _purchase_locked(*, source: str, external_id: str, defaults: dict[str, Any]) -> Purchase:
    """The purchase row, created if new, locked until the end of the transaction.

    Concurrent first events of one purchase race on the unique ``(source, external_id)``: the
    loser's insert waits for the winner's commit, fails, and ``get_or_create`` reads the winner's
    row (locking it); should that read still miss (the winner rolled back), try again.
    """
    for attempt in range(3):
        try:
            purchase, _ = Purchase.objects.select_for_update().get_or_create(
                source=source, external_id=external_id, defaults=defaults
            )
            return purchase
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _refund_match(
    *,
    source: str,
    user: Any,
    merchant: Any,
    location: Any,
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
        raise RefundUnmatchedError("A refund without its original needs a known card to be matched.")
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


def _purchase_update(purchase: Purchase) -> None:
    """Derive the locked purchase's state from its events, save it and reconcile its rewards."""
    before = {name: getattr(purchase, name) for name in _STATE_FIELDS}
    _derive(purchase, list(purchase.events.all()))
    changed = [name for name in _STATE_FIELDS if getattr(purchase, name) != before[name]]
    if changed:
        purchase.save(update_fields=[*changed, "updated_at"])
    _purchase_reconcile(purchase)
    if purchase.user_id and (
        purchase.refunded_minor > (before["refunded_minor"] or 0) or (purchase.reversed and not before["reversed"])
    ):
        announce("purchase_refunded", purchase_id=purchase.pk, user_id=purchase.user_id)
    if changed and purchase.user_id:
        _tier_recompute_on_commit(purchase.user_id)


def _tier_recompute_on_commit(user_id: int) -> None:
    from campaigns.services import _enqueue_tier_recompute

    transaction.on_commit(lambda: _enqueue_tier_recompute(user_id))


# --- Rewards of a purchase ---------------------------------------------------------------------


def earning_basis(purchase: Purchase) -> int:
    """The amount the purchase's rewards are decided on: the cleared amount (or, with
    ``REWARD_ON_AUTH``, the authorised one), before refunds; 0 while it cannot earn.

    A reversed purchase keeps its basis (the decisions are still shown, whatever the order the
    reversal came in); it is its earning amount that is 0."""
    if purchase.user_id is None:
        return 0
    if purchase.cleared_minor is not None or (purchase.authorised_minor is not None and reward_on_auth()):
        return purchase.amount_minor
    return 0


def _decision_json(decision: Decision, title: str) -> dict[str, Any]:
    return {
        "offer_id": decision.offer_id,
        "title": title,
        "applied": decision.applied,
        "earned_minor": decision.earned_minor,
        "currency": decision.currency,
        "code": str(decision.code),
        "message": decision.message,
        "beneficiary": decision.beneficiary,
        "capped_by": decision.capped_by,
    }


def _decide(purchase: Purchase, basis: int, existing: dict[int, Reward]) -> list[tuple[Decision, Any]]:
    """The engine's decisions for the purchase at ``basis``, as if its own rewards did not exist yet.

    Candidates: the merchant's live per-purchase offers at the purchase's time, plus offers that
    already rewarded it (so a clearing after the offer ended still adjusts its reward). Its own
    rewards are left out of the customer's counts and given back to the budgets, so deciding
    again gives what deciding first would have.
    """
    from campaigns.selectors import customer_context, live_offers_for_merchant, offer_terms
    from campaigns.services import purchase_facts

    terms = live_offers_for_merchant(merchant_id=purchase.merchant_id, at=purchase.occurred_at)
    known = {t.id for t in terms}
    missing = [offer_id for offer_id in existing if offer_id not in known]
    if missing:
        offers = (
            Offer.objects.filter(pk__in=missing)
            .select_related("min_tier")
            .prefetch_related("locations", "line_item_rules")
        )
        terms += [offer_terms(offer) for offer in offers]
    from dataclasses import replace

    own = {offer_id: reward.amount_minor for offer_id, reward in existing.items()}
    terms = [
        replace(t, budget_remaining_minor=t.budget_remaining_minor + own.get(t.id, 0))
        if t.budget_remaining_minor is not None
        else t
        for t in terms
    ]
    customer = customer_context(
        user=purchase.user, merchant_id=purchase.merchant_id, before=purchase.occurred_at, exclude_purchase=purchase
    )
    facts = replace(
        purchase_facts(purchase),
        amount_minor=basis,
        line_items=tuple(LineItem(**item) for item in purchase.line_items or ()),
    )
    by_id = {t.id: t for t in terms}
    return [(decision, by_id[decision.offer_id]) for decision in evaluate(facts, terms, customer)]


def _purchase_reconcile(purchase: Purchase) -> list[Reward]:
    """Bring the locked purchase's rewards and challenge bonuses to its state; returns new rewards."""
    now = timezone.now()
    challenges = _challenges_lock(purchase)
    existing = {r.offer_id: r for r in Reward.objects.filter(purchase=purchase, kind=RewardKind.OFFER)}
    basis = earning_basis(purchase)
    created: list[Reward] = []
    merchant = purchase.merchant
    if basis > 0 and purchase.rewards_basis_minor != basis and merchant.is_active_for_rewards:
        decided = _decide(purchase, basis, existing)
        stored = []
        for decision, terms in decided:  # sorted by offer id: offers are locked in that order
            title = terms.title
            amount = decision.earned_minor if decision.applied else 0
            capped = terms.max_rewards_per_customer is not None
            if amount and capped and _customer_cap_reached(decision.offer_id, purchase):
                amount = 0
                decision = Decision(
                    offer_id=decision.offer_id,
                    applied=False,
                    earned_minor=0,
                    code=Code.CUSTOMER_CAP_REACHED,
                    message="You have had this offer's reward its maximum number of times.",
                    currency=decision.currency,
                    beneficiary=decision.beneficiary,
                    charity_ref=decision.charity_ref,
                )
            reward = existing.get(decision.offer_id)
            if reward is None and amount:
                reward = Reward(
                    kind=RewardKind.OFFER,
                    offer_id=decision.offer_id,
                    purchase=purchase,
                    user_id=purchase.user_id,
                    beneficiary=decision.beneficiary,
                    charity_ref=decision.charity_ref,
                    currency=decision.currency,
                    amount_minor=0,
                    ledger_key=f"{purchase.source}:{purchase.external_id}:{decision.offer_id}",
                )
                existing[decision.offer_id] = reward
            if reward is not None:
                reward.decided_minor, reward.basis_minor = amount, basis
            stored.append(_decision_json(decision, title))
        purchase.decisions = stored
        purchase.rewards_basis_minor = basis
        purchase.rewards_evaluated_at = now
        purchase.save(update_fields=["decisions", "rewards_basis_minor", "rewards_evaluated_at", "updated_at"])

    net = max(0, basis - purchase.refunded_minor) if basis and not purchase.reversed else 0
    offers = {o.pk: o for o in Offer.objects.filter(pk__in=existing.keys()).select_related("merchant")}
    for offer_id in sorted(existing):
        reward = existing[offer_id]
        target = _proportion(reward.decided_minor, net, reward.basis_minor) if net else 0
        new = reward.pk is None
        change = target - reward.amount_minor
        if change > 0:
            from campaigns.services import offer_budget_consume

            granted = offer_budget_consume(offer_id=offer_id, amount_minor=change)
            if granted < change:
                target = reward.amount_minor + granted
                if net == reward.basis_minor:
                    reward.decided_minor = target
                _decision_capped(purchase, offer_id, granted)
        elif change < 0:
            from campaigns.services import offer_budget_return

            offer_budget_return(offer_id=offer_id, amount_minor=-change)
        if new and target == 0:
            continue
        reward.amount_minor = target
        offer = offers.get(offer_id) or Offer.objects.get(pk=offer_id)
        if reward.matures_at is None or new:
            reward.matures_at = purchase.occurred_at + timedelta(days=offer.return_period_days)
        if new:
            reward.save()
            created.append(reward)
        _reward_book(reward, offer=offer, purchase=purchase, now=now)

    _challenges_reconcile(purchase, challenges, now=now)
    return created


def _decision_capped(purchase: Purchase, offer_id: int, granted: int) -> None:
    """The stored decision of an offer whose budget ran out between the decision and the grant."""
    for item in purchase.decisions:
        if item["offer_id"] == offer_id and item["applied"]:
            item["earned_minor"] = item["earned_minor"] if granted else 0
            if not granted:
                item.update(applied=False, code=str(Code.BUDGET_SPENT), message="The offer's budget has been spent.")
            else:
                item["capped_by"] = "budget"
    purchase.save(update_fields=["decisions", "updated_at"])


def _customer_cap_reached(offer_id: int, purchase: Purchase) -> bool:
    """Recount the consumer's rewards from the offer under its row lock (other purchases only)."""
    row = Offer.objects.select_for_update().filter(pk=offer_id).values("max_rewards_per_customer").first()
    cap = row["max_rewards_per_customer"] if row else None
    if cap is None:
        return False
    had = (
        Reward.objects.filter(offer_id=offer_id, user_id=purchase.user_id, kind=RewardKind.OFFER, amount_minor__gt=0)
        .exclude(purchase=purchase)
        .count()
    )
    return had >= cap


# --- Challenges --------------------------------------------------------------------------------


def _challenges_of(purchase: Purchase) -> list[Challenge]:
    return list(
        Challenge.objects.filter(
            offer__merchant_id=purchase.merchant_id,
            offer__status__in=OFFER_STATUSES_WITH_HISTORY,
            offer__starts_at__lte=purchase.occurred_at,
            offer__ends_at__gt=purchase.occurred_at,
            offer__currency=purchase.currency,
        )
        .select_related("offer")
        .order_by("id")
    )


def _challenges_lock(purchase: Purchase) -> list[tuple[Challenge, ChallengeProgress]]:
    """Lock the consumer's progress rows of the challenges this purchase counts for (ascending).

    Taken before any ledger post, so that the bonus decision sees every other purchase of the
    consumer that committed before (READ COMMITTED, new statement after the lock).
    """
    if purchase.user_id is None:
        return []
    locked = []
    for challenge in _challenges_of(purchase):
        progress, _ = ChallengeProgress.objects.select_for_update().get_or_create(
            challenge=challenge, user_id=purchase.user_id
        )
        locked.append((challenge, progress))
    return locked


def challenge_progress_value(*, challenge: Challenge, user_id: int) -> int:
    """Revenue (net of refunds) or number of purchases still standing, within the offer's period."""
    purchases = Purchase.objects.filter(
        user_id=user_id,
        merchant_id=challenge.offer.merchant_id,
        currency=challenge.offer.currency,
        reversed=False,
        occurred_at__gte=challenge.offer.starts_at,
        occurred_at__lt=challenge.offer.ends_at,
    ).annotate(net=F("amount_minor") - F("refunded_minor"))
    if reward_on_auth():
        purchases = purchases.filter(Q(cleared_minor__isnull=False) | Q(authorised_minor__isnull=False))
    else:
        purchases = purchases.filter(cleared_minor__isnull=False)
    purchases = purchases.filter(net__gt=0)
    if challenge.target_type == "revenue":
        return purchases.aggregate(total=Sum("net"))["total"] or 0
    return purchases.count()


def _challenges_reconcile(
    purchase: Purchase, locked: list[tuple[Challenge, ChallengeProgress]], *, now: datetime
) -> None:
    """The bonus rule: given once while the target is reached; taken back if refunds bring the
    consumer under the target before the bonus matured; a matured bonus stays."""
    for challenge, progress in locked:
        value = challenge_progress_value(challenge=challenge, user_id=purchase.user_id)
        if progress.value != value:
            progress.value = value
            progress.save(update_fields=["value", "updated_at"])
        reward = Reward.objects.filter(kind=RewardKind.CHALLENGE, challenge=challenge, user_id=purchase.user_id).first()
        reached = value >= challenge.target_value
        if reward is not None and reward.matured_at is not None:
            continue  # matured: it stays, whatever happens later
        target = challenge.bonus_minor if reached else 0
        if reward is None:
            if not target:
                continue
            reward = Reward(
                kind=RewardKind.CHALLENGE,
                offer=challenge.offer,
                challenge=challenge,
                purchase=purchase,
                user_id=purchase.user_id,
                currency=challenge.offer.currency,
                amount_minor=0,
                ledger_key=f"challenge:{challenge.pk}:user:{purchase.user_id}",
            )
        if reward.amount_minor == 0 and target:
            # (Re)crossed by this purchase: it matures after this purchase's return period.
            reward.purchase = purchase
            reward.matures_at = purchase.occurred_at + timedelta(days=challenge.offer.return_period_days)
        reward.decided_minor = challenge.bonus_minor
        reward.amount_minor = target
        if reward.pk is None:
            reward.save()
        _reward_book(reward, offer=challenge.offer, purchase=reward.purchase, now=now)


# --- The ledger side of a reward ---------------------------------------------------------------


def _merchant_accounts(offer: Offer, currency: str) -> tuple[LedgerAccount, LedgerAccount]:
    owner_key = f"merchant:{offer.merchant_id}"
    funding = account_get_or_create(kind=AccountKind.MERCHANT_FUNDING, currency=currency, owner_key=owner_key)
    receivable = account_get_or_create(kind=AccountKind.MERCHANT_RECEIVABLE, currency=currency, owner_key=owner_key)
    return funding, receivable


def _consumer_account(user_id: int, kind: str, currency: str) -> LedgerAccount:
    from django.contrib.auth import get_user_model

    user = get_user_model()(pk=user_id)
    user._state.adding = False
    return account_get_or_create(kind=kind, currency=currency, user=user)


def _charity_account(reward: Reward) -> LedgerAccount:
    try:
        return charity_payable_account_open(charity_id=int(reward.charity_ref), currency=reward.currency)
    except (ValueError, CharityNotFoundError) as exc:
        raise CharityRewardError(f"Offer {reward.offer_id} names charity {reward.charity_ref!r}.") from exc


def _spendable(account: LedgerAccount) -> int:
    row = LedgerAccount.objects.filter(pk=account.pk).values_list("balance", "pending_debits").first()
    return max(0, row[0] - row[1]) if row else 0


def _post_with_split(
    *, key: str, kind: str, memo: str, causes: dict[str, Any], build: Callable[[bool], list[EntrySpec]]
) -> JournalTransaction:
    """Post entries whose split depends on balances read just before (funding, available).

    ``build(last)`` reads the balances and returns the entries; if another writer spent the money
    meanwhile the ledger refuses (``insufficient_funds``, nothing written) and the split is made
    again; the last attempt (``last=True``) books everything uncertain to the receivables, which
    may go negative, so a reward is never lost.
    """
    for attempt in range(1, _SPLIT_ATTEMPTS + 1):
        last = attempt == _SPLIT_ATTEMPTS
        try:
            return transaction_post(idempotency_key=key, kind=kind, entries=build(last), memo=memo, causes=causes)
        except InsufficientFundsError:
            if last:
                raise
    raise AssertionError("unreachable")


def _merchant_debits(funding: LedgerAccount, receivable: LedgerAccount, amount: int, last: bool) -> list[EntrySpec]:
    """Take ``amount`` from the merchant: prepaid funding as far as it goes, the rest as a receivable."""
    from_funding = 0 if last else min(amount, _spendable(funding))
    entries = []
    if from_funding:
        entries.append(EntrySpec.debit(funding, from_funding))
    if amount - from_funding:
        entries.append(EntrySpec.debit(receivable, amount - from_funding))
    return entries


def _merchant_credits(funding: LedgerAccount, receivable: LedgerAccount, amount: int) -> list[EntrySpec]:
    """Give ``amount`` back to the merchant: first against what it owes, the rest to its funding."""
    owed = -(LedgerAccount.objects.filter(pk=receivable.pk).values_list("balance", flat=True).first() or 0)
    to_receivable = min(amount, max(0, owed))
    entries = []
    if to_receivable:
        entries.append(EntrySpec.credit(receivable, to_receivable))
    if amount - to_receivable:
        entries.append(EntrySpec.credit(funding, amount - to_receivable))
    return entries


def _reward_causes(reward: Reward, purchase: Purchase | None) -> dict[str, Any]:
    causes: dict[str, Any] = {}
    if purchase is not None:
        causes["purchase"] = purchase.pk
    causes["offer"] = reward.offer_id
    causes["reward"] = reward.pk
    if reward.challenge_id:
        causes["challenge"] = reward.challenge_id
    if reward.beneficiary == "charity":
        causes["charity"] = reward.charity_ref
        if reward.user_id:
            causes["user"] = reward.user_id
    return causes


def _memo(reward: Reward, offer: Offer) -> str:
    if reward.kind == RewardKind.CHALLENGE and reward.challenge_id:
        text = f"Challenge bonus: {reward.challenge.title}"
    elif reward.kind == RewardKind.MONTHLY:
        text = f"{offer.title} ({reward.period:%B %Y})"
    else:
        text = offer.title
    return f"{text} at {offer.merchant.display_name}"[:255]


def reward_status(reward: Reward) -> str:
    if reward.amount_minor == 0:
        return RewardStatus.REVERSED
    if reward.matured_at is not None and reward.expired_minor > 0:
        return RewardStatus.EXPIRED  # what was left of it unused expired
    if reward.amount_minor < reward.decided_minor:
        return RewardStatus.PARTLY_REVERSED
    if reward.matured_at is not None:
        return RewardStatus.AVAILABLE
    return RewardStatus.PENDING


def _reward_book(reward: Reward, *, offer: Offer, purchase: Purchase | None, now: datetime) -> None:
    """Post the difference between what the reward earns now and what the ledger holds for it.

    The caller holds the lock that owns the reward (its purchase, or its challenge progress, or the
    reward row itself). Keys: ``<ledger_key>:earn`` for the first posting, then
    ``<ledger_key>:adjust:<n>``: each posting happens once, under that lock, with the reward row
    saved in the same transaction, so a replayed event finds nothing to post.
    """
    delta = reward.amount_minor - reward.booked_minor
    if delta == 0:
        status = reward_status(reward)
        if status != reward.status:
            reward.status = status
            reward.save(update_fields=["status", "updated_at"])
        return
    seq = reward.ledger_seq + 1
    key = f"{reward.ledger_key}:earn" if reward.ledger_seq == 0 else f"{reward.ledger_key}:adjust:{seq}"
    funding, receivable = _merchant_accounts(offer, reward.currency)
    causes = _reward_causes(reward, purchase)
    memo = _memo(reward, offer)
    charity = reward.beneficiary == "charity"
    first_earn = reward.earn_journal_id is None and delta > 0

    if delta > 0:
        if charity:
            credit = _charity_account(reward)
        elif reward.matured_at is not None:
            credit = _consumer_account(reward.user_id, AccountKind.CONSUMER_AVAILABLE, reward.currency)
        else:
            credit = _consumer_account(reward.user_id, AccountKind.CONSUMER_PENDING, reward.currency)
        kind = JournalKind.CHALLENGE_BONUS if reward.kind == RewardKind.CHALLENGE else JournalKind.REWARD_EARN
        journal = _post_with_split(
            key=key,
            kind=kind,
            memo=memo,
            causes=causes,
            build=lambda last: [*_merchant_debits(funding, receivable, delta, last), EntrySpec.credit(credit, delta)],
        )
        if charity or reward.matured_at is not None:
            reward.available_minor += delta
        else:
            reward.pending_minor += delta
        if first_earn:
            reward.earn_journal = journal
    else:
        take = -delta
        parts: dict[str, int] = {}

        def build(last: bool) -> list[EntrySpec]:
            parts.clear()
            entries: list[EntrySpec] = []
            rest = take
            if charity:
                payable = _charity_account(reward)
                from_payable = min(rest, _spendable(payable))
                if from_payable:
                    entries.append(EntrySpec.debit(payable, from_payable))
                parts["available"] = from_payable
                parts["unrecovered"] = rest - from_payable
                back = from_payable
            else:
                from_pending = min(rest, reward.pending_minor)
                rest -= from_pending
                from_breakage = min(rest, reward.expired_minor)
                rest -= from_breakage
                available = _consumer_account(reward.user_id, AccountKind.CONSUMER_AVAILABLE, reward.currency)
                from_available = 0 if last else min(rest, _spendable(available))
                owed = rest - from_available
                if from_pending:
                    pending = _consumer_account(reward.user_id, AccountKind.CONSUMER_PENDING, reward.currency)
                    entries.append(EntrySpec.debit(pending, from_pending))
                if from_breakage:
                    breakage = platform_account(kind=AccountKind.BREAKAGE, currency=reward.currency)
                    entries.append(EntrySpec.debit(breakage, from_breakage))
                if from_available:
                    entries.append(EntrySpec.debit(available, from_available))
                if owed:
                    receivable_c = _consumer_account(reward.user_id, AccountKind.CONSUMER_RECEIVABLE, reward.currency)
                    entries.append(EntrySpec.debit(receivable_c, owed))
                parts.update(pending=from_pending, breakage=from_breakage, available=from_available, owed=owed)
                back = take
            if back:
                entries += _merchant_credits(funding, receivable, back)
            return entries

        if charity:
            build(False)
            if parts["available"] == 0:
                reward.unrecovered_minor += parts["unrecovered"]
                journal = None
            else:
                journal = _post_with_split(
                    key=key, kind=JournalKind.REWARD_REVERSE, memo=memo, causes=causes, build=build
                )
                reward.unrecovered_minor += parts["unrecovered"]
            reward.available_minor -= min(reward.available_minor, take)
        else:
            _post_with_split(key=key, kind=JournalKind.REWARD_REVERSE, memo=memo, causes=causes, build=build)
            reward.pending_minor -= parts["pending"]
            reward.expired_minor -= parts["breakage"]
            reward.available_minor -= min(reward.available_minor, parts["available"] + parts["owed"])
            reward.owed_minor += parts["owed"]
    reward.booked_minor = reward.amount_minor
    reward.ledger_seq = seq
    reward.status = reward_status(reward)
    reward.save()
    facts = {
        "reward_id": reward.pk,
        "user_id": reward.user_id,
        "purchase_id": purchase.pk if purchase else None,
        "currency": reward.currency,
    }
    if charity:
        return
    if delta > 0 and first_earn:
        announce("reward_earned", amount_minor=delta, **facts)
    elif delta < 0:
        announce("reward_reversed", amount_minor=-delta, **facts)


# --- Maturity ----------------------------------------------------------------------------------


def rewards_due_to_mature(*, now: datetime, limit: int = 500) -> list[int]:
    return list(
        Reward.objects.filter(matured_at__isnull=True, matures_at__lte=now, pending_minor__gt=0, beneficiary="consumer")
        .filter(Q(purchase__isnull=True) | Q(purchase__cleared_minor__isnull=False, purchase__reversed=False))
        .order_by("matures_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def reward_mature(*, reward_id: int, now: datetime | None = None) -> bool:
    """Move one reward from pending to available if its time has come and its purchase cleared.

    Key ``reward:<id>:mature``; announces ``reward_available``. Then any amount the consumer owes
    (``consumer_receivable``) is settled from the newly available money. Safe to run twice.
    """
    now = now or timezone.now()

    def work() -> bool:
        with transaction.atomic():
            head = Reward.objects.filter(pk=reward_id).values("purchase_id", "challenge_id", "user_id", "kind").first()
            if head is None:
                return False
            if head["kind"] == RewardKind.CHALLENGE:
                ChallengeProgress.objects.select_for_update().filter(
                    challenge_id=head["challenge_id"], user_id=head["user_id"]
                ).first()
            elif head["purchase_id"]:
                Purchase.objects.select_for_update().filter(pk=head["purchase_id"]).first()
            reward = (
                Reward.objects.select_for_update(of=("self",)).select_related("purchase", "offer").get(pk=reward_id)
            )
            purchase = reward.purchase
            if reward.matured_at is not None or reward.pending_minor <= 0 or reward.beneficiary != "consumer":
                return False
            if reward.matures_at is None or reward.matures_at > now:
                return False
            if purchase is not None and (purchase.cleared_minor is None or purchase.reversed):
                return False
            amount = reward.pending_minor
            pending = _consumer_account(reward.user_id, AccountKind.CONSUMER_PENDING, reward.currency)
            available = _consumer_account(reward.user_id, AccountKind.CONSUMER_AVAILABLE, reward.currency)
            journal = transaction_post(
                idempotency_key=f"reward:{reward.pk}:mature",
                kind=JournalKind.REWARD_MATURE,
                entries=[EntrySpec.debit(pending, amount), EntrySpec.credit(available, amount)],
                memo=_memo(reward, reward.offer)[:255],
                causes=_reward_causes(reward, purchase),
            )
            reward.pending_minor = 0
            reward.available_minor += amount
            reward.matured_at = now
            reward.mature_journal = journal
            reward.status = reward_status(reward)
            reward.save()
            announce(
                "reward_available",
                reward_id=reward.pk,
                user_id=reward.user_id,
                purchase_id=purchase.pk if purchase else None,
                amount_minor=amount,
                currency=reward.currency,
            )
            _receivable_settle(reward, available, amount)
            return True

    return _retrying(work)


def _receivable_settle(reward: Reward, available: LedgerAccount, amount: int) -> None:
    """Use newly available cashback to pay back what the consumer owes from earlier reversals."""
    receivable = LedgerAccount.objects.filter(
        user_id=reward.user_id, kind=AccountKind.CONSUMER_RECEIVABLE, currency=reward.currency
    ).first()
    if receivable is None or receivable.balance >= 0:
        return
    settle = min(amount, -receivable.balance, _spendable(available))
    if settle <= 0:
        return
    transaction_post(
        idempotency_key=f"reward:{reward.pk}:settle",
        kind=JournalKind.ADJUSTMENT,
        entries=[EntrySpec.debit(available, settle), EntrySpec.credit(receivable, settle)],
        memo="Pays back cashback reversed after it was spent",
        causes={"reward": reward.pk},
    )


def rewards_mature_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(1 for reward_id in rewards_due_to_mature(now=now) if reward_mature(reward_id=reward_id, now=now))


# --- Expiry ------------------------------------------------------------------------------------

# Credits of the available balance that are cashback and can expire; other credits (returned
# payouts, adjustments) take part in the oldest-first accounting but never expire.
EXPIRING_KINDS = (
    JournalKind.REWARD_MATURE,
    JournalKind.REWARD_EARN,
    JournalKind.CHALLENGE_BONUS,
    JournalKind.REFERRAL_BONUS,
)


def unused_credits(*, account: LedgerAccount) -> list[tuple[Entry, int]]:
    """The credits of a consumer's available account not yet used, oldest first, with what is left.

    "Unused" is oldest-first (FIFO): every debit of the account — spending, payouts, donations,
    reversals, expiry — and every pending hold uses up the oldest credits first. So a credit is
    unused to the extent that all debits and holds together have not reached it yet.
    """
    debits = (
        Entry.objects.filter(account=account, direction=Direction.DEBIT).aggregate(total=Sum("amount"))["total"] or 0
    )
    used = debits + LedgerAccount.objects.filter(pk=account.pk).values_list("pending_debits", flat=True).first()
    result = []
    for entry in (
        Entry.objects.filter(account=account, direction=Direction.CREDIT)
        .select_related("transaction")
        .order_by("created_at", "id")
    ):
        take = min(used, entry.amount)
        used -= take
        if entry.amount - take > 0:
            result.append((entry, entry.amount - take))
    return result


def expiry_days() -> int:
    return int(getattr(settings, "REWARD_EXPIRY_DAYS", 0) or 0)


def _expiring(account: LedgerAccount, cutoff: datetime) -> list[tuple[Entry, int]]:
    return [
        (entry, left)
        for entry, left in unused_credits(account=account)
        if entry.created_at <= cutoff and entry.transaction.kind in EXPIRING_KINDS
    ]


def _accounts_with_cashback():
    return LedgerAccount.objects.filter(
        kind=AccountKind.CONSUMER_AVAILABLE, balance__gt=0, user__isnull=False
    ).order_by("id")


def rewards_expire_due(*, now: datetime | None = None) -> int:
    """Expire unused cashback older than ``REWARD_EXPIRY_DAYS`` to breakage, oldest first.

    One journal transaction per expiring credit, key ``expiry:entry:<entry id>``; the reward it came
    from (if any) records the expired amount. Off when the setting is 0. Returns the number posted.
    """
    days = expiry_days()
    if days <= 0:
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    posted = 0
    for account in _accounts_with_cashback():
        for entry, _left in _expiring(account, cutoff):
            if _expire_one(account_id=account.pk, entry_id=entry.pk, cutoff=cutoff):
                posted += 1
    return posted


def _expire_one(*, account_id: int, entry_id: int, cutoff: datetime) -> bool:
    def work() -> bool:
        with transaction.atomic():
            entry = Entry.objects.select_related("transaction").get(pk=entry_id)
            reward_id = (entry.transaction.causes or {}).get("reward")
            reward = None
            if reward_id:
                head = (
                    Reward.objects.filter(pk=reward_id).values("purchase_id", "kind", "challenge_id", "user_id").first()
                )
                if head and head["kind"] == RewardKind.CHALLENGE:
                    ChallengeProgress.objects.select_for_update().filter(
                        challenge_id=head["challenge_id"], user_id=head["user_id"]
                    ).first()
                elif head and head["purchase_id"]:
                    Purchase.objects.select_for_update().filter(pk=head["purchase_id"]).first()
                reward = Reward.objects.select_for_update().filter(pk=reward_id).first()
            account = LedgerAccount.objects.select_for_update(no_key=True).get(pk=account_id)
            left = dict((e.pk, n) for e, n in _expiring(account, cutoff)).get(entry_id, 0)
            left = min(left, account.balance - account.pending_debits)
            if left <= 0:
                return False
            breakage = platform_account(kind=AccountKind.BREAKAGE, currency=account.currency)
            transaction_post(
                idempotency_key=f"expiry:entry:{entry_id}",
                kind=JournalKind.EXPIRY,
                entries=[EntrySpec.debit(account, left), EntrySpec.credit(breakage, left)],
                memo="Cashback expired unused",
                causes={"entry": entry_id, **({"reward": reward_id} if reward_id else {})},
            )
            if reward is not None:
                reward.expired_minor += left
                reward.available_minor -= min(reward.available_minor, left)
                reward.status = reward_status(reward)
                reward.save(update_fields=["expired_minor", "available_minor", "status", "updated_at"])
            return True

    return _retrying(work)


def expiry_warnings_send(*, now: datetime | None = None) -> int:
    """Warn consumers ``REWARD_EXPIRY_WARNING_DAYS`` before cashback expires; once per credit."""
    from notifications.services import notification_send
    from wallet.money import minor_to_decimal_string

    days = expiry_days()
    warning = int(getattr(settings, "REWARD_EXPIRY_WARNING_DAYS", 14) or 0)
    if days <= 0 or warning <= 0:
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(days=days - warning)
    expire_cutoff = now - timedelta(days=days)
    sent = 0
    for account in _accounts_with_cashback().select_related("user"):
        soon = [(e, n) for e, n in _expiring(account, cutoff) if e.created_at > expire_cutoff]
        if not soon:
            continue
        total = sum(n for _, n in soon)
        first = soon[0][0]
        when = timezone.localtime(first.created_at + timedelta(days=days))
        notification_send(
            user=account.user,
            kind="reward_expiry_warning",
            title=f"{minor_to_decimal_string(total, account.currency)} {account.currency} of cashback expires soon",
            body=f"Use or pay out your cashback: the oldest part expires on {when:%-d %B %Y}.",
            url="/wallet/",
            dedupe_key=f"reward-expiry-warning:{first.pk}",
        )
        sent += 1
    return sent


# --- Monthly spend-based offers ----------------------------------------------------------------


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime(month.year, month.month, 1), timezone.get_default_timezone())
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    end = timezone.make_aware(datetime(following.year, following.month, 1), timezone.get_default_timezone())
    return start, end


def previous_month(now: datetime) -> date:
    local = timezone.localtime(now)
    first = date(local.year, local.month, 1)
    last_month_day = first - timedelta(days=1)
    return date(last_month_day.year, last_month_day.month, 1)


def monthly_rewards_credit(*, month: date | None = None, now: datetime | None = None) -> int:
    """Credit monthly-spend offers for ``month`` (default: the month before now), after it ended.

    Per offer and consumer: ``percent`` of the consumer's cleared spend at the merchant in the
    month (within the offer's period, net of refunds, in the offer's currency), at least the
    offer's minimum spend, at most its maximum per purchase (read as per month) and what is left
    of its budget. One reward per offer, consumer and month (key ``monthly:<offer>:<user>:<YYYY-MM>``);
    running it again credits nothing new. Returns the number of rewards created.
    """
    now = now or timezone.now()
    month = month or previous_month(now)
    start, end = _month_bounds(month)
    if end > now:
        return 0
    offers = Offer.objects.filter(
        basis=OfferBasis.MONTHLY_SPEND,
        status__in=OFFER_STATUSES_WITH_HISTORY,
        starts_at__lt=end,
        ends_at__gt=start,
    ).select_related("merchant")
    created = 0
    for offer in offers.order_by("id"):
        if not offer.merchant.is_active_for_rewards:
            continue
        since, until = max(start, offer.starts_at), min(end, offer.ends_at)
        totals = (
            Purchase.objects.filter(
                merchant_id=offer.merchant_id,
                currency=offer.currency,
                user__isnull=False,
                reversed=False,
                cleared_minor__isnull=False,
                occurred_at__gte=since,
                occurred_at__lt=until,
            )
            .values("user_id")
            .annotate(total=Sum(F("amount_minor") - F("refunded_minor")))
            .order_by("user_id")
        )
        for row in totals:
            if monthly_reward_credit(offer=offer, user_id=row["user_id"], month=month, total_minor=row["total"] or 0):
                created += 1
    return created


def monthly_reward_credit(*, offer: Offer, user_id: int, month: date, total_minor: int) -> Reward | None:
    from campaigns.services import offer_budget_consume

    if total_minor <= 0 or total_minor < offer.min_spend_minor:
        return None
    amount = _round(Decimal(total_minor) * offer.percent / 100)
    if offer.max_reward_per_purchase_minor is not None:
        amount = min(amount, offer.max_reward_per_purchase_minor)
    if amount <= 0:
        return None

    def work() -> Reward | None:
        with transaction.atomic():
            Offer.objects.select_for_update().filter(pk=offer.pk).first()  # one credit run per offer at a time
            if Reward.objects.filter(kind=RewardKind.MONTHLY, offer=offer, user_id=user_id, period=month).exists():
                return None
            granted = offer_budget_consume(offer_id=offer.pk, amount_minor=amount)
            if not granted:
                return None
            _, end = _month_bounds(month)
            reward = Reward.objects.create(
                kind=RewardKind.MONTHLY,
                offer=offer,
                period=month,
                user_id=user_id,
                currency=offer.currency,
                amount_minor=granted,
                decided_minor=granted,
                basis_minor=total_minor,
                matures_at=end + timedelta(days=offer.return_period_days),
                ledger_key=f"monthly:{offer.pk}:{user_id}:{month:%Y-%m}",
            )
            _reward_book(reward, offer=offer, purchase=None, now=timezone.now())
            return reward

    return _retrying(work)
