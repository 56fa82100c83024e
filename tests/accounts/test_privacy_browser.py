"""Your data in a real browser, at phone and desktop widths: preparing the export (progress, then
the download link), and closing the account (blocked, settled by giving the balance away, closed,
signed out). No CSP violation and no sideways scrolling; screenshots in test-artifacts/screenshots/."""

import pytest
from playwright.sync_api import expect

from accounts import data_export
from accounts.models import DataExport, User
from tests.accounts.factories import PASSWORD, UserFactory
from tests.accounts.test_cards_browser import logged_in_page
from tests.browser import DESKTOP, PHONE, screenshot
from tests.charity.factories import CharityFactory, available_money
from wallet.points import points_award

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])


def assert_no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@VIEWPORTS
def test_preparing_and_downloading_my_data(page_factory, live_server, viewport):
    user = UserFactory(email=f"export-{viewport['width']}@example.com")
    page = logged_in_page(page_factory, live_server, user, viewport)

    page.goto("/accounts/profile/")
    page.get_by_role("link", name="Your data: download it or close your account").click()
    page.wait_for_url("**/accounts/privacy/")
    expect(page.get_by_role("heading", name="Download your data")).to_be_visible()
    assert_no_sideways_scroll(page)
    screenshot(page, "privacy")

    # An export being prepared: the page shows its progress and polls until it is ready.
    running = DataExport.objects.create(user=user, status=DataExport.Status.RUNNING, percent=40, step="Purchases")
    page.reload()
    expect(page.get_by_text("40% done")).to_be_visible()
    expect(page.get_by_role("button", name="Prepare my data")).to_have_count(0)
    assert_no_sideways_scroll(page)
    screenshot(page, "privacy-export-progress")
    data_export.data_export_build(export_id=running.pk)
    link = page.get_by_role("link", name="Download your data")
    expect(link).to_be_visible()
    screenshot(page, "privacy-export-ready")

    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".zip")

    # Starting a new copy from the button (the build runs in the request in eager mode).
    page.get_by_role("button", name="Prepare a new copy").click()
    page.wait_for_url("**/accounts/privacy/")
    expect(page.get_by_role("link", name="Download your data")).to_be_visible()


@VIEWPORTS
def test_closing_my_account_after_giving_my_balance_away(page_factory, live_server, viewport):
    user = UserFactory(email=f"close-{viewport['width']}@example.com", full_name="Closing Person")
    available_money(user, 25_000)
    CharityFactory(name="Skolebenken", slug="skolebenken")
    page = logged_in_page(page_factory, live_server, user, viewport)

    page.goto("/accounts/privacy/")
    blocker = page.locator("[data-blocker=balance_not_zero]")
    expect(blocker).to_contain_text("You still have 250.00 NOK of cashback")
    expect(page.get_by_role("button", name="Close my account")).to_have_count(0)
    assert_no_sideways_scroll(page)
    screenshot(page, "privacy-close-blocked")

    # Settle: give it all to a charity, from the link the page offers.
    blocker.get_by_role("link", name="Give it to a charity").click()
    page.wait_for_url("**/wallet/giving/")
    page.goto("/wallet/giving/donate/skolebenken/")
    page.get_by_label("All of my available balance").check()
    page.get_by_role("button", name="Donate").click()
    page.wait_for_url("**/wallet/giving/")

    page.goto("/accounts/privacy/")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_label("Type DELETE to confirm").fill("DELETE")
    page.get_by_role("button", name="Close my account").click()
    expect(page.get_by_text("That is not your password.")).to_be_visible()
    screenshot(page, "privacy-close-error")

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Type DELETE to confirm").fill("DELETE")
    page.get_by_role("button", name="Close my account").click()
    page.wait_for_url("**/accounts/privacy/closed/")
    expect(page.get_by_role("heading", name="Your account is closed")).to_be_visible()
    assert_no_sideways_scroll(page)
    screenshot(page, "privacy-closed")

    page.goto("/wallet/")
    page.wait_for_url("**/accounts/login/**")
    user = User.objects.get(pk=user.pk)
    assert user.erased_at is not None and user.email is None and user.full_name == ""


@VIEWPORTS
def test_closing_my_account_with_points_says_they_are_forfeited(page_factory, live_server, viewport):
    user = UserFactory(email=f"points-{viewport['width']}@example.com")
    points_award(user=user, points=2_500, merchant_id=77, idempotency_key=f"test:{user.pk}", memo="Survey")
    page = logged_in_page(page_factory, live_server, user, viewport)

    page.goto("/accounts/privacy/")
    box = page.get_by_label("You have 2,500 points", exact=False)
    expect(box).to_be_visible()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Type DELETE to confirm").fill("DELETE")
    page.get_by_role("button", name="Close my account").click()
    expect(page.get_by_text("Tick each box to confirm")).to_be_visible()
    assert_no_sideways_scroll(page)
    screenshot(page, "privacy-close-points")
    assert User.objects.get(pk=user.pk).erased_at is None

    page.get_by_label("You have 2,500 points", exact=False).check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Type DELETE to confirm").fill("DELETE")
    page.get_by_role("button", name="Close my account").click()
    page.wait_for_url("**/accounts/privacy/closed/")
    assert User.objects.get(pk=user.pk).erased_at is not None
