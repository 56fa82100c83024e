"""Reads of rewards for actions: a member's actions log, a brand owner's rules and what they did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from programmes.action_models import ActionOutcome, ActionReport, ActionRule, OutcomeResult

if TYPE_CHECKING:
    from accounts.models import User
    from programmes.models import BrandOwner


def actions_of(*, user: User) -> QuerySet[ActionReport]:
    """Every action reported for the person, newest first, each with its outcomes (two queries a page)."""
    outcomes = ActionOutcome.objects.select_related("rule__brand_owner__merchant").order_by("id")
    return (
        ActionReport.objects.filter(user=user)
        .select_related("merchant")
        .prefetch_related(Prefetch("outcomes", queryset=outcomes))
        .order_by("-occurred_at", "-id")
    )


def rules_of(*, brand_owner: BrandOwner) -> QuerySet[ActionRule]:
    """The brand owner's rules, each with how often it awarded and how much."""
    awarded = Q(outcomes__result=OutcomeResult.AWARDED)
    return (
        ActionRule.objects.filter(brand_owner=brand_owner)
        .annotate(awards=Count("outcomes", filter=awarded), awarded_value=Sum("outcomes__value", filter=awarded))
        .order_by("paused", "action", "name", "pk")
    )


def recent_outcomes(*, brand_owner: BrandOwner, limit: int = 20) -> list[ActionOutcome]:
    return list(
        ActionOutcome.objects.filter(rule__brand_owner=brand_owner)
        .select_related("rule", "report", "user")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class OutcomeLine:
    """One line of the actions log: a rule (or none) and what it gave or why not."""

    result: str
    label: str
    rule_name: str
    brand: str
    value: int
    value_kind: str
    currency: str
    limit: str


def outcome_lines(report: ActionReport) -> list[OutcomeLine]:
    lines = []
    for outcome in report.outcomes.all():
        rule = outcome.rule
        limit = ""
        if rule is not None and outcome.result == OutcomeResult.LIMIT_REACHED:
            limit = f"{rule.limit_count} {rule.get_limit_period_display()}"
        lines.append(
            OutcomeLine(
                result=outcome.result,
                label=str(outcome.get_result_display()),
                rule_name=rule.name if rule is not None else "",
                brand=rule.brand_owner.merchant.display_name if rule is not None else "",
                value=outcome.value,
                value_kind=outcome.value_kind,
                currency=outcome.currency,
                limit=limit,
            )
        )
    return lines
