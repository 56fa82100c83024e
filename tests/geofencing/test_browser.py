"""/wallet/offers/ in a real browser (Debian's chromium via Playwright), at phone and desktop width: with the
position shared (Playwright's geolocation and permission) the page finds the offers around it by itself; without
it, around the profile's city and a typed place; the map's markers; no sideways scrolling; no CSP violation."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from tests.accounts.factories import UserFactory
from tests.browser import DESKTOP, PHONE, screenshot
from tests.campaigns.factories import PurchaseFactory
from tests.geofencing.factories import OSLO, north_of, shop_with_offer
from tests.merchants.factories import MerchantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BERGEN = ("60.391300", "5.322100")


@pytest.fixture
def open_page(browser, live_server, settings):
    """A signed-in page, with or without the browser's position; CSP violations and script errors fail the test.
    Map tiles come from the test server itself (they 404): nothing leaves the machine."""
    settings.MAP_TILE_ORIGIN = live_server.url
    contexts, problems = [], []

    def make(viewport, user, position=None):
        options = {"viewport": viewport, "base_url": live_server.url}
        if position is not None:
            options.update(geolocation={"latitude": position[0], "longitude": position[1]}, permissions=["geolocation"])
        context = browser.new_context(**options)
        contexts.append(context)
        client = Client()
        client.force_login(user)
        context.add_cookies(
            [
                {
                    "name": django_settings.SESSION_COOKIE_NAME,
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert problems == []


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def _offers():
    cafe = MerchantFactory(display_name="Kaffebrenneriet Grünerløkka", category_code="5814")
    shop_with_offer(
        *north_of(OSLO, 350),
        merchant=cafe,
        title="Morning coffee for newcomers",
        audience="new_customers",
        days_of_week=[0, 1, 2, 3, 4],
        hour_from=7,
        hour_to=10,
        max_reward_per_purchase_minor=10_000,
    )
    books = MerchantFactory(display_name="Tronsmo Bokhandel", category_code="5942")
    shop_with_offer(*north_of(OSLO, 1_400), merchant=books, title="Books and comics", percent=8)
    shop_with_offer(*north_of(OSLO, 1_450), merchant=books, title="Second offer, second shop", percent=5)
    grocer = MerchantFactory(display_name="Matbutikken Bergen", category_code="5411")
    shop_with_offer(*BERGEN, merchant=grocer, title="Weekly shop")
    return cafe


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_offers_near_the_browsers_position(open_page, viewport):
    cafe = _offers()
    user = UserFactory(city="")
    PurchaseFactory(user=user, merchant=cafe)
    page = open_page(viewport, user, position=(float(OSLO[0]), float(OSLO[1])))

    page.goto("/wallet/offers/")
    # Already allowed: the page asks the browser for the position and searches around it by itself.
    page.wait_for_url("**/wallet/offers/?*lat=*")
    expect(page.get_by_test_id("nearby-origin")).to_contain_text("your position")
    cards = page.get_by_test_id("nearby-offer")
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_contain_text("Kaffebrenneriet")
    expect(cards.nth(0)).to_contain_text("You don't qualify now")
    expect(cards.nth(0)).to_contain_text("Only for new customers")
    expect(cards.nth(1)).to_contain_text("You qualify")
    expect(page.locator("#nearby-map.leaflet-container")).to_be_visible()
    expect(page.locator(".leaflet-marker-icon")).to_have_count(3)  # three shops; Bergen is far away
    _no_sideways_scroll(page)
    screenshot(page, "nearby-offers-position")

    page.fill("#id_place", "Bergen")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("nearby-origin")).to_contain_text("Bergen")
    expect(page.get_by_test_id("nearby-offer")).to_have_count(1)
    expect(page.get_by_test_id("nearby-offer")).to_contain_text("Matbutikken Bergen")
    _no_sideways_scroll(page)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_offers_without_the_position(open_page, viewport):
    _offers()
    page = open_page(viewport, UserFactory(city=""))

    page.goto("/wallet/offers/")
    expect(page.get_by_text("Tell us where you are")).to_be_visible()
    expect(page.get_by_role("button", name="Use my position")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "nearby-offers-ask")

    page.fill("#id_place", "5003")
    page.select_option("#id_radius_km", "2")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("nearby-offer")).to_have_count(1)
    page.fill("#id_place", "Trondheim")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No offers this close")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "nearby-offers-empty")
    page.get_by_test_id("wider").click()
    expect(page.get_by_test_id("nearby-origin")).to_contain_text("Within 5 km of Trondheim")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_offers_around_the_profiles_city(open_page, viewport):
    _offers()
    page = open_page(viewport, UserFactory(city="Oslo"))

    page.goto("/wallet/offers/")
    expect(page.get_by_test_id("nearby-origin")).to_contain_text("Oslo (your profile's city)")
    expect(page.get_by_test_id("nearby-offer")).to_have_count(3)
    page.get_by_test_id("nearby-offer").nth(0).locator("summary").click()
    expect(page.get_by_test_id("nearby-offer").nth(0)).to_contain_text("Karl Johans gate")
    _no_sideways_scroll(page)
    screenshot(page, "nearby-offers-city")
