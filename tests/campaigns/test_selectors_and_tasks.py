"""Selectors (the engine's inputs), the beat tasks and the demo data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import tasks
from campaigns.demo import DEMO_MERCHANT_ORG_NUMBER, seed_demo_campaigns
from campaigns.models import CustomerTier, Offer, OfferStatus, Reward
from campaigns.rules import Audience, RewardType
from campaigns.selectors import customer_context, live_offers_for_merchant
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import (
    LineItemRuleFactory,
    LocationFactory,
    MerchantFactory,
    OfferFactory,
    PurchaseFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db


def test_live_offers_are_only_this_merchants_live_ones_in_their_period():
    merchant = MerchantFactory()
    live = OfferFactory(merchant=merchant)
    OfferFactory(merchant=merchant, status=OfferStatus.PAUSED)
    OfferFactory(merchant=merchant, starts_at=timezone.now() + timedelta(days=1))
    OfferFactory()  # another merchant

    terms = live_offers_for_merchant(merchant_id=merchant.pk, at=timezone.now())

    assert [t.id for t in terms] == [live.pk]
    assert terms[0].reward_type == RewardType.PERCENT
    assert terms[0].percent == Decimal("10")


def test_live_offer_terms_carry_locations_rules_tier_and_remaining_budget():
    location = LocationFactory()
    gold = TierFactory(rank=3, name="Gold")
    offer = OfferFactory(
        merchant=location.merchant,
        audience=Audience.TIER,
        min_tier=gold,
        budget_total_minor=10_000,
        budget_spent_minor=2_500,
        days_of_week=[5, 6],
    )
    offer.locations.add(location)
    LineItemRuleFactory(offer=offer, key="coffee")

    (terms,) = live_offers_for_merchant(merchant_id=location.merchant_id, at=timezone.now())

    assert terms.location_ids == frozenset({location.pk})
    assert [rule.key for rule in terms.line_item_rules] == ["coffee"]
    assert (terms.min_tier_rank, terms.min_tier_name) == (3, "Gold")
    assert terms.budget_remaining_minor == 7_500
    assert terms.days_of_week == frozenset({5, 6})


def test_lookup_query_count_does_not_grow_with_offers():
    merchant = MerchantFactory()
    OfferFactory(merchant=merchant)
    with CaptureQueriesContext(connection) as one:
        live_offers_for_merchant(merchant_id=merchant.pk, at=timezone.now())
    for _ in range(10):
        offer = OfferFactory(merchant=merchant)
        LineItemRuleFactory(offer=offer)
        offer.locations.add(LocationFactory(merchant=merchant))
    with CaptureQueriesContext(connection) as eleven:
        live_offers_for_merchant(merchant_id=merchant.pk, at=timezone.now())

    assert len(eleven) == len(one) <= 3


def test_customer_context_counts_history_at_this_merchant_only():
    user = UserFactory(city="Oslo", birth_year=1990)
    offer = OfferFactory()
    now = timezone.now()
    earlier = PurchaseFactory(user=user, merchant=offer.merchant, occurred_at=now - timedelta(days=5))
    PurchaseFactory(user=user, merchant=offer.merchant, occurred_at=now - timedelta(days=2), status="refunded")
    PurchaseFactory(user=user, occurred_at=now - timedelta(days=1))  # elsewhere
    PurchaseFactory(user=user, merchant=offer.merchant, occurred_at=now + timedelta(minutes=1))  # after
    Reward.objects.create(offer=offer, purchase=earlier, user=user, amount_minor=100, currency="NOK")
    tier = TierFactory(rank=1, multiplier=Decimal("1.25"))
    CustomerTier.objects.create(user=user, tier=tier, computed_at=now)

    context = customer_context(user=user, merchant_id=offer.merchant_id, before=now)

    assert context.purchases_at_merchant == 1
    assert context.rewards_from_offer == {offer.pk: 1}
    assert (context.tier_rank, context.tier_multiplier) == (1, Decimal("1.25"))
    assert context.segment["city"] == "Oslo"
    assert context.segment["birth_year"] == 1990


def test_beat_tasks_activate_and_end_due_offers_and_are_safe_twice():
    due = OfferFactory(status=OfferStatus.SCHEDULED)
    over = OfferFactory(
        status=OfferStatus.LIVE,
        starts_at=timezone.now() - timedelta(days=10),
        ends_at=timezone.now() - timedelta(minutes=1),
    )

    assert tasks.offers_activate_due.delay().get() == 1
    assert tasks.offers_end_due.delay().get() == 1
    assert tasks.offers_activate_due.delay().get() == 0
    assert tasks.offers_end_due.delay().get() == 0
    assert Offer.objects.get(pk=due.pk).status == OfferStatus.LIVE
    assert Offer.objects.get(pk=over.pk).status == OfferStatus.ENDED


def test_tier_task_for_a_missing_user_does_nothing():
    assert tasks.tier_recompute_for_user.delay(999_999).get() is None


def test_demo_campaigns_need_the_demo_merchant_and_are_idempotent():
    from cashback.demo import seed_demo_data

    seed_demo_data()  # may already call seed_demo_campaigns once it is wired in
    seed_demo_campaigns()
    second = seed_demo_campaigns()

    offers = Offer.objects.filter(merchant__organisation_number=DEMO_MERCHANT_ORG_NUMBER)  # not the demo shops'
    assert offers.count() == 6  # with the demo year's two (campaigns/demo_year.py)
    assert not any(line.startswith("created") for line in second)
    # Per purchase and monthly spend, and the demo year's regulars' and charity offers.
    assert offers.filter(status=OfferStatus.LIVE).count() == 4
    assert offers.filter(status=OfferStatus.IN_REVIEW).count() == 1
