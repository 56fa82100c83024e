"""The same card purchase's fact delivered on several workers at once, and the catch-up racing them, each
on its own PostgreSQL connection: one ``PurchaseValue`` row, the tier paid once, the budget never overspent."""

import datetime

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from programmes import linked_sources
from programmes.models import PurchaseValue, RegionBudget, TierReward
from tests.accounts.factories import UserFactory
from tests.concurrency import run_together
from tests.merchants.factories import MerchantFactory
from tests.programmes.factories import customer, programme_world
from tests.programmes.test_linked_sources import VALUE_TIER, value_contract

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_purchase_told_many_times_at_once_pays_its_tier_once(monkeypatch):
    world = programme_world()
    contract = value_contract(world, customer(world))
    shop = MerchantFactory(currency="NOK")
    # Recorded before the link (nobody told); the link's own catch-up is held back to race below.
    purchase = campaign_services.purchase_event_apply(
        source="card",
        event_id="ev-race",
        kind="clearing",
        external_id="card-race",
        amount_minor=150_000,
        currency="NOK",
        occurred_at=timezone.now() - datetime.timedelta(minutes=1),
        user=UserFactory(),
        merchant=shop,
    )
    monkeypatch.setattr(linked_sources, "_catch_up_later", lambda link_id: None)
    link = linked_sources.source_link_shop(
        role=world.programme_admin, customer=contract.customer, organisation_number=shop.organisation_number
    )
    assert not PurchaseValue.objects.exists()

    def deliver(i: int) -> int:
        if i == 0:
            return linked_sources.source_link_catch_up(link_id=link.pk)
        return linked_sources.linked_purchase_apply(
            purchase_id=purchase.pk, user_id=purchase.user_id, merchant_id=shop.pk
        )

    results = run_together(deliver, threads=6)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert PurchaseValue.objects.get().value_minor == 150_000
    assert TierReward.objects.filter(contract=contract).count() == 1
    budget = RegionBudget.objects.get(programme=contract.programme, region=world.north)
    assert budget.paid_minor == VALUE_TIER[1] <= budget.committed_minor <= budget.amount_minor
    contract.refresh_from_db()
    assert (contract.achieved, contract.paid_minor) == (150_000, VALUE_TIER[1])
