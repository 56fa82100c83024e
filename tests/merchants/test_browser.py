"""The location form's map in a real browser (Debian's chromium via Playwright): clicking places the shop."""

from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.test import Client

from merchants.models import Location
from tests.merchants.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
