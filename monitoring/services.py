"""Writes of transaction monitoring: flags raised from the rules' findings (once per rule and
window), the every-minute scan and the nightly sweep, and staff's decisions on a flag — hold its
rewards, clear it, escalate it to blocking — each recorded in the staff audit log in its own
transaction. docs/monitoring.md.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.blocking import user_block
from accounts.errors import AlreadyBlockedError
from accounts.models import Card
from accounts.staff_audit import record_staff_action
from campaigns.models import Purchase, Reward
from campaigns.services import reward_hold, reward_hold_release
from cashback.errors import ConflictError
from monitoring import rules
from monitoring.models import FlagRule, FlagStatus, FraudFlag, ScanCursor
from referrals.models import Referral

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

SCAN_CURSOR = "purchases-cards-referrals"


class FlagDecisionError(ConflictError):
    code = "flag_decision_not_allowed"
    default_message = gettext_lazy("This flag has already been decided.")


# --- Raising -------------------------------------------------------------------------------------


def flag_raise(*, finding: rules.Finding) -> tuple[FraudFlag, bool]:
    """The flag of ``finding``: created once per (rule, window_key) — the database's unique
    constraint decides between concurrent scans — and found again afterwards. Returns (flag, created)."""
    with transaction.atomic():
        return FraudFlag.objects.get_or_create(
            rule=finding.rule,
            window_key=finding.window_key,
            defaults={
                "severity": finding.severity,
                "purchase_id": finding.purchase_id,
                "user_id": finding.user_id,
                "card_id": finding.card_id,
                "details": finding.details,
            },
        )


def _raise_all(findings: list[rules.Finding]) -> int:
    return sum(1 for finding in findings if flag_raise(finding=finding)[1])


def purchase_check(*, purchase_id: int) -> int:
    """Run the purchase rules on one purchase; returns the number of new flags. Safe twice."""
    purchase = Purchase.objects.filter(pk=purchase_id).first()
    if purchase is None:
        return 0
    return _raise_all(rules.purchase_findings(purchase))


def card_check(*, card_id: int) -> int:
    """Run the card rules (many cards on the person, one card on many accounts) for one card."""
    card = Card.objects.filter(pk=card_id).first()
    if card is None:
        return 0
    return _raise_all(rules.card_findings(card=card, now=card.created_at))


def referral_check(*, referral_id: int) -> int:
    """Run the referral-farming rule for the referrer of one referral, as of its sign-up."""
    referral = Referral.objects.filter(pk=referral_id).values("referrer_id", "created_at").first()
    if referral is None:
        return 0
    return _raise_all(rules.referral_farming(referrer_id=referral["referrer_id"], now=referral["created_at"]))


def _check_changed(*, since: datetime, until: datetime, limit: int) -> tuple[int, datetime | None]:
    """Run every rule on purchases changed, cards linked and referrals made in [since, until).
    Returns (new flags, the change time of the last row looked at when a batch was full)."""
    raised = 0
    full_at: datetime | None = None
    batches = (
        (
            Purchase.objects.filter(updated_at__gte=since, updated_at__lt=until),
            "updated_at",
            purchase_check,
            "purchase",
        ),
        (Card.objects.filter(created_at__gte=since, created_at__lt=until), "created_at", card_check, "card"),
        (
            Referral.objects.filter(created_at__gte=since, created_at__lt=until),
            "created_at",
            referral_check,
            "referral",
        ),
    )
    for rows, moment, check, name in batches:
        seen = list(rows.order_by(moment, "id").values_list("id", moment)[:limit])
        for row_id, _ in seen:
            raised += check(**{f"{name}_id": row_id})
        if len(seen) == limit:
            last = seen[-1][1]
            full_at = last if full_at is None else min(full_at, last)
    return raised, full_at


def monitoring_scan(*, now: datetime | None = None) -> int:
    """The every-minute scan: look at what changed since the cursor (less an overlap, for rows whose
    transaction committed late) and move the cursor on. Never on the intake's path: purchases are
    committed before the scan sees them. The cursor's row lock (SKIP LOCKED) keeps a second scan
    from running at the same time; rules are idempotent, so looking twice raises nothing twice.
    Returns the number of new flags."""
    now = now or timezone.now()
    ScanCursor.objects.get_or_create(name=SCAN_CURSOR, defaults={"position": now - timedelta(hours=1)})
    with transaction.atomic():
        cursor = ScanCursor.objects.select_for_update(skip_locked=True).filter(name=SCAN_CURSOR).first()
        if cursor is None:
            return 0  # another scan is running
        overlap = timedelta(seconds=settings.MONITORING_SCAN_OVERLAP_SECONDS)
        raised, full_at = _check_changed(
            since=cursor.position - overlap, until=now, limit=settings.MONITORING_SCAN_BATCH
        )
        cursor.position = max(full_at, cursor.position) if full_at is not None else now
        cursor.save(update_fields=["position", "updated_at"])
    if raised:
        logger.info("monitoring scan raised %s flag(s)", raised)
    return raised


def monitoring_sweep(*, now: datetime | None = None) -> int:
    """The nightly sweep: every rule over everything that changed in the last
    ``MONITORING_SWEEP_HOURS`` (whatever the scan missed, or thresholds changed since). Returns new flags."""
    now = now or timezone.now()
    since = now - timedelta(hours=settings.MONITORING_SWEEP_HOURS)
    raised = 0
    while True:
        found, full_at = _check_changed(since=since, until=now, limit=settings.MONITORING_SCAN_BATCH)
        raised += found
        if full_at is None or full_at <= since:
            return raised
        since = full_at


# --- Staff decisions -----------------------------------------------------------------------------


def _flag_locked(flag: FraudFlag, *, allowed_from: tuple[str, ...]) -> FraudFlag:
    locked = FraudFlag.objects.select_for_update().get(pk=flag.pk)
    if locked.status not in allowed_from:
        raise FlagDecisionError(
            gettext("This flag is %(status)s; that cannot be done now.")
            % {"status": locked.get_status_display().lower()}
        )
    return locked


PERSON_RULES = frozenset({FlagRule.REFUND_CYCLING, FlagRule.REFERRAL_FARMING, FlagRule.MANY_CARDS})


def flag_reward_ids(*, flag: FraudFlag) -> list[int]:
    """The pending, not yet matured rewards a hold on ``flag`` affects: for a velocity flag, those of
    every purchase in its window; for another purchase flag, the flagged purchase's; for a flag on a
    person (refund cycling, referral farming, many cards), all of theirs; for a card flag, those of
    the card's purchases."""
    rewards = Reward.objects.filter(matured_at__isnull=True, pending_minor__gt=0)
    if flag.rule in PERSON_RULES and flag.user_id is not None:
        rewards = rewards.filter(user_id=flag.user_id)
    elif flag.rule == FlagRule.VELOCITY and flag.details.get("purchase_ids"):
        rewards = rewards.filter(purchase_id__in=[int(pk) for pk in flag.details["purchase_ids"]])
    elif flag.purchase_id is not None:
        rewards = rewards.filter(purchase_id=flag.purchase_id)
    elif flag.card_id is not None:
        rewards = rewards.filter(purchase__card_id=flag.card_id)
    elif flag.user_id is not None:
        rewards = rewards.filter(user_id=flag.user_id)
    else:
        return []
    return list(rewards.order_by("pk").values_list("pk", flat=True))


def _decide(
    flag: FraudFlag, status: str, action: str, *, actor: User, reason: str, now: datetime, summary: str, **effects: Any
) -> None:
    """Record the decision on the locked ``flag`` and its staff audit entry (the caller's transaction)."""
    before = flag.status
    flag.status = status
    flag.decided_by = actor
    flag.decided_at = now
    flag.decision_reason = reason[:300]
    flag.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    record_staff_action(
        actor=actor,
        action=action,
        target=flag,
        summary=summary,
        before={"status": before},
        after={"status": status, **effects, "reason": reason},
    )


def _rewards_hold(flag: FraudFlag) -> int:
    return reward_hold(reward_ids=flag_reward_ids(flag=flag), key=flag.hold_key, reason=f"Fraud flag {flag.pk}")


def flag_hold(*, flag: FraudFlag, actor: User, reason: str, now: datetime | None = None) -> int:
    """Hold the rewards the flag affects: they do not mature until the flag is cleared. An open flag
    only. Returns the number of rewards held."""
    now = now or timezone.now()
    with transaction.atomic():
        flag = _flag_locked(flag, allowed_from=(FlagStatus.OPEN,))
        held = _rewards_hold(flag)
        summary = f"Held {held} reward(s) of a {flag.rule} flag"
        _decide(
            flag, FlagStatus.HELD, "flag.hold", actor=actor, reason=reason, now=now, summary=summary, rewards_held=held
        )
        return held


def flag_clear(*, flag: FraudFlag, actor: User, reason: str, now: datetime | None = None) -> int:
    """Clear an open or held flag: a false alarm. Its holds are released, so the rewards mature on
    the maturity job's next run. Returns the number of holds released."""
    now = now or timezone.now()
    with transaction.atomic():
        flag = _flag_locked(flag, allowed_from=(FlagStatus.OPEN, FlagStatus.HELD))
        released = reward_hold_release(key=flag.hold_key, now=now)
        summary = f"Cleared a {flag.rule} flag; released {released} hold(s)"
        _decide(
            flag,
            FlagStatus.CLEARED,
            "flag.clear",
            actor=actor,
            reason=reason,
            now=now,
            summary=summary,
            holds_released=released,
        )
        return released


def _person_block(*, user: User, actor: User, reason: str) -> bool:
    """Block the flagged person (a blocked person earns nothing new, cannot pay out, donate or spend).

    Returns whether the person is blocked afterwards; one already blocked stays as they are."""
    with contextlib.suppress(AlreadyBlockedError):
        user_block(user=user, actor=actor, reason=f"Fraud flag: {reason}")
    return True


def flag_escalate(*, flag: FraudFlag, actor: User, reason: str, now: datetime | None = None) -> bool:
    """Escalate an open or held flag to blocking: its rewards are held (if they were not already)
    and the flagged person is blocked. Returns whether someone was blocked."""
    now = now or timezone.now()
    with transaction.atomic():
        flag = _flag_locked(flag, allowed_from=(FlagStatus.OPEN, FlagStatus.HELD))
        held = _rewards_hold(flag)
        user = flag.user or (flag.purchase.user if flag.purchase is not None else None)
        blocked = _person_block(user=user, actor=actor, reason=reason) if user is not None else False
        _decide(
            flag,
            FlagStatus.ESCALATED,
            "flag.escalate",
            actor=actor,
            reason=reason,
            now=now,
            summary=f"Escalated a {flag.rule} flag to blocking",
            rewards_held=held,
            user_id=user.pk if user is not None else None,
            blocked=blocked,
        )
        return blocked
