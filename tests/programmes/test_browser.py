"""Seed 002's story at phone width in a real browser (Debian's chromium via Playwright): sales registers a
wholesaler and proposes a contract, the regional head approves it, finance uploads the sales (a bad file
first), the tier is reached, the reward is in the wholesaler's wallet and finance sees the budget used."""

import pytest

from programmes.models import BusinessCustomer, Contract
from tests.browser import DESKTOP, PHONE, logged_in_page, screenshot
from tests.programmes.factories import programme_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_seed_002_from_registration_to_the_reward_in_the_wallet(page_factory, live_server, tmp_path):
    world = programme_world()
    base = f"/portal/{world.brand_owner.merchant_id}/programmes"

    # Sales registers a wholesaler and proposes a contract.
    page = logged_in_page(page_factory, live_server, world.sales_north.user, PHONE)
    page.goto("/programmes/")
    page.wait_for_url(f"**{base}/contracts/")
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name="Register a customer").click()
    page.fill("#id_name", "Toko Makmur")
    page.select_option("#id_kind", "wholesaler")
    page.fill("#id_code", "WS-1001")
    page.fill("#id_contact_name", "Agus")
    page.fill("#id_phone", "+47 900 11 001")
    _fits(page)
    screenshot(page, "programmes-register")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(f"**{base}/contracts/new/?customer=*")
    page.select_option("#id_contract_type", "growth")
    _fits(page)
    screenshot(page, "programmes-propose")
    page.get_by_role("button", name="Propose").click()
    page.wait_for_selector("text=The contract is proposed")
    contract = Contract.objects.get(customer__code="WS-1001")
    assert contract.status == Contract.Status.PROPOSED

    # The regional head approves.
    page = logged_in_page(page_factory, live_server, world.head_north.user, PHONE)
    page.goto(f"{base}/contracts/?status=proposed")
    page.get_by_role("link", name="Toko Makmur").click()
    _fits(page)
    screenshot(page, "programmes-decide")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_selector("text=Approved: the contract")
    contract.refresh_from_db()
    assert contract.status == Contract.Status.APPROVED

    # Finance uploads a file with a bad row (nothing applied), then the right one.
    page = logged_in_page(page_factory, live_server, world.finance_admin.user, PHONE)
    page.goto(f"{base}/sales/upload/")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"customer_code,sku,date,quantity,value\nWS-1001,LUMI-SOAP,{world.today},-4,\nWS-9,LUMI-SOAP,{world.today},4,\n"
    )
    page.set_input_files("#id_file", str(bad))
    page.get_by_role("button", name="Upload and apply").click()
    page.wait_for_selector("text=Rows to correct")
    assert page.get_by_text("quantity -4 must be more than zero").count() == 1
    assert page.get_by_text("unknown customer 'WS-9'").count() == 1
    _fits(page)
    screenshot(page, "programmes-upload-errors")
    good = tmp_path / "week1.csv"
    good.write_text(
        f"customer_code,sku,date,quantity,value\nWS-1001,LUMI-SOAP,{world.today},70,\nWS-1001,LUMI-SH,{world.today},30,\n"
    )
    page.set_input_files("#id_file", str(good))
    page.get_by_role("button", name="Upload and apply").click()
    page.wait_for_selector("text=2 sales rows applied")

    page.goto(f"{base}/contracts/{contract.pk}/")
    page.wait_for_selector('.badge-paid:has-text("Paid")')
    _fits(page)
    screenshot(page, "programmes-progress")

    # Finance sees the budget used; the chart is drawn.
    for viewport in (PHONE, DESKTOP):
        page = logged_in_page(page_factory, live_server, world.finance_admin.user, viewport)
        page.goto(f"{base}/dashboard/")
        paid_in_north = page.locator("td[data-label=Paid]").first  # regions by name: North first
        assert paid_in_north.inner_text().strip() == "NOK\xa0500.00"
        page.wait_for_function("document.querySelector('canvas[data-programmes-chart]').width > 0")
        _fits(page)
        screenshot(page, "programmes-dashboard")

    # The reward is in the wholesaler's wallet.
    wholesaler = BusinessCustomer.objects.get(code="WS-1001").user
    page = logged_in_page(page_factory, live_server, wholesaler, PHONE)
    page.goto("/wallet/")
    page.wait_for_selector("text=500")
    _fits(page)
    screenshot(page, "programmes-wallet")


def test_the_programme_form_fits_a_phone(page_factory, live_server):
    world = programme_world()
    page = logged_in_page(page_factory, live_server, world.programme_admin.user, PHONE)

    page.goto(f"/portal/{world.brand_owner.merchant_id}/programmes/dashboard/")
    page.get_by_role("link", name="Set up a programme").click()
    page.fill("#id_name", "Lumi summer")
    page.fill("#id_starts_on", world.today.isoformat())
    page.fill("#id_ends_on", world.programme.ends_on.isoformat())
    page.get_by_label("Lumi", exact=True).check()
    page.fill("#id_threshold_1", "50")  # and no reward
    page.get_by_role("button", name="Set up the programme").click()
    page.wait_for_selector(".form-errors:has-text('Every target needs a reward')")

    _fits(page)
    screenshot(page, "programmes-new-programme")
