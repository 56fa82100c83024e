"""The whole path through the purchases pipeline (campaigns' purchase_event_apply and maturity task):
a referred friend's card purchase earns, matures, and the referral pays — or a refund cancels it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.services import rewards_mature_due
from referrals.models import Referral, ReferralStatus
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event, fund_merchant
from tests.referrals.factories import refer
from tests.referrals.ledger import bonus_credits, bonus_journals
from wallet.invariants import ledger_violations
from wallet.selectors import wallet_balances

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(program):
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    fund_merchant(offer.merchant, 100_000)
    return offer


def after_return_period():
    return timezone.now() + timedelta(days=15)


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_friends_first_card_purchase_pays_both_when_its_cashback_matures(offer):
    referral = refer()
    friend = referral.friend

    event(user=friend, merchant=offer.merchant, kind="auth", amount=25_000, at=timezone.now())
    event(user=friend, merchant=offer.merchant, kind="clearing", amount=25_000, at=timezone.now())
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.QUALIFYING
    assert bonus_journals() == []

    assert rewards_mature_due(now=after_return_period()) == 1
    rewards_mature_due(now=after_return_period())  # the task again: nothing more

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PAID
    assert bonus_credits(referral.referrer) == bonus_credits(friend) == 5000
    friend_nok = next(row for row in wallet_balances(user=friend) if row.currency == "NOK")
    assert (friend_nok.available, friend_nok.lifetime_earned) == (2_500 + 5_000, 2_500 + 5_000)
    assert ledger_violations() == []


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_refund_before_maturity_cancels_and_the_maturity_task_pays_nothing(offer):
    referral = refer()
    friend = referral.friend
    event(user=friend, merchant=offer.merchant, kind="clearing", amount=25_000, txn="txn_1", at=timezone.now())

    event(
        user=friend,
        merchant=offer.merchant,
        kind="refund",
        amount=5_000,
        txn="rf_1",
        original="txn_1",
        at=timezone.now(),
    )
    rewards_mature_due(now=after_return_period())

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CANCELLED
    assert bonus_journals() == []
    assert Referral.objects.get().qualifying_purchase.external_id == "txn_1"
