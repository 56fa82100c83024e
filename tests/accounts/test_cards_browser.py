"""Cards and statements pages in a real browser at phone and desktop widths (no CSP violation allowed):
linking a card on the fake network's enrolment page, the cards list, removing a card, the statements
page. Screenshots land in test-artifacts/screenshots/."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from accounts.models import Card
from tests.accounts.factories import UserFactory
from tests.browser import DESKTOP, PHONE, screenshot
from tests.wallet.factories import LedgerAccountFactory, consumer_accounts, fund, settlement_account
from tests.wallet.ledger_scenarios import post
from wallet.models import AccountKind, JournalKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

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
def test_linking_listing_and_removing_a_card(page_factory, live_server, viewport):
    user = UserFactory(email=f"cards-{viewport['width']}@example.com")
    page = logged_in_page(page_factory, live_server, user, viewport)

    page.goto("/wallet/cards/")
    expect(page.get_by_role("heading", name="No cards linked yet")).to_be_visible()
    screenshot(page, "cards-empty")

    page.get_by_role("link", name="Link a card").click()
    page.wait_for_url("**/dev/card-network/enrol/")
    page.get_by_label("Card number").fill("4242 4242 4242 4241")
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill("2031")
    page.get_by_role("button", name="Link card").click()
    expect(page.get_by_text("This is not a valid card number.").first).to_be_visible()
    assert page.get_by_label("Card number").input_value() == ""  # the number is never sent back
    screenshot(page, "cards-enrol-error")

    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Link card").click()
    page.wait_for_url("**/wallet/cards/")
    expect(page.get_by_text("Visa •••• 4242 is linked")).to_be_visible()
    screenshot(page, "cards-list")

    page.get_by_role("link", name="Remove Visa •••• 4242").click()
    expect(page.get_by_role("heading", name="Remove Visa •••• 4242?")).to_be_visible()
    screenshot(page, "cards-remove")
    page.get_by_role("button", name="Remove card").click()
    page.wait_for_url("**/wallet/cards/")
    expect(page.get_by_text("was removed")).to_be_visible()
    assert Card.objects.get(user=user).status == Card.Status.REMOVED


@VIEWPORTS
def test_the_statements_page(page_factory, live_server, viewport):
    user = UserFactory(email=f"statements-{viewport['width']}@example.com")
    pending, available = consumer_accounts(user, "NOK")
    merchant = LedgerAccountFactory(kind=AccountKind.MERCHANT_FUNDING, currency="NOK")
    fund(merchant, 100_000, source=settlement_account("NOK"), kind=JournalKind.MERCHANT_FUNDING)
    post(JournalKind.REWARD_EARN, debit=merchant, credit=pending, amount=2490, memo="Groceries")
    post(JournalKind.REWARD_MATURE, debit=pending, credit=available, amount=2490)
    page = logged_in_page(page_factory, live_server, user, viewport)

    page.goto("/wallet/statements/")

    expect(page.get_by_role("link", name="PDF statement").first).to_be_visible()
    screenshot(page, "statements")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF statement").first.click()
    assert download.value.suggested_filename.endswith("-NOK.pdf")
