import pytest

from cashback.demo import seed_demo_data
from merchants.models import Location, Merchant
from wallet.models import LedgerAccount

pytestmark = pytest.mark.django_db


def test_the_demo_seed_creates_fjord_coffee_once():
    seed_demo_data()
    seed_demo_data()

    merchant = Merchant.objects.get(display_name="Fjord Coffee")
    assert merchant.status == Merchant.Status.APPROVED
    assert merchant.memberships.get(user__email="consumer@demo.cashback.example").role == "owner"
    # and, for logging in as each role (issue 16), a merchant owner and an analyst of their own
    assert set(
        merchant.memberships.exclude(user__email="consumer@demo.cashback.example").values_list("role", flat=True)
    ) == {
        "owner",
        "analyst",
    }
    assert Location.objects.filter(merchant=merchant, city="Oslo").count() == 2
    assert all(location.has_map_position for location in merchant.locations.all())
    assert LedgerAccount.objects.filter(owner_key=f"merchant:{merchant.pk}").count() == 2
