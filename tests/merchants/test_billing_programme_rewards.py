"""Billing of business programme rewards (issue 20): a brand owner's cash rewards (tier and action
rewards, ``programme_reward`` journals) are invoiced on a line of their own, without commission; points
(PTS) are not money and never reach an invoice."""

import pytest
from django.utils import timezone

from cashback.providers.stripe_gateway import FakeStripeGateway
from merchants.models import MerchantInvoiceLine
from merchants.services.billing_invoices import invoice_close
from programmes import actions
from tests.accounts.factories import UserFactory
from tests.merchants.test_billing import after_month, this_month
from tests.programmes.action_factories import action_rule
from tests.programmes.factories import programme_world
from wallet.invariants import ledger_violations
from wallet.models import AccountKind, LedgerAccount

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fake_stripe(settings):
    settings.STRIPE_PROVIDER = "fake"
    FakeStripeGateway.reset()


def _survey(world, member, key: str) -> None:
    actions.action_report(
        user=member,
        action="survey_completed",
        source="partner",
        origin=f"partner:{world.brand_owner.merchant_id}",
        source_key=key,
        occurred_at=timezone.now(),
        brand_owner_ids=[world.brand_owner.pk],
        merchant=world.brand_owner.merchant,
    )


def test_cash_programme_rewards_are_invoiced_on_their_own_line_and_points_are_not():
    world = programme_world()
    action_rule(world.marketing_admin, value=2_500, name="Survey cash")
    action_rule(world.marketing_admin, value=700, value_kind="points", name="Survey points")
    for n in range(3):
        _survey(world, UserFactory(), f"survey-{n}")
    merchant = world.brand_owner.merchant

    invoice = invoice_close(merchant_id=merchant.pk, currency=merchant.currency, period=this_month(), now=after_month())

    assert invoice is not None
    assert invoice.programme_minor == 3 * 2_500
    assert invoice.cost_minor == 0 and invoice.commission_minor == 0  # no commission on programme rewards
    assert invoice.total_minor == 7_500
    lines = {line.kind: line.amount_minor for line in invoice.lines.all()}
    assert lines[MerchantInvoiceLine.Kind.PROGRAMME] == 7_500
    assert sum(lines.values()) == invoice.total_minor
    # The 2 100 points the members got are nowhere on it: no line, no currency "PTS".
    assert not invoice_close(merchant_id=merchant.pk, currency="PTS", period=this_month(), now=after_month())
    issuance = LedgerAccount.objects.get(kind=AccountKind.POINTS_ISSUANCE, owner_key=merchant.ledger_owner_key)
    assert issuance.balance == -2_100
    receivable = LedgerAccount.objects.get(
        kind=AccountKind.MERCHANT_RECEIVABLE, currency=merchant.currency, owner_key=merchant.ledger_owner_key
    )
    assert receivable.balance == -invoice.total_minor  # what the invoice collects
    assert ledger_violations() == []


def test_a_brand_owner_with_points_rewards_only_gets_no_invoice():
    world = programme_world()
    action_rule(world.marketing_admin, value=700, value_kind="points")
    _survey(world, UserFactory(), "survey-points")
    merchant = world.brand_owner.merchant

    assert (
        invoice_close(merchant_id=merchant.pk, currency=merchant.currency, period=this_month(), now=after_month())
        is None
    )
