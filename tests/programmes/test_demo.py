"""The programmes' demo data: seeded twice, it is there once, with a tier paid and a budget used."""

import pytest

from cashback.demo import seed_demo_data
from programmes.models import BusinessCustomer, Contract, CustomerSourceLink, FieldRole, RegionBudget, TierReward
from wallet.models import JournalKind, JournalTransaction

pytestmark = pytest.mark.django_db


def test_seeding_twice_changes_nothing_the_second_time():
    seed_demo_data()
    counts = (
        FieldRole.objects.count(),
        BusinessCustomer.objects.count(),
        Contract.objects.count(),
        TierReward.objects.count(),
        CustomerSourceLink.objects.count(),
    )
    seed_demo_data()

    assert counts == (
        FieldRole.objects.count(),
        BusinessCustomer.objects.count(),
        Contract.objects.count(),
        TierReward.objects.count(),
        CustomerSourceLink.objects.count(),
    )
    assert counts == (7, 4, 4, 1, 1)
    link = CustomerSourceLink.objects.get()
    assert (link.customer.code, link.merchant.display_name, link.kind) == ("WS-1001", "Fjord Coffee", "shop")
    assert JournalTransaction.objects.filter(kind=JournalKind.PROGRAMME_REWARD).count() == 1
    north = RegionBudget.objects.get(region__name="North")
    assert north.paid_minor == 50_000 and north.committed_minor == 400_000
    assert Contract.objects.filter(status="proposed").count() == 1
