"""Data migration: device ids stored before the keyed hash (accounts.visitor.device_id) are replaced
by it — on referrals and device sightings, and in the payload of the ``user_signed_up`` facts, whose
pending deliveries then compare like with like. Afterwards a device seen again (its id now arrives
hashed) still matches its earlier rows. The namespace is written out here so this migration keeps
doing what it did. Reverse: nothing (the ids cannot be recovered from their hashes).
"""

import base64
import hashlib
import hmac

from django.conf import settings
from django.db import migrations

BATCH = 1000


def _key(value: str) -> str:
    digest = hmac.new(settings.EXTERNAL_ID_KEY.encode(), f"device\n{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode().lower()


def _rekey_rows(model, field: str) -> None:
    last = 0
    while batch := list(model.objects.filter(pk__gt=last).exclude(**{field: ""}).order_by("pk")[:BATCH]):
        for row in batch:
            setattr(row, field, _key(getattr(row, field)))
        model.objects.bulk_update(batch, [field])
        last = batch[-1].pk


def hash_device_ids(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    DeviceSighting = apps.get_model("referrals", "DeviceSighting")
    Fact = apps.get_model("cashback", "Fact")
    facts = Fact.objects.filter(kind="user_signed_up").exclude(payload__device_id="").exclude(payload__device_id=None)
    stored = Referral.objects.exclude(device_id="").exists() or DeviceSighting.objects.exclude(device_id="").exists()
    if not (stored or facts.exists()):
        return
    if not settings.EXTERNAL_ID_KEY:
        raise RuntimeError("Set EXTERNAL_ID_KEY before migrating: device ids are keyed with it.")
    _rekey_rows(Referral, "device_id")
    _rekey_rows(DeviceSighting, "device_id")
    last = 0
    while batch := list(facts.filter(pk__gt=last).order_by("pk")[:BATCH]):
        for fact in batch:
            fact.payload = {**fact.payload, "device_id": _key(fact.payload["device_id"])}
        Fact.objects.bulk_update(batch, ["payload"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
        ("cashback", "0002_fact_outbox"),
    ]

    operations = [migrations.RunPython(hash_device_ids, migrations.RunPython.noop)]
