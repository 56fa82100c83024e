"""The insights dashboard in a real browser on the demo data: charts drawn, tables there, no sideways scroll."""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from campaigns.models import Offer
from merchants.models import Merchant
from tests.browser import DESKTOP, PHONE, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("INSIGHTS_SHOTS_DIR", "/tmp/insights-shots"))


def _signed_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = {"name": django_settings.SESSION_COOKIE_NAME, "value": client.cookies["sessionid"].value}
    page.context.add_cookies([{**cookie, "url": live_server.url}])


def _canvas_has_ink(page, selector: str) -> bool:
    """Some pixel of the canvas is not transparent: Chart.js drew on it."""
    return page.evaluate(
        """(selector) => {
          const canvas = document.querySelector(selector);
          const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
          return false;
        }""",
        selector,
    )


def test_the_demo_merchants_insights_draw_their_charts(page_factory, live_server):
    call_command("seed_demo", verbosity=0)
    merchant = Merchant.objects.get(organisation_number="923609016")
    owner = get_user_model().objects.get(email="consumer@demo.cashback.example")
    offer = Offer.objects.get(merchant=merchant, title="5 % to Skolebenken")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for viewport in (PHONE, DESKTOP):
        page = page_factory(viewport)
        _signed_in(page, live_server, owner)
        page.goto(f"/portal/{merchant.pk}/insights/?preset=90")
        page.wait_for_selector("canvas[data-drawn=true]")
        for key in ("revenue", "purchases", "customers", "cost"):
            assert _canvas_has_ink(page, f"#chart-{key}"), key
        page.get_by_text("Show as a table").first.click()
        assert page.locator("details[open] table tbody tr").count() >= 13  # 90 days by week
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, "insights-dashboard")
        page.screenshot(path=str(SHOTS / f"dashboard-{viewport['width']}.png"), full_page=True)

        page.goto(f"/portal/{merchant.pk}/insights/offers/{offer.pk}/?preset=90")
        page.wait_for_selector("canvas[data-drawn=true]")
        assert _canvas_has_ink(page, "#chart-revenue")
        assert "Skolebenken" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(SHOTS / f"offer-{viewport['width']}.png"), full_page=True)

        page.goto(f"/portal/{merchant.pk}/")
        assert "Last 30 days" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(SHOTS / f"overview-{viewport['width']}.png"), full_page=True)
