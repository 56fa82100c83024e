"""Budgets under concurrency (PostgreSQL): many threads, each with its own connection, against one budget."""

from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.db.models import Sum
from django.utils import timezone

from campaigns.models import Offer, Reward
from campaigns.services import offer_budget_consume
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory, PurchaseFactory
from tests.campaigns.lifecycle_helpers import clear
from tests.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 16


def test_simultaneous_consumers_of_a_nearly_spent_budget_never_overspend_it():
    offer = OfferFactory(budget_total_minor=100_000, budget_spent_minor=99_000)  # 1 000 left

    results = run_together(lambda i: offer_budget_consume(offer_id=offer.pk, amount_minor=300))

    assert all(isinstance(result, int) for result in results), results
    assert sum(results) == 1_000
    assert sorted(results, reverse=True)[:4] == [300, 300, 300, 100]
    offer.refresh_from_db()
    assert offer.budget_spent_minor == 100_000


def test_simultaneous_purchases_reward_within_the_budget_exactly():
    offer = OfferFactory(percent=Decimal("10"), budget_total_minor=5_000)
    purchases = [
        PurchaseFactory(merchant=offer.merchant, user=UserFactory(), amount_minor=7_000, occurred_at=timezone.now())
        for _ in range(THREADS)
    ]  # each earns 700; 16 x 700 = 11 200 asked of a 5 000 budget

    results = run_together(lambda i: clear(purchases[i]))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Reward.objects.aggregate(total=Sum("amount_minor"))["total"] == 5_000
    assert Offer.objects.get(pk=offer.pk).budget_spent_minor == 5_000


def test_the_database_refuses_an_overspent_budget_whatever_the_caller():
    offer = OfferFactory(budget_total_minor=1_000)

    with pytest.raises(IntegrityError):
        Offer.objects.filter(pk=offer.pk).update(budget_spent_minor=1_001)


def test_one_customers_simultaneous_purchases_respect_the_per_customer_maximum():
    offer = OfferFactory(percent=Decimal("10"), max_rewards_per_customer=2)
    user = UserFactory()
    purchases = [
        PurchaseFactory(merchant=offer.merchant, user=user, amount_minor=10_000, occurred_at=timezone.now())
        for _ in range(8)
    ]

    results = run_together(lambda i: clear(purchases[i]), threads=8)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Reward.objects.filter(user=user, offer=offer).count() == 2
