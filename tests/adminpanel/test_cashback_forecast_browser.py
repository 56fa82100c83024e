"""The business cashback forecast in a real browser at phone and desktop widths: the chart is drawn
(Chart.js, no CSP violation), no sideways scroll. Screenshots land in test-artifacts/screenshots/."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.services import staff_roles_sync
from tests.accounts.factories import StaffUserFactory
from tests.adminpanel.forecast_data import business_customers
from tests.browser import DESKTOP, PHONE, logged_in_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_forecast_with_its_chart_and_no_sideways_scroll(page_factory, live_server, viewport):
    business_customers()
    staff_roles_sync()
    person = StaffUserFactory(mfa=True, email=f"fiona-{viewport['width']}@example.com")
    person.groups.add(Group.objects.get(name="finance"))
    page = logged_in_page(page_factory, live_server, person, viewport)

    page.goto("/staff/cashback-forecast/")
    page.wait_for_selector("canvas[data-forecast-chart=NOK][data-drawn=true]")

    expect(page.get_by_role("heading", name="NOK")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    screenshot(page, "staff-cashback-forecast")
