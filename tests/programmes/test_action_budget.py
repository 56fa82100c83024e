"""A rule's total budget (issue 20): an action that would take the rule above it earns nothing and the
member's actions log says why ("budget exhausted"); the form edits it and refuses a cap below what the
rule already gave; never overspent when many actions arrive at once (PostgreSQL)."""

from collections import Counter

import pytest
from django.urls import reverse
from django.utils import timezone

from programmes import actions
from programmes.errors import InvalidActionRuleError
from programmes.models import ActionOutcome, ActionRule
from tests.accounts.factories import UserFactory
from tests.concurrency import run_together
from tests.programmes.action_factories import action_rule
from tests.programmes.factories import programme_world
from tests.programmes.test_action_views import _rule_post
from wallet.models import JournalTransaction
from wallet.points import points_balance


def _report(world, member, key):
    return actions.action_report(
        user=member,
        action="survey_completed",
        source="partner",
        origin=f"partner:{world.brand_owner.merchant_id}",
        source_key=key,
        occurred_at=timezone.now(),
        brand_owner_ids=[world.brand_owner.pk],
        merchant=world.brand_owner.merchant,
    )


def _rule_kwargs(rule: ActionRule, **changes):
    values = {
        "name": rule.name,
        "action": rule.action,
        "value_kind": rule.value_kind,
        "value": rule.value,
        "limit_count": rule.limit_count,
        "limit_period": rule.limit_period,
        "active_from": rule.active_from,
        "budget": rule.budget,
    }
    values.update(changes)
    return values


@pytest.mark.django_db
def test_an_award_that_would_exceed_the_budget_is_refused_and_the_log_says_why(client):
    world = programme_world()
    rule = action_rule(world.marketing_admin, value=2_500, budget=6_000)
    members = [UserFactory() for _ in range(3)]

    results = [_report(world, member, f"survey-{n}") for n, member in enumerate(members)]

    assert [result.outcomes[0].result for result in results] == ["awarded", "awarded", "budget_exhausted"]
    assert actions.action_rule_spent(rule=rule) == 5_000  # 1 000 left: less than one reward
    assert JournalTransaction.objects.filter(idempotency_key__startswith="programme:action:").count() == 2
    client.force_login(members[2])
    log = client.get(reverse("actions:log")).content.decode()
    assert "budget exhausted" in log
    api = client.get("/api/v1/actions/").json()
    assert api["results"][0]["outcomes"][0]["result"] == "budget_exhausted"


@pytest.mark.django_db
def test_a_points_budget_counts_points():
    world = programme_world()
    action_rule(world.marketing_admin, value=150, value_kind="points", budget=300, limit_count=5)
    member = UserFactory()

    outcomes = [_report(world, member, f"s-{n}").outcomes[0].result for n in range(3)]

    assert outcomes == ["awarded", "awarded", "budget_exhausted"]
    assert points_balance(user=member) == 300


@pytest.mark.django_db
def test_the_budget_cannot_go_below_what_was_given_nor_a_used_rule_change_its_unit():
    world = programme_world()
    rule = action_rule(world.marketing_admin, value=2_500, budget=10_000)
    _report(world, UserFactory(), "one")
    _report(world, UserFactory(), "two")

    with pytest.raises(InvalidActionRuleError) as below:
        actions.action_rule_save(role=world.marketing_admin, rule=rule, **_rule_kwargs(rule, budget=4_999))
    with pytest.raises(InvalidActionRuleError) as unit:
        actions.action_rule_save(role=world.marketing_admin, rule=rule, **_rule_kwargs(rule, value_kind="points"))
    with pytest.raises(InvalidActionRuleError) as zero:
        actions.action_rule_save(role=world.marketing_admin, rule=rule, **_rule_kwargs(rule, budget=0))

    assert "cannot be lower" in below.value.fields["budget"][0]
    assert "value_kind" in unit.value.fields and "budget" in zero.value.fields
    saved = actions.action_rule_save(role=world.marketing_admin, rule=rule, **_rule_kwargs(rule, budget=5_000))
    assert saved.budget == 5_000
    assert (
        actions.action_rule_save(role=world.marketing_admin, rule=rule, **_rule_kwargs(rule, budget=None)).budget
        is None
    )


@pytest.mark.django_db
def test_the_form_sets_the_budget_and_refuses_one_below_what_was_spent(client):
    world = programme_world()
    client.force_login(world.marketing_admin.user)
    merchant_id = world.brand_owner.merchant_id

    created = client.post(reverse("programmes:action_rule_create", args=[merchant_id]), _rule_post(budget="100.00"))
    assert created.status_code == 302
    rule = ActionRule.objects.get()
    assert rule.budget == 10_000
    rule.weekdays = 0
    rule.save()
    for n in range(2):
        _report(world, UserFactory(), f"survey-{n}")
    edit = reverse("programmes:action_rule_edit", args=[merchant_id, rule.pk])
    assert 'value="100.00"' in client.get(edit).content.decode()

    below = client.post(edit, _rule_post(budget="49.99", weekdays=[]))
    bad = client.post(edit, _rule_post(budget="lots", weekdays=[]))
    listing = client.get(reverse("programmes:action_rules", args=[merchant_id])).content.decode()

    assert below.status_code == 200 and "cannot be lower" in below.content.decode()
    assert bad.status_code == 200 and "like 25.00" in bad.content.decode()
    rule.refresh_from_db()
    assert rule.budget == 10_000
    assert "50.00" in listing and "100.00" in listing
    assert client.post(edit, _rule_post(budget="50.00", weekdays=[])).status_code == 302
    rule.refresh_from_db()
    assert rule.budget == 5_000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_actions_at_once_never_overspend_the_budget():
    world = programme_world()
    rule = action_rule(world.marketing_admin, value=1_000, budget=3_500, limit_count=100)
    members = [UserFactory() for _ in range(8)]

    results = run_together(lambda i: _report(world, members[i], f"survey-{i}"), threads=8)

    assert all(not isinstance(result, Exception) for result in results), results
    counted = Counter(result.outcomes[0].result for result in results)
    assert counted == {"awarded": 3, "budget_exhausted": 5}
    assert actions.action_rule_spent(rule=rule) == 3_000
    assert ActionOutcome.objects.filter(rule=rule, result="awarded").count() == 3
    assert JournalTransaction.objects.filter(idempotency_key__startswith="programme:action:").count() == 3
