"""Whether a consumer qualifies for offers now: every condition of the rules engine that fails is a reason,
with its stable code; read-only; a page of offers at many merchants costs the same few queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.eligibility import ELIGIBILITY_SELECT, Shop, offers_eligibility
from campaigns.models import CustomerTier, Offer, Reward
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory, PurchaseFactory, TierFactory
from tests.merchants.factories import LocationFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def _loaded(*offers):
    return Offer.objects.filter(pk__in=[offer.pk for offer in offers]).select_related(*ELIGIBILITY_SELECT)


def _judge(user, *offers, at=None, shops=None):
    return offers_eligibility(user=user, offers=_loaded(*offers), at=at or timezone.now(), shops=shops)


def test_an_offer_for_everyone_is_open_to_a_new_consumer():
    offer = OfferFactory(min_spend_minor=50_000, max_rewards_per_customer=3, budget_total_minor=100_000)

    result = _judge(UserFactory(), offer)[offer.pk]

    assert result.eligible and result.reasons == ()


def test_new_customers_only_after_a_purchase_there():
    user = UserFactory()
    offer = OfferFactory(audience="new_customers")
    returning = OfferFactory(audience="returning_customers")
    PurchaseFactory(user=user, merchant=offer.merchant)

    result = _judge(user, offer, returning)

    assert result[offer.pk].codes == ["not_new_customer"]
    assert result[returning.pk].codes == ["not_returning_customer"]
    assert "new customers" in result[offer.pk].reasons[0].message


def test_tier_too_low_until_the_consumer_reaches_it():
    gold = TierFactory(rank=2, name="Gold")
    offer = OfferFactory(audience="tier", min_tier=gold)
    user = UserFactory()

    assert _judge(user, offer)[offer.pk].codes == ["tier_too_low"]
    assert "Gold" in _judge(user, offer)[offer.pk].reasons[0].message

    CustomerTier.objects.create(user=user, tier=gold, computed_at=timezone.now())
    assert _judge(user, offer)[offer.pk].eligible


def test_per_customer_cap_counts_this_consumers_rewards_only():
    user, other = UserFactory(), UserFactory()
    offer = OfferFactory(max_rewards_per_customer=1)
    purchase = PurchaseFactory(user=user, merchant=offer.merchant)
    Reward.objects.create(offer=offer, purchase=purchase, user=user, amount_minor=100, currency="NOK")

    assert _judge(user, offer)[offer.pk].codes == ["customer_cap_reached"]
    assert _judge(other, offer)[offer.pk].eligible


def test_every_failing_condition_is_a_reason_in_the_engines_order():
    now = timezone.now()
    other_days = [day for day in range(7) if day != now.astimezone(timezone.get_default_timezone()).weekday()]
    offer = OfferFactory(
        audience="segment",
        segment={"city": ["Bergen"]},
        days_of_week=other_days,
        budget_total_minor=1_000,
        budget_spent_minor=1_000,
    )

    result = _judge(UserFactory(city="Oslo"), offer, at=now)[offer.pk]

    assert not result.eligible
    assert result.codes == ["day_not_included", "not_in_segment", "budget_spent"]


def test_outside_the_hours_is_a_reason_in_the_shops_time_zone():
    at = timezone.now().replace(hour=12, minute=0)  # 12:00 UTC: 13:00 or 14:00 in Oslo, 21:00 in Tokyo
    offer = OfferFactory(hour_from=12, hour_to=16)

    assert _judge(UserFactory(), offer, at=at, shops={offer.pk: Shop(time_zone="Europe/Oslo")})[offer.pk].eligible
    tokyo = _judge(UserFactory(), offer, at=at, shops={offer.pk: Shop(time_zone="Asia/Tokyo")})[offer.pk]
    assert tokyo.codes == ["outside_hours"]


def test_an_offer_for_some_shops_is_judged_at_the_shop_given():
    offer = OfferFactory()
    named, elsewhere = LocationFactory(merchant=offer.merchant), LocationFactory(merchant=offer.merchant)
    offer.locations.set([named])
    user = UserFactory()

    assert _judge(user, offer, shops={offer.pk: Shop(location_id=named.pk)})[offer.pk].eligible
    assert _judge(user, offer, shops={offer.pk: Shop(location_id=elsewhere.pk)})[offer.pk].codes == [
        "location_not_included"
    ]
    assert _judge(user, offer)[offer.pk].eligible  # without a shop: judged at one it names


def test_a_page_of_offers_at_many_merchants_costs_the_same_queries(django_assert_max_num_queries):
    user = UserFactory()
    few = [OfferFactory() for _ in range(2)]
    many = [OfferFactory(merchant=MerchantFactory()) for _ in range(25)]
    for offer in many[:10]:
        PurchaseFactory(user=user, merchant=offer.merchant)
    few_offers, many_offers = list(_loaded(*few)), list(_loaded(*many))

    with django_assert_max_num_queries(4):  # the shops the offers name; tier, purchases, rewards
        offers_eligibility(user=user, offers=few_offers, at=timezone.now())
    with django_assert_max_num_queries(4):
        result = offers_eligibility(user=user, offers=many_offers, at=timezone.now())
    assert len(result) == 25


def test_judging_writes_nothing():
    offer = OfferFactory(max_rewards_per_customer=1, budget_total_minor=500)
    before = Offer.objects.values().get(pk=offer.pk)

    _judge(UserFactory(), offer, at=timezone.now() + timedelta(minutes=1))

    assert Offer.objects.values().get(pk=offer.pk) == before
