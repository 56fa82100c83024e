"""The reward worker's batch recomputes its consumers' tiers set-based (``tier_recompute_many``, issue 19):
the same tiers, figures and ``tier_changed`` facts as ``tier_recompute`` one consumer at a time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import CustomerTier, Purchase, Reward, Tier
from campaigns.services import tier_recompute, tier_recompute_many
from cashback.models import Fact
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory, PurchaseFactory, TierFactory

pytestmark = pytest.mark.django_db


def _state(users):
    rows = {row.user_id: row for row in CustomerTier.objects.filter(user__in=users)}
    facts = sorted(
        (fact.payload["tier_name"], fact.payload["previous_name"])
        for fact in Fact.objects.filter(kind="tier_changed", payload__user_id__in=[u.pk for u in users])
    )
    by_user = {
        index: (
            rows[u.pk].tier.name if rows[u.pk].tier else None,
            rows[u.pk].spend_12m_minor,
            rows[u.pk].earned_12m_minor,
        )
        for index, u in enumerate(users)
    }
    return by_user, facts


def _world(tag):
    """Five consumers: none, below silver, silver, gold by spend (one partly refunded, one purchase out of
    the window), and one whose earned cashback reaches the earned-basis tier; one had a tier already."""
    users = [UserFactory() for _ in range(5)]
    now = timezone.now()
    spends = [[], [40_000], [60_000, 50_000], [300_000, 10_000], [5_000]]
    for user, amounts in zip(users, spends, strict=True):
        for amount in amounts:
            PurchaseFactory(user=user, amount_minor=amount, external_id=f"{tag}_{user.pk}_{amount}")
    PurchaseFactory(
        user=users[1], amount_minor=900_000, occurred_at=now - timedelta(days=400), external_id=f"{tag}_old"
    )
    Purchase.objects.filter(user=users[3], amount_minor=300_000).update(
        refunded_minor=100_000, status=Purchase.Status.PARTLY_REFUNDED
    )
    purchase = Purchase.objects.filter(user=users[4]).first()
    Reward.objects.create(
        kind="offer",
        offer=OfferFactory(merchant=purchase.merchant),
        purchase=purchase,
        user=users[4],
        beneficiary="consumer",
        currency="NOK",
        amount_minor=20_000,
        ledger_key=f"{tag}:r",
    )
    CustomerTier.objects.create(user=users[2], tier=Tier.objects.get(rank=3), computed_at=now - timedelta(days=1))
    return users


def test_the_set_based_recompute_gives_what_one_by_one_gives():
    TierFactory(rank=1, name="Silver", threshold_minor=100_000)
    TierFactory(rank=2, name="Gold", threshold_minor=200_000)
    TierFactory(rank=3, name="Saver", basis=Tier.Basis.EARNED_CASHBACK, threshold_minor=15_000)
    one_by_one, together = _world("a"), _world("b")

    for user in one_by_one:
        tier_recompute(user=user)
    assert tier_recompute_many(user_ids=[u.pk for u in together] + [999_999], requested_at=timezone.now()) == 5

    assert _state(together) == _state(one_by_one)
    by_user, facts = _state(together)
    assert [by_user[i][0] for i in range(5)] == [None, None, "Silver", "Gold", "Saver"]
    assert facts == [("Gold", ""), ("Saver", ""), ("Silver", "Saver")]
    # Again: nothing changes, nothing is announced again.
    assert tier_recompute_many(user_ids=[u.pk for u in together], requested_at=timezone.now()) == 5
    assert _state(together) == (by_user, facts)
