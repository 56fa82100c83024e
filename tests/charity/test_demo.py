import pytest

from charity.demo import seed_demo_charities, seed_demo_giving
from charity.models import AutoDonateSetting, Charity, ImpactCost
from tests.charity.factories import available_money
from tests.wallet.factories import UserFactory
from wallet.models import JournalTransaction

pytestmark = pytest.mark.django_db


def _state():
    return (
        Charity.objects.count(),
        ImpactCost.objects.count(),
        AutoDonateSetting.objects.count(),
        JournalTransaction.objects.count(),
    )


def test_the_demo_charities_have_impact_units_and_seeding_twice_changes_nothing():
    consumer = UserFactory(email="consumer@demo.cashback.example")
    available_money(consumer, 50_000)

    seed_demo_charities()
    seed_demo_giving()
    after_first = _state()
    seed_demo_charities()
    seed_demo_giving()

    assert _state() == after_first
    desks = Charity.objects.get(slug="skolebenken")
    assert {c.currency: c.unit_cost_minor for c in desks.impact_costs.all()}["NOK"] == 80_000
    books = Charity.objects.get(slug="lesehesten")
    assert {c.currency: c.unit_cost_minor for c in books.impact_costs.all()}["NOK"] == 12_000
    assert AutoDonateSetting.objects.get(user=consumer).share_percent == 10
    assert JournalTransaction.objects.filter(kind="donation").count() == 1


def test_without_the_demo_consumer_only_the_charities_are_made():
    seed_demo_charities()
    seed_demo_giving()

    assert Charity.objects.count() == 2
    assert not AutoDonateSetting.objects.exists()
