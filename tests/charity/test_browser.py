"""The charity pages in a real browser (Debian's chromium): public list and page, the wallet's giving page,
donating through the form, the staff pages; screenshots at phone and desktop width; no CSP violation."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from charity import selectors
from tests.browser import DESKTOP, PHONE, screenshot
from tests.charity.factories import CharityFactory, UserFactory, available_money, charity_reward

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_page(browser, live_server):
    """Pages whose CSP violations and script errors fail the test (forms answer 400 on bad input, which the
    shared page_factory would count as an error)."""
    contexts, problems = [], []

    def make(viewport):
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert problems == []


def _text(page) -> str:
    return " ".join(page.inner_text("main").split())


def _signed_in(page, live_server, user) -> None:
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


def _charities():
    desks = CharityFactory(
        name="Skolebenken",
        slug="skolebenken",
        cause="School furniture for classrooms in East Africa",
        description="Skolebenken builds sturdy desks with local carpenters.",
        logo_path="charity/logos/skolebenken.svg",
        costs={"NOK": 80_000, "EUR": 7_000},
    )
    books = CharityFactory(
        name="Lesehesten",
        slug="lesehesten",
        cause="Books for school libraries in the Nordics",
        impact_unit="book",
        impact_unit_plural="books",
        logo_path="charity/logos/lesehesten.svg",
        costs={"NOK": 12_000},
    )
    CharityFactory(name="Hjelpehånda", slug="hjelpehanda", cause="Meals for families", logo_path="", costs={})
    return desks, books


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_giving_pages_in_a_browser(open_page, live_server, viewport):
    desks, books = _charities()
    other = UserFactory()
    charity_reward(charity=desks, user=other, amount=560_000, offer_id=1, purchase_id=1)
    page = open_page(viewport)

    page.goto("/charities/")
    expect(page.get_by_role("heading", name="Partner charities")).to_be_visible()
    screenshot(page, "charity-list")
    page.get_by_role("link", name="Skolebenken").first.click()
    page.wait_for_url("**/charities/skolebenken/")
    assert "Together we funded 7 school desks" in _text(page)
    screenshot(page, "charity-detail")

    # A new consumer: empty states first.
    user = UserFactory()
    _signed_in(page, live_server, user)
    page.goto("/wallet/giving/")
    expect(page.get_by_text("No impact yet")).to_be_visible()
    screenshot(page, "charity-giving-empty")

    available_money(user, 150_000)
    charity_reward(charity=books, user=user, amount=18_000, offer_id=2, purchase_id=2)
    page.goto("/wallet/giving/donate/skolebenken/")
    page.fill("#id_amount", "1000")
    page.get_by_role("button", name="Donate").click()
    page.wait_for_url("**/wallet/giving/")
    page.goto("/wallet/giving/donate/skolebenken/")
    page.fill("#id_amount", "2000.001")
    page.get_by_role("button", name="Donate").click()
    assert "decimals" in page.inner_text(".form")
    screenshot(page, "charity-donate-error")

    page.goto("/wallet/giving/")
    page.select_option("#id_charity", label="Lesehesten")
    page.fill("#id_share_percent", "20")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/wallet/giving/")
    text = _text(page)
    assert "Thank you" not in text  # the message was shown once, after the donation
    assert "1 school desk and 25% of the next" in text
    assert "1 book and 50% of the next" in text
    assert "20% of every reward goes to Lesehesten" in text
    screenshot(page, "charity-giving")
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 50_000


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_staff_charity_pages_in_a_browser(open_page, live_server, viewport):
    from django.contrib.auth.models import Group

    from accounts.services import staff_roles_sync
    from tests.accounts.factories import StaffUserFactory

    desks, _books = _charities()
    charity_reward(charity=desks, user=UserFactory(), amount=90_000, offer_id=1, purchase_id=1)
    staff_roles_sync()
    admin = StaffUserFactory(mfa=True)
    admin.groups.add(Group.objects.get(name="administrator"))
    page = open_page(viewport)
    _signed_in(page, live_server, admin)

    page.goto("/staff/charities/")
    expect(page.get_by_role("link", name="Skolebenken")).to_be_visible()
    screenshot(page, "charity-staff-list")
    page.goto(f"/staff/charities/{desks.pk}/")
    assert "NOK 900.00" in _text(page)
    screenshot(page, "charity-staff-detail")
    page.goto("/staff/charities/new/")
    page.fill("#id_name", "Ny")
    page.fill("#id_organisation_number", "123")
    page.fill("#id_cause", "x")
    page.fill("#id_impact_unit", "meal")
    page.fill("#id_impact_unit_plural", "meals")
    page.get_by_role("button", name="Add charity").click()
    assert "not a valid organisation number" in page.inner_text("main")
    screenshot(page, "charity-staff-form-error")
