"""The rewards of one purchase: the rules engine's decisions at its earning amount, and each
reward brought to its target (budgets, the per-customer cap, refunds in proportion), then booked
through ``rewards.reward_book``. The caller holds the purchase's row lock.
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.blocking import is_blocked
from campaigns.merchant_cache import budgets_fresh, merchant_inputs
from campaigns.models import Offer, Purchase, Reward, RewardKind
from campaigns.purchase_keys import reward_ledger_key
from campaigns.rules import Audience, Code, Decision, LineItem, PurchaseFacts, evaluate
from campaigns.selectors import customer_context, offer_terms
from campaigns.services import reward_batch
from campaigns.services.challenges import challenges_lock, challenges_reconcile
from campaigns.services.offers import offer_budget_consume, offer_budget_return
from campaigns.services.rewards import reward_book, reward_on_auth, round_half_even
from cashback.fast_rows import row_update


def _proportion(amount: int, part: int, whole: int) -> int:
    """``amount * part / whole``, half to even; the whole amount when nothing was taken away."""
    if whole <= 0 or part <= 0:
        return 0
    if part >= whole:
        return amount
    return round_half_even(Decimal(amount) * part / whole)


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
    # The merchant's offers from the worker's cache (campaigns.merchant_cache), budgets read fresh.
    terms = budgets_fresh(merchant_inputs(purchase.merchant_id).live_terms(purchase.occurred_at))
    known = {t.id for t in terms}
    missing = [offer_id for offer_id in existing if offer_id not in known]
    if missing:
        offers = (
            Offer.objects.filter(pk__in=missing)
            .select_related("min_tier")
            .prefetch_related("locations", "line_item_rules")
        )
        terms += [offer_terms(offer) for offer in offers]
    own = {offer_id: reward.amount_minor for offer_id, reward in existing.items()}
    terms = [
        replace(t, budget_remaining_minor=t.budget_remaining_minor + own.get(t.id, 0))
        if t.budget_remaining_minor is not None
        else t
        for t in terms
    ]
    batch = reward_batch.current()
    customer = customer_context(
        user=purchase.user,
        known_tiers=batch.tiers if batch is not None else None,
        merchant_id=purchase.merchant_id,
        before=purchase.occurred_at,
        exclude_purchase=purchase,
        count_purchases=any(t.audience in (Audience.NEW_CUSTOMERS, Audience.RETURNING_CUSTOMERS) for t in terms),
        count_rewards=any(t.max_rewards_per_customer is not None for t in terms),
    )
    facts = replace(
        purchase_facts(purchase),
        amount_minor=basis,
        line_items=tuple(LineItem(**item) for item in purchase.line_items or ()),
    )
    by_id = {t.id: t for t in terms}
    return [(decision, by_id[decision.offer_id]) for decision in evaluate(facts, terms, customer)]


def purchase_rewards_reconcile(
    purchase: Purchase, *, changed_fields: Sequence[str] = (), new: bool = False
) -> list[Reward]:
    """Bring the locked purchase's rewards and challenge bonuses to its state; returns new rewards.

    ``changed_fields``: the purchase's columns the caller changed and has not saved; they are saved
    here, with the decisions when those change too, before anything reads the purchase from the
    database (the challenges' progress). ``new``: the purchase was created in this transaction, so
    it has no rewards yet (a query saved)."""
    now = timezone.now()
    batch = reward_batch.current()
    challenges = challenges_lock(purchase)
    existing = {} if new else {r.offer_id: r for r in Reward.objects.filter(purchase=purchase, kind=RewardKind.OFFER)}
    unsaved = list(changed_fields)
    basis = earning_basis(purchase)
    created: list[Reward] = []
    merchant = purchase.merchant
    if basis > 0 and purchase.rewards_basis_minor != basis and merchant.is_active_for_rewards:
        decided = _decide(purchase, basis, existing)
        # A blocked person earns nothing new (accounts.blocking); the decision says why. In a batch of
        # inbox events, as the batch's look-up of its consumers found them.
        blocked = False
        if purchase.user_id is not None:
            known = batch.blocked(purchase.user_id) if batch is not None else None
            blocked = known if known is not None else is_blocked(user_id=purchase.user_id)
        stored = []
        for decision, terms in decided:  # sorted by offer id: offers are locked in that order
            title = terms.title
            amount = decision.earned_minor if decision.applied else 0
            if amount and blocked and decision.offer_id not in existing:
                amount = 0
                decision = _refused(decision, Code.ACCOUNT_BLOCKED, BLOCKED_MESSAGE)
            capped = terms.max_rewards_per_customer is not None
            if amount and capped and _customer_cap_reached(decision.offer_id, purchase):
                amount = 0
                decision = _refused(
                    decision, Code.CUSTOMER_CAP_REACHED, "You have had this offer's reward its maximum number of times."
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
                    ledger_key=reward_ledger_key(
                        source=purchase.source, external_id=purchase.external_id, offer_id=decision.offer_id
                    ),
                )
                existing[decision.offer_id] = reward
            if reward is not None:
                reward.decided_minor, reward.basis_minor = amount, basis
            stored.append(_decision_json(decision, title))
        purchase.decisions = stored
        purchase.rewards_basis_minor = basis
        purchase.rewards_evaluated_at = now
        decided_fields = ["decisions", "rewards_basis_minor", "rewards_evaluated_at"]
        row_update(purchase, fields=[*unsaved, *decided_fields, "updated_at"])
        unsaved = []
    if unsaved:
        row_update(purchase, fields=[*unsaved, "updated_at"])

    net = max(0, basis - purchase.refunded_minor) if basis and not purchase.reversed else 0
    cached = merchant_inputs(purchase.merchant_id).offers
    offers = {pk: cached[pk] for pk in existing if pk in cached}
    if len(offers) < len(existing):  # an offer no longer live still adjusts the rewards it gave
        offers.update(Offer.objects.filter(pk__in=set(existing) - set(offers)).select_related("merchant").in_bulk())
    for offer_id in sorted(existing):
        reward = existing[offer_id]
        target = _proportion(reward.decided_minor, net, reward.basis_minor) if net else 0
        new = reward.pk is None
        change = target - reward.amount_minor
        offer = offers.get(offer_id) or Offer.objects.get(pk=offer_id)
        # In a batch of inbox events an offer without a budget only counts, once for the batch.
        counting = batch if batch is not None and offer.budget_total_minor is None else None
        if change > 0 and counting is not None:
            counting.budget_count(offer_id=offer_id, amount_minor=change)
        elif change > 0:
            granted = offer_budget_consume(offer_id=offer_id, amount_minor=change)
            if granted < change:
                target = reward.amount_minor + granted
                if net == reward.basis_minor:
                    reward.decided_minor = target
                _decision_capped(purchase, offer_id, granted)
        elif change < 0 and counting is not None:
            counting.budget_count(offer_id=offer_id, amount_minor=change)
        elif change < 0:
            offer_budget_return(offer_id=offer_id, amount_minor=-change)
        if new and target == 0:
            continue
        reward.amount_minor = target
        if reward.matures_at is None or new:
            reward.matures_at = purchase.occurred_at + timedelta(days=offer.return_period_days)
        if new and batch is None:  # in a batch reward_book inserts it, once, with its first earning
            reward.save()
        reward_book(reward, offer=offer, purchase=purchase)
        if new:
            created.append(reward)

    challenges_reconcile(purchase, challenges)
    return created


BLOCKED_MESSAGE = "Your account is blocked, so this purchase earns no cashback. Please contact support."


def _refused(decision: Decision, code: Code, message: str) -> Decision:
    """``decision`` turned into one that gives nothing, for the reason ``code`` says."""
    return replace(decision, applied=False, earned_minor=0, code=code, message=message, capped_by="")


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
    if purchase.user_id is None:  # earning_basis is 0 without a consumer: nothing is decided
        raise ValueError(f"Purchase {purchase.pk} has no consumer whose rewards could be counted.")
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


def purchase_facts(purchase: Purchase) -> PurchaseFacts:
    return PurchaseFacts(
        amount_minor=purchase.amount_minor,
        currency=purchase.currency,
        occurred_at=purchase.occurred_at,
        merchant_id=purchase.merchant_id,
        location_id=purchase.location_id,
        tz_name=purchase.location.time_zone if purchase.location is not None else "Europe/Oslo",
    )
