"""A charity offer's reward is credited to the charity's payable account; an unknown charity is a
CharityRewardError, and any other error goes up as itself (not matched on a code's suffix)."""

from types import SimpleNamespace
from unittest import mock

import pytest

from campaigns import lifecycle
from campaigns.errors import CharityRewardError
from tests.charity.factories import CharityFactory
from wallet.errors import SpendHoldNotFoundError
from wallet.models import AccountKind

pytestmark = pytest.mark.django_db


def _reward(charity_ref: str, currency: str = "NOK") -> SimpleNamespace:
    return SimpleNamespace(offer_id=7, charity_ref=charity_ref, currency=currency)


def test_a_known_charity_gets_its_payable_account_opened():
    charity = CharityFactory()

    account = lifecycle._charity_account(_reward(str(charity.pk)))

    assert (account.kind, account.owner_key) == (AccountKind.CHARITY_PAYABLE, f"charity:{charity.pk}")


@pytest.mark.parametrize("charity_ref", ["424242", "not-a-number"])
def test_an_unknown_or_malformed_charity_is_a_charity_reward_error(charity_ref):
    with pytest.raises(CharityRewardError):
        lifecycle._charity_account(_reward(charity_ref))


def test_other_errors_are_not_swallowed_into_a_charity_reward_error():
    """Even one whose code ends in "not_found" (the old suffix match turned it into a charity error)."""
    charity = CharityFactory()
    broken = mock.patch.object(lifecycle, "charity_payable_account_open", side_effect=SpendHoldNotFoundError())

    with broken, pytest.raises(SpendHoldNotFoundError):
        lifecycle._charity_account(_reward(str(charity.pk)))
