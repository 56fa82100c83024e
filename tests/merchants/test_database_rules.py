"""Rules the database holds on its own, whatever the code does."""

import pytest
from django.db import IntegrityError, transaction
from django.db.utils import InternalError

from merchants.models import AuditEvent, Location, Membership
from merchants.services import audit_record
from tests.accounts.factories import UserFactory
from tests.merchants.factories import LocationFactory, MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_audit_events_cannot_be_updated_or_deleted_in_sql():
    event = audit_record(merchant=MerchantFactory(), actor=UserFactory(), action="merchant.approved")

    for attempt in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="merchant.rejected"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            attempt()

    assert AuditEvent.objects.get(pk=event.pk).action == "merchant.approved"


@pytest.mark.postgres
def test_erasing_a_user_keeps_their_audit_events_without_the_link():
    actor = UserFactory()
    event = audit_record(merchant=MerchantFactory(), actor=actor, action="merchant.approved")

    actor.delete()

    event.refresh_from_db()
    assert event.actor is None
    assert event.action == "merchant.approved"


def test_network_ids_are_unique_in_the_database():
    LocationFactory(network_merchant_id="NM1", network_store_id="S1")

    with pytest.raises(IntegrityError), transaction.atomic():
        LocationFactory(network_merchant_id="NM1", network_store_id="S1")


def test_many_shops_may_have_no_network_ids_yet():
    LocationFactory(network_merchant_id="", network_store_id="")
    LocationFactory(network_merchant_id="", network_store_id="")

    assert Location.objects.count() == 2


def test_a_user_is_a_member_of_a_merchant_once():
    membership = MembershipFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(merchant=membership.merchant, user=membership.user, role="analyst")


def test_roles_are_checked_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(role="superuser")


def test_a_suspended_merchant_has_a_reason():
    with pytest.raises(IntegrityError), transaction.atomic():
        MerchantFactory(status="suspended", status_reason="")


def test_coordinates_come_in_pairs():
    with pytest.raises(IntegrityError), transaction.atomic():
        LocationFactory(latitude=None)
