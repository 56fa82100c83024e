"""Money-out pages in a real browser at phone and desktop widths (no CSP violation allowed):
setting up payouts, asking for one, the spend code with its QR, the staff review page.
Screenshots land in test-artifacts/screenshots/."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.test import Client

from accounts.services import staff_roles_sync
from cashback.providers.stripe_gateway import FakeStripeGateway
from tests.accounts.factories import StaffUserFactory
from tests.browser import DESKTOP, PHONE, screenshot
from wallet.models import Payout, PayoutStatus
from wallet.payouts import payout_mark_failed, payout_mark_paid, payout_request

from .factories import UserFactory
from .payout_support import ready_consumer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])


@pytest.fixture(autouse=True)
def payout_settings(settings):
    settings.STRIPE_PROVIDER = "fake"
    settings.PAYOUT_MINIMUM_MINOR = 10000
    settings.PAYOUT_MINIMUM_MINOR_BY_CURRENCY = {}
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 100000
    FakeStripeGateway.reset()


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


@VIEWPORTS
def test_setting_up_payouts_then_paying_out(page_factory, live_server, viewport):
    user = UserFactory(email=f"kari-{viewport['width']}@example.com")
    from tests.wallet.factories import fund
    from wallet.models import AccountKind
    from wallet.services import account_get_or_create

    fund(account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK"), 48250)
    page = logged_in_page(page_factory, live_server, user, viewport)

    page.goto("/wallet/payouts/")
    screenshot(page, "payouts-setup")
    page.get_by_role("button", name="Set up payouts with Stripe").click()
    page.wait_for_load_state()  # the fake's onboarding returns at once
    assert "Payouts are set up" in page.content()

    page.fill("input[name=amount]", "1.234")
    page.get_by_role("button", name="Pay out").click()
    page.wait_for_load_state()
    assert "decimals" in page.content()
    page.fill("input[name=amount]", "150.00")
    page.get_by_role("button", name="Pay out").click()
    page.wait_for_load_state()
    assert "is on its way" in page.content()

    # a history with every status, for the picture
    paid = Payout.objects.get(user=user)
    payout_mark_paid(payout_id=paid.pk)
    failed = payout_request(user=user, amount_minor=12000, currency="NOK")
    payout_mark_failed(
        payout_id=failed.pk, code="account_closed", message="The bank account has been closed.", reverse_transfer=False
    )
    payout_request(user=user, amount_minor=10000, currency="NOK")
    page.goto("/wallet/payouts/")
    assert page.get_by_text("Paid", exact=True).count() >= 1
    screenshot(page, "payouts")


@VIEWPORTS
def test_spend_code_with_qr(page_factory, live_server, viewport):
    user = ready_consumer(balance=12345)
    page = logged_in_page(page_factory, live_server, user, viewport)

    page.goto("/wallet/spend/")
    screenshot(page, "spend-intro")
    page.get_by_role("button", name="Get a spend code").click()
    page.wait_for_load_state()

    assert page.locator(".spend-qr svg").count() == 1
    assert "123.45 NOK" in page.content()
    screenshot(page, "spend-code")


@VIEWPORTS
def test_staff_review_page(page_factory, live_server, viewport):
    staff_roles_sync()
    reviewer = StaffUserFactory(mfa=True)
    reviewer.groups.add(Group.objects.get(name="finance"))
    consumer = ready_consumer(balance=500000, email=f"big-{viewport['width']}@example.com")
    held = payout_request(user=consumer, amount_minor=250000, currency="NOK")
    payout_request(user=consumer, amount_minor=180000, currency="NOK")
    page = logged_in_page(page_factory, live_server, reviewer, viewport)

    page.goto("/staff/payouts/")
    screenshot(page, "staff-payouts")
    page.locator(f"form[action$='/{held.pk}/release/'] button").click()
    page.wait_for_load_state()

    held.refresh_from_db()
    assert held.status in (PayoutStatus.REQUESTED, PayoutStatus.PROCESSING)
