"""The ledger side of a charity reward (campaigns.services.rewards): a reference that names no
charity is the offer's fault; any other failure is reported as itself."""

from decimal import Decimal

import pytest

from campaigns.errors import CharityRewardError
from campaigns.models import Purchase, Reward
from campaigns.services import rewards
from cashback.errors import NotFoundError
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("charity_ref", ["999999", "not-a-number"])
def test_an_offer_naming_no_charity_cannot_book_its_reward(charity_ref):
    offer = OfferFactory(reward_type="charity", percent=Decimal("10"), charity_ref=charity_ref)

    with pytest.raises(CharityRewardError):
        event(user=UserFactory(), merchant=offer.merchant, kind="clearing", amount=10_000)

    assert not Purchase.objects.exists()
    assert not Reward.objects.exists()


class LedgerAccountMissingError(NotFoundError):
    code = "ledger_account_not_found"


def test_another_not_found_error_is_not_mistaken_for_a_missing_charity(monkeypatch):
    offer = OfferFactory(reward_type="charity", percent=Decimal("10"), charity_ref="1")

    def broken(**kwargs):
        raise LedgerAccountMissingError()

    monkeypatch.setattr(rewards, "charity_payable_account_open", broken)

    with pytest.raises(LedgerAccountMissingError):
        event(user=UserFactory(), merchant=offer.merchant, kind="clearing", amount=10_000)
