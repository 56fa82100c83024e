"""A paid Stripe invoice of the business customer's linked Stripe customer, as Stripe sends it (signed
event JSON posted to /webhooks/stripe/connect/ on the brand owner's connected account): it counts towards
the value contract once, a redelivery changes nothing, and a credit note lowers it."""

import pytest

from merchants.models import StripeConnection
from programmes import linked_sources
from programmes.models import PurchaseValue, TierReward
from tests.campaigns.test_stripe_source import ACCOUNT, _connect_secret, deliver, stripe_event  # noqa: F401
from tests.programmes.factories import customer, programme_world
from tests.programmes.test_linked_sources import value_contract

pytestmark = pytest.mark.django_db

STRIPE_CUSTOMER = "cus_RMerchantCust01"  # the fixtures' customer
INVOICE_PAID = 60_000  # the fixture's amount_paid
CREDITED = 15_000  # the credit note's store credit


def test_an_invoice_of_the_linked_stripe_customer_counts_once_and_a_credit_note_lowers_it(
    deliver,  # noqa: F811
):
    world = programme_world()
    StripeConnection.objects.create(
        merchant=world.brand_owner.merchant, stripe_account_id=ACCOUNT, status=StripeConnection.Status.ACTIVE
    )
    contract = value_contract(world, customer(world))
    linked_sources.source_link_stripe(
        role=world.programme_admin, customer=contract.customer, stripe_customer_id=STRIPE_CUSTOMER
    )

    event = stripe_event("invoice_paid")
    assert deliver(event).status == "processed"
    contract.refresh_from_db()
    assert contract.achieved == INVOICE_PAID
    row = PurchaseValue.objects.get()
    assert (row.source, row.reference) == ("stripe_invoice", "in_1QMerchantInvoice01")

    deliver(stripe_event("invoice_paid", id="evt_redelivered_as_new"))  # the same invoice again
    contract.refresh_from_db()
    assert contract.achieved == INVOICE_PAID
    assert PurchaseValue.objects.count() == 1

    assert deliver(stripe_event("credit_note_created")).status == "processed"
    contract.refresh_from_db()
    assert contract.achieved == INVOICE_PAID - CREDITED
    assert not TierReward.objects.filter(contract=contract).exists()  # below the NOK 1 000 target
