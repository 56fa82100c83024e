"""The four pages of issue 18 in Norwegian, in a real browser at phone (390x844) and desktop (1280x800)
widths: the home page, the wallet, the merchant dashboard and the staff overview. Each is in Bokmål,
writes money the Norwegian way and never scrolls sideways. Screenshots: test-artifacts/screenshots/nb-*."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.services import staff_roles_sync
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.browser import DESKTOP, PHONE, logged_in_page, screenshot
from tests.campaigns.factories import OfferFactory
from tests.merchants.factories import LocationFactory, MembershipFactory, MerchantFactory
from tests.wallet.ledger_scenarios import consumer_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])


def _text(page) -> str:
    """The page's visible text with every run of spaces (no-break ones too) as one space."""
    return " ".join(page.inner_text("body").split())


# The elements that stick out on the right, to say which one makes the page scroll sideways.
_WIDE_ELEMENTS = """() => [...document.querySelectorAll('body *')]
  .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter((element) => {
    for (let up = element.parentElement; up; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return false;
    }
    return true;
  })
  .slice(0, 5)
  .map((element) => `${element.tagName}.${element.className} ${Math.round(element.getBoundingClientRect().right)}`)"""


def _no_sideways_scroll(page) -> None:
    wide = page.evaluate(_WIDE_ELEMENTS)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"scrolls sideways: {wide}"


@VIEWPORTS
def test_the_home_page_in_norwegian(page_factory, viewport):
    page = page_factory(viewport)
    page.context.set_extra_http_headers({"Accept-Language": "nb-NO,nb;q=0.9"})

    page.goto("/")

    expect(page.get_by_role("heading", name="Få penger tilbake hver gang du handler", level=1)).to_be_visible()
    assert "245,50 kr" in _text(page)
    assert page.locator("html").get_attribute("lang") == "nb"
    _no_sideways_scroll(page)
    screenshot(page, "nb-home")


@VIEWPORTS
def test_the_wallet_in_norwegian(page_factory, live_server, viewport):
    person = UserFactory(language="nb")
    consumer_history(person, "NOK")
    page = logged_in_page(page_factory, live_server, person, viewport)

    page.goto("/wallet/")

    expect(page.get_by_role("heading", name="Bevegelser")).to_be_visible()
    assert "2,00 kr" in _text(page)  # available
    # On a phone each movement is a card whose cells name themselves; on a desktop it is a table row.
    row = page.locator("table.table-stack tbody tr").first
    expected = "block" if viewport == PHONE else "table-row"
    assert row.evaluate("(element) => getComputedStyle(element).display") == expected
    assert row.locator("td").first.get_attribute("data-label") == "Dato"
    # Nothing is cut off by the table's frame either (a long badge such as "Kontantbonus ble tilgjengelig").
    cut_off = page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap')].flatMap((frame) => {
          const edge = frame.getBoundingClientRect().right + 0.5;
          return [...frame.querySelectorAll('td *')].filter((e) => e.getBoundingClientRect().right > edge)
            .map((e) => e.textContent.trim());
        })"""
    )
    assert cut_off == []
    _no_sideways_scroll(page)
    screenshot(page, "nb-wallet")


@VIEWPORTS
def test_the_merchant_dashboard_in_norwegian(page_factory, live_server, viewport):
    membership = MembershipFactory(user=UserFactory(language="nb"))
    LocationFactory(merchant=membership.merchant)
    OfferFactory(merchant=membership.merchant, percent=Decimal("10"))
    page = logged_in_page(page_factory, live_server, membership.user, viewport)
    page.set_default_timeout(60_000)  # the portal's first page computes the insights panel

    page.goto(f"/portal/{membership.merchant.pk}/")

    expect(page.get_by_role("heading", name="Neste steg")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "nb-merchant-dashboard")


@VIEWPORTS
def test_the_staff_overview_in_norwegian(page_factory, live_server, viewport):
    staff_roles_sync()
    staff = StaffUserFactory(mfa=True, language="nb")
    staff.groups.add(Group.objects.get(name="support"))
    page = logged_in_page(page_factory, live_server, staff, viewport)

    page.goto("/staff/")

    assert page.locator("html").get_attribute("lang") == "nb"
    assert "Ansattpanel" in page.content() and "Gå til innholdet" in page.content()
    _no_sideways_scroll(page)
    screenshot(page, "nb-staff-overview")


def _staff_page(page_factory, live_server, viewport, role: str):
    staff_roles_sync()
    staff = StaffUserFactory(mfa=True, language="nb")
    staff.groups.add(Group.objects.get(name=role))
    return logged_in_page(page_factory, live_server, staff, viewport)


@VIEWPORTS
def test_a_persons_support_page_in_norwegian(page_factory, live_server, viewport):
    """The widest staff page: every section of a person (wallet movements, purchases, flags ...)."""
    person = UserFactory(full_name="Kari Nordmann")
    consumer_history(person, "NOK")
    page = _staff_page(page_factory, live_server, viewport, "administrator")

    page.goto(f"/staff/users/{person.pk}/")

    expect(page.get_by_role("heading", name="Kari Nordmann", level=1)).to_be_visible()
    text = _text(page)
    assert "Siste bevegelser" in text and "Ingen svindelflagg." in text and "Sperr kontoen" in text
    assert "Sist innlogget aldri" in text and "E-post SMS" in text  # a filter's default and model choices too
    assert "2,00 kr" in text
    _no_sideways_scroll(page)
    screenshot(page, "nb-staff-person")


@VIEWPORTS
def test_a_merchant_review_page_in_norwegian(page_factory, live_server, viewport):
    merchant = MerchantFactory(status="pending_review", display_name="Bakeriet på hjørnet")
    page = _staff_page(page_factory, live_server, viewport, "administrator")

    page.goto(f"/staff/merchants/{merchant.pk}/")

    expect(page.get_by_role("heading", name="Avgjørelse")).to_be_visible()
    expect(page.get_by_role("button", name="Godkjenn Bakeriet på hjørnet")).to_be_visible()
    assert "Revisjonslogg Ingen hendelser." in _text(page) and "Begrunnelse" in _text(page)
    _no_sideways_scroll(page)
    screenshot(page, "nb-staff-merchant")
