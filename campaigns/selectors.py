"""Reads of offers, challenges, tiers and purchases, and the inputs of the rules engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Prefetch, QuerySet
from django.utils.translation import gettext as _

from campaigns.errors import OfferNotFoundError, PurchaseNotFoundError
from campaigns.models import (
    Challenge,
    CustomerTier,
    LineItemRule,
    Offer,
    OfferBasis,
    OfferStatus,
    Purchase,
    Reward,
    RewardKind,
    Tier,
)
from campaigns.rules import (
    Audience,
    CustomerContext,
    LineKind,
    LineScope,
    OfferTerms,
    RewardType,
)
from campaigns.rules import (
    LineItemRule as LineItemRuleTerms,
)
from merchants.models import Location, Merchant

if TYPE_CHECKING:
    from accounts.models import User

# Purchases that count as history: not undone by a refund or reversal.
COUNTED_PURCHASE_STATUSES = (Purchase.Status.AUTHORISED, Purchase.Status.CLEARED, Purchase.Status.PARTLY_REFUNDED)
SEGMENT_PROFILE_FIELDS = ("birth_year", "gender", "city", "language")


# --- Rules-engine inputs ---------------------------------------------------------------------


def terms_from_values(
    values: Mapping[str, Any],
    *,
    offer_id: int,
    merchant_id: int,
    location_ids: Iterable[int] = (),
    line_item_rules: Iterable[LineItemRuleTerms] = (),
    min_tier: Tier | None = None,
) -> OfferTerms:
    """OfferTerms from an offer's field values (a saved offer, or an edit form's cleaned data)."""
    budget_total = values.get("budget_total_minor")
    spent = values.get("budget_spent_minor") or 0
    return OfferTerms(
        id=offer_id,
        merchant_id=merchant_id,
        title=values.get("title", ""),
        reward_type=RewardType(values["reward_type"]),
        currency=values["currency"],
        percent=Decimal(values.get("percent") or 0),
        fixed_minor=values.get("fixed_amount_minor") or 0,
        charity_ref=values.get("charity_ref") or "",
        starts_at=values.get("starts_at"),
        ends_at=values.get("ends_at"),
        min_spend_minor=values.get("min_spend_minor") or 0,
        max_reward_minor=values.get("max_reward_per_purchase_minor"),
        max_rewards_per_customer=values.get("max_rewards_per_customer"),
        budget_remaining_minor=None if budget_total is None else budget_total - spent,
        days_of_week=frozenset(int(day) for day in values.get("days_of_week") or ()),
        hour_from=values.get("hour_from"),
        hour_to=values.get("hour_to"),
        location_ids=frozenset(location_ids),
        audience=Audience(values.get("audience") or Audience.EVERYONE),
        min_tier_rank=min_tier.rank if min_tier else 0,
        min_tier_name=min_tier.name if min_tier else "",
        segment=dict(values.get("segment") or {}),
        stackable=bool(values.get("stackable")),
        line_item_rules=tuple(line_item_rules),
        return_period_days=values.get("return_period_days") or 0,
    )


def _rule_terms(rule: LineItemRule) -> LineItemRuleTerms:
    return LineItemRuleTerms(
        scope=LineScope(rule.scope),
        key=rule.key,
        kind=LineKind(rule.kind),
        percent=rule.percent,
        fixed_minor=rule.fixed_minor,
    )


def offer_terms(offer: Offer) -> OfferTerms:
    """The engine's view of a saved offer (uses prefetched locations and rules when present)."""
    return terms_from_values(
        offer.__dict__,
        offer_id=offer.pk,
        merchant_id=offer.merchant_id,
        location_ids=[location.pk for location in offer.locations.all()],
        line_item_rules=[_rule_terms(rule) for rule in offer.line_item_rules.all()],
        min_tier=offer.min_tier,
    )


def live_offers_for_merchant(*, merchant_id: int, at: datetime) -> list[OfferTerms]:
    """The offers live at one merchant at an instant, as engine inputs.

    Three queries whatever the number of offers in the system: the offers (through the partial
    index ``offer_live_by_merchant``, so the cost depends on this merchant's offers, never on
    all campaigns), their location ids and their line-item rules.
    """
    offers = (
        Offer.objects.filter(merchant_id=merchant_id, status=OfferStatus.LIVE, starts_at__lte=at, ends_at__gt=at)
        .filter(basis=OfferBasis.PURCHASE)
        .select_related("min_tier")
        .prefetch_related(
            Prefetch("locations", queryset=_location_ids_queryset()),
            "line_item_rules",
        )
        .order_by("id")
    )
    return [offer_terms(offer) for offer in offers]


def _location_ids_queryset() -> QuerySet:
    return Location.objects.only("id")


def customer_context(
    *,
    user: User | None,
    merchant_id: int,
    before: datetime | None = None,
    exclude_purchase: Purchase | None = None,
    count_purchases: bool = True,
    count_rewards: bool = True,
    known_tiers: Mapping[int, Tier | None] | None = None,
) -> CustomerContext:
    """The consumer as the rules see them at a merchant: tier, profile fields for segments, how many
    earlier purchases they made there (``before`` an instant, when given) and how many rewards
    they have had from each of the merchant's offers (rewards reversed to nothing do not count;
    ``exclude_purchase``'s own rewards are left out, for deciding that purchase again).
    ``count_purchases``/``count_rewards`` off leave those counts at 0, a query each saved, for a
    caller whose offers do not look at them (no new/returning audience, no per-customer cap).
    ``known_tiers``: consumers' tiers the caller looked up already (the reward worker's batch), by user id."""
    if user is None:
        return CustomerContext()
    contexts = customer_contexts(
        known_tiers=known_tiers,
        user=user,
        merchant_ids=[merchant_id],
        before=before,
        exclude_purchase=exclude_purchase,
        count_purchases=count_purchases,
        count_rewards=count_rewards,
    )
    return contexts[merchant_id]


def customer_contexts(
    *,
    user: User,
    merchant_ids: Iterable[int],
    before: datetime | None = None,
    exclude_purchase: Purchase | None = None,
    count_purchases: bool = True,
    count_rewards: bool = True,
    known_tiers: Mapping[int, Tier | None] | None = None,
) -> dict[int, CustomerContext]:
    """``customer_context`` at many merchants at once, in three queries whatever their number (a page
    of nearby offers asks for its merchants together)."""
    merchant_ids = sorted(set(merchant_ids))
    if known_tiers is not None and user.pk in known_tiers:
        tier = known_tiers[user.pk]
    else:
        tier_row = CustomerTier.objects.filter(user=user).select_related("tier").first()
        tier = tier_row.tier if tier_row else None
    # The querysets are built only for the counts asked for: building one costs the reward worker more
    # CPU than most of its statements (issue 19).
    purchase_counts = {}
    if count_purchases:
        purchases = Purchase.objects.filter(
            user=user, merchant_id__in=merchant_ids, status__in=COUNTED_PURCHASE_STATUSES
        )
        if before is not None:
            purchases = purchases.filter(occurred_at__lt=before)
        if exclude_purchase is not None:
            purchases = purchases.exclude(pk=exclude_purchase.pk)
        counted = purchases.values("merchant_id").annotate(n=Count("id")).order_by()
        purchase_counts = {row["merchant_id"]: row["n"] for row in counted}
    reward_counts: dict[int, dict[int, int]] = {merchant_id: {} for merchant_id in merchant_ids}
    if count_rewards:
        rewards = Reward.objects.filter(
            user=user, offer__merchant_id__in=merchant_ids, kind=RewardKind.OFFER, amount_minor__gt=0
        )
        if exclude_purchase is not None:
            rewards = rewards.exclude(purchase=exclude_purchase)
        rows = rewards.values("offer_id", "offer__merchant_id").annotate(n=Count("id")).order_by()
        for row in rows:
            reward_counts[row["offer__merchant_id"]][row["offer_id"]] = row["n"]
    segment = {name: getattr(user, name, None) for name in SEGMENT_PROFILE_FIELDS}
    return {
        merchant_id: CustomerContext(
            tier_rank=tier.rank if tier else 0,
            tier_multiplier=tier.multiplier if tier else Decimal(1),
            segment=segment,
            purchases_at_merchant=purchase_counts.get(merchant_id, 0),
            rewards_from_offer=reward_counts[merchant_id],
        )
        for merchant_id in merchant_ids
    }


# --- Portal and staff ------------------------------------------------------------------------


def offer_list(*, merchant_id: int, status: str = "") -> QuerySet[Offer]:
    """A merchant's offers for the portal list, newest first, optionally of one status."""
    queryset = Offer.objects.filter(merchant_id=merchant_id).annotate(challenge_count=Count("challenges"))
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def offer_status_counts(*, merchant_id: int) -> dict[str, int]:
    rows = Offer.objects.filter(merchant_id=merchant_id).values("status").annotate(n=Count("id")).order_by()
    counts = dict.fromkeys(OfferStatus.values, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def offer_for_merchant(*, merchant_id: int, offer_id: int) -> Offer:
    """One offer of a merchant with what its page shows; another merchant's offer is "not found"."""
    offer = (
        Offer.objects.filter(merchant_id=merchant_id, pk=offer_id)
        .select_related("min_tier", "merchant", "created_by", "updated_by")
        .prefetch_related("locations", "line_item_rules", "challenges")
        .first()
    )
    if offer is None:
        raise OfferNotFoundError()
    return offer


def offer_history(*, offer: Offer) -> QuerySet:
    return offer.status_changes.select_related("actor").order_by("-created_at", "-id")


def challenge_for_merchant(*, merchant_id: int, challenge_id: int) -> Challenge:
    challenge = (
        Challenge.objects.select_related("offer").filter(pk=challenge_id, offer__merchant_id=merchant_id).first()
    )
    if challenge is None:
        raise OfferNotFoundError(_("No such challenge."))
    return challenge


def offer_review_queue() -> QuerySet[Offer]:
    """Offers waiting for staff review, oldest submission first."""
    return (
        Offer.objects.filter(status=OfferStatus.IN_REVIEW)
        .select_related("merchant", "updated_by")
        .order_by("updated_at", "id")
    )


def offer_for_review(*, offer_id: int) -> Offer:
    offer = (
        Offer.objects.filter(pk=offer_id)
        .select_related("merchant", "min_tier", "updated_by")
        .prefetch_related("locations", "line_item_rules", "challenges")
        .first()
    )
    if offer is None:
        raise OfferNotFoundError()
    return offer


def tiers() -> list[Tier]:
    return list(Tier.objects.order_by("rank"))


def customer_tier(*, user: User) -> CustomerTier | None:
    return CustomerTier.objects.filter(user=user).select_related("tier").first()


def next_tier(*, user: User) -> Tier | None:
    """The tier above the consumer's current one (what they reach next), or None at the top."""
    current = customer_tier(user=user)
    rank = current.tier.rank if current and current.tier else 0
    return Tier.objects.filter(rank__gt=rank).order_by("rank").first()


def purchase_by_id(*, purchase_id: int) -> Purchase | None:
    """One purchase (amount, currency, time, status, user), or None; for apps reacting to reward facts."""
    return Purchase.objects.filter(pk=purchase_id).first()


# --- Consumers' purchases ----------------------------------------------------------------------


def purchases_of(*, user: User) -> QuerySet[Purchase]:
    """The consumer's purchases, newest first, with their shop and rewards (what each earned)."""
    return (
        Purchase.objects.filter(user=user)
        .select_related("merchant", "location")
        .prefetch_related(
            Prefetch(
                "rewards",
                queryset=Reward.objects.select_related("offer", "challenge").order_by("kind", "offer_id", "id"),
            )
        )
        .order_by("-occurred_at", "-id")
    )


def purchase_of(*, user: User, purchase_id: int) -> Purchase:
    """One of the consumer's purchases; another consumer's is "not found"."""
    purchase = purchases_of(user=user).filter(pk=purchase_id).first()
    if purchase is None:
        raise PurchaseNotFoundError()
    return purchase


def purchase_contexts(*, purchase_ids: Iterable[int], offer_ids: Iterable[int]) -> dict[str, dict[int, dict]]:
    """Shop and offer names for ledger entries caused by purchases and offers (two queries)."""
    purchases = {
        row["id"]: {
            "id": row["id"],
            "merchant": row["merchant__display_name"],
            "occurred_at": row["occurred_at"],
            "amount_minor": row["amount_minor"],
            "currency": row["currency"],
            "status": row["status"],
        }
        for row in Purchase.objects.filter(pk__in=set(purchase_ids)).values(
            "id", "merchant__display_name", "occurred_at", "amount_minor", "currency", "status"
        )
    }
    offers = {
        row["id"]: {"id": row["id"], "title": row["title"]}
        for row in Offer.objects.filter(pk__in=set(offer_ids)).values("id", "title")
    }
    return {"purchases": purchases, "offers": offers}


def partner_order_external_id(*, merchant_id: int, order_id: str) -> str:
    """The purchase key of a merchant's order: order ids are the merchant's own, so scoped by it."""
    return f"{merchant_id}:{order_id}"


def partner_order_get(*, merchant: Merchant, order_id: str) -> Purchase | None:
    """The purchase a merchant's partner-API order became, or None (``services.partner_orders``)."""
    return (
        Purchase.objects.filter(
            source=Purchase.Source.PARTNER,
            merchant=merchant,
            external_id=partner_order_external_id(merchant_id=merchant.pk, order_id=order_id),
        )
        .select_related("merchant")
        .first()
    )


def purchase_by_external_id(*, source: str, external_id: str, merchant: Merchant) -> Purchase | None:
    """A source's purchase (``source``, ``external_id``) at ``merchant`` with its member, or None."""
    return (
        Purchase.objects.select_related("user")
        .filter(source=source, external_id=external_id, merchant=merchant)
        .first()
    )
