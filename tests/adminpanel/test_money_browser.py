"""The money pages in a real browser at phone and desktop widths (no CSP violation, no sideways
scroll): an adjustment proposed by one finance person and approved by another, and the analytics
page with its charts and the liability. Screenshots land in test-artifacts/screenshots/."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.services import staff_roles_sync
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.browser import DESKTOP, PHONE, screenshot
from tests.campaigns.factories import OfferFactory, PurchaseFactory
from tests.campaigns.lifecycle_helpers import clear, fund_merchant
from wallet.models import AccountKind, Adjustment, AdjustmentStatus, LedgerAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])


def finance_person(name):
    staff_roles_sync()
    person = StaffUserFactory(mfa=True, email=name)
    person.groups.add(Group.objects.get(name="finance"))
    return person


def logged_in_page(page_factory, live_server, user, viewport):
    client = Client()
    client.force_login(user)
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
    return page


def assert_no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


@VIEWPORTS
def test_an_adjustment_proposed_by_one_person_and_approved_by_another(page_factory, live_server, viewport):
    width = viewport["width"]
    proposer = finance_person(f"frida-{width}@example.com")
    approver = finance_person(f"finn-{width}@example.com")
    person = UserFactory(email=f"dina-{width}@example.com")

    page = logged_in_page(page_factory, live_server, proposer, viewport)
    page.goto("/staff/adjustments/new/")
    page.select_option("#id_account_kind", AccountKind.CONSUMER_AVAILABLE)
    page.fill("#id_owner_id", str(person.pk))
    page.check("input[name=direction][value=credit]")
    page.fill("#id_amount", "49.00")
    page.select_option("#id_currency", "NOK")
    page.fill("#id_reason", "Cashback missed for a receipt the shop confirmed")
    assert_no_sideways_scroll(page)
    screenshot(page, "staff-adjustment-propose")
    page.get_by_role("button", name="Propose").click()
    page.wait_for_load_state()
    page.get_by_text("a different finance person or an administrator must approve").wait_for()
    assert_no_sideways_scroll(page)
    screenshot(page, "staff-adjustment-proposed")
    adjustment = Adjustment.objects.get(proposed_by=proposer)
    assert adjustment.status == AdjustmentStatus.PROPOSED

    page = logged_in_page(page_factory, live_server, approver, viewport)
    page.goto(f"/staff/adjustments/{adjustment.pk}/")
    page.get_by_role("button", name="Approve and post").click()
    page.wait_for_load_state()
    page.get_by_text("approved and posted to the ledger").wait_for()
    assert_no_sideways_scroll(page)
    screenshot(page, "staff-adjustment-approved")

    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.APPROVED
    assert adjustment.decided_by == approver
    assert LedgerAccount.objects.get(user=person, kind=AccountKind.CONSUMER_AVAILABLE).balance == 4_900
    page.goto("/staff/adjustments/")
    assert_no_sideways_scroll(page)
    screenshot(page, "staff-adjustments")


@VIEWPORTS
def test_analytics_with_charts_and_the_liability(page_factory, live_server, viewport):
    width = viewport["width"]
    offer = OfferFactory()
    fund_merchant(offer.merchant, 1_000_000)
    for amount in (20_000, 35_000, 12_000):
        clear(PurchaseFactory(merchant=offer.merchant, amount_minor=amount, occurred_at=timezone.now()))
    page = logged_in_page(page_factory, live_server, finance_person(f"ana-{width}@example.com"), viewport)

    page.goto("/staff/analytics/")
    page.wait_for_selector("canvas[data-analytics-chart=issued][data-drawn=true]")

    liability = page.get_by_role("article", name="Liability in NOK")
    assert "67.00" in liability.inner_text()  # 10 % of 670 kr, pending
    assert page.locator("canvas[data-drawn=true]").count() == 11
    assert_no_sideways_scroll(page)
    screenshot(page, "staff-analytics")
