"""Factories for campaigns' tests. Offers are built straight into the table with a status;
tests of the status machine move them through the services."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from campaigns.models import Challenge, LineItemRule, Offer, OfferStatus, Purchase, Tier
from tests.accounts.factories import UserFactory
from tests.merchants.factories import LocationFactory, MembershipFactory, MerchantFactory  # noqa: F401


class OfferFactory(factory.django.DjangoModelFactory):
    """A live 10 % offer at a new merchant, running from yesterday for 30 days."""

    class Meta:
        model = Offer
        skip_postgeneration_save = True

    merchant = factory.SubFactory(MerchantFactory)
    title = factory.Sequence(lambda n: f"Offer {n}")
    description = "Cashback on everything."
    reward_type = "percent"
    percent = Decimal("10.00")
    currency = "NOK"
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(days=30))
    status = OfferStatus.LIVE


class ChallengeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Challenge

    offer = factory.SubFactory(OfferFactory)
    title = "Spend 1 000 kr this month"
    target_type = "revenue"
    target_value = 100_000
    bonus_minor = 5_000


class LineItemRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineItemRule

    offer = factory.SubFactory(OfferFactory)
    scope = "category"
    key = factory.Sequence(lambda n: f"category-{n}")
    kind = "percent"
    percent = Decimal("20.00")


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ("rank",)

    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n + 1)
    basis = Tier.Basis.ROLLING_SPEND
    threshold_minor = 100_000
    currency = "NOK"
    multiplier = Decimal("1.50")


class PurchaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purchase

    source = Purchase.Source.CARD
    external_id = factory.Sequence(lambda n: f"txn_{n:08d}")
    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    location = None
    amount_minor = 20_000
    currency = "NOK"
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    status = Purchase.Status.CLEARED
    cleared_minor = factory.LazyAttribute(
        lambda p: p.amount_minor if p.status in (Purchase.Status.CLEARED, Purchase.Status.PARTLY_REFUNDED) else None
    )
