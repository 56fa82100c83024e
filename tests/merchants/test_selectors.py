"""Reads other apps rely on: memberships, my merchants, shops by card-network ids, may it earn."""

import pytest

from merchants.models import Merchant
from merchants.selectors import (
    has_memberships,
    location_by_network_ids,
    locations_of,
    membership_for,
    merchant_can_earn,
    merchant_list,
    merchants_of,
)
from tests.accounts.factories import UserFactory
from tests.merchants.factories import LocationFactory, MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def test_membership_for_finds_the_users_role_at_that_merchant_only():
    membership = MembershipFactory(role="manager")
    other = MerchantFactory()

    assert membership_for(user=membership.user, merchant_id=membership.merchant_id) == membership
    assert membership_for(user=membership.user, merchant_id=other.pk) is None
    assert membership_for(user=UserFactory(), merchant_id=membership.merchant_id) is None


def test_membership_for_an_anonymous_user_is_none():
    from django.contrib.auth.models import AnonymousUser

    assert membership_for(user=AnonymousUser(), merchant_id=1) is None


def test_merchants_of_lists_the_users_merchants_with_their_role():
    user = UserFactory()
    MembershipFactory(user=user, role="owner", merchant=MerchantFactory(display_name="B shop"))
    MembershipFactory(user=user, role="analyst", merchant=MerchantFactory(display_name="A shop"))
    MembershipFactory(merchant=MerchantFactory(display_name="Not mine"))

    rows = [(merchant.display_name, merchant.my_role) for merchant in merchants_of(user=user)]

    assert rows == [("A shop", "analyst"), ("B shop", "owner")]
    assert has_memberships(user=user)
    assert not has_memberships(user=UserFactory())


def test_location_by_network_ids_matches_the_pair_exactly():
    location = LocationFactory(network_merchant_id="NM1", network_store_id="S1")
    LocationFactory(network_merchant_id="NM1", network_store_id="S2")

    found = location_by_network_ids(network_merchant_id="NM1", network_store_id="S1")

    assert found == location
    assert found.merchant == location.merchant
    assert location_by_network_ids(network_merchant_id="NM2", network_store_id="S1") is None
    assert location_by_network_ids(network_merchant_id="", network_store_id="") is None


def test_location_by_network_ids_is_one_query(django_assert_num_queries):
    LocationFactory(network_merchant_id="NM1", network_store_id="S1")

    with django_assert_num_queries(1):
        location = location_by_network_ids(network_merchant_id="NM1", network_store_id="S1")
        assert location.merchant.display_name


@pytest.mark.parametrize(
    ("status", "can_earn"),
    [
        (Merchant.Status.APPROVED, True),
        (Merchant.Status.PENDING_REVIEW, False),
        (Merchant.Status.REJECTED, False),
        (Merchant.Status.SUSPENDED, False),
    ],
)
def test_only_approved_merchants_earn_rewards(status, can_earn):
    merchant = MerchantFactory(status=status)

    assert merchant_can_earn(merchant) is can_earn
    assert merchant.is_active_for_rewards is can_earn


def test_locations_of_filters_on_map_position():
    merchant = MerchantFactory()
    placed = LocationFactory(merchant=merchant)
    missing = LocationFactory(merchant=merchant, latitude=None, longitude=None)

    assert list(locations_of(merchant=merchant, map_position="missing")) == [missing]
    assert list(locations_of(merchant=merchant, map_position="placed")) == [placed]
    assert set(locations_of(merchant=merchant)) == {placed, missing}


def test_staff_search_finds_names_numbers_and_emails():
    merchant = MerchantFactory(display_name="Fjord Coffee", organisation_number="923609016", contact_email="x@fjord.no")
    MerchantFactory(display_name="Other")

    assert list(merchant_list(search="fjord")) == [merchant]
    assert list(merchant_list(search="923 609")) == [merchant]
    assert list(merchant_list(search="x@fjord")) == [merchant]
    assert list(merchant_list(status="pending_review")) == []
