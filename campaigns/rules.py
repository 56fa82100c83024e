"""The rules engine: what one purchase earns from the live offers of its merchant.

A pure function with no database, clock or settings: ``evaluate(purchase, offers, customer)``
takes frozen value objects and returns one ``Decision`` per offer — what it earns, or the
stable ``code`` and readable ``message`` of the reason it earns nothing. The same call
serves the reward pipeline, the "why didn't I earn?" screen, the portal's preview and the
benchmark. The selectors build the inputs (``campaigns.selectors.live_offers_for_merchant``,
``customer_context``); the services turn applied decisions into budget and ledger writes.

Shape (after django-oscar's offer engine, without its framework): each condition is a small
class whose ``check`` returns ``None`` when satisfied or a ``Failure``; each reward type has a
benefit class that computes the amount; decisions are value objects. See docs/rules.md.

Order of work for one offer:

1. Conditions, in a fixed order (``CONDITIONS``); the first failure is the decision.
2. Benefit: the raw reward from the purchase (or its line items), exact in ``Decimal``.
3. The customer's tier multiplier, then rounding to the minor unit (``round_minor``:
   half to even, once per offer and purchase), then the per-purchase maximum, then the
   remaining budget.
4. Stacking (``apply_stacking``): the best non-stackable offer wins, every qualifying
   stackable offer is added on top.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

HUNDRED = Decimal(100)
# Rounding of every computed reward to the currency's minor unit: half to even ("banker's
# rounding"), applied once to the exact total of an offer for a purchase. It is unbiased over
# many purchases, so neither consumers nor merchant budgets drift by systematic half-øre gains.
ROUNDING = ROUND_HALF_EVEN


class RewardType(enum.StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"
    CHARITY = "charity"


class Audience(enum.StrEnum):
    EVERYONE = "everyone"
    NEW_CUSTOMERS = "new_customers"
    RETURNING_CUSTOMERS = "returning_customers"
    TIER = "tier"
    SEGMENT = "segment"


class LineScope(enum.StrEnum):
    CATEGORY = "category"
    PRODUCT = "product"


class LineKind(enum.StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class Code(enum.StrEnum):
    """Stable reason codes of decisions. Clients key translations on them; never rename one."""

    EARNED = "earned"
    CURRENCY_MISMATCH = "currency_mismatch"
    OTHER_MERCHANT = "other_merchant"
    OUTSIDE_PERIOD = "outside_period"
    LOCATION_NOT_INCLUDED = "location_not_included"
    DAY_NOT_INCLUDED = "day_not_included"
    OUTSIDE_HOURS = "outside_hours"
    BELOW_MINIMUM = "below_minimum"
    NOT_NEW_CUSTOMER = "not_new_customer"
    NOT_RETURNING_CUSTOMER = "not_returning_customer"
    TIER_TOO_LOW = "tier_too_low"
    NOT_IN_SEGMENT = "not_in_segment"
    CUSTOMER_CAP_REACHED = "customer_cap_reached"
    BUDGET_SPENT = "budget_spent"
    NOTHING_TO_EARN = "nothing_to_earn"
    NOT_BEST_OFFER = "not_best_offer"
    ACCOUNT_BLOCKED = "account_blocked"


DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SEGMENT_CHOICE_FIELDS = ("gender", "city", "language")


# --- Inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineItem:
    """One line of an order reported with items (partner API, F-T3)."""

    amount_minor: int
    quantity: int = 1
    category: str = ""
    product: str = ""


@dataclass(frozen=True)
class PurchaseFacts:
    """What is known about the purchase being rewarded. ``tz_name`` is the location's time zone."""

    amount_minor: int
    currency: str
    occurred_at: datetime
    merchant_id: int
    location_id: int | None = None
    tz_name: str = "Europe/Oslo"
    line_items: tuple[LineItem, ...] = ()

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")
        if self.amount_minor < 0:
            raise ValueError("amount_minor may not be negative")

    @property
    def local_time(self) -> datetime:
        return self.occurred_at.astimezone(ZoneInfo(self.tz_name))


@dataclass(frozen=True)
class LineItemRule:
    """A reward for lines of one category or product: a percent of the line, or a fixed amount per unit."""

    scope: LineScope
    key: str
    kind: LineKind
    percent: Decimal = Decimal(0)
    fixed_minor: int = 0

    def matches(self, line: LineItem) -> bool:
        value = line.product if self.scope == LineScope.PRODUCT else line.category
        return bool(value) and value.casefold() == self.key.casefold()

    def reward(self, line: LineItem) -> Decimal:
        if self.kind == LineKind.PERCENT:
            return Decimal(line.amount_minor) * self.percent / HUNDRED
        return Decimal(self.fixed_minor * line.quantity)


@dataclass(frozen=True)
class OfferTerms:
    """Everything the engine needs to know about one offer, read from the database by a selector.

    Empty ``days_of_week`` / ``location_ids`` mean every day / every location; ``hour_from`` and
    ``hour_to`` (0-24, local time of the location) give the window ``[from, to)``, which wraps past
    midnight when ``from > to``; both ``None`` means all day. ``budget_remaining_minor`` is ``None``
    for an unlimited budget. ``segment`` holds lists of accepted values for ``gender``, ``city``
    and ``language`` and optional ``birth_year_from`` / ``birth_year_to`` bounds.
    """

    id: int
    merchant_id: int
    reward_type: RewardType
    currency: str
    percent: Decimal = Decimal(0)
    fixed_minor: int = 0
    charity_ref: str = ""
    title: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    min_spend_minor: int = 0
    max_reward_minor: int | None = None
    max_rewards_per_customer: int | None = None
    budget_remaining_minor: int | None = None
    days_of_week: frozenset[int] = frozenset()
    hour_from: int | None = None
    hour_to: int | None = None
    location_ids: frozenset[int] = frozenset()
    audience: Audience = Audience.EVERYONE
    min_tier_rank: int = 0
    min_tier_name: str = ""
    segment: Mapping[str, object] = field(default_factory=dict)
    stackable: bool = False
    line_item_rules: tuple[LineItemRule, ...] = ()
    return_period_days: int = 0


@dataclass(frozen=True)
class CustomerContext:
    """The consumer as the rules see them. ``purchases_at_merchant`` counts earlier purchases only."""

    tier_rank: int = 0
    tier_multiplier: Decimal = Decimal(1)
    segment: Mapping[str, object] = field(default_factory=dict)
    purchases_at_merchant: int = 0
    rewards_from_offer: Mapping[int, int] = field(default_factory=dict)


# --- Results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    code: Code
    message: str


@dataclass(frozen=True)
class Decision:
    """What one offer gives for one purchase. ``applied`` decisions are the ones to book."""

    offer_id: int
    applied: bool
    earned_minor: int
    code: Code
    message: str
    currency: str
    beneficiary: str = "consumer"  # "consumer", or "charity" for charity rewards
    charity_ref: str = ""
    capped_by: str = ""  # "", "max_reward" or "budget": what cut the amount down


# --- Conditions ----------------------------------------------------------------------------------


class Condition:
    """Says whether an offer's rule allows a reward for this purchase and customer."""

    def check(self, purchase: PurchaseFacts, offer: OfferTerms, customer: CustomerContext) -> Failure | None:
        raise NotImplementedError


class SameCurrency(Condition):
    def check(self, purchase, offer, customer):
        if purchase.currency != offer.currency:
            return Failure(
                Code.CURRENCY_MISMATCH, f"The offer pays in {offer.currency}; the purchase was in {purchase.currency}."
            )
        return None


class SameMerchant(Condition):
    def check(self, purchase, offer, customer):
        if purchase.merchant_id != offer.merchant_id:
            return Failure(Code.OTHER_MERCHANT, "The offer belongs to another shop.")
        return None


class WithinPeriod(Condition):
    def check(self, purchase, offer, customer):
        if offer.starts_at is not None and purchase.occurred_at < offer.starts_at:
            return Failure(Code.OUTSIDE_PERIOD, "The purchase was made before the offer started.")
        if offer.ends_at is not None and purchase.occurred_at >= offer.ends_at:
            return Failure(Code.OUTSIDE_PERIOD, "The purchase was made after the offer ended.")
        return None


class AtIncludedLocation(Condition):
    def check(self, purchase, offer, customer):
        if offer.location_ids and purchase.location_id not in offer.location_ids:
            return Failure(Code.LOCATION_NOT_INCLUDED, "The offer does not apply at this shop location.")
        return None


class OnIncludedDay(Condition):
    def check(self, purchase, offer, customer):
        if offer.days_of_week and purchase.local_time.weekday() not in offer.days_of_week:
            days = ", ".join(DAY_NAMES[day] for day in sorted(offer.days_of_week))
            return Failure(Code.DAY_NOT_INCLUDED, f"The offer applies on {days} only.")
        return None


def hour_in_window(hour: int, hour_from: int | None, hour_to: int | None) -> bool:
    """Whether a local hour (0-23) lies in ``[hour_from, hour_to)``, wrapping past midnight."""
    start = 0 if hour_from is None else hour_from
    end = 24 if hour_to is None else hour_to
    if start == end:
        return start == 0 or end == 24  # 0-0 / 24-24 would be empty; treat a full circle as all day
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


class WithinHours(Condition):
    def check(self, purchase, offer, customer):
        if offer.hour_from is None and offer.hour_to is None:
            return None
        if not hour_in_window(purchase.local_time.hour, offer.hour_from, offer.hour_to):
            start = 0 if offer.hour_from is None else offer.hour_from
            end = 24 if offer.hour_to is None else offer.hour_to
            return Failure(Code.OUTSIDE_HOURS, f"The offer applies between {start:02d}:00 and {end:02d}:00 only.")
        return None


class MinimumSpend(Condition):
    def check(self, purchase, offer, customer):
        if purchase.amount_minor < offer.min_spend_minor:
            return Failure(Code.BELOW_MINIMUM, "The purchase was below the offer's minimum spend.")
        return None


def segment_matches(segment: Mapping[str, Any], profile: Mapping[str, object]) -> bool:
    """Whether a profile lies in a segment. A field the segment names but the profile lacks never matches."""
    # The segment is the offer's JSON as staff saved it (lists of values, years as numbers): Any, not object.
    for name in SEGMENT_CHOICE_FIELDS:
        accepted = segment.get(name)
        if not accepted:
            continue
        value = profile.get(name)
        if not value or str(value).casefold() not in {str(item).casefold() for item in accepted}:
            return False
    year_from, year_to = segment.get("birth_year_from"), segment.get("birth_year_to")
    if year_from is not None or year_to is not None:
        year = profile.get("birth_year")
        if not isinstance(year, int):
            return False
        if year_from is not None and year < int(year_from):
            return False
        if year_to is not None and year > int(year_to):
            return False
    return True


class InAudience(Condition):
    def check(self, purchase, offer, customer):
        audience = offer.audience
        if audience == Audience.NEW_CUSTOMERS and customer.purchases_at_merchant > 0:
            return Failure(Code.NOT_NEW_CUSTOMER, "The offer is for new customers of this shop.")
        if audience == Audience.RETURNING_CUSTOMERS and customer.purchases_at_merchant == 0:
            return Failure(Code.NOT_RETURNING_CUSTOMER, "The offer is for returning customers of this shop.")
        if audience == Audience.TIER and customer.tier_rank < offer.min_tier_rank:
            tier = offer.min_tier_name or f"rank {offer.min_tier_rank}"
            return Failure(Code.TIER_TOO_LOW, f"The offer needs the {tier} tier or higher.")
        if audience == Audience.SEGMENT and not segment_matches(offer.segment, customer.segment):
            return Failure(Code.NOT_IN_SEGMENT, "The offer is for a group of customers you are not in.")
        return None


class UnderCustomerCap(Condition):
    def check(self, purchase, offer, customer):
        cap = offer.max_rewards_per_customer
        if cap is not None and customer.rewards_from_offer.get(offer.id, 0) >= cap:
            return Failure(Code.CUSTOMER_CAP_REACHED, f"You have had this offer's reward {cap} times, its maximum.")
        return None


class BudgetLeft(Condition):
    def check(self, purchase, offer, customer):
        if offer.budget_remaining_minor is not None and offer.budget_remaining_minor <= 0:
            return Failure(Code.BUDGET_SPENT, "The offer's budget has been spent.")
        return None


# Checked in this order; the first failure is the reason shown. Cheap facts of the purchase first,
# then who the customer is, then the caps and the budget (which change as rewards are granted).
CONDITIONS: tuple[Condition, ...] = (
    SameMerchant(),
    SameCurrency(),
    WithinPeriod(),
    AtIncludedLocation(),
    OnIncludedDay(),
    WithinHours(),
    MinimumSpend(),
    InAudience(),
    UnderCustomerCap(),
    BudgetLeft(),
)


# --- Benefits ----------------------------------------------------------------------------------


class Benefit:
    """Computes the exact (unrounded) reward of an offer for a purchase, in minor units."""

    def raw_amount(self, purchase: PurchaseFacts, offer: OfferTerms) -> Decimal:
        raise NotImplementedError


def _rule_for(line: LineItem, rules: Sequence[LineItemRule]) -> LineItemRule | None:
    """The most specific rule for a line: a product rule beats a category rule; first listed wins a tie."""
    for scope in (LineScope.PRODUCT, LineScope.CATEGORY):
        for rule in rules:
            if rule.scope == scope and rule.matches(line):
                return rule
    return None


class PercentBenefit(Benefit):
    """A percent of the purchase. With line items and line-item rules, each line earns its rule's
    reward and lines without a rule earn the offer's percent."""

    def raw_amount(self, purchase, offer):
        if purchase.line_items and offer.line_item_rules:
            total = Decimal(0)
            for line in purchase.line_items:
                rule = _rule_for(line, offer.line_item_rules)
                total += rule.reward(line) if rule else Decimal(line.amount_minor) * offer.percent / HUNDRED
            return total
        return Decimal(purchase.amount_minor) * offer.percent / HUNDRED


class FixedBenefit(Benefit):
    """A fixed amount per qualifying purchase, plus the rewards of lines matched by line-item rules."""

    def raw_amount(self, purchase, offer):
        total = Decimal(offer.fixed_minor)
        if purchase.line_items and offer.line_item_rules:
            for line in purchase.line_items:
                rule = _rule_for(line, offer.line_item_rules)
                if rule:
                    total += rule.reward(line)
        return total


class CharityBenefit(PercentBenefit):
    """A percent of the purchase (plus any fixed amount), given to the offer's charity, not the consumer."""

    def raw_amount(self, purchase, offer):
        return super().raw_amount(purchase, offer) + Decimal(offer.fixed_minor)


BENEFITS: dict[RewardType, Benefit] = {
    RewardType.PERCENT: PercentBenefit(),
    RewardType.FIXED: FixedBenefit(),
    RewardType.CHARITY: CharityBenefit(),
}


def round_minor(amount: Decimal) -> int:
    """An exact amount of minor units rounded to a whole minor unit, half to even (see ``ROUNDING``)."""
    return int(amount.quantize(Decimal(1), rounding=ROUNDING))


# --- Evaluation --------------------------------------------------------------------------------


def _failed(offer: OfferTerms, failure: Failure) -> Decision:
    return Decision(
        offer_id=offer.id,
        applied=False,
        earned_minor=0,
        code=failure.code,
        message=failure.message,
        currency=offer.currency,
        beneficiary="charity" if offer.reward_type == RewardType.CHARITY else "consumer",
        charity_ref=offer.charity_ref,
    )


def evaluate_offer(purchase: PurchaseFacts, offer: OfferTerms, customer: CustomerContext) -> Decision:
    """The decision of one offer on its own, before stacking."""
    for condition in CONDITIONS:
        failure = condition.check(purchase, offer, customer)
        if failure is not None:
            return _failed(offer, failure)

    raw = BENEFITS[offer.reward_type].raw_amount(purchase, offer)
    amount = max(0, round_minor(raw * customer.tier_multiplier))
    capped_by = ""
    if offer.max_reward_minor is not None and amount > offer.max_reward_minor:
        amount, capped_by = offer.max_reward_minor, "max_reward"
    if offer.budget_remaining_minor is not None and amount > offer.budget_remaining_minor:
        amount, capped_by = offer.budget_remaining_minor, "budget"
    if amount <= 0:
        return _failed(offer, Failure(Code.NOTHING_TO_EARN, "The offer gives nothing for this purchase."))

    charity = offer.reward_type == RewardType.CHARITY
    message = "Earned for the charity." if charity else "Earned."
    if capped_by == "max_reward":
        message = f"{message[:-1]}, limited by the offer's maximum per purchase."
    elif capped_by == "budget":
        message = f"{message[:-1]}, limited by what is left of the offer's budget."
    return Decision(
        offer_id=offer.id,
        applied=True,
        earned_minor=amount,
        code=Code.EARNED,
        message=message,
        currency=offer.currency,
        beneficiary="charity" if charity else "consumer",
        charity_ref=offer.charity_ref,
        capped_by=capped_by,
    )


def apply_stacking(decisions: Sequence[Decision], offers: Mapping[int, OfferTerms]) -> list[Decision]:
    """The stacking rule: the best non-stackable offer wins; every stackable offer that earns is added.

    "Best" is the largest amount; a tie goes to the lowest offer id, so the result never depends
    on the order the offers came in. Non-stackable offers that earned but lost become
    ``not_best_offer`` decisions with nothing earned.
    """
    contenders = [d for d in decisions if d.applied and not offers[d.offer_id].stackable]
    winner = min(contenders, key=lambda d: (-d.earned_minor, d.offer_id)) if contenders else None
    result = []
    for decision in decisions:
        if decision.applied and not offers[decision.offer_id].stackable and decision is not winner:
            decision = replace(
                decision,
                applied=False,
                earned_minor=0,
                code=Code.NOT_BEST_OFFER,
                message="Another offer at this shop gave you more; offers of this kind do not combine.",
                capped_by="",
            )
        result.append(decision)
    return result


def evaluate(purchase: PurchaseFacts, offers: Iterable[OfferTerms], customer: CustomerContext) -> list[Decision]:
    """One decision per offer, sorted by offer id, with the stacking rule applied."""
    by_id = {offer.id: offer for offer in offers}
    decisions = [evaluate_offer(purchase, by_id[offer_id], customer) for offer_id in sorted(by_id)]
    return apply_stacking(decisions, by_id)


def total_earned(decisions: Iterable[Decision]) -> int:
    return sum(decision.earned_minor for decision in decisions if decision.applied)


# --- Challenges ----------------------------------------------------------------------------------


class ChallengeTarget(enum.StrEnum):
    REVENUE = "revenue"
    PURCHASE_COUNT = "purchase_count"


@dataclass(frozen=True)
class ChallengeTerms:
    id: int
    offer_id: int
    target_type: ChallengeTarget
    target_value: int  # minor units for revenue, a count for purchase_count
    bonus_minor: int


@dataclass(frozen=True)
class ChallengeProgress:
    """A consumer's progress in the offer period, before the purchase being evaluated."""

    revenue_minor: int = 0
    purchase_count: int = 0
    bonus_granted: bool = False


@dataclass(frozen=True)
class ChallengeDecision:
    challenge_id: int
    crossed: bool
    bonus_minor: int
    progress_value: int
    target_value: int


def evaluate_challenge(
    challenge: ChallengeTerms, before: ChallengeProgress, purchase_amount_minor: int
) -> ChallengeDecision:
    """Whether this purchase crosses the challenge's target; the bonus is given once, when crossed."""
    if challenge.target_type == ChallengeTarget.REVENUE:
        previous, current = before.revenue_minor, before.revenue_minor + purchase_amount_minor
    else:
        previous, current = before.purchase_count, before.purchase_count + 1
    crossed = not before.bonus_granted and previous < challenge.target_value <= current
    return ChallengeDecision(
        challenge_id=challenge.id,
        crossed=crossed,
        bonus_minor=challenge.bonus_minor if crossed else 0,
        progress_value=current,
        target_value=challenge.target_value,
    )
