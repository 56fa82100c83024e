"""The People pages in a real browser at phone (390x844) and desktop (1280x800) widths: the search
and a person's support page, with no sideways scrolling. Screenshots land in test-artifacts/screenshots/."""

from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from accounts.blocking import user_block
from tests.accounts.factories import CardFactory, ConsentFactory, UserFactory
from tests.browser import DESKTOP, PHONE, screenshot
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event, fund_merchant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])


def _logged_in_page(page_factory, live_server, user, viewport):
    client = Client()
    client.force_login(user)
    page = page_factory(viewport)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    return page


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


@VIEWPORTS
def test_search_and_support_page(page_factory, live_server, staff_with_role, viewport):
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    fund_merchant(offer.merchant, 100_000)
    person = UserFactory(full_name="Kari Nordmann", email="kari.nordmann@example.com", phone="+4791234567")
    ConsentFactory(user=person)
    CardFactory(user=person)
    event(user=person, merchant=offer.merchant, kind="auth", amount=24_900)
    UserFactory.create_batch(3)
    finance = staff_with_role("finance")
    user_block(user=person, actor=finance, reason="Refund cycling under review")
    page = _logged_in_page(page_factory, live_server, finance, viewport)

    page.goto("/staff/users/?q=nordmann")
    expect(page.get_by_role("link", name="Kari Nordmann")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "staff-people-search")

    page.get_by_role("link", name="Kari Nordmann").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Kari Nordmann", level=1)).to_be_visible()
    for title in ("Profile", "Consents", "Linked cards", "Wallet", "Purchases", "Payouts"):
        expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()
    assert "Refund cycling under review" in page.content()
    _no_sideways_scroll(page)
    screenshot(page, "staff-person-support")
