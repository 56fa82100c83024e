"""Challenge progress and the tier card in a real browser (Debian's chromium) at phone and desktop
width: the wallet home's tier card and challenge summary, the challenges page, their empty states;
no sideways scroll at 390 px, no CSP violation; screenshots to look at."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from campaigns import services
from tests.accounts.factories import UserFactory
from tests.browser import DESKTOP, PHONE, screenshot
from tests.campaigns.factories import ChallengeFactory, OfferFactory, PurchaseFactory, TierFactory
from tests.campaigns.lifecycle_helpers import event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = {"name": django_settings.SESSION_COOKIE_NAME, "value": client.cookies["sessionid"].value}
    page.context.add_cookies([{**cookie, "url": live_server.url}])


def _text(page) -> str:
    return " ".join(page.inner_text("main").replace("\u00a0", " ").split())


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _consumer_with_progress():
    TierFactory(rank=1, name="Silver", threshold_minor=500_000, multiplier=Decimal("1.25"))
    TierFactory(rank=2, name="Gold", threshold_minor=2_000_000, multiplier=Decimal("1.50"))
    offer = OfferFactory(title="10 % back on every coffee", ends_at=timezone.now() + timedelta(days=12))
    offer.merchant.display_name = "Fjord Coffee"
    offer.merchant.save(update_fields=["display_name"])
    ChallengeFactory(offer=offer, title="Spend 1 000 kr this season", target_value=100_000, bonus_minor=5_000)
    ChallengeFactory(offer=offer, title="Ten coffees", target_type="purchase_count", target_value=10)
    user = UserFactory()
    PurchaseFactory(
        user=user, merchant=offer.merchant, amount_minor=600_000, occurred_at=offer.starts_at - timedelta(days=90)
    )
    event(user=user, merchant=offer.merchant, kind="clearing", amount=65_000, txn="coffee")
    services.tier_recompute(user=user)
    return user


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_tier_card_and_challenge_progress_on_the_wallet(page_factory, live_server, viewport):
    user = _consumer_with_progress()
    page = page_factory(viewport)
    _signed_in(page, live_server, user)

    page.goto("/wallet/")
    card = page.locator(".tier-card")
    expect(card).to_be_visible()
    card_text = " ".join(card.inner_text().replace("\u00a0", " ").split())
    assert "Silver" in card_text and "Cashback \u00d71.25" in card_text
    assert "more before" in card_text and "to reach Gold" in card_text
    bar = page.get_by_role("progressbar", name="Spend 1 000 kr this season")
    expect(bar).to_be_visible()
    assert bar.get_attribute("value") == "65"
    figures = _text(page)
    assert "650 of 1 000 kr spent" in figures
    assert "12 days left" in figures or "11 days left" in figures  # the end is 12 days after the offer was made
    assert "Pays a 50 kr bonus" in _text(page)
    _no_sideways_scroll(page)
    screenshot(page, "wallet-tier-and-challenges")

    page.get_by_role("link", name="All your challenges").click()
    page.wait_for_url("**/wallet/challenges/")
    expect(page.get_by_role("heading", name="Your challenges", level=1)).to_be_visible()
    assert "1 of 10 purchases" in _text(page)
    _no_sideways_scroll(page)
    screenshot(page, "wallet-challenges")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_empty_states_without_tiers_or_challenges(page_factory, live_server, viewport):
    page = page_factory(viewport)
    _signed_in(page, live_server, UserFactory())

    page.goto("/wallet/")
    expect(page.get_by_text("Loyalty tiers are not open yet")).to_be_visible()
    expect(page.get_by_text("No challenges are running for you right now")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "wallet-tier-and-challenges-empty")

    page.goto("/wallet/challenges/")
    expect(page.get_by_role("heading", name="No challenges yet")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "wallet-challenges-empty")
