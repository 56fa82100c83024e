"""Marketing's monitoring page in a real browser at phone and desktop width: the chart draws, nothing
scrolls sideways."""

import pytest
from playwright.sync_api import expect

from programmes import services
from tests.browser import DESKTOP, PHONE, logged_in_page, screenshot
from tests.programmes.action_factories import action_rule
from tests.programmes.catalogue_factories import Shop, active_batch, item
from tests.programmes.factories import approved_contract, programme_world, sales_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_monitoring_page_at_phone_and_desktop_width(page_factory, live_server):
    world = programme_world()
    contract = approved_contract(world)
    approved_contract(world)
    services.sales_file_apply(
        role=world.finance_admin,
        filename="a.csv",
        content=sales_csv((contract.customer.code, "LUMI-SOAP", world.today.isoformat(), "125", "")),
    )
    shop = Shop(brand_owner=world.brand_owner, marketing=world.marketing_admin, finance=world.finance_admin)
    active_batch(shop, item(shop, code_source="uploaded", name="Cinema voucher"), ["CINE-1", "CINE-2"])
    action_rule(world.marketing_admin, budget=10_000)

    for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page = logged_in_page(page_factory, live_server, world.marketing_admin.user, viewport)
        page.goto(f"/portal/{world.brand_owner.merchant_id}/programmes/monitoring/")
        page.wait_for_function("window.Chart && Object.keys(window.Chart.instances).length > 0")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        expect(page.get_by_role("heading", name="Lumi wholesale growth")).to_be_visible()
        screenshot(page, "programmes-monitoring")
