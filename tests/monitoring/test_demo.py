"""The demo flags: a velocity flag, a near-duplicate and a held one, seeded twice without change."""

import pytest

from accounts.demo import DEMO_CONSUMER_EMAIL
from campaigns.demo import DEMO_MERCHANT_ORG_NUMBER
from monitoring.demo import seed_demo_flags
from monitoring.models import FraudFlag
from tests.accounts.factories import CardFactory, UserFactory
from tests.campaigns.factories import MerchantFactory, OfferFactory

pytestmark = pytest.mark.django_db


def test_the_demo_has_flags_worth_looking_at_and_seeding_twice_changes_nothing():
    consumer = UserFactory(email=DEMO_CONSUMER_EMAIL)
    CardFactory(user=consumer)
    UserFactory(email="admin@demo.cashback.example", is_staff=True, is_superuser=True)
    OfferFactory(merchant=MerchantFactory(organisation_number=DEMO_MERCHANT_ORG_NUMBER))

    seed_demo_flags()
    flags = {flag.rule: flag.status for flag in FraudFlag.objects.all()}
    assert flags == {"velocity": "open", "near_duplicate": "held"}

    assert seed_demo_flags()[0].startswith("2 demo flag(s)")
    assert FraudFlag.objects.count() == 2


def test_without_the_demo_people_nothing_is_seeded():
    assert seed_demo_flags() == ["no demo consumer, card or merchant: skipped demo flags"]
