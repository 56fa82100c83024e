"""The reports page in a real browser at phone and desktop widths, with a prepared export that finished:
no CSP violation, no sideways scrolling; screenshots in test-artifacts/screenshots/."""

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from insights import report_exports
from insights.report_selectors import ReportPeriod, TransactionFilters
from tests.accounts.factories import UserFactory
from tests.accounts.test_cards_browser import logged_in_page
from tests.browser import DESKTOP, PHONE, screenshot
from tests.campaigns.factories import LocationFactory, MembershipFactory, OfferFactory
from tests.insights.report_data import earning
from tests.insights.test_report_views import recently

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/h11-shots")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_reports_page_with_a_finished_export(page_factory, live_server, viewport, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    owner = MembershipFactory(role="analyst", merchant__display_name="Kaffebrenneriet Grünerløkka")
    merchant = owner.merchant
    offers = [OfferFactory(merchant=merchant, title=t) for t in ("10 % on coffee", "Cake for charity")]
    shops = [LocationFactory(merchant=merchant, name=n) for n in ("Thorvald Meyers gate", "Markveien")]
    for n in range(14):
        person = UserFactory(birth_year=1975 + n * 2, gender=("female", "male")[n % 2], city="Oslo")
        shop = shops[n % 2]
        earning(offer=offers[n % 2], user=person, when=recently(1 + n % 5), location=shop, amount=4_500 + n * 350)
    today = timezone.localdate()
    filters = TransactionFilters(period=ReportPeriod(start=today - timedelta(days=29), end=today))
    export, _ = report_exports.report_export_start(merchant=merchant, user=owner.user, fmt="csv", filters=filters)
    report_exports.report_export_build(export_id=export.pk)

    page = logged_in_page(page_factory, live_server, owner.user, viewport)
    page.goto(f"/portal/{merchant.pk}/reports/")
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    path = screenshot(page, "reports")
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(path, SHOTS / path.name)
