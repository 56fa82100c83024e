from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

pytestmark = pytest.mark.django_db

COUNTED_MODELS = [
    "accounts.User",
    "accounts.Card",
    "merchants.Merchant",
    "merchants.Location",
    "merchants.Membership",
    "campaigns.Offer",
    "campaigns.Purchase",
    "campaigns.Tier",
    "wallet.LedgerAccount",
    "wallet.JournalTransaction",
]


def _counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in COUNTED_MODELS}


def test_seed_demo_creates_the_demo_platform_and_a_second_run_changes_nothing():
    call_command("seed_demo", stdout=StringIO())
    first = _counts()
    assert first["accounts.User"] >= 2
    assert first["merchants.Merchant"] >= 1
    assert first["accounts.Card"] >= 1
    assert first["campaigns.Offer"] >= 1

    output = StringIO()
    call_command("seed_demo", stdout=output)

    assert _counts() == first
    assert "Demo data is in place." in output.getvalue()
