"""The linked sources and the customer's contract page in a real browser, at phone and desktop width: the
programme admin links the wholesaler's shop (a bad organisation number first), card purchases there and a
sales file count towards the value contract, and the wholesaler sees progress, what counted and rewards."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns import services as campaign_services
from programmes import services
from tests.accounts.factories import UserFactory
from tests.browser import DESKTOP, PHONE, logged_in_page, screenshot
from tests.merchants.factories import MerchantFactory
from tests.programmes.factories import approved_contract, programme_world, sales_csv
from tests.programmes.test_linked_sources import value_contract

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_link_a_shop_and_the_wholesaler_sees_what_counted(page_factory, live_server):
    world = programme_world()
    customer = approved_contract(world).customer
    contract = value_contract(world, customer)
    shop = MerchantFactory(display_name="Toko Makmur Kemang", currency="NOK")

    page = logged_in_page(page_factory, live_server, world.programme_admin.user, PHONE)
    page.goto(f"/portal/{world.brand_owner.merchant_id}/programmes/customers/{customer.pk}/sources/")
    page.get_by_label("Organisation number of the shop").fill("123")
    page.get_by_role("button", name="Link the shop").click()
    expect(page.get_by_text("No shop on the platform has this organisation number.").first).to_be_visible()
    page.get_by_label("Organisation number of the shop").fill(shop.organisation_number)
    page.get_by_role("button", name="Link the shop").click()
    page.get_by_text("Linked. Its purchases").wait_for()
    expect(page.get_by_text("Toko Makmur Kemang").first).to_be_visible()
    _fits(page)
    screenshot(page, "programmes-sources")

    day = str(timezone.localdate())
    rows = [(customer.code, "LUMI-SOAP", day, "2", f"{100 + n}.00") for n in range(22)]
    services.sales_file_apply(role=world.finance_admin, filename="october-sales.csv", content=sales_csv(*rows))
    for n, amount in enumerate((45_000, 38_050)):
        campaign_services.purchase_event_apply(
            source="card",
            event_id=f"ev-browser-{n}",
            kind="clearing",
            external_id=f"card-browser-{n}",
            amount_minor=amount,
            currency="NOK",
            occurred_at=timezone.now() - datetime.timedelta(minutes=10 - n),
            user=UserFactory(),
            merchant=shop,
        )
    contract.refresh_from_db()
    assert contract.achieved == sum(100_00 + n * 100 for n in range(22)) + 45_000 + 38_050

    for viewport in (PHONE, DESKTOP):
        page = logged_in_page(page_factory, live_server, customer.user, viewport)
        page.goto("/wallet/")
        page.get_by_role("link", name=contract.programme.name).click()
        page.get_by_role("heading", name="What counted").wait_for()
        expect(page.get_by_role("cell", name="Card purchase").first).to_be_visible()  # the newest first
        expect(page.get_by_text("Tier 1:").first).to_be_visible()
        _fits(page)
        screenshot(page, "programmes-my-contract")
    page.get_by_role("link", name="Page 2").first.click()
    page.get_by_text("october-sales.csv").first.wait_for()
    _fits(page)
