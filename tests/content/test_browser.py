"""Content in a real browser at phone and desktop widths: marketing edits the How it works page in the
staff panel, previews the draft, publishes it, and the public sees it. Screenshots land in
test-artifacts/screenshots/ (content-*-390.png, content-*-1280.png)."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.services import staff_roles_sync
from content.models import Page
from tests.accounts.factories import StaffUserFactory
from tests.browser import DESKTOP, PHONE, screenshot
from tests.referrals.test_browser import logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.fixture
def seeded_content():
    # A transactional test before this one may have flushed what the data migration seeded.
    importlib.import_module("content.migrations.0003_seed_public_pages").seed(django_apps, None)
    staff_roles_sync()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_marketing_edits_previews_and_publishes_a_page_the_public_then_sees(
    page_factory, live_server, viewport, seeded_content
):
    marketer = StaffUserFactory(mfa=True)
    marketer.groups.add(Group.objects.get(name="marketing"))
    page = logged_in_page(page_factory, live_server, marketer, viewport)
    item = Page.objects.get(slug="how-it-works")

    page.goto("/staff/content/")
    expect(page.get_by_role("heading", name="Content", level=1)).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "content-index")

    page.goto(f"/staff/content/pages/{item.pk}/")
    body = page.locator("textarea[name=body]")
    body.fill(body.input_value() + "\n\n## Gift cards\n\nSoon you can **buy gift cards** with your cashback.")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state()
    assert "Changes pending" in page.content()
    _no_sideways_scroll(page)
    screenshot(page, "content-edit")

    page.get_by_role("link", name="Preview draft").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Preview of the draft")).to_be_visible()
    expect(page.locator("strong", has_text="buy gift cards")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "content-preview")

    page.get_by_role("link", name="Back to the page").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Publish draft").click()
    page.wait_for_load_state()
    assert "Published as version 2" in page.content()

    public = page_factory(viewport)
    public.goto("/how-it-works/")
    expect(public.get_by_role("heading", name="How it works", level=1)).to_be_visible()
    expect(public.locator("strong", has_text="buy gift cards")).to_be_visible()
    assert "Preview of the draft" not in public.content()
    _no_sideways_scroll(public)
    screenshot(public, "content-public")

    page.goto(f"/staff/content/pages/{item.pk}/history/")
    expect(page.get_by_text("Version 2")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "content-history")
