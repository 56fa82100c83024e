"""Every write to offers, challenges, line-item rules, budgets, purchases and tiers.

Status machine of an offer (``ALLOWED_TRANSITIONS``)::

    draft ──submit──▶ in_review ──approve──▶ scheduled ──(start time, task)──▶ live
      ▲                   │                      │  ▲                           │ ▲
      └──────reject───────┘                 pause│  │resume                pause│ │resume
      └──edit after approval──┐                  ▼  │                           ▼ │
                              └────────────── paused ◀──────────────────────────┘
    scheduled | live | paused ──(end time, task)──▶ ended

Every change of status appends an ``OfferStatusChange`` and bumps ``Offer.version`` (the
optimistic lock of the edit form), inside one transaction that holds the offer's row lock.
Editing a scheduled or paused offer sends it back to draft: what goes live is always what
staff approved.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from campaigns.errors import (
    IllegalTransitionError,
    InvalidChallengeError,
    InvalidOfferError,
    OfferConflictError,
    OfferNotEditableError,
    OfferNotFoundError,
)
from campaigns.models import (
    Challenge,
    CustomerTier,
    LineItemRule,
    Offer,
    OfferBasis,
    OfferStatus,
    OfferStatusChange,
    Purchase,
    Reward,
    Tier,
)
from campaigns.rules import (
    Audience,
    CustomerContext,
    Decision,
    LineItem,
    OfferTerms,
    PurchaseFacts,
    RewardType,
    evaluate_offer,
)
from campaigns.selectors import COUNTED_PURCHASE_STATUSES, SEGMENT_PROFILE_FIELDS
from cashback.events import announce

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    OfferStatus.DRAFT: frozenset({OfferStatus.IN_REVIEW}),
    OfferStatus.IN_REVIEW: frozenset({OfferStatus.SCHEDULED, OfferStatus.DRAFT}),
    OfferStatus.SCHEDULED: frozenset({OfferStatus.LIVE, OfferStatus.PAUSED, OfferStatus.ENDED, OfferStatus.DRAFT}),
    OfferStatus.LIVE: frozenset({OfferStatus.PAUSED, OfferStatus.ENDED}),
    OfferStatus.PAUSED: frozenset({OfferStatus.LIVE, OfferStatus.SCHEDULED, OfferStatus.ENDED, OfferStatus.DRAFT}),
    OfferStatus.ENDED: frozenset(),
}
EDITABLE_STATUSES = frozenset({OfferStatus.DRAFT, OfferStatus.SCHEDULED, OfferStatus.PAUSED})

# The fields an edit form sets (everything but status, budget spent, version and the audit columns).
OFFER_FIELDS = (
    "title",
    "description",
    "reward_type",
    "percent",
    "fixed_amount_minor",
    "charity_ref",
    "currency",
    "starts_at",
    "ends_at",
    "min_spend_minor",
    "max_reward_per_purchase_minor",
    "max_rewards_per_customer",
    "budget_total_minor",
    "days_of_week",
    "hour_from",
    "hour_to",
    "audience",
    "min_tier",
    "segment",
    "return_period_days",
    "stackable",
    "basis",
)
COST_PREVIEW_DAYS = 90
DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 / 12
COST_PREVIEW_MAX_PURCHASES = 50_000
LINE_ITEM_RULE_FIELDS = ("scope", "key", "kind", "percent", "fixed_minor")


# --- Validation shared by the forms and the services ------------------------------------------


def offer_field_problems(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """The rule violations in an offer's field values, by field. Empty when valid.

    Forms call this in ``clean()`` so people see the errors beside the fields; the services call
    it again so no other door (API, shell) can save an invalid offer.
    """
    problems: dict[str, list[str]] = defaultdict(list)
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    if starts_at and ends_at and ends_at <= starts_at:
        problems["ends_at"].append("The end must be after the start.")
    percent = values.get("percent")
    if percent is not None and not (0 <= Decimal(percent) <= 100):
        problems["percent"].append("A percentage must be between 0 and 100.")
    for name in (
        "fixed_amount_minor",
        "min_spend_minor",
        "max_reward_per_purchase_minor",
        "budget_total_minor",
        "max_rewards_per_customer",
    ):
        value = values.get(name)
        if value is not None and value < 0:
            problems[name].append("This may not be negative.")
    reward_type = values.get("reward_type")
    if reward_type == RewardType.PERCENT and not (percent and Decimal(percent) > 0):
        problems["percent"].append("A percent offer needs a percentage above 0.")
    if reward_type == RewardType.FIXED and not (values.get("fixed_amount_minor") or 0) > 0:
        problems["fixed_amount_minor"].append("A fixed-value offer needs an amount above 0.")
    if reward_type == RewardType.CHARITY and not (
        (percent and Decimal(percent) > 0) or (values.get("fixed_amount_minor") or 0) > 0
    ):
        problems["percent"].append("A charity offer needs a percentage or a fixed amount above 0.")
    for name in ("hour_from", "hour_to"):
        value = values.get(name)
        if value is not None and not 0 <= value <= 24:
            problems[name].append("An hour is between 0 and 24.")
    days = values.get("days_of_week") or []
    if any(int(day) not in range(7) for day in days):
        problems["days_of_week"].append("Days are 0 (Monday) to 6 (Sunday).")
    if values.get("basis") == OfferBasis.MONTHLY_SPEND and reward_type != RewardType.PERCENT:
        problems["basis"].append("Monthly spend offers give a percent of the month's spend: choose a percent reward.")
    if values.get("audience") == Audience.TIER and not values.get("min_tier"):
        problems["min_tier"].append("Choose the lowest tier the offer is for.")
    if values.get("audience") == Audience.SEGMENT and not any((values.get("segment") or {}).values()):
        problems["segment"].append("Describe the segment: at least one profile field.")
    return dict(problems)


def _require_valid(values: Mapping[str, Any]) -> None:
    problems = offer_field_problems(values)
    if problems:
        raise InvalidOfferError("Please correct the offer's fields.", fields=problems)


def _require_own_locations(merchant_id: int, locations: Iterable[Any]) -> list[Any]:
    locations = list(locations)
    if any(location.merchant_id != merchant_id for location in locations):
        raise InvalidOfferError("Locations must be the merchant's own.", fields={"locations": ["Not your shop."]})
    return locations


# --- Offers ------------------------------------------------------------------------------------


def _record_status(offer: Offer, *, from_status: str, to_status: str, actor: Any, reason: str = "") -> None:
    OfferStatusChange.objects.create(
        offer=offer, from_status=from_status, to_status=to_status, actor=actor, reason=reason
    )


def _lock_offer(offer_id: int) -> Offer:
    """The offer's row, locked until the end of the transaction. Caller is inside ``atomic``."""
    offer = Offer.objects.select_for_update().filter(pk=offer_id).first()
    if offer is None:
        raise OfferNotFoundError()
    return offer


def _transition(offer: Offer, *, to_status: str, actor: Any, reason: str = "") -> Offer:
    """Move a locked offer to ``to_status`` if the machine allows it; bumps the version."""
    if to_status not in ALLOWED_TRANSITIONS[offer.status]:
        raise IllegalTransitionError(
            f"An offer that is {offer.get_status_display().lower()} cannot become "
            f"{OfferStatus(to_status).label.lower()}."
        )
    from_status = offer.status
    offer.status = to_status
    offer.version = F("version") + 1
    offer.updated_by = actor if actor is not None else offer.updated_by
    offer.save(update_fields=["status", "version", "updated_by", "updated_at"])
    offer.refresh_from_db(fields=["version"])
    _record_status(offer, from_status=from_status, to_status=to_status, actor=actor, reason=reason)
    if to_status == OfferStatus.LIVE:
        # Every way into "live" (approval, the start-time task, resuming) passes here.
        announce("offer_live", offer_id=offer.pk, merchant_id=offer.merchant_id)
    return offer


def offer_create(*, merchant: Any, actor: Any, values: Mapping[str, Any], locations: Iterable[Any] = ()) -> Offer:
    """A new draft offer of ``merchant`` from validated field values (``OFFER_FIELDS``)."""
    _require_valid(values)
    locations = _require_own_locations(merchant.pk, locations)
    with transaction.atomic():
        offer = Offer(merchant=merchant, created_by=actor, updated_by=actor, status=OfferStatus.DRAFT)
        for name in OFFER_FIELDS:
            if name in values:
                setattr(offer, name, values[name])
        offer.save()
        offer.locations.set(locations)
        _record_status(offer, from_status="", to_status=OfferStatus.DRAFT, actor=actor, reason="Created.")
    return offer


def offer_update(
    *,
    offer_id: int,
    expected_version: int,
    actor: Any,
    values: Mapping[str, Any],
    locations: Iterable[Any] = (),
) -> Offer:
    """Save an edit made on the version the editor loaded, or refuse it whole.

    If anyone changed the offer since (another edit, a status change), ``OfferConflictError``
    is raised and nothing is saved: the last write never silently erases the other's change.
    A scheduled or paused offer goes back to draft, to be reviewed again.
    """
    _require_valid(values)
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.version != expected_version:
            raise OfferConflictError()
        if offer.status not in EDITABLE_STATUSES:
            raise OfferNotEditableError(
                f"An offer that is {offer.get_status_display().lower()} cannot be edited."
                + (" Pause it first." if offer.status == OfferStatus.LIVE else "")
            )
        locations = _require_own_locations(offer.merchant_id, locations)
        budget_total = values.get("budget_total_minor", offer.budget_total_minor)
        if budget_total is not None and budget_total < offer.budget_spent_minor:
            raise InvalidOfferError(
                fields={"budget_total_minor": ["The budget cannot be less than what the offer has already paid."]}
            )
        for name in OFFER_FIELDS:
            if name in values:
                setattr(offer, name, values[name])
        offer.updated_by = actor
        offer.version = F("version") + 1
        offer.save()
        offer.refresh_from_db(fields=["version"])
        offer.locations.set(locations)
        if offer.status != OfferStatus.DRAFT:
            _transition(offer, to_status=OfferStatus.DRAFT, actor=actor, reason="Edited: needs review again.")
    return offer


def offer_duplicate(*, offer_id: int, actor: Any) -> Offer:
    """A draft copy of an offer with its locations, challenges and line-item rules (budget unspent).

    An offer whose period is over is copied with the same length of period starting tomorrow.
    """
    source = Offer.objects.filter(pk=offer_id).prefetch_related("locations", "challenges", "line_item_rules").first()
    if source is None:
        raise OfferNotFoundError()
    values = {name: getattr(source, name) for name in OFFER_FIELDS}
    values["title"] = f"Copy of {source.title}"[:120]
    now = timezone.now()
    if source.ends_at <= now:
        length = source.ends_at - source.starts_at
        values["starts_at"] = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        values["ends_at"] = values["starts_at"] + length
    with transaction.atomic():
        copy = offer_create(merchant=source.merchant, actor=actor, values=values, locations=source.locations.all())
        Challenge.objects.bulk_create(
            Challenge(
                offer=copy,
                title=c.title,
                target_type=c.target_type,
                target_value=c.target_value,
                bonus_minor=c.bonus_minor,
            )
            for c in source.challenges.all()
        )
        LineItemRule.objects.bulk_create(
            LineItemRule(
                offer=copy, scope=r.scope, key=r.key, kind=r.kind, percent=r.percent, fixed_minor=r.fixed_minor
            )
            for r in source.line_item_rules.all()
        )
    return copy


def offer_submit_for_review(*, offer_id: int, actor: Any) -> Offer:
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status == OfferStatus.DRAFT and offer.ends_at <= timezone.now():
            raise InvalidOfferError("The offer's period is already over: change its dates first.")
        return _transition(offer, to_status=OfferStatus.IN_REVIEW, actor=actor, reason="Submitted for review.")


def offer_approve(*, offer_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Offer:
    """Staff approve an offer in review: it is scheduled, and live at once if its start has come."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status != OfferStatus.IN_REVIEW:
            raise IllegalTransitionError("Only an offer in review can be approved.")
        _transition(offer, to_status=OfferStatus.SCHEDULED, actor=actor, reason=reason or "Approved.")
        if offer.ends_at <= now:
            _transition(offer, to_status=OfferStatus.ENDED, actor=None, reason="Its period was over when approved.")
        elif offer.starts_at <= now:
            _transition(offer, to_status=OfferStatus.LIVE, actor=None, reason="Start time reached.")
    return offer


def offer_reject(*, offer_id: int, actor: Any, reason: str) -> Offer:
    """Staff send an offer in review back to draft with the reason the merchant will read."""
    if not reason.strip():
        raise InvalidOfferError("Say why the offer is rejected.", fields={"reason": ["Give a reason."]})
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status != OfferStatus.IN_REVIEW:
            raise IllegalTransitionError("Only an offer in review can be rejected.")
        return _transition(offer, to_status=OfferStatus.DRAFT, actor=actor, reason=reason.strip())


def offer_pause(*, offer_id: int, actor: Any, reason: str = "") -> Offer:
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status not in (OfferStatus.LIVE, OfferStatus.SCHEDULED):
            raise IllegalTransitionError("Only a live or scheduled offer can be paused.")
        return _transition(offer, to_status=OfferStatus.PAUSED, actor=actor, reason=reason or "Paused.")


def offer_resume(*, offer_id: int, actor: Any, now: datetime | None = None) -> Offer:
    """A paused offer becomes live again, or scheduled if its start is still to come, or ended."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status != OfferStatus.PAUSED:
            raise IllegalTransitionError("Only a paused offer can be resumed.")
        if offer.ends_at <= now:
            target = OfferStatus.ENDED
        elif offer.starts_at > now:
            target = OfferStatus.SCHEDULED
        else:
            target = OfferStatus.LIVE
        return _transition(offer, to_status=target, actor=actor, reason="Resumed.")


def offer_activate_due(*, now: datetime | None = None) -> int:
    """Scheduled offers whose start has come go live; returns how many. Safe to run twice."""
    now = now or timezone.now()
    ids = list(
        Offer.objects.filter(status=OfferStatus.SCHEDULED, starts_at__lte=now, ends_at__gt=now).values_list(
            "id", flat=True
        )
    )
    done = 0
    for offer_id in ids:
        with transaction.atomic():
            offer = _lock_offer(offer_id)
            if offer.status == OfferStatus.SCHEDULED and offer.starts_at <= now < offer.ends_at:
                _transition(offer, to_status=OfferStatus.LIVE, actor=None, reason="Start time reached.")
                done += 1
    return done


def offer_end_due(*, now: datetime | None = None) -> int:
    """Scheduled, live and paused offers whose end has come are ended; returns how many."""
    now = now or timezone.now()
    running = (OfferStatus.SCHEDULED, OfferStatus.LIVE, OfferStatus.PAUSED)
    ids = list(Offer.objects.filter(status__in=running, ends_at__lte=now).values_list("id", flat=True))
    done = 0
    for offer_id in ids:
        with transaction.atomic():
            offer = _lock_offer(offer_id)
            if offer.status in running and offer.ends_at <= now:
                _transition(offer, to_status=OfferStatus.ENDED, actor=None, reason="End time reached.")
                done += 1
    return done


def offer_budget_consume(*, offer_id: int, amount_minor: int) -> int:
    """Take up to ``amount_minor`` from the offer's budget; returns what was granted (maybe 0).

    Grants ``min(amount, remaining)`` under the offer's row lock, so concurrent purchases never
    spend more than the budget together; the check constraint ``campaigns_offer_budget_not_overspent``
    is the database's backstop. An unlimited budget grants everything and only counts it.
    Call it inside the transaction that records the reward, so both commit or neither does.
    """
    if amount_minor < 0:
        raise InvalidOfferError("A budget cannot be consumed by a negative amount.")
    if amount_minor == 0:
        return 0
    with transaction.atomic():
        row = (
            Offer.objects.select_for_update()
            .filter(pk=offer_id)
            .values("budget_total_minor", "budget_spent_minor")
            .first()
        )
        if row is None:
            raise OfferNotFoundError()
        total, spent = row["budget_total_minor"], row["budget_spent_minor"]
        granted = amount_minor if total is None else max(0, min(amount_minor, total - spent))
        if granted:
            Offer.objects.filter(pk=offer_id).update(budget_spent_minor=F("budget_spent_minor") + granted)
    return granted


def offer_budget_return(*, offer_id: int, amount_minor: int) -> int:
    """Give ``amount_minor`` back to the offer's budget (a reward reduced or reversed); returns what
    was given back (never more than was spent). Under the offer's row lock, like consuming."""
    if amount_minor <= 0:
        return 0
    with transaction.atomic():
        spent = (
            Offer.objects.select_for_update().filter(pk=offer_id).values_list("budget_spent_minor", flat=True).first()
        )
        if spent is None:
            raise OfferNotFoundError()
        back = min(amount_minor, spent)
        if back:
            Offer.objects.filter(pk=offer_id).update(budget_spent_minor=F("budget_spent_minor") - back)
    return back


# --- Challenges and line-item rules ------------------------------------------------------------


def challenge_save(
    *,
    offer: Offer | None,
    values: Mapping[str, Any],
    challenge: Challenge | None = None,
) -> Challenge:
    """Create (or, given ``challenge``, change) a challenge of an offer. A challenge needs an offer."""
    if offer is None:
        raise InvalidChallengeError("A challenge belongs to an offer.", fields={"offer": ["Choose an offer."]})
    if offer.status == OfferStatus.ENDED:
        raise InvalidChallengeError("The offer has ended.", fields={"offer": ["This offer has ended."]})
    problems = {}
    if not (values.get("target_value") or 0) > 0:
        problems["target_value"] = ["The target must be above 0."]
    if not (values.get("bonus_minor") or 0) > 0:
        problems["bonus_minor"] = ["The bonus must be above 0."]
    if problems:
        raise InvalidChallengeError("Please correct the challenge.", fields=problems)
    with transaction.atomic():
        challenge = challenge or Challenge()
        challenge.offer = offer
        for name in ("title", "target_type", "target_value", "bonus_minor"):
            setattr(challenge, name, values[name])
        challenge.save()
    return challenge


def challenge_delete(*, challenge: Challenge) -> None:
    challenge.delete()


def line_item_rule_add(*, offer: Offer, values: Mapping[str, Any]) -> LineItemRule:
    if offer.line_item_rules.filter(scope=values["scope"], key__iexact=values["key"]).exists():
        raise InvalidOfferError(fields={"key": ["This offer already has a rule for that key."]})
    return LineItemRule.objects.create(offer=offer, **{name: values[name] for name in LINE_ITEM_RULE_FIELDS})


def line_item_rule_delete(*, rule: LineItemRule) -> None:
    rule.delete()


# --- Purchases, rewards and tiers --------------------------------------------------------------


def purchase_record(
    *,
    source: str,
    external_id: str,
    merchant: Any,
    amount_minor: int,
    currency: str,
    occurred_at: datetime,
    status: str = Purchase.Status.CLEARED,
    user: Any = None,
    location: Any = None,
) -> Purchase:
    """Create or update the purchase ``(source, external_id)`` directly, without events (imports,
    the demo history); the consumer's tier is recomputed after commit when it changes. Safe to
    replay. Sources of real purchases use ``purchase_event_apply``, which also books rewards."""
    cleared = amount_minor if status in (Purchase.Status.CLEARED, Purchase.Status.PARTLY_REFUNDED) else None
    refunded = amount_minor if status == Purchase.Status.REFUNDED else 0
    state = {
        "amount_minor": amount_minor,
        "status": status,
        "cleared_minor": cleared if status != Purchase.Status.REFUNDED else amount_minor,
        "authorised_minor": amount_minor if status == Purchase.Status.AUTHORISED else None,
        "refunded_minor": refunded,
        "reversed": status == Purchase.Status.REVERSED,
    }
    with transaction.atomic():
        purchase, created = Purchase.objects.select_for_update().get_or_create(
            source=source,
            external_id=external_id,
            defaults={
                "merchant": merchant,
                "location": location,
                "user": user,
                "currency": currency,
                "occurred_at": occurred_at,
                **state,
            },
        )
        changed = created
        if not created and any(getattr(purchase, name) != value for name, value in state.items()):
            for name, value in state.items():
                setattr(purchase, name, value)
            purchase.save(update_fields=[*state, "updated_at"])
            changed = True
        if changed and purchase.user_id:
            user_id = purchase.user_id
            transaction.on_commit(lambda: _enqueue_tier_recompute(user_id))
    return purchase


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
    """Apply one event (``auth``, ``clearing``, ``refund``, ``reversal``) of a purchase from any source.

    The one entry point for card-network, Stripe, partner and demo purchases: idempotent per
    ``(source, event_id)``, independent of the order events arrive in; books the rewards to the
    ledger. See ``campaigns.lifecycle.purchase_event_apply`` and docs/rewards.md.
    """
    from campaigns import lifecycle

    return lifecycle.purchase_event_apply(
        source=source,
        event_id=event_id,
        kind=kind,
        external_id=external_id,
        amount_minor=amount_minor,
        currency=currency,
        occurred_at=occurred_at,
        user=user,
        merchant=merchant,
        location=location,
        original_external_id=original_external_id,
        line_items=line_items,
    )


def _enqueue_tier_recompute(user_id: int) -> None:
    from campaigns.tasks import tier_recompute_for_user

    tier_recompute_for_user.delay(user_id)


def purchase_facts(purchase: Purchase) -> PurchaseFacts:
    return PurchaseFacts(
        amount_minor=purchase.amount_minor,
        currency=purchase.currency,
        occurred_at=purchase.occurred_at,
        merchant_id=purchase.merchant_id,
        location_id=purchase.location_id,
        tz_name=purchase.location.time_zone if purchase.location_id else "Europe/Oslo",
    )


def rewards_grant(*, purchase: Purchase) -> list[Reward]:
    """Bring a purchase's rewards to its current state (decide, book to the ledger); returns the
    rewards created by this call. Replaying changes nothing: the purchase row is locked and the
    decision is kept until its amount changes. ``purchase_event_apply`` calls the same code."""
    from campaigns import lifecycle

    def work() -> list[Reward]:
        with transaction.atomic():
            locked = Purchase.objects.select_for_update().select_related("merchant").get(pk=purchase.pk)
            return lifecycle._purchase_reconcile(locked)

    return lifecycle._retrying(work)


def rewards_mature_due(*, now: datetime | None = None) -> int:
    """Pending rewards whose return period is over (and whose purchase cleared) become available."""
    from campaigns import lifecycle

    return lifecycle.rewards_mature_due(now=now)


def rewards_expire_due(*, now: datetime | None = None) -> int:
    from campaigns import lifecycle

    return lifecycle.rewards_expire_due(now=now)


def reward_expiry_warnings_send(*, now: datetime | None = None) -> int:
    from campaigns import lifecycle

    return lifecycle.expiry_warnings_send(now=now)


def monthly_rewards_credit(*, month: date | None = None, now: datetime | None = None) -> int:
    from campaigns import lifecycle

    return lifecycle.monthly_rewards_credit(month=month, now=now)


def tier_recompute(*, user: Any, now: datetime | None = None) -> CustomerTier:
    """The consumer's tier from their last 12 months: the highest-ranked tier whose threshold they
    reach, by spend (counted purchases) or by earned cashback, in the tier's currency."""
    now = now or timezone.now()
    since = now - timedelta(days=365)
    spend = dict(
        Purchase.objects.filter(user=user, status__in=COUNTED_PURCHASE_STATUSES, occurred_at__gte=since)
        .values_list("currency")
        .annotate(total=Sum(F("amount_minor") - F("refunded_minor")))
        .order_by()
    )
    earned = dict(
        Reward.objects.filter(user=user, created_at__gte=since, beneficiary="consumer")
        .values_list("currency")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    reached = None
    for tier in Tier.objects.order_by("-rank"):
        figures = spend if tier.basis == Tier.Basis.ROLLING_SPEND else earned
        if figures.get(tier.currency, 0) >= tier.threshold_minor:
            reached = tier
            break
    with transaction.atomic():
        row, _ = CustomerTier.objects.select_for_update().get_or_create(user=user, defaults={"computed_at": now})
        row.tier = reached
        row.spend_12m_minor = sum(spend.values())
        row.earned_12m_minor = sum(earned.values())
        row.computed_at = now
        row.save()
    return row


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
    from django.contrib.auth import get_user_model

    from merchants.models import Location

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
