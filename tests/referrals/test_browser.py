"""Referral pages in a real browser at phone and desktop widths: a friend's invitation and sign-up,
the referrer's page, and the staff pages. Screenshots land in test-artifacts/screenshots/."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from accounts.models import User
from referrals import services
from referrals.models import Referral, ReferralStatus
from tests.accounts.factories import UserFactory
from tests.browser import DESKTOP, PHONE, screenshot
from tests.referrals.factories import qualify_and_mature, refer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Fjord-Lantern-2026"
VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])


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
def test_friend_opens_the_link_and_signs_up_with_the_code_filled_in(page_factory, viewport):
    services.program_current()
    referrer = UserFactory(full_name="Ada Lovelace")
    code = services.referral_code_for(user=referrer).code
    page = page_factory(viewport)

    page.goto(f"/r/{code}/")
    assert "Ada L. invited you" in page.get_by_role("heading", level=1).inner_text()
    screenshot(page, "referral-invite")

    page.get_by_role("link", name="Sign up").first.click()
    page.wait_for_load_state()
    assert page.input_value("input[name=referral_code]") == code
    screenshot(page, "referral-signup")
    page.fill("input[name=email]", "friend@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.check("input[name=accept_terms]")
    page.locator("main form:has([name='password1']) [type=submit]").first.click()
    page.wait_for_load_state()

    friend = User.objects.get(email="friend@example.com")
    referral = Referral.objects.get(friend=friend)
    assert referral.referrer == referrer
    assert referral.device_id  # the browser's device cookie


@VIEWPORTS
def test_referrer_page_shows_code_link_friends_and_earnings(page_factory, live_server, viewport):
    services.program_current()
    referrer = UserFactory(full_name="Ada Lovelace")
    qualify_and_mature(refer(referrer, UserFactory(full_name="Grace Hopper")))
    refer(referrer, UserFactory(full_name="Linus Torvalds"))
    cancelled = refer(referrer, UserFactory(full_name="Margaret Hamilton"))
    Referral.objects.filter(pk=cancelled.pk).update(
        status=ReferralStatus.CANCELLED, status_reason="The qualifying purchase was refunded."
    )
    services.business_referral_submit(
        referrer=referrer, business_name="Fjord Coffee", organisation_number="923609016", country="NO"
    )
    page = logged_in_page(page_factory, live_server, referrer, viewport)

    page.goto("/wallet/referrals/")

    code = services.referral_code_for(user=referrer).code
    assert page.locator("[data-testid=referral-code]").inner_text() == code
    expect(page.get_by_role("button", name="Copy").first).to_be_visible()
    expect(page.get_by_text("Grace H.")).to_be_visible()
    screenshot(page, "referral-wallet")


@VIEWPORTS
def test_staff_review_queue_detail_and_programme_editor(page_factory, live_server, staff_with_role, viewport):
    services.program_current()
    referrer = UserFactory()
    refer(referrer, ip="198.51.100.10", device_id="device-aaaa-0001")
    held = qualify_and_mature(refer(referrer, ip="198.51.100.77", device_id="device-bbbb-0002"))
    assert held.status == ReferralStatus.HELD
    page = logged_in_page(page_factory, live_server, staff_with_role("marketing"), viewport)

    page.goto("/staff/referrals/")
    expect(page.get_by_role("link", name=f"#{held.pk}")).to_be_visible()
    screenshot(page, "referral-staff-queue")

    page.goto(f"/staff/referrals/{held.pk}/")
    screenshot(page, "referral-staff-review")
    page.get_by_role("button", name="Approve and pay").click()
    page.wait_for_load_state()
    held.refresh_from_db()
    assert held.status == ReferralStatus.PAID

    page.goto("/staff/referrals/program/")
    screenshot(page, "referral-staff-program")
    page.fill("input[name=monthly_cap]", "4")
    page.get_by_role("button", name="Save as version 2").click()
    page.wait_for_load_state()
    assert services.program_current().monthly_cap == 4
