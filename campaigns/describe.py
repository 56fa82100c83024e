"""Offers in words: the headline and conditions a consumer reads (the portal's preview, the review page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from campaigns.models import Offer
from campaigns.offer_terms import amount_in_words, percent_in_words
from campaigns.rules import DAY_NAMES, Audience, RewardType

if TYPE_CHECKING:
    from campaigns.models import Purchase, Reward

WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})


@dataclass(frozen=True)
class OfferSummary:
    headline: str
    conditions: list[str]
    period: str


def _money(amount: int, currency: str) -> str:
    return f"{amount_in_words(amount, currency)} {currency}"


_percent = percent_in_words


def _days(days: list[int]) -> str:
    chosen = frozenset(int(day) for day in days)
    if chosen == WEEKDAYS:
        return "Monday to Friday"
    if chosen == WEEKEND:
        return "Saturdays and Sundays"
    return ", ".join(DAY_NAMES[day] for day in sorted(chosen))


def describe_offer(offer: Offer, *, location_names: list[str] | None = None) -> OfferSummary:
    """What the offer gives and asks, in the words the consumer app uses."""
    currency = offer.currency
    if offer.reward_type == RewardType.PERCENT:
        headline = f"{_percent(offer.percent)} cashback"
        if getattr(offer, "basis", "purchase") == "monthly_spend":
            headline = f"{_percent(offer.percent)} of your monthly spend back"
    elif offer.reward_type == RewardType.FIXED:
        headline = f"{_money(offer.fixed_amount_minor, currency)} cashback"
    else:
        parts = []
        if offer.percent:
            parts.append(_percent(offer.percent))
        if offer.fixed_amount_minor:
            parts.append(_money(offer.fixed_amount_minor, currency))
        headline = f"{' + '.join(parts) or 'A share'} goes to charity"
        if offer.charity_ref:
            headline += f" ({offer.charity_ref})"

    conditions = []
    if offer.min_spend_minor:
        conditions.append(f"When you spend at least {_money(offer.min_spend_minor, currency)}.")
    if offer.max_reward_per_purchase_minor is not None:
        conditions.append(f"Up to {_money(offer.max_reward_per_purchase_minor, currency)} per purchase.")
    if offer.max_rewards_per_customer:
        times = "once" if offer.max_rewards_per_customer == 1 else f"{offer.max_rewards_per_customer} times"
        conditions.append(f"You can earn it {times}.")
    if offer.days_of_week:
        conditions.append(f"On {_days(offer.days_of_week)}.")
    if offer.hour_from is not None or offer.hour_to is not None:
        start, end = offer.hour_from or 0, 24 if offer.hour_to is None else offer.hour_to
        conditions.append(f"Between {start:02d}:00 and {end:02d}:00 local time.")
    if location_names:
        conditions.append(f"At {', '.join(location_names)}.")
    audience = offer.audience
    if audience == Audience.NEW_CUSTOMERS:
        conditions.append("For your first purchase at this shop.")
    elif audience == Audience.RETURNING_CUSTOMERS:
        conditions.append("For customers who have shopped here before.")
    elif audience == Audience.TIER and offer.min_tier:
        conditions.append(f"For members of the {offer.min_tier.name} tier and above.")
    elif audience == Audience.SEGMENT:
        conditions.append("For selected customers.")
    if offer.budget_total_minor is not None:
        conditions.append("While the offer's budget lasts.")
    if getattr(offer, "basis", "purchase") == "monthly_spend":
        conditions.append("Worked out on your total spend here each calendar month, and credited after the month ends.")
    if offer.return_period_days:
        conditions.append(f"Cashback becomes available {offer.return_period_days} days after the purchase.")
    if offer.stackable:
        conditions.append("Comes on top of other offers at this shop.")
    else:
        conditions.append("Does not combine with other offers at this shop: you get the best one.")

    starts, ends = timezone.localtime(offer.starts_at), timezone.localtime(offer.ends_at)
    period = f"{starts:%-d %b %Y %H:%M} to {ends:%-d %b %Y %H:%M}"
    return OfferSummary(headline=headline, conditions=conditions, period=period)


# --- Purchases: what each earned, or why not ----------------------------------------------------


@dataclass(frozen=True)
class PurchaseExplanation:
    """What a consumer reads about one purchase: a headline and the reasons, offer by offer."""

    headline: str
    earned_minor: int  # what the consumer keeps now: the net
    lines: list[str]
    gross_minor: int = 0  # what the engine gave the consumer at the purchase, before refunds
    reversed_minor: int = 0  # taken back after refunds or a cancellation: gross - net


REWARD_STATUS_TEXT = {
    "pending": "pending until {date}",
    "available": "available",
    "partly_reversed": "partly reversed after a refund",
    "reversed": "reversed",
    "expired": "expired unused",
}


def describe_purchase(purchase: Purchase, rewards: list[Reward], *, reward_on_auth: bool = True) -> PurchaseExplanation:
    """The engine's decisions for a purchase in words: what it earned, or why it did not."""
    currency = purchase.currency
    earned = sum(r.amount_minor for r in rewards if r.beneficiary == "consumer")
    # decided_minor is the engine's decision before any refund (0 on rewards older than the field).
    gross = sum(max(r.decided_minor, r.amount_minor) for r in rewards if r.beneficiary == "consumer")
    lines: list[str] = []
    for reward in rewards:
        if reward.kind == "challenge":
            what = f"Challenge bonus “{reward.challenge.title}”" if reward.challenge is not None else "Challenge bonus"
        elif reward.beneficiary == "charity":
            what = f"{reward.offer.title} (given to charity)"
        else:
            what = reward.offer.title
        status = REWARD_STATUS_TEXT.get(reward.status, reward.status)
        if reward.status == "pending" and reward.matures_at:
            status = status.format(date=f"{timezone.localtime(reward.matures_at):%-d %b %Y}")
        lines.append(f"{what}: {_money(reward.amount_minor, currency)}, {status}.")
    rewarded = {r.offer_id for r in rewards if r.kind == "offer"}
    for decision in purchase.decisions or []:
        if decision.get("applied") or decision.get("offer_id") in rewarded:
            continue
        lines.append(f"{decision.get('title') or 'An offer'}: {decision.get('message')}")

    status = purchase.status
    if status == "reversed":
        headline = "Cancelled by the shop: it earns nothing."
    elif status == "awaiting":
        headline = "A refund arrived before the purchase itself; waiting for the card network."
    elif status == "refunded":
        headline = "Refunded: its cashback was reversed."
    elif earned:
        headline = f"You earned {_money(earned, currency)}."
        if status == "partly_refunded":
            headline += " Part of the purchase was refunded, and its cashback with it."
    elif rewards and all(r.beneficiary == "charity" for r in rewards):
        headline = "Its cashback went to charity."
    elif status == "authorised" and not reward_on_auth:
        headline = "Cashback is worked out when the purchase clears."
    elif not purchase.decisions:
        if not purchase.merchant.is_active_for_rewards:
            headline = "This shop does not give cashback at the moment."
        else:
            headline = "No offer was running at this shop at the time."
    else:
        headline = "No cashback for this purchase."
    return PurchaseExplanation(
        headline=headline, earned_minor=earned, lines=lines, gross_minor=gross, reversed_minor=gross - earned
    )
