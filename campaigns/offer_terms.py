"""An offer's terms in one line of plain words, from the rules the engine applies to it.

"10 % back, up to 100 kr per purchase, Mon\u2013Fri 07\u201310, new customers only": what the public shop pages
and offer lists show. Every term the rules engine checks or computes (``campaigns.rules``: reward type,
line-item rules, minimum spend, maximum per purchase, days, hours, locations, audience, the cap per
customer, the budget, stacking, the monthly basis, the return period) has its words here, so a new
kind of term is added in one place. The longer, sentence-by-sentence version is ``describe.describe_offer``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from campaigns.models import Challenge, LineItemRule, Offer, OfferBasis
from campaigns.rules import Audience, ChallengeTarget, LineKind, LineScope, RewardType
from wallet.money import minor_to_decimal_string

# Ranges of days and hours are printed with an en dash, as in "Mon\u2013Fri 07\u201310".
RANGE_DASH = "\N{EN DASH}"
SHORT_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# The Nordic crowns are all written "kr" in prices; other currencies keep their code.
CURRENCY_WORDS = {"NOK": "kr", "SEK": "kr", "DKK": "kr"}


def amount_in_words(amount_minor: int, currency: str) -> str:
    """``10000, "NOK"`` → ``"100"``; ``1050, "EUR"`` → ``"10.50"``: whole amounts without decimals. Exact."""
    text = minor_to_decimal_string(amount_minor, currency)
    return text.removesuffix(".00")


def money_in_words(amount_minor: int, currency: str) -> str:
    """``10000, "NOK"`` → ``"100 kr"``; ``1050, "EUR"`` → ``"10.50 EUR"``. Exact: never through a float."""
    return f"{amount_in_words(amount_minor, currency)} {CURRENCY_WORDS.get(currency, currency)}"


def percent_in_words(value: Decimal) -> str:
    return f"{value.normalize():f} %"


def days_in_words(days: Iterable[int]) -> str:
    """Runs of three or more days as a range ("Mon", en dash, "Fri"); others one by one ("Mon, Wed, Fri")."""
    chosen = sorted({int(day) for day in days})
    runs: list[list[int]] = []
    for day in chosen:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{SHORT_DAY_NAMES[run[0]]}{RANGE_DASH}{SHORT_DAY_NAMES[run[-1]]}")
        else:
            parts.extend(SHORT_DAY_NAMES[day] for day in run)
    return ", ".join(parts)


def hours_in_words(hour_from: int | None, hour_to: int | None) -> str:
    """The engine's window ``[from, to)`` in local time: "07" en dash "10", "22" to "02" past midnight, "from 18"."""
    if hour_from is None and hour_to is None:
        return ""
    if hour_to is None:
        return f"from {hour_from:02d}"
    if hour_from is None:
        return f"until {hour_to:02d}"
    return f"{hour_from:02d}{RANGE_DASH}{hour_to:02d}"


def _reward_words(offer: Offer, charity_name: str) -> str:
    if offer.reward_type == RewardType.FIXED:
        return f"{money_in_words(offer.fixed_amount_minor, offer.currency)} back"
    if offer.reward_type == RewardType.CHARITY:
        parts = []
        if offer.percent:
            parts.append(percent_in_words(offer.percent))
        if offer.fixed_amount_minor:
            parts.append(money_in_words(offer.fixed_amount_minor, offer.currency))
        given = " + ".join(parts) or "a share"
        return f"{given} goes to {charity_name or 'charity'}"
    if offer.basis == OfferBasis.MONTHLY_SPEND:
        return f"{percent_in_words(offer.percent)} of your monthly spend back, paid after each month"
    return f"{percent_in_words(offer.percent)} back"


def _line_rule_words(rule: LineItemRule, currency: str) -> str:
    what = rule.key if rule.scope == LineScope.CATEGORY else f"“{rule.key}”"
    if rule.kind == LineKind.PERCENT:
        return f"{percent_in_words(rule.percent)} back on {what}"
    return f"{money_in_words(rule.fixed_minor, currency)} back per {what}"


def _audience_words(offer: Offer) -> str:
    audience = offer.audience
    if audience == Audience.NEW_CUSTOMERS:
        return "new customers only"
    if audience == Audience.RETURNING_CUSTOMERS:
        return "returning customers only"
    if audience == Audience.TIER:
        return f"{offer.min_tier.name} tier and above" if offer.min_tier else "members of a tier"
    if audience == Audience.SEGMENT:
        return "selected customers only"
    return ""


def offer_terms_text(
    offer: Offer,
    *,
    line_rules: Sequence[LineItemRule] = (),
    location_names: Sequence[str] = (),
    charity_name: str = "",
) -> str:
    """The offer's terms in one line, in the order a person weighs them: what it gives, what it asks.

    ``line_rules`` are the offer's line-item rules and ``location_names`` the names of the shops it is
    limited to (none: every shop); the caller loads them, so a list of offers costs no query per offer.
    ``charity_name`` names the charity of a charity offer. ``offer.min_tier`` is read for tier offers.
    """
    currency = offer.currency
    terms = [_reward_words(offer, charity_name)]
    terms.extend(_line_rule_words(rule, currency) for rule in line_rules)
    if offer.min_spend_minor:
        terms.append(f"on purchases of {money_in_words(offer.min_spend_minor, currency)} or more")
    if offer.max_reward_per_purchase_minor is not None:
        terms.append(f"up to {money_in_words(offer.max_reward_per_purchase_minor, currency)} per purchase")
    days, hours = days_in_words(offer.days_of_week or []), hours_in_words(offer.hour_from, offer.hour_to)
    when = " ".join(part for part in (days or (hours and "daily"), hours) if part)
    if when:
        terms.append(when)
    if location_names:
        terms.append(f"at {', '.join(location_names)} only")
    if audience := _audience_words(offer):
        terms.append(audience)
    if offer.max_rewards_per_customer:
        cap = offer.max_rewards_per_customer
        terms.append("once per customer" if cap == 1 else f"{cap} times per customer")
    if offer.budget_total_minor is not None:
        terms.append("while the budget lasts")
    if offer.stackable:
        terms.append("on top of other offers")
    if offer.return_period_days:
        terms.append(f"cashback available after {offer.return_period_days} days")
    return ", ".join(terms)


def challenge_in_words(challenge: Challenge, currency: str) -> str:
    """ "Ten coffees: make 10 purchases while the offer runs and get a 50 kr bonus" (or "spend 1000 kr")."""
    bonus = money_in_words(challenge.bonus_minor, currency)
    if challenge.target_type == ChallengeTarget.PURCHASE_COUNT:
        count = challenge.target_value
        goal = "make 1 purchase" if count == 1 else f"make {count} purchases"
    else:
        goal = f"spend {money_in_words(challenge.target_value, currency)}"
    return f"{challenge.title}: {goal} while the offer runs and get a {bonus} bonus"
