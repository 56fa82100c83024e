"""The demo's action rules and actions log: seeded twice, there once."""

import pytest

from cashback.demo import seed_demo_data
from programmes.catalogue_demo import MEMBER_EMAIL
from programmes.models import ActionOutcome, ActionReport, ActionRule

pytestmark = pytest.mark.django_db


def test_the_demo_member_has_an_actions_log_with_each_kind_of_answer():
    seed_demo_data()
    seed_demo_data()

    assert ActionRule.objects.count() == 2
    reports = ActionReport.objects.filter(user__email=MEMBER_EMAIL)
    assert reports.count() == 3
    results = set(ActionOutcome.objects.filter(report__in=reports).values_list("result", flat=True))
    assert {"awarded", "no_rule"} <= results
