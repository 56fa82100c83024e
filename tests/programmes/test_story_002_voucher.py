"""Seed 002's story as the issue tells it, at phone width in a real browser: sales registers a wholesaler and
proposes a contract, the regional head approves it, the brand owner's shop reports orders with line items
(partner API: purchases the platform sees), the first target is reached, its reward is an e-voucher that the
wholesaler claims with the code sent by SMS, and finance sees the budget used."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from cashback.providers.sms import FakeSmsClient
from programmes.models import BusinessCustomer, Contract, TierRewardKind
from tests.browser import PHONE, logged_in_page, screenshot
from tests.merchants.factories import MerchantApiKeyFactory, api_key_headers
from tests.programmes.catalogue_factories import Shop, active_batch, claim_code_from, item
from tests.programmes.factories import programme_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def sms_outbox():
    FakeSmsClient.clear()
    yield FakeSmsClient.outbox
    FakeSmsClient.clear()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def _order(world, order_id: str, lines: list[dict], email: str):
    body = {
        "order_id": order_id,
        "customer": {"email": email},
        "amount": str(sum(Decimal(line["amount"]) for line in lines)),
        "currency": "NOK",
        "occurred_at": (timezone.now() - datetime.timedelta(hours=1)).isoformat(),
        "line_items": lines,
    }
    api_key = MerchantApiKeyFactory(merchant=world.brand_owner.merchant)
    return Client().post(
        "/api/v1/partner/orders/",
        body,
        content_type="application/json",
        **api_key_headers(api_key, **{"Idempotency-Key": f"story-{order_id}"}),
    )


def test_seed_002_purchases_reach_the_target_and_the_voucher_is_claimed_by_sms(page_factory, live_server, sms_outbox):
    world = programme_world()
    base = f"/portal/{world.brand_owner.merchant_id}/programmes"
    # Marketing has made the first target's reward an e-voucher of its catalogue; finance activated the codes.
    shop = Shop(brand_owner=world.brand_owner, marketing=world.marketing_admin, finance=world.finance_admin)
    reward = item(shop, name="Lumi gift card", price_kind="cashback", price=50_000, code_source="uploaded")
    active_batch(shop, reward, ["LUMI-GIFT-4711"])
    first = world.programme.tiers.order_by("rank").first()
    first.reward_kind, first.reward_item = TierRewardKind.E_VOUCHER, reward
    first.save(update_fields=["reward_kind", "reward_item"])

    # Sales registers a wholesaler and proposes a contract.
    page = logged_in_page(page_factory, live_server, world.sales_north.user, PHONE)
    page.goto(f"{base}/customers/")
    page.get_by_role("link", name="Register a customer").click()
    page.fill("#id_name", "Toko Sejahtera")
    page.select_option("#id_kind", "wholesaler")
    page.fill("#id_code", "WS-2002")
    page.fill("#id_contact_name", "Dewi")
    page.fill("#id_phone", "+47 900 22 002")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(f"**{base}/contracts/new/?customer=*")
    page.select_option("#id_contract_type", "growth")
    page.get_by_role("button", name="Propose").click()
    page.wait_for_selector("text=The contract is proposed")
    contract = Contract.objects.get(customer__code="WS-2002")

    # The regional head approves.
    page = logged_in_page(page_factory, live_server, world.head_north.user, PHONE)
    page.goto(f"{base}/contracts/{contract.pk}/")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_selector("text=Approved: the contract")

    # Purchases arrive: the brand owner's shop reports two orders with line items for the wholesaler.
    wholesaler = BusinessCustomer.objects.get(code="WS-2002").user
    wholesaler.email, wholesaler.phone_verified = "toko.sejahtera@example.com", True  # signed in by SMS code
    wholesaler.save(update_fields=["email", "phone_verified"])
    soap = [{"sku": "LUMI-SOAP", "quantity": 60, "amount": "600.00"}]
    shampoo = [{"sku": "LUMI-SH", "quantity": 40, "amount": "400.00"}]
    assert _order(world, "PO-2002-1", soap, wholesaler.email).status_code == 201
    contract.refresh_from_db()
    assert contract.achieved == 60 and contract.paid_minor == 0
    assert _order(world, "PO-2002-2", shampoo, wholesaler.email).status_code == 201
    contract.refresh_from_db()
    assert contract.achieved == 100 and contract.paid_minor == first.reward_minor

    # The reward is a voucher; the wholesaler opens it with the code sent by SMS.
    page = logged_in_page(page_factory, live_server, wholesaler, PHONE)
    page.goto("/wallet/rewards/vouchers/")
    page.wait_for_selector("text=Lumi gift card")
    assert "LUMI-GIFT-4711" not in page.content()
    _fits(page)
    screenshot(page, "programmes-story-voucher")
    page.get_by_role("link", name="Lumi gift card").first.click()
    page.get_by_role("button", name="Send me the code by SMS").click()
    page.wait_for_selector("text=We sent a code by SMS")
    assert len(sms_outbox) == 1 and sms_outbox[0].to == wholesaler.phone
    page.get_by_label("Code from the SMS").fill(claim_code_from(sms_outbox[0].body))
    page.get_by_role("button", name="Open the voucher").click()
    page.wait_for_selector("[data-testid=voucher-code]:has-text('LUMI-GIFT-4711')")
    _fits(page)
    screenshot(page, "programmes-story-claimed")

    # Finance sees the budget used in the region.
    page = logged_in_page(page_factory, live_server, world.finance_admin.user, PHONE)
    page.goto(f"{base}/dashboard/")
    assert page.locator("td[data-label=Paid]").first.inner_text().strip() == "NOK\xa0500.00"
    _fits(page)
    screenshot(page, "programmes-story-budget")
