"""The public shop pages in a real browser (Debian's chromium), at phone and desktop widths, offline.

Map tiles are blocked in every test here (the tile URL points at the test server and each request is
aborted): the list, the search and the clustered markers must work without them. Only the aborted
tiles' own load errors are forgiven; any other console error, page error or CSP violation fails.
"""

from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from campaigns.models import OfferStatus
from tests.browser import DESKTOP, PHONE, screenshot
from tests.campaigns.factories import ChallengeFactory, LocationFactory, MerchantFactory, OfferFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TILE_PATH = "/tiles-blocked/"
# Eight cafés within a few hundred metres in central Oslo (they cluster), two shops in Bergen.
OSLO = [("59.9136", "10.7405"), ("59.9148", "10.7501"), ("59.9139", "10.7359"), ("59.9129", "10.7516"),
        ("59.9114", "10.7508"), ("59.9123", "10.7434"), ("59.9156", "10.7368"), ("59.9152", "10.7497")]  # fmt: skip


@pytest.fixture
def shops(settings, live_server) -> None:
    settings.MAP_TILE_URL = f"{live_server.url}{TILE_PATH}{{z}}/{{x}}/{{y}}.png"
    for n, (lat, lng) in enumerate(OSLO):
        merchant = MerchantFactory(display_name=f"Kafé {n}", slug=f"kafe-{n}", category_code="5814")
        LocationFactory(merchant=merchant, city="Oslo", latitude=Decimal(lat), longitude=Decimal(lng))
        OfferFactory(merchant=merchant, max_reward_per_purchase_minor=3_000, days_of_week=[0, 1, 2, 3, 4])
    for name, code in (("Bryggen Bokhandel", "5942"), ("Fjellsko Bergen", "5661")):
        merchant = MerchantFactory(display_name=name, slug=name.lower().replace(" ", "-"), category_code=code)
        LocationFactory(merchant=merchant, city="Bergen", latitude=Decimal("60.3926"), longitude=Decimal("5.3242"))
        offer = OfferFactory(
            merchant=merchant,
            reward_type="fixed",
            percent=Decimal(0),
            fixed_amount_minor=10_000,
            min_spend_minor=80_000,
        )
        ChallengeFactory(offer=offer, title="Three visits", target_type="purchase_count", target_value=3)
    OfferFactory(merchant__display_name="Hidden draft", status=OfferStatus.DRAFT)


@pytest.fixture
def open_page(browser, live_server) -> Iterator:
    """Pages with tiles blocked; fails the test on any console error but the blocked tiles' own."""
    contexts, problems = [], []

    def on_console(message) -> None:
        if message.type == "error" and TILE_PATH not in (message.location or {}).get("url", ""):
            problems.append(message.text)

    def opener(viewport: dict[str, int]):
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        contexts.append(context)
        context.route(f"**{TILE_PATH}**", lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(str(error)))
        return page

    yield opener
    for context in contexts:
        context.close()
    assert problems == [], f"the browser reported: {problems}"


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _card_titles(page) -> list[str]:
    return page.locator(".shop-card .card-title").all_inner_texts()


def test_on_a_phone_the_list_comes_first_and_the_map_is_one_tap_away(shops, open_page):
    page = open_page(PHONE)
    page.goto("/shops/")

    expect(page.locator(".shop-card")).to_have_count(10)
    map_box = page.locator("#shops-map")
    expect(map_box).to_be_hidden()
    _no_sideways_scroll(page, PHONE["width"])
    screenshot(page, "shops-list")

    page.get_by_role("button", name="Show the map").click()

    expect(map_box).to_be_visible()
    expect(page.locator("#shops-map .marker-cluster").first).to_be_visible()  # tiles blocked, markers drawn
    assert page.locator("#shops-map").get_attribute("data-marker-count") == "10"
    _no_sideways_scroll(page, PHONE["width"])
    screenshot(page, "shops-map-open")
    page.get_by_role("button", name="Hide the map").click()
    expect(map_box).to_be_hidden()


def test_search_and_filters_narrow_the_list_and_the_map(shops, open_page):
    page = open_page(PHONE)
    page.goto("/shops/")

    page.get_by_label("Shop or city").fill("bergen")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/shops/?q=bergen**")
    assert sorted(_card_titles(page)) == ["Bryggen Bokhandel", "Fjellsko Bergen"]
    assert "Three visits" not in page.content()  # challenges are on the merchant's page

    page.get_by_label("Category").select_option("books")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".shop-card")).to_have_count(1)  # the search is a page load: wait for its answer
    assert _card_titles(page) == ["Bryggen Bokhandel"]
    expect(page.locator(".shop-offer-terms")).to_contain_text("100 kr back, on purchases of 800 kr or more")
    page.get_by_role("button", name="Show the map").click()
    expect(page.locator("#shops-map")).to_have_attribute("data-marker-count", "1")
    screenshot(page, "shops-filtered")

    page.get_by_label("Shop or city").fill("nowhere at all")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="No shops match")).to_be_visible()
    _no_sideways_scroll(page, PHONE["width"])


def test_on_a_desktop_the_clustered_map_sits_beside_the_list(shops, open_page):
    page = open_page(DESKTOP)
    page.goto("/shops/")

    expect(page.locator("#shops-map .marker-cluster").first).to_be_visible()
    expect(page.get_by_role("button", name="Show the map")).to_be_hidden()
    cluster_count = page.locator("#shops-map .marker-cluster").first.inner_text()
    assert int(cluster_count) >= 2  # close shops drawn as one numbered cluster
    list_box = page.locator(".shops-results").bounding_box()
    map_box = page.locator("#shops-map").bounding_box()
    assert map_box["x"] > list_box["x"] + list_box["width"] - 1  # beside, not below
    _no_sideways_scroll(page, DESKTOP["width"])
    screenshot(page, "shops-list")

    page.locator("#shops-map .marker-cluster").first.click()  # zooms in and spreads the cluster
    expect(page.locator("#shops-map .leaflet-marker-icon:not(.marker-cluster)").first).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_merchant_page_shows_its_offers_challenges_hours_and_map(shops, open_page, viewport):
    page = open_page(viewport)
    page.goto("/shops/")
    page.get_by_role("link", name="Fjellsko Bergen").click()

    page.wait_for_url("**/shops/fjellsko-bergen/")
    expect(page.get_by_role("heading", name="Fjellsko Bergen", level=1)).to_be_visible()
    expect(page.locator(".shop-offer-terms")).to_contain_text("100 kr back, on purchases of 800 kr or more")
    expect(page.get_by_role("heading", name="Challenges")).to_be_visible()
    expect(page.locator("#shop-map .leaflet-marker-icon")).to_have_count(1)
    _no_sideways_scroll(page, viewport["width"])
    screenshot(page, "shop-detail")


def test_without_javascript_the_list_and_its_search_work_and_no_map_or_button_shows(shops, browser, live_server):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/shops/")
        expect(page.locator(".shop-card")).to_have_count(10)
        expect(page.locator("#shops-map")).to_be_hidden()
        expect(page.locator("[data-shops-map-toggle]")).to_be_hidden()

        page.get_by_label("Offer", exact=True).select_option("fixed")
        page.get_by_role("button", name="Search").click()
        expect(page.locator(".shop-card")).to_have_count(2)  # the search is a page load: wait for its answer

        assert sorted(_card_titles(page)) == ["Bryggen Bokhandel", "Fjellsko Bergen"]
        _no_sideways_scroll(page, PHONE["width"])
    finally:
        context.close()
