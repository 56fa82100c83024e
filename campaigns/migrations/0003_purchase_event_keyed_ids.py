"""Data migration: purchase events stored before the keyed hash get their ids replaced by it.

``PurchaseEvent`` is append-only in the code's eyes (no trigger holds it), and this is the one
rewrite it gets: afterwards no event row holds a sender's id verbatim, and a replayed old event hashes
to the same stored id, so it is recognised as a replay. The namespaces are written out here rather
than imported, so that this migration keeps doing what it did if campaigns/purchase_keys.py changes.
Reverse: nothing (the sender's ids cannot be recovered from their hashes).
"""

import base64
import hashlib
import hmac

from django.conf import settings
from django.db import migrations

BATCH = 1000


def _key(namespace: str, value: str) -> str:
    digest = hmac.new(settings.EXTERNAL_ID_KEY.encode(), f"{namespace}\n{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode().lower()


def hash_event_ids(apps, schema_editor):
    PurchaseEvent = apps.get_model("campaigns", "PurchaseEvent")
    if not PurchaseEvent.objects.exists():
        return
    if not settings.EXTERNAL_ID_KEY:
        raise RuntimeError("Set EXTERNAL_ID_KEY before migrating: purchase events' ids are keyed with it.")
    last = 0
    while True:
        batch = list(PurchaseEvent.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        for event in batch:
            event.event_id = _key(f"{event.source}:event", event.event_id)
            event.external_id = _key(f"{event.source}:purchase", event.external_id)
            if event.original_external_id:
                event.original_external_id = _key(f"{event.source}:purchase", event.original_external_id)
        PurchaseEvent.objects.bulk_update(batch, ["event_id", "external_id", "original_external_id"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_purchase_lifecycle")]

    operations = [migrations.RunPython(hash_event_ids, migrations.RunPython.noop)]
