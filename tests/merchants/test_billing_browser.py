"""The billing page in a real browser at phone and desktop widths: statements, the month so far, the
details form; no CSP violation, no sideways scroll. Screenshots land in test-artifacts/screenshots/."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from merchants.services.billing_invoices import invoice_close
from tests.browser import DESKTOP, PHONE, screenshot
from tests.merchants.factories import MembershipFactory, MerchantFactory
from tests.merchants.test_billing import Books, after_month, this_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_billing_page_fits_and_lists_the_statement(page_factory, live_server, settings, viewport):
    settings.STRIPE_PROVIDER = "fake"
    merchant = MerchantFactory(legal_name="Fjord Coffee Holding With A Long Name AS", display_name="Fjord Coffee")
    books = Books(merchant)
    books.prepay(500_000)
    books.reward(30_920)
    books.spend(5_000)
    invoice = invoice_close(merchant_id=merchant.pk, currency="NOK", period=this_month(), now=after_month())
    books.reward(1_234)  # this month so far
    owner = MembershipFactory(merchant=merchant, role="owner")
    client = Client()
    client.force_login(owner.user)
    page = page_factory(viewport)
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )

    page.goto(f"/portal/{merchant.pk}/billing/")

    expect(page.get_by_text(invoice.number, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Save billing details")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    path = screenshot(page, "billing")
    shots = Path("/tmp/h12-shots")
    shots.mkdir(exist_ok=True)
    shutil.copy(path, shots / path.name)
