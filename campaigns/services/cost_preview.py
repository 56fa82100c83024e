"""The cost preview of an offer: what it would have cost over the merchant's recent purchases."""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from campaigns.models import Purchase
from campaigns.rules import CustomerContext, Decision, OfferTerms, PurchaseFacts, evaluate_offer
from campaigns.selectors import SEGMENT_PROFILE_FIELDS
from merchants.models import Location

COST_PREVIEW_DAYS = 90
DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 / 12
COST_PREVIEW_MAX_PURCHASES = 50_000

# --- Cost preview ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostEstimate:
    """What an offer would have cost per month over the merchant's recent purchases (F-C6)."""

    monthly_cost_minor: int
    currency: str
    days_of_history: int
    purchases_considered: int
    purchases_rewarded: int
    customers_rewarded: int
    budget_months: Decimal | None  # how many months the total budget lasts at that rate

    @property
    def share_rewarded(self) -> int:
        """Percent of the purchases that would have earned, rounded."""
        if not self.purchases_considered:
            return 0
        return round(100 * self.purchases_rewarded / self.purchases_considered)


def cost_preview(*, terms: OfferTerms, merchant_id: int, now: datetime | None = None) -> CostEstimate | None:
    """Replay the merchant's last 90 days of cleared purchases through the offer and scale to a month.

    ``None`` when the merchant has no cleared purchases in the offer's currency in that time. The
    offer's own dates are ignored (the history lies before them) and its budget does not cap the
    estimate (``budget_months`` says how long it would last). Customers' tiers and profile fields
    are their current ones; "new" and "returning" and the per-customer maximum are judged within
    the 90 days. At most ``COST_PREVIEW_MAX_PURCHASES`` of the latest purchases are read.
    """
    now = now or timezone.now()
    since = now - timedelta(days=COST_PREVIEW_DAYS)
    rows = list(
        Purchase.objects.filter(
            merchant_id=merchant_id, currency=terms.currency, status=Purchase.Status.CLEARED, occurred_at__gte=since
        )
        .order_by("-occurred_at", "-id")
        .values_list("user_id", "location_id", "amount_minor", "occurred_at")[:COST_PREVIEW_MAX_PURCHASES]
    )
    if not rows:
        return None
    rows.reverse()
    zones = dict(Location.objects.filter(merchant_id=merchant_id).values_list("id", "time_zone"))
    user_ids = {row[0] for row in rows if row[0] is not None}
    profiles = {
        row["id"]: row
        for row in get_user_model()
        .objects.filter(id__in=user_ids)
        .values("id", *SEGMENT_PROFILE_FIELDS, "customer_tier__tier__rank", "customer_tier__tier__multiplier")
    }
    # Dates are the history's, not the offer's; the budget is reported, not applied.
    simulated = replace(terms, starts_at=None, ends_at=None, budget_remaining_minor=None, merchant_id=merchant_id)
    purchases_seen: dict[Any, int] = defaultdict(int)
    rewards_had: dict[Any, int] = defaultdict(int)
    total = rewarded = 0
    customers: set[Any] = set()
    for index, (user_id, location_id, amount, occurred_at) in enumerate(rows):
        key = user_id if user_id is not None else f"anonymous:{index}"
        profile = profiles.get(user_id, {})
        customer = CustomerContext(
            tier_rank=profile.get("customer_tier__tier__rank") or 0,
            tier_multiplier=profile.get("customer_tier__tier__multiplier") or Decimal(1),
            segment={name: profile.get(name) for name in SEGMENT_PROFILE_FIELDS},
            purchases_at_merchant=purchases_seen[key],
            rewards_from_offer={simulated.id: rewards_had[key]},
        )
        facts = PurchaseFacts(
            amount_minor=amount,
            currency=terms.currency,
            occurred_at=occurred_at,
            merchant_id=merchant_id,
            location_id=location_id,
            tz_name=zones.get(location_id, "Europe/Oslo"),
        )
        decision: Decision = evaluate_offer(facts, simulated, customer)
        purchases_seen[key] += 1
        if decision.applied:
            total += decision.earned_minor
            rewarded += 1
            rewards_had[key] += 1
            customers.add(key)
    days = max(1, min(COST_PREVIEW_DAYS, (now - rows[0][3]).days + 1))
    # Scaled by the days the history covers, so a merchant with two weeks of history is not under-estimated.
    monthly = int((Decimal(total) * DAYS_PER_MONTH / days).to_integral_value())
    budget_months = None
    if terms.budget_remaining_minor is not None and monthly > 0:
        budget_months = (Decimal(terms.budget_remaining_minor) / monthly).quantize(Decimal("0.1"))
    return CostEstimate(
        monthly_cost_minor=monthly,
        currency=terms.currency,
        days_of_history=days,
        purchases_considered=len(rows),
        purchases_rewarded=rewarded,
        customers_rewarded=len(customers),
        budget_months=budget_months,
    )
