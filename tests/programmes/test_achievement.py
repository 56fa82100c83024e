"""Achievement from orders the platform sees: the brand owner's shop reports an order with line items for
one of its business customers (partner API); after commit the ``purchase_recorded`` fact counts the
programme's products towards the customer's contract, pays a tier reached once, and a refund lowers it."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.rules import LineItem
from cashback.models import Fact
from programmes.achievement import purchase_achievement_apply
from programmes.models import Contract, PurchaseSale, TierReward
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantApiKeyFactory, api_key_headers
from tests.programmes.factories import TIER_ONE, approved_contract, programme_world

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/partner/orders/"


@pytest.fixture
def world():
    return programme_world()


@pytest.fixture
def contract(world):
    contract = approved_contract(world)
    user = contract.customer.user
    user.email = "toko@example.com"
    user.save(update_fields=["email"])
    return contract


def _order(client, world, order_id, lines, *, key="k"):
    body = {
        "order_id": order_id,
        "customer": {"email": "toko@example.com"},
        "amount": str(sum(Decimal(line["amount"]) for line in lines)),
        "currency": "NOK",
        "occurred_at": (timezone.now() - datetime.timedelta(hours=1)).isoformat(),
        "line_items": lines,
    }
    api_key = MerchantApiKeyFactory(merchant=world.brand_owner.merchant)
    return client.post(
        ORDERS, body, content_type="application/json", **api_key_headers(api_key, **{"Idempotency-Key": key})
    )


def test_an_order_of_the_programmes_products_counts_and_pays_the_tier_once(
    client, world, contract, django_capture_on_commit_callbacks
):
    lines = [
        {"sku": "LUMI-SOAP", "quantity": 60, "amount": "600.00"},
        {"sku": "LUMI-SH", "quantity": 40, "amount": "400.00"},
        {"sku": "KRISP-1", "quantity": 500, "amount": "500.00"},  # another brand: not in the programme
        {"sku": "UNKNOWN", "quantity": 9, "amount": "9.00"},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = _order(client, world, "PO-1", lines)
    assert response.status_code == 201, response.content

    contract.refresh_from_db()
    assert contract.achieved == 100
    assert TierReward.objects.filter(contract=contract).count() == 1
    assert contract.paid_minor == TIER_ONE[1]

    # the fact delivered again (a retry) changes nothing
    purchase_id = PurchaseSale.objects.first().purchase_id
    assert purchase_achievement_apply(purchase_id=purchase_id, user_id=contract.customer.user_id, merchant_id=0) == 0
    assert (
        purchase_achievement_apply(
            purchase_id=purchase_id,
            user_id=contract.customer.user_id,
            merchant_id=world.brand_owner.merchant_id,
        )
        == 0
    )
    assert TierReward.objects.filter(contract=contract).count() == 1


def test_a_refund_reduces_the_achievement_and_a_paid_tier_stays_paid(
    client, world, contract, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _order(client, world, "PO-2", [{"sku": "LUMI-SOAP", "quantity": 120, "amount": "1200.00"}])
    contract.refresh_from_db()
    assert contract.achieved == 120

    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.partner_refund_record(
            merchant=world.brand_owner.merchant,
            order_id="PO-2",
            refund_id="R-1",
            amount_minor=60_000,
            occurred_at=timezone.now(),
        )
    contract.refresh_from_db()
    assert contract.achieved == 60
    assert contract.paid_minor == TIER_ONE[1]
    assert contract.events.filter(action="achievement").count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.partner_refund_record(
            merchant=world.brand_owner.merchant,
            order_id="PO-2",
            refund_id="R-2",
            amount_minor=60_000,
            occurred_at=timezone.now(),
        )
    contract.refresh_from_db()
    assert contract.achieved == 0
    assert not PurchaseSale.objects.exists()


def test_orders_of_someone_who_is_no_business_customer_count_nowhere(world, django_capture_on_commit_callbacks):
    member = UserFactory(email="kari@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.partner_order_record(
            merchant=world.brand_owner.merchant,
            order_id="PO-3",
            customer_email=member.email,
            customer_reference="",
            amount_minor=10_000,
            currency="NOK",
            occurred_at=timezone.now(),
            line_items=[LineItem(amount_minor=10_000, quantity=200, product="LUMI-SOAP")],
        )
    assert not PurchaseSale.objects.exists()
    assert Contract.objects.filter(achieved__gt=0).count() == 0


def test_a_purchase_without_line_items_announces_nothing_for_programmes(world, contract):
    campaign_services.partner_order_record(
        merchant=world.brand_owner.merchant,
        order_id="PO-4",
        customer_email="toko@example.com",
        customer_reference="",
        amount_minor=10_000,
        currency="NOK",
        occurred_at=timezone.now(),
    )
    assert not Fact.objects.filter(kind="purchase_recorded").exists()
