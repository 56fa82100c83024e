"""/staff/monitoring/ in Chromium at phone and desktop widths with a raised flag: the purchase
search shows the flag, the flag page holds the rewards, no sideways scroll and no CSP violation.
Screenshots land in test-artifacts/screenshots/."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import StaffAuditEntry
from accounts.services import staff_roles_sync
from monitoring import services
from monitoring.models import FraudFlag
from tests.accounts.factories import CardFactory, StaffUserFactory
from tests.browser import DESKTOP, PHONE, logged_in_page, screenshot
from tests.campaigns.factories import MerchantFactory, OfferFactory

from .helpers import card_purchase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@VIEWPORTS
def test_the_monitoring_page_with_a_raised_flag(page_factory, live_server, viewport):
    staff_roles_sync()
    support = StaffUserFactory(mfa=True)
    support.groups.add(Group.objects.get(name="support"))
    offer = OfferFactory(percent=Decimal("10"), merchant=MerchantFactory(display_name="Fjord Coffee Grünerløkka"))
    card = CardFactory()
    # From the top of an hour, so the burst falls in one velocity window (one flag, not two).
    start = (timezone.now() - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    for n, amount in enumerate((12_900, 8_500, 23_000, 4_900, 15_500, 9_900, 9_900)):
        card_purchase(card=card, merchant=offer.merchant, amount=amount, at=start + timedelta(minutes=5 * n))
    card_purchase(card=CardFactory(), merchant=MerchantFactory(display_name="Bakeriet"), amount=6_500)
    assert services.monitoring_scan() == 2
    duplicate = FraudFlag.objects.get(rule="near_duplicate")

    page = logged_in_page(page_factory, live_server, support, viewport)
    page.goto("/staff/monitoring/")
    expect(page.get_by_role("heading", name="Transaction monitoring")).to_be_visible()
    expect(page.get_by_text("Near-duplicate purchases · Open").first).to_be_visible()
    expect(page.get_by_text("Velocity (purchases per card per hour) · Open").first).to_be_visible()
    assert no_sideways_scroll(page), "the monitoring page scrolls sideways"
    screenshot(page, "staff-monitoring")

    page.fill("input[name=card_last_four]", card.last_four)
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert "Bakeriet" not in page.content()

    page.get_by_text("Near-duplicate purchases · Open").first.click()
    page.wait_for_load_state()
    assert no_sideways_scroll(page), "the flag page scrolls sideways"
    assert page.get_by_role("button", name="Clear flag").count() == 0  # support may hold, not clear
    page.fill("#hold-reason", "Two equal purchases three minutes apart")
    page.get_by_role("button", name="Hold rewards").click()
    page.wait_for_load_state()
    assert "rewards are held" in page.content()
    screenshot(page, "staff-monitoring-flag")

    duplicate.refresh_from_db()
    assert duplicate.status == "held" and duplicate.decided_by == support
    assert StaffAuditEntry.objects.get().action == "flag.hold"
