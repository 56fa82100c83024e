"""Offers: the status machine and its review, edits, line-item rules and budgets.

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

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.errors import (
    IllegalTransitionError,
    InvalidOfferError,
    OfferConflictError,
    OfferNotEditableError,
    OfferNotFoundError,
)
from campaigns.models import Challenge, LineItemRule, Offer, OfferBasis, OfferStatus, OfferStatusChange
from campaigns.rules import Audience, RewardType
from campaigns.services.offer_audit import (
    OFFER_LABELS,
    AuditAction,
    audit_line_rule,
    audit_offer,
    diff,
    offer_snapshot,
)
from cashback.events import announce
from merchants.billing_selectors import merchant_has_overdue_invoice

if TYPE_CHECKING:
    from accounts.models import User
    from merchants.models import Merchant

# Offers whose challenges and monthly credits can still move: they went live at some point.
OFFER_STATUSES_WITH_HISTORY = (OfferStatus.LIVE, OfferStatus.PAUSED, OfferStatus.ENDED)
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
    "auto_payout",
)
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
    if values.get("auto_payout") and values.get("basis") != OfferBasis.BILLING_PERIOD:
        problems["auto_payout"].append("Automatic payout is for business cashback on Stripe billing only.")
    if values.get("audience") == Audience.TIER and not values.get("min_tier"):
        problems["min_tier"].append("Choose the lowest tier the offer is for.")
    if values.get("audience") == Audience.SEGMENT and not any((values.get("segment") or {}).values()):
        problems["segment"].append("Describe the segment: at least one profile field.")
    return dict(problems)


def _require_valid(values: Mapping[str, Any]) -> None:
    problems = offer_field_problems(values)
    if problems:
        raise InvalidOfferError(_("Please correct the offer's fields."), fields=problems)


def _require_own_locations(merchant_id: int, locations: Iterable[Any]) -> list[Any]:
    locations = list(locations)
    if any(location.merchant_id != merchant_id for location in locations):
        raise InvalidOfferError(_("Locations must be the merchant's own."), fields={"locations": [_("Not your shop.")]})
    return locations


# --- Offers ------------------------------------------------------------------------------------


def _record_status(offer: Offer, *, from_status: str, to_status: str, actor: User | None, reason: str = "") -> None:
    OfferStatusChange.objects.create(
        offer=offer, from_status=from_status, to_status=to_status, actor=actor, reason=reason
    )


def _lock_offer(offer_id: int) -> Offer:
    """The offer's row, locked until the end of the transaction. Caller is inside ``atomic``."""
    offer = Offer.objects.select_for_update().filter(pk=offer_id).first()
    if offer is None:
        raise OfferNotFoundError()
    return offer


def _transition(offer: Offer, *, to_status: str, actor: User | None, reason: str = "") -> Offer:
    """Move a locked offer to ``to_status`` if the machine allows it; bumps the version."""
    if to_status not in ALLOWED_TRANSITIONS[offer.status]:
        raise IllegalTransitionError(
            _("An offer that is %(status)s cannot become %(label)s.")
            % {"status": offer.get_status_display().lower(), "label": OfferStatus(to_status).label.lower()}
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


def offer_create(
    *, merchant: Merchant, actor: User | None, values: Mapping[str, Any], locations: Iterable[Any] = ()
) -> Offer:
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
        audit_offer(offer=offer, actor=actor, action=AuditAction.OFFER_CREATED)
    return offer


def offer_update(
    *,
    offer_id: int,
    expected_version: int,
    actor: User,
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
                fields={"budget_total_minor": [_("The budget cannot be less than what the offer has already paid.")]}
            )
        before = offer_snapshot(offer)
        for name in OFFER_FIELDS:
            if name in values:
                setattr(offer, name, values[name])
        offer.updated_by = actor
        offer.version = F("version") + 1
        offer.save()
        offer.refresh_from_db(fields=["version"])
        offer.locations.set(locations)
        back_to_draft = offer.status != OfferStatus.DRAFT
        if back_to_draft:
            _transition(offer, to_status=OfferStatus.DRAFT, actor=actor, reason="Edited: needs review again.")
        audit_offer(
            offer=offer,
            actor=actor,
            action=AuditAction.OFFER_UPDATED,
            changes=diff(before, offer_snapshot(offer), OFFER_LABELS),
            note="Back to draft: it needs review again." if back_to_draft else "",
        )
    return offer


def offer_duplicate(*, offer_id: int, actor: User) -> Offer:
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


def offer_submit_for_review(*, offer_id: int, actor: User | None) -> Offer:
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status == OfferStatus.DRAFT and offer.ends_at <= timezone.now():
            raise InvalidOfferError(_("The offer's period is already over: change its dates first."))
        _transition(offer, to_status=OfferStatus.IN_REVIEW, actor=actor, reason="Submitted for review.")
        audit_offer(offer=offer, actor=actor, action=AuditAction.OFFER_SUBMITTED)
        return offer


def offer_approve(*, offer_id: int, actor: User | None, reason: str = "", now: datetime | None = None) -> Offer:
    """Staff approve an offer in review: it is scheduled, and live at once if its start has come."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status != OfferStatus.IN_REVIEW:
            raise IllegalTransitionError(_("Only an offer in review can be approved."))
        _transition(offer, to_status=OfferStatus.SCHEDULED, actor=actor, reason=reason or "Approved.")
        audit_offer(offer=offer, actor=actor, action=AuditAction.OFFER_APPROVED, note=reason)
        if offer.ends_at <= now:
            _transition(offer, to_status=OfferStatus.ENDED, actor=None, reason="Its period was over when approved.")
        elif offer.starts_at <= now:
            _transition(offer, to_status=OfferStatus.LIVE, actor=None, reason="Start time reached.")
    return offer


def offer_reject(*, offer_id: int, actor: User, reason: str) -> Offer:
    """Staff send an offer in review back to draft with the reason the merchant will read."""
    if not reason.strip():
        raise InvalidOfferError(_("Say why the offer is rejected."), fields={"reason": [_("Give a reason.")]})
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status != OfferStatus.IN_REVIEW:
            raise IllegalTransitionError(_("Only an offer in review can be rejected."))
        _transition(offer, to_status=OfferStatus.DRAFT, actor=actor, reason=reason.strip())
        audit_offer(offer=offer, actor=actor, action=AuditAction.OFFER_REJECTED, note=reason.strip())
        return offer


def offer_pause(*, offer_id: int, actor: User, reason: str = "") -> Offer:
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status not in (OfferStatus.LIVE, OfferStatus.SCHEDULED):
            raise IllegalTransitionError(_("Only a live or scheduled offer can be paused."))
        _transition(offer, to_status=OfferStatus.PAUSED, actor=actor, reason=reason or "Paused.")
        audit_offer(offer=offer, actor=actor, action=AuditAction.OFFER_PAUSED, note=reason)
        return offer


def offer_resume(*, offer_id: int, actor: User, now: datetime | None = None) -> Offer:
    """A paused offer becomes live again, or scheduled if its start is still to come, or ended."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status != OfferStatus.PAUSED:
            raise IllegalTransitionError(_("Only a paused offer can be resumed."))
        if offer.ends_at <= now:
            target = OfferStatus.ENDED
        elif offer.starts_at > now:
            target = OfferStatus.SCHEDULED
        else:
            target = OfferStatus.LIVE
        _transition(offer, to_status=target, actor=actor, reason="Resumed.")
        now_status = offer.get_status_display().lower()
        audit_offer(offer=offer, actor=actor, action=AuditAction.OFFER_RESUMED, note=f"Now {now_status}.")
        return offer


# The reason on an offer paused for an overdue invoice: resuming after payment looks for it.
BILLING_PAUSE_PREFIX = "Paused for an overdue invoice"


def offers_pause_for_overdue_invoice(*, merchant_id: int, invoice_number: str) -> int:
    """Pause the merchant's live and scheduled offers (subscriber of ``merchant_invoice_overdue``).

    Idempotent: an offer already paused is left alone. Returns how many were paused."""
    ids = list(
        Offer.objects.filter(merchant_id=merchant_id, status__in=(OfferStatus.LIVE, OfferStatus.SCHEDULED))
        .order_by("id")
        .values_list("id", flat=True)
    )
    done = 0
    for offer_id in ids:
        with transaction.atomic():
            offer = _lock_offer(offer_id)
            if offer.status in (OfferStatus.LIVE, OfferStatus.SCHEDULED):
                _transition(
                    offer,
                    to_status=OfferStatus.PAUSED,
                    actor=None,
                    reason=f"{BILLING_PAUSE_PREFIX} ({invoice_number}).",
                )
                done += 1
    return done


def offers_resume_after_invoice_paid(*, merchant_id: int, now: datetime | None = None) -> int:
    """Resume the offers that an overdue invoice paused — only those, and only once the merchant has
    no overdue invoice left (subscriber of ``merchant_invoice_paid``). Returns how many resumed."""
    if merchant_has_overdue_invoice(merchant_id=merchant_id):
        return 0
    now = now or timezone.now()
    done = 0
    paused = Offer.objects.filter(merchant_id=merchant_id, status=OfferStatus.PAUSED).order_by("id")
    for offer_id in paused.values_list("id", flat=True):
        with transaction.atomic():
            offer = _lock_offer(offer_id)
            last = offer.status_changes.order_by("-created_at", "-id").first()
            if offer.status != OfferStatus.PAUSED or last is None or not last.reason.startswith(BILLING_PAUSE_PREFIX):
                continue  # paused by the merchant itself, or already resumed
            if offer.ends_at <= now:
                target = OfferStatus.ENDED
            elif offer.starts_at > now:
                target = OfferStatus.SCHEDULED
            else:
                target = OfferStatus.LIVE
            _transition(offer, to_status=target, actor=None, reason="Resumed: the overdue invoice was paid.")
            done += 1
    return done


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
        raise InvalidOfferError(_("A budget cannot be consumed by a negative amount."))
    if amount_minor == 0:
        return 0
    if connection.vendor == "postgresql":
        return _budget_consume_postgresql(offer_id=offer_id, amount_minor=amount_minor)
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


def _budget_consume_sql() -> str:
    table = connection.ops.quote_name(Offer._meta.db_table)
    # Names come from the model; the values are parameters.
    return (
        f"WITH current AS MATERIALIZED (SELECT id, budget_total_minor, budget_spent_minor FROM {table}"  # noqa: S608
        " WHERE id = %s FOR UPDATE),"
        " grant_ AS (SELECT id, CASE WHEN budget_total_minor IS NULL THEN %s"
        " ELSE GREATEST(0, LEAST(%s, budget_total_minor - budget_spent_minor)) END AS granted FROM current)"
        f" UPDATE {table} AS o SET budget_spent_minor = o.budget_spent_minor + grant_.granted"
        " FROM grant_ WHERE o.id = grant_.id RETURNING grant_.granted"
    )


def _budget_consume_postgresql(*, offer_id: int, amount_minor: int) -> int:
    """One statement instead of a savepoint, a locking read and an update (issue 19): the CTE locks
    the offer row (``FOR UPDATE``, as the portable path) and reads its latest committed budget, the
    update adds what that budget grants. Concurrent purchases queue on the row lock, so together
    they never grant more than the budget; the check constraint stays the backstop. An update of
    zero changes nothing but the row version, as the count of an unlimited budget always did."""
    with connection.cursor() as cursor:
        cursor.execute(_budget_consume_sql(), [offer_id, amount_minor, amount_minor])
        row = cursor.fetchone()
    if row is None:
        raise OfferNotFoundError()
    return int(row[0])


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


def line_item_rule_add(*, offer: Offer, values: Mapping[str, Any], actor: User | None = None) -> LineItemRule:
    """Add a product or category rule to an offer, recorded in the merchant's activity log."""
    if offer.line_item_rules.filter(scope=values["scope"], key__iexact=values["key"]).exists():
        raise InvalidOfferError(fields={"key": [_("This offer already has a rule for that key.")]})
    with transaction.atomic():
        rule = LineItemRule.objects.create(offer=offer, **{name: values[name] for name in LINE_ITEM_RULE_FIELDS})
        audit_line_rule(rule=rule, offer=offer, actor=actor, action=AuditAction.LINE_RULE_ADDED)
    return rule


def line_item_rule_delete(*, rule: LineItemRule, actor: User | None = None) -> None:
    with transaction.atomic():
        audit_line_rule(rule=rule, offer=rule.offer, actor=actor, action=AuditAction.LINE_RULE_DELETED)
        rule.delete()
