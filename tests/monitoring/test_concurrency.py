"""On PostgreSQL, with real concurrent transactions: a hold racing the maturity job either comes
first (the reward waits) or second (the reward had matured and is not held) — never a held reward
that matured; and concurrent scans raise each flag once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import Reward, RewardHold
from monitoring import services
from monitoring.models import FraudFlag
from tests.accounts.factories import CardFactory, StaffUserFactory
from tests.campaigns.factories import OfferFactory
from tests.concurrency import run_together

from .helpers import card_purchase

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_hold_racing_the_maturity_job_never_leaves_a_held_reward_matured():
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    card = CardFactory()
    at = timezone.now() - timedelta(hours=1)
    flags = []
    for n in range(4):
        card_purchase(card=card, merchant=offer.merchant, amount=9_000 + n, at=at + timedelta(minutes=20 * n))
        second = card_purchase(
            card=card, merchant=offer.merchant, amount=9_000 + n, at=at + timedelta(minutes=20 * n + 1)
        )
        services.purchase_check(purchase_id=second.pk)
        flags.append(FraudFlag.objects.get(rule="near_duplicate", purchase=second))
    staff = StaffUserFactory()
    later = timezone.now() + timedelta(days=15)

    def work(index: int):
        if index % 2:
            return campaign_services.rewards_mature_due(now=later)
        return services.flag_hold(flag=flags[index // 2 % 4], actor=staff, reason="Race")

    results = run_together(work, threads=8)

    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, services.FlagDecisionError)]
    for hold in RewardHold.objects.select_related("reward"):
        assert hold.reward.matured_at is None, "a held reward matured"
    for flag in flags:
        reward = Reward.objects.get(purchase=flag.purchase)
        assert (reward.matured_at is None) == RewardHold.objects.filter(reward=reward).exists()


def test_concurrent_scans_raise_each_flag_once(settings):
    settings.MONITORING_RULES = {
        **settings.MONITORING_RULES,
        "velocity": {**settings.MONITORING_RULES["velocity"], "max_purchases": 2},
    }
    offer = OfferFactory()
    card = CardFactory()
    for n in range(4):
        card_purchase(
            card=card, merchant=offer.merchant, amount=1_000 + n, at=timezone.now() - timedelta(minutes=10 - n)
        )

    results = run_together(lambda _: services.monitoring_sweep(), threads=4)

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(results) == FraudFlag.objects.count() >= 1
    assert FraudFlag.objects.filter(rule="velocity").count() in (1, 2)  # one per fixed hour the burst touches
