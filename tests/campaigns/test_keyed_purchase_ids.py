"""A purchase's outside ids are kept for good only as keyed hashes, and replays still find their rows.

Rows written before the keyed hash (verbatim reward prefixes, verbatim event ids re-keyed by migration
campaigns.0003) keep working: a replayed old event posts nothing new, and a later change of the
purchase posts under the reward's stored prefix.
"""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from campaigns.models import PurchaseEvent, Reward
from campaigns.purchase_keys import purchase_event_key, purchase_id_key, reward_ledger_key
from campaigns.services import purchase_rewards, purchases
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event
from wallet.models import JournalTransaction

pytestmark = pytest.mark.django_db

rekey_migration = importlib.import_module("campaigns.migrations.0003_purchase_event_keyed_ids")


@pytest.fixture
def shop():
    return OfferFactory(percent=Decimal("10"), return_period_days=14)


def test_event_rows_and_ledger_keys_hold_keyed_hashes_of_the_senders_ids(shop):
    user = UserFactory()

    event(user=user, merchant=shop.merchant, kind="clearing", amount=20_000, txn="txn-marker-1", event_id="evt-m1")
    event(
        user=user,
        merchant=shop.merchant,
        kind="refund",
        amount=5_000,
        txn="refund-marker-1",
        original="txn-marker-1",
        event_id="evt-m2",
    )

    stored = list(PurchaseEvent.objects.order_by("pk").values_list("event_id", "external_id", "original_external_id"))
    assert stored == [
        (
            purchase_event_key(source="card", event_id="evt-m1"),
            purchase_id_key(source="card", external_id="txn-marker-1"),
            "",
        ),
        (
            purchase_event_key(source="card", event_id="evt-m2"),
            purchase_id_key(source="card", external_id="refund-marker-1"),
            purchase_id_key(source="card", external_id="txn-marker-1"),
        ),
    ]
    keys = " ".join(JournalTransaction.objects.values_list("idempotency_key", flat=True))
    assert "marker" not in keys
    prefix = reward_ledger_key(source="card", external_id="txn-marker-1", offer_id=shop.pk)
    assert Reward.objects.get().ledger_key == prefix
    assert f"{prefix}:earn" in keys and f"{prefix}:adjust:2" in keys


def _apply_as_before_the_keyed_hash(monkeypatch, **kwargs):
    """Apply an event the way the code did before this change: ids stored as sent."""
    with monkeypatch.context() as patch:
        patch.setattr(purchases, "purchase_event_key", lambda *, source, event_id: event_id)
        patch.setattr(purchases, "purchase_id_key", lambda *, source, external_id: external_id)
        patch.setattr(
            purchase_rewards,
            "reward_ledger_key",
            lambda *, source, external_id, offer_id: f"{source}:{external_id}:{offer_id}",
        )
        return event(**kwargs)


def test_an_old_event_replayed_after_the_change_posts_nothing_and_later_changes_use_the_stored_prefix(
    shop, monkeypatch
):
    user = UserFactory()
    _apply_as_before_the_keyed_hash(
        monkeypatch, user=user, merchant=shop.merchant, kind="auth", amount=20_000, txn="txn_old", event_id="evt_old"
    )
    reward = Reward.objects.get()
    assert reward.ledger_key == f"card:txn_old:{shop.pk}"  # as rows written before the change hold it
    rekey_migration.hash_event_ids(apps, None)
    journals = JournalTransaction.objects.count()

    # Given the deploy, when the network delivers the same event again (a new inbox row after a
    # purge, say), then nothing is posted: the re-keyed event row recognises it.
    purchase = event(user=user, merchant=shop.merchant, kind="auth", amount=20_000, txn="txn_old", event_id="evt_old")

    assert JournalTransaction.objects.count() == journals
    assert PurchaseEvent.objects.count() == 1
    reward.refresh_from_db()
    assert reward.booked_minor == 2_000

    # When the clearing comes (a tip), the adjustment is posted under the reward's stored prefix.
    event(user=user, merchant=shop.merchant, kind="clearing", amount=25_000, txn="txn_old", event_id="evt_old_2")

    reward.refresh_from_db()
    assert reward.booked_minor == 2_500 and reward.purchase_id == purchase.pk
    assert JournalTransaction.objects.filter(idempotency_key=f"card:txn_old:{shop.pk}:adjust:2").exists()
    assert Reward.objects.count() == 1


def test_the_rekeying_migration_hashes_every_old_event_row_once(shop, monkeypatch):
    user = UserFactory()
    _apply_as_before_the_keyed_hash(
        monkeypatch, user=user, merchant=shop.merchant, kind="clearing", amount=10_000, txn="t-1", event_id="e-1"
    )
    _apply_as_before_the_keyed_hash(
        monkeypatch,
        user=user,
        merchant=shop.merchant,
        kind="refund",
        amount=1_000,
        txn="r-1",
        original="t-1",
        event_id="e-2",
    )

    rekey_migration.hash_event_ids(apps, None)

    assert set(PurchaseEvent.objects.values_list("event_id", "external_id", "original_external_id")) == {
        (purchase_event_key(source="card", event_id="e-1"), purchase_id_key(source="card", external_id="t-1"), ""),
        (
            purchase_event_key(source="card", event_id="e-2"),
            purchase_id_key(source="card", external_id="r-1"),
            purchase_id_key(source="card", external_id="t-1"),
        ),
    }
