"""The catalogue's demo data: seeded twice, it is there once — items, codes and the member's points."""

import pytest

from cashback.demo import seed_demo_data
from programmes.catalogue_demo import MEMBER_EMAIL, MEMBER_POINTS
from programmes.catalogue_models import RewardItem, VoucherBatch, VoucherCode
from wallet.invariants import ledger_violations
from wallet.points import points_balance

pytestmark = pytest.mark.django_db


def test_the_catalogue_demo_is_seeded_once_with_a_member_who_can_redeem():
    seed_demo_data()
    seed_demo_data()

    assert RewardItem.objects.count() == 4
    assert VoucherCode.objects.filter(status=VoucherCode.Status.ACTIVE).count() == 5
    assert VoucherBatch.objects.filter(status=VoucherBatch.Status.PENDING).count() == 1
    from django.contrib.auth import get_user_model

    member = get_user_model().objects.get(email=MEMBER_EMAIL)
    # At least the catalogue demo's points: the actions demo's survey gives the same member more.
    assert member.phone_verified and points_balance(user=member) >= MEMBER_POINTS
    assert ledger_violations() == []
