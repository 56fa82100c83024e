"""Action rules for tests, made through the service as a marketing admin would."""

import datetime

from django.utils import timezone

from programmes import actions
from programmes.models import ActionRule, FieldRole


def action_rule(
    role: FieldRole,
    *,
    action: str = "survey_completed",
    value: int = 2_500,
    limit_count: int = 1,
    limit_period: str = "day",
    active_from: datetime.datetime | None = None,
    active_until: datetime.datetime | None = None,
    weekdays: tuple[int, ...] = (),
    value_kind: str = "cash",
    name: str = "Survey bonus",
    budget: int | None = None,
) -> ActionRule:
    return actions.action_rule_save(
        role=role,
        name=name,
        action=action,
        value_kind=value_kind,
        value=value,
        limit_count=limit_count,
        limit_period=limit_period,
        active_from=active_from or timezone.now() - datetime.timedelta(days=30),
        active_until=active_until,
        weekdays=weekdays,
        budget=budget,
    )
