"""The inbox with unread messages and the preferences page in a real browser (Debian's chromium), at phone
and desktop width: no sideways scrolling, no CSP violation, marking read counts down the header's badge."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from notifications.services import notification_send
from tests.accounts.factories import UserFactory
from tests.browser import DESKTOP, PHONE, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(page_factory, live_server, viewport, user):
    page = page_factory(viewport)
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    return page


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_the_inbox_with_unread_messages(page_factory, live_server, viewport):
    user = UserFactory(email="ada@example.com")
    for kind, context in [
        ("reward_earned", {"amount": "12.50 NOK"}),
        ("reward_available", {"amount": "48.00 NOK"}),
        ("donation_receipt", {"amount": "20.00 NOK", "charity": "Kirkens Bymisjon"}),
    ]:
        notification_send(user=user, kind=kind, context=context)
    page = _signed_in(page_factory, live_server, viewport, user)

    page.goto("/wallet/notifications/")

    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    expect(page.get_by_text("3 unread")).to_be_visible()
    expect(page.get_by_role("link", name="You earned 12.50 NOK")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "notifications-inbox")

    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_text("0 unread")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_the_preferences_page(page_factory, live_server, viewport):
    user = UserFactory(email="ada@example.com")
    page = _signed_in(page_factory, live_server, viewport, user)

    page.goto("/wallet/notifications/preferences/")

    expect(page.get_by_role("heading", name="Notification preferences")).to_be_visible()
    expect(page.get_by_role("group", name="Cashback earned").get_by_label("SMS")).not_to_be_checked()
    expect(page.get_by_role("group", name="Cashback earned").get_by_label("E-mail")).to_be_checked()
    _no_sideways_scroll(page)
    screenshot(page, "notifications-preferences")

    page.get_by_role("group", name="Cashback earned").get_by_label("SMS").check()
    page.get_by_label("Quiet from").fill("22:00")
    page.get_by_label("Quiet until").fill("07:00")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Your notification preferences are saved.")).to_be_visible()
    expect(page.get_by_role("group", name="Cashback earned").get_by_label("SMS")).to_be_checked()
