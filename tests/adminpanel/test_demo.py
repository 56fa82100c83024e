"""The demo adjustments: one approved (posted), one rejected, one waiting; a second run changes nothing."""

import pytest

from accounts.demo import seed_demo_users
from adminpanel.demo import seed_demo_adjustments
from charity.demo import seed_demo_charities
from merchants.demo import seed_demo_merchants
from wallet.invariants import ledger_violations
from wallet.models import Adjustment, JournalKind, JournalTransaction

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_approved_a_rejected_and_a_proposed_adjustment_once():
    seed_demo_users()
    seed_demo_merchants()
    seed_demo_charities()

    seed_demo_adjustments()
    seed_demo_adjustments()

    assert sorted(Adjustment.objects.values_list("status", flat=True)) == ["approved", "proposed", "rejected"]
    approved = Adjustment.objects.get(status="approved")
    assert approved.decided_by != approved.proposed_by
    assert approved.account.balance == 4_900
    assert JournalTransaction.objects.filter(kind=JournalKind.ADJUSTMENT).count() == 1
    assert not ledger_violations()
