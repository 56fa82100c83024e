"""Actions reported at the same moment, each thread on its own PostgreSQL connection: a rule's limit
per member holds, and one event reported many times at once is rewarded once."""

from collections import Counter

import pytest
from django.utils import timezone

from programmes import actions
from programmes.models import ActionOutcome, ActionReport
from tests.accounts.factories import UserFactory
from tests.concurrency import run_together
from tests.programmes.action_factories import action_rule
from tests.programmes.factories import programme_world
from wallet.models import JournalTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _report(world, member, key):
    return actions.action_report(
        user=member,
        action="survey_completed",
        source="partner",
        origin=f"partner:{world.brand_owner.merchant_id}",
        source_key=key,
        occurred_at=timezone.now(),
        brand_owner_ids=[world.brand_owner.pk],
    )


def test_many_surveys_at_once_never_earn_more_than_the_limit():
    world = programme_world()
    rule = action_rule(world.marketing_admin, limit_count=3, limit_period="day", value=1_000)
    member = UserFactory()

    results = run_together(lambda i: _report(world, member, f"survey-{i}"), threads=8)

    assert all(not isinstance(result, Exception) for result in results), results
    counted = Counter(result.outcomes[0].result for result in results)
    assert counted == {"awarded": 3, "limit_reached": 5}
    assert ActionOutcome.objects.filter(rule=rule, result="awarded").count() == 3
    assert JournalTransaction.objects.filter(idempotency_key__startswith="programme:action:").count() == 3


def test_one_event_reported_many_times_at_once_is_rewarded_once():
    world = programme_world()
    action_rule(world.marketing_admin, limit_count=10)
    member = UserFactory()

    results = run_together(lambda i: _report(world, member, "the-survey"), threads=6)

    assert all(not isinstance(result, Exception) for result in results), results
    assert sum(result.created for result in results) == 1
    assert ActionReport.objects.count() == 1
    assert ActionOutcome.objects.count() == 1
    assert JournalTransaction.objects.filter(idempotency_key__startswith="programme:action:").count() == 1
