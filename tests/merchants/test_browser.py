"""The location form's map in a real browser (Debian's chromium via Playwright): clicking places the shop."""

import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from merchants.models import Location
from tests.merchants.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def test_clicking_the_map_fills_the_coordinates_and_saves_them(browser, live_server, settings):
    # Tiles from the test server itself: they 404, which is fine; nothing leaves the machine.
    settings.MAP_TILE_ORIGIN = live_server.url
    owner = MembershipFactory(role="owner")
    client = Client()
    client.force_login(owner.user)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
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
    csp_problems: list[str] = []
    page.on(
        "console",
        lambda message: csp_problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on("pageerror", lambda error: csp_problems.append(str(error)))

    page.goto(f"/portal/{owner.merchant_id}/locations/new/")
    page.wait_for_selector("#location-map.leaflet-container")
    page.locator("#location-map").scroll_into_view_if_needed()
    box = page.locator("#location-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 - 30)

    latitude, longitude = page.input_value("#id_latitude"), page.input_value("#id_longitude")
    assert latitude and longitude
    assert page.locator(".leaflet-marker-icon").count() == 1

    page.fill("#id_name", "Clicked shop")
    page.fill("#id_street", "Nowhere 1")
    page.fill("#id_postcode", "9999")
    page.fill("#id_city", "Atlantis")  # not geocodable: the clicked position is what counts
    page.get_by_role("button", name="Add shop").click()
    page.wait_for_url(f"**/portal/{owner.merchant_id}/locations/")

    location = Location.objects.get(name="Clicked shop")
    assert location.latitude == Decimal(latitude)
    assert location.longitude == Decimal(longitude)
    assert csp_problems == []
    context.close()
