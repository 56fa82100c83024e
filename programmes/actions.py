"""Rewards for actions (seed 003): a member's action, reported once, is judged by every rule of the brand
owners it concerns, and each rule awards it at most once, within its limit and schedule.

Who reports: a partner system through ``POST /api/v1/partner/events/`` (``programmes.partner_apis``:
surveys completed, social shares — the rules of the brand owner whose API key reported it), and the
platform itself (``programmes.action_sources``: birthdays, profiles completed, referrals — the rules of
every brand owner the person is a member of: a business customer of it, or a customer who bought at or
was linked to its merchant).

Exactly once: a report is unique per (origin, the origin's event key); an outcome is unique per (rule,
report); the cash award's ledger key is derived from the same pair. Limits hold under concurrency: the
rules of the action are locked (``select_for_update``, primary-key order) before a member's awards in
the period are counted, so two reports at once are counted one after the other.

A rule's budget (``ActionRule.budget``, optional) caps what it gives in total: the sum of its awarded
outcomes is read under the same rule lock, so two reports at once can never take it above the cap; an
award that would is refused as ``budget_exhausted``.

Every report gets at least one outcome, so the member's actions log can say what each earned or why not
(limit reached, budget exhausted, outside the schedule, account blocked, no rule).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.models import Purchase
from cashback.formatting import format_money, format_number
from merchants.models import CustomerLink, Merchant
from programmes.action_models import ALL_WEEKDAYS, LimitPeriod, OutcomeResult, ValueKind
from programmes.errors import ActionAlreadyReportedError, InvalidActionRuleError, PointsUnavailableError
from programmes.models import (
    ActionKind,
    ActionOutcome,
    ActionReport,
    ActionRule,
    BrandOwner,
    BusinessCustomer,
    FieldRole,
    FieldRoleKind,
)
from programmes.services import _require_role
from wallet.models import POINTS, AccountKind, JournalKind
from wallet.points import MAX_POINTS_PER_AWARD, points_award
from wallet.services import account_get_or_create, transaction_post, transfer

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class ReportResult:
    report: ActionReport
    outcomes: list[ActionOutcome]
    created: bool


def action_ledger_key(*, report_id: int, rule_id: int) -> str:
    return f"programme:action:{report_id}:rule:{rule_id}"


# --- Rules ---------------------------------------------------------------------------------------


@transaction.atomic
def action_rule_save(
    *,
    role: FieldRole,
    rule: ActionRule | None = None,
    name: str,
    action: str,
    value_kind: str,
    value: int,
    limit_count: int,
    limit_period: str,
    active_from: datetime.datetime,
    active_until: datetime.datetime | None = None,
    weekdays: Sequence[int] = (),
    paused: bool = False,
    budget: int | None = None,
) -> ActionRule:
    """Create (``rule`` None) or change a brand owner's action rule: a marketing admin's work. Weekdays
    are 0 (Monday) to 6; none means every day. ``budget`` (None: no cap) caps what the rule gives in
    total, in the value's unit; it cannot be set below what the rule already gave, nor can a rule that
    gave anything change between cash and points. A changed rule judges the actions reported from now
    on; what it awarded stays."""
    _require_role(role, FieldRoleKind.MARKETING_ADMIN)
    if rule is not None and rule.brand_owner_id != role.brand_owner_id:
        raise InvalidActionRuleError()
    problems: dict[str, list[str]] = {}
    if not name.strip():
        problems["name"] = [gettext("Give the rule a name.")]
    if action not in ActionKind.values:
        problems["action"] = [gettext("Choose an action.")]
    if value_kind not in ValueKind.values:
        problems["value_kind"] = [gettext("Choose cash or points.")]
    if value <= 0:
        problems["value"] = [gettext("The reward must be greater than zero.")]
    elif value_kind == ValueKind.POINTS and value > MAX_POINTS_PER_AWARD:
        problems["value"] = [gettext("At most %(points)s points at a time.") % {"points": MAX_POINTS_PER_AWARD}]
    if limit_count <= 0:
        problems["limit_count"] = [gettext("The limit must be at least 1.")]
    if limit_period not in LimitPeriod.values:
        problems["limit_period"] = [gettext("Choose a period for the limit.")]
    if active_until is not None and active_until <= active_from:
        problems["active_until"] = [gettext("The rule must end after it starts.")]
    if any(day not in range(7) for day in weekdays):
        problems["weekdays"] = [gettext("Weekdays are Monday to Sunday.")]
    if budget is not None and budget <= 0:
        problems["budget"] = [gettext("The budget must be greater than zero, or empty for no cap.")]
    if problems:
        raise InvalidActionRuleError(fields=problems)
    if value_kind == ValueKind.POINTS and not points_available():
        raise PointsUnavailableError(fields={"value_kind": [str(PointsUnavailableError.default_message)]})
    mask = 0
    for day in set(weekdays):
        mask |= 1 << day
    fields = {
        "name": name.strip()[:150],
        "action": action,
        "value_kind": value_kind,
        "value": value,
        "limit_count": limit_count,
        "limit_period": limit_period,
        "active_from": active_from,
        "active_until": active_until,
        "weekdays": 0 if mask == ALL_WEEKDAYS else mask,
        "paused": paused,
        "budget": budget,
    }
    if rule is None:
        return ActionRule.objects.create(
            brand_owner_id=role.brand_owner_id,
            currency=role.brand_owner.currency,
            created_by=role.user,
            **fields,
        )
    # Under the rule's lock, the lock every award takes: the spent sum cannot grow meanwhile.
    locked = ActionRule.objects.select_for_update().get(pk=rule.pk)
    spent = action_rule_spent(rule=locked)
    if spent and value_kind != locked.value_kind:
        raise InvalidActionRuleError(
            fields={"value_kind": [gettext("This rule has given rewards already: it stays in what it gave.")]}
        )
    if budget is not None and budget < spent:
        raise InvalidActionRuleError(fields={"budget": [_budget_below_spent(locked, spent)]})
    for field, field_value in fields.items():
        setattr(locked, field, field_value)
    locked.save(update_fields=[*fields, "updated_at"])
    return locked


def action_rule_spent(*, rule: ActionRule) -> int:
    """What the rule has given so far, all members together (minor units or points)."""
    return ActionOutcome.objects.filter(rule=rule, result=OutcomeResult.AWARDED).aggregate(
        total=Sum("value", default=0)
    )["total"]


def _budget_below_spent(rule: ActionRule, spent: int) -> str:
    if rule.value_kind == ValueKind.POINTS:
        return gettext("The rule has already given %(spent)s points: the budget cannot be lower.") % {
            "spent": format_number(spent)
        }
    return gettext("The rule has already given %(spent)s: the budget cannot be lower.") % {
        "spent": format_money(spent, rule.currency)
    }


# --- Reports -------------------------------------------------------------------------------------


def member_brand_owner_ids(*, user_id: int) -> list[int]:
    """The brand owners a person is a member of: a business customer of it, or a customer of its
    merchant (a purchase there, or linked by the merchant's own customer id)."""
    merchant = OuterRef("merchant_id")
    return list(
        BrandOwner.objects.filter(
            Q(Exists(BusinessCustomer.objects.filter(brand_owner=OuterRef("pk"), user_id=user_id)))
            | Q(Exists(Purchase.objects.filter(merchant_id=merchant, user_id=user_id)))
            | Q(Exists(CustomerLink.objects.filter(merchant_id=merchant, user_id=user_id)))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def action_report(
    *,
    user: User,
    action: str,
    source: str,
    origin: str,
    source_key: str,
    occurred_at: datetime.datetime,
    brand_owner_ids: Sequence[int],
    merchant: Merchant | None = None,
    description: str = "",
) -> ReportResult:
    """Record one action and judge it by the active rules of ``brand_owner_ids`` for that action.

    The same (origin, source_key) again returns the first report and its outcomes (``created`` False)
    when it names the same member and action, and raises ``ActionAlreadyReportedError`` otherwise.
    Precondition: the door validated ``action`` and the key (a partner may report only
    ``PARTNER_ACTIONS``)."""
    with transaction.atomic():
        earlier = _earlier(origin=origin, source_key=source_key, user=user, action=action)
        if earlier is not None:
            return earlier
        try:
            with transaction.atomic():
                report = ActionReport.objects.create(
                    user=user,
                    action=action,
                    source=source,
                    origin=origin,
                    source_key=source_key,
                    merchant=merchant,
                    description=description[:200],
                    occurred_at=occurred_at,
                )
        except IntegrityError:  # the same event reported at the same moment: the first one decides
            earlier = _earlier(origin=origin, source_key=source_key, user=user, action=action)
            if earlier is None:
                raise
            return earlier
        rules = list(
            ActionRule.objects.select_for_update()
            .filter(brand_owner_id__in=list(brand_owner_ids), action=action, paused=False)
            .select_related("brand_owner")
            .order_by("pk")
        )
        if not rules:
            outcome = ActionOutcome.objects.create(
                report=report, user=user, occurred_at=occurred_at, result=OutcomeResult.NO_RULE
            )
            return ReportResult(report=report, outcomes=[outcome], created=True)
        outcomes = [_judge(report=report, rule=rule, user=user) for rule in rules]
        return ReportResult(report=report, outcomes=outcomes, created=True)


def _earlier(*, origin: str, source_key: str, user: User, action: str) -> ReportResult | None:
    report = ActionReport.objects.filter(origin=origin, source_key=source_key).first()
    if report is None:
        return None
    if report.user_id != user.pk or report.action != action:
        raise ActionAlreadyReportedError()
    return ReportResult(report=report, outcomes=list(report.outcomes.select_related("rule")), created=False)


def period_bounds(*, period: str, at: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime] | None:
    """The [start, end) of the limit's period around ``at``, in the platform's time zone; None for
    ``total`` (no period)."""
    local = timezone.localtime(at)
    day = local.date()
    if period == LimitPeriod.DAY:
        start, end = day, day + datetime.timedelta(days=1)
    elif period == LimitPeriod.WEEK:
        start = day - datetime.timedelta(days=day.weekday())
        end = start + datetime.timedelta(days=7)
    elif period == LimitPeriod.MONTH:
        start = day.replace(day=1)
        end = (start + datetime.timedelta(days=32)).replace(day=1)
    else:
        return None
    zone = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=zone),
        datetime.datetime.combine(end, datetime.time.min, tzinfo=zone),
    )


def _in_schedule(rule: ActionRule, at: datetime.datetime) -> bool:
    if at < rule.active_from or (rule.active_until is not None and at >= rule.active_until):
        return False
    return rule.on_weekday(timezone.localtime(at).weekday())


def _judge(*, report: ActionReport, rule: ActionRule, user: User) -> ActionOutcome:
    """One rule's outcome for a report. The caller holds the rule's row lock."""
    at = report.occurred_at

    def outcome(result: str, **award: object) -> ActionOutcome:
        return ActionOutcome.objects.create(report=report, rule=rule, user=user, occurred_at=at, result=result, **award)

    if not _in_schedule(rule, at):
        return outcome(OutcomeResult.OUTSIDE_SCHEDULE)
    if user.blocked_at is not None:  # a blocked person earns nothing new (accounts.blocking)
        return outcome(OutcomeResult.MEMBER_BLOCKED)
    awarded = ActionOutcome.objects.filter(rule=rule, user=user, result=OutcomeResult.AWARDED)
    bounds = period_bounds(period=rule.limit_period, at=at)
    if bounds is not None:
        awarded = awarded.filter(occurred_at__gte=bounds[0], occurred_at__lt=bounds[1])
    if awarded.count() >= rule.limit_count:
        return outcome(OutcomeResult.LIMIT_REACHED)
    if rule.budget is not None and action_rule_spent(rule=rule) + rule.value > rule.budget:
        return outcome(OutcomeResult.BUDGET_EXHAUSTED)
    key = action_ledger_key(report_id=report.pk, rule_id=rule.pk)
    memo = f"{rule.name}: {ActionKind(report.action).label}"
    if rule.value_kind == ValueKind.POINTS:
        _points_award(rule=rule, user=user, key=key, memo=memo, report=report)
    else:
        _cash_award(rule=rule, user=user, key=key, memo=memo, report=report)
    currency = POINTS if rule.value_kind == ValueKind.POINTS else rule.currency
    return outcome(
        OutcomeResult.AWARDED, value_kind=rule.value_kind, value=rule.value, currency=currency, ledger_key=key
    )


def _cash_award(*, rule: ActionRule, user: User, key: str, memo: str, report: ActionReport) -> None:
    """Like a tier reward: from what the brand owner owes the platform for its programmes
    (``merchant_receivable``) to the member's available balance."""
    owes = account_get_or_create(
        kind=AccountKind.MERCHANT_RECEIVABLE,
        currency=rule.currency,
        owner_key=f"merchant:{rule.brand_owner.merchant_id}",
    )
    wallet = account_get_or_create(kind=AccountKind.CONSUMER_AVAILABLE, currency=rule.currency, user=user)
    transaction_post(
        idempotency_key=key,
        kind=JournalKind.PROGRAMME_REWARD,
        entries=transfer(debit=owes, credit=wallet, amount=rule.value),
        memo=memo,
        causes={"action_report": report.pk, "action_rule": rule.pk},
    )


def points_available() -> bool:
    """Whether rules may give points (the wallet's points currency, ``wallet.points``). Kept as a
    function so a platform without points could switch them off in one place."""
    return True


def _points_award(*, rule: ActionRule, user: User, key: str, memo: str, report: ActionReport) -> None:
    """From the brand owner's points issuance account to the member's points (``wallet.points``)."""
    points_award(
        user=user,
        points=rule.value,
        merchant_id=rule.brand_owner.merchant_id,
        idempotency_key=key,
        memo=memo,
        causes={"action_report": report.pk, "action_rule": rule.pk},
    )
