"""Rewards for actions through the service: a rule judges each reported action once, within its limit
and schedule, and every report gets an outcome the actions log can explain."""

import datetime

import pytest
from django.utils import timezone

from programmes import actions
from programmes.errors import ActionAlreadyReportedError, InvalidActionRuleError, RoleNotAllowedError
from programmes.models import ActionOutcome, ActionReport, ActionRule
from tests.accounts.factories import UserFactory
from tests.programmes.action_factories import action_rule
from tests.programmes.factories import programme_world
from wallet.models import JournalKind, JournalTransaction
from wallet.points import points_balance
from wallet.selectors import wallet_balances

pytestmark = pytest.mark.django_db


def _report(world, user, key, *, action="survey_completed", at=None):
    return actions.action_report(
        user=user,
        action=action,
        source="partner",
        origin=f"partner:{world.brand_owner.merchant_id}",
        source_key=key,
        occurred_at=at or timezone.now(),
        brand_owner_ids=[world.brand_owner.pk],
        merchant=world.brand_owner.merchant,
    )


def _available(user, currency="NOK"):
    return next((row.available for row in wallet_balances(user=user) if row.currency == currency), 0)


def test_a_survey_earns_the_rules_cash_once_through_the_ledger():
    world = programme_world()
    rule = action_rule(world.marketing_admin, value=2_500)
    member = UserFactory()

    result = _report(world, member, "survey-1")
    again = _report(world, member, "survey-1")

    assert result.created and not again.created
    [outcome] = result.outcomes
    assert (outcome.rule, outcome.result, outcome.value) == (rule, "awarded", 2_500)
    assert again.outcomes == [outcome]
    assert _available(member) == 2_500
    journal = JournalTransaction.objects.get(idempotency_key=outcome.ledger_key)
    assert journal.kind == JournalKind.PROGRAMME_REWARD
    assert ActionReport.objects.count() == 1


def test_above_its_daily_limit_an_action_earns_nothing_and_says_why():
    world = programme_world()
    action_rule(world.marketing_admin, limit_count=2, limit_period="day")
    member = UserFactory()

    results = [_report(world, member, f"survey-{i}") for i in range(3)]

    assert [r.outcomes[0].result for r in results] == ["awarded", "awarded", "limit_reached"]
    assert _available(member) == 5_000
    assert ActionOutcome.objects.filter(result="limit_reached", ledger_key="").count() == 1


def test_the_limit_counts_per_member_and_per_period():
    world = programme_world()
    action_rule(world.marketing_admin, limit_count=1, limit_period="week")
    kari, ola = UserFactory(), UserFactory()
    now = timezone.now()

    assert _report(world, kari, "a", at=now).outcomes[0].result == "awarded"
    assert _report(world, ola, "b", at=now).outcomes[0].result == "awarded"
    assert _report(world, kari, "c", at=now).outcomes[0].result == "limit_reached"
    assert _report(world, kari, "d", at=now - datetime.timedelta(days=8)).outcomes[0].result == "awarded"


def test_outside_the_schedule_or_weekday_nothing_is_earned():
    world = programme_world()
    now = timezone.now()
    other_days = tuple(day for day in range(7) if day != timezone.localtime(now).weekday())
    action_rule(world.marketing_admin, name="Weekdays", weekdays=other_days)
    action_rule(world.marketing_admin, name="Later", active_from=now + datetime.timedelta(days=1))
    member = UserFactory()

    result = _report(world, member, "s-1", at=now)

    assert [o.result for o in result.outcomes] == ["outside_schedule", "outside_schedule"]
    assert _available(member) == 0


def test_an_action_no_rule_rewards_is_logged_with_no_rule():
    world = programme_world()
    member = UserFactory()

    result = _report(world, member, "share-1", action="social_share")

    assert [(o.rule, o.result) for o in result.outcomes] == [(None, "no_rule")]


def test_a_paused_rule_is_no_rule():
    world = programme_world()
    rule = action_rule(world.marketing_admin)
    ActionRule.objects.filter(pk=rule.pk).update(paused=True)

    assert _report(world, UserFactory(), "x").outcomes[0].result == "no_rule"


def test_a_blocked_member_earns_nothing_new():
    world = programme_world()
    action_rule(world.marketing_admin)
    member = UserFactory(blocked_at=timezone.now(), blocked_reason="Fraud check")

    assert _report(world, member, "x").outcomes[0].result == "member_blocked"
    assert _available(member) == 0


def test_the_same_event_id_for_another_member_is_refused_and_writes_nothing():
    world = programme_world()
    action_rule(world.marketing_admin)
    _report(world, UserFactory(), "survey-1")

    with pytest.raises(ActionAlreadyReportedError):
        _report(world, UserFactory(), "survey-1")
    assert ActionReport.objects.count() == ActionOutcome.objects.count() == 1


def test_only_the_marketing_admin_sets_rules_and_bad_rules_are_refused_whole():
    world = programme_world()
    with pytest.raises(RoleNotAllowedError):
        action_rule(world.finance_admin)
    with pytest.raises(InvalidActionRuleError) as refused:
        action_rule(
            world.marketing_admin,
            value=0,
            limit_count=0,
            active_until=timezone.now() - datetime.timedelta(days=40),
        )
    assert set(refused.value.fields) == {"value", "limit_count", "active_until"}
    assert not ActionRule.objects.exists()


def test_period_bounds_follow_the_local_calendar():
    at = timezone.make_aware(datetime.datetime(2026, 3, 18, 12, 0))  # a Wednesday
    day = actions.period_bounds(period="day", at=at)
    week = actions.period_bounds(period="week", at=at)
    month = actions.period_bounds(period="month", at=at)
    assert day and week and month
    assert (day[0].date(), day[1].date()) == (datetime.date(2026, 3, 18), datetime.date(2026, 3, 19))
    assert (week[0].date(), week[1].date()) == (datetime.date(2026, 3, 16), datetime.date(2026, 3, 23))
    assert (month[0].date(), month[1].date()) == (datetime.date(2026, 3, 1), datetime.date(2026, 4, 1))
    assert actions.period_bounds(period="total", at=at) is None


def test_a_points_rule_gives_points_through_the_ledger():
    world = programme_world()
    action_rule(world.marketing_admin, value_kind="points", value=150, limit_count=2)
    member = UserFactory()

    result = _report(world, member, "survey-p")

    [outcome] = result.outcomes
    assert (outcome.result, outcome.value_kind, outcome.value, outcome.currency) == ("awarded", "points", 150, "PTS")
    assert points_balance(user=member) == 150
    assert _available(member) == 0
    assert JournalTransaction.objects.get(idempotency_key=outcome.ledger_key).kind == "points_award"
