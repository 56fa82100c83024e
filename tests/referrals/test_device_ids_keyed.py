"""Device ids stored before the keyed hash are re-keyed by migration referrals.0002, so a device that
comes back (its id now arrives hashed, accounts.visitor.device_id) still matches its earlier rows."""

import importlib

import pytest
from django.apps import apps

from cashback import events
from cashback.keyed_ids import external_key
from cashback.models import Fact
from referrals.models import DeviceSighting
from referrals.services import device_sighting_record
from tests.accounts.factories import UserFactory
from tests.referrals.factories import refer

pytestmark = pytest.mark.django_db

rekey_migration = importlib.import_module("referrals.migrations.0002_device_ids_keyed")


def test_old_device_ids_on_referrals_sightings_and_facts_are_rekeyed(program, monkeypatch):
    monkeypatch.setitem(events._subscribers, "user_signed_up", [])
    referral = refer(device_id="old-device-0001")  # stored as sent, as before the keyed hash
    device_sighting_record(user=referral.referrer, device_id="old-device-0002", ip=None)
    events.announce(
        "user_signed_up", user_id=referral.friend_id, referral_code="", ip=None, device_id="old-device-0003"
    )
    events.announce("user_signed_up", user_id=UserFactory().pk, referral_code="", ip=None, device_id="")

    rekey_migration.hash_device_ids(apps, None)

    referral.refresh_from_db()
    assert referral.device_id == external_key(namespace="device", value="old-device-0001")
    assert DeviceSighting.objects.filter(
        user=referral.referrer, device_id=external_key(namespace="device", value="old-device-0002")
    ).exists()
    payloads = sorted(fact.payload["device_id"] for fact in Fact.objects.filter(kind="user_signed_up"))
    assert payloads == sorted(["", external_key(namespace="device", value="old-device-0003")])
    assert "old-device" not in str(list(DeviceSighting.objects.values_list("device_id", flat=True)))
