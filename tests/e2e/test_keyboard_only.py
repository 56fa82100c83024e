"""Main flows by keyboard alone: staff approve a merchant, a consumer donates to a charity, without
touching a mouse.

Every step moves focus with Tab (bounded: a control that Tab never reaches fails the test), types,
and presses Space or Enter; nothing is clicked or filled by selector. The focused control must show
a visible focus indicator (an outline or a box shadow) when it is reached."""

import pytest
from django.contrib.auth.models import Group

from accounts.services import staff_roles_sync
from charity import selectors
from merchants.models import Merchant
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.browser import PHONE, logged_in_page, screenshot
from tests.charity.factories import CharityFactory, available_money, charity_reward
from tests.merchants.factories import MerchantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 60

FOCUS_VISIBLE = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
}"""


def tab_to(page, selector: str) -> None:
    """Press Tab until ``selector`` has the focus; fail if Tab never gets there."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            assert page.evaluate(FOCUS_VISIBLE), f"{selector} has the focus but shows no focus indicator"
            return
    pytest.fail(f"Tab never reached {selector}")


def test_staff_approve_a_merchant_by_keyboard_only(page_factory, live_server):
    staff_roles_sync()
    administrator = StaffUserFactory(mfa=True)
    administrator.groups.add(Group.objects.get(name="administrator"))
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW, display_name="Kaffebrenneriet")
    page = logged_in_page(page_factory, live_server, administrator, PHONE)
    page.goto("/staff/merchants/")

    tab_to(page, f"a[href='/staff/merchants/{merchant.pk}/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, f"form[action='/staff/merchants/{merchant.pk}/approve/'] button[type=submit]")
    screenshot(page, "keyboard-approve")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.APPROVED


def test_a_consumer_donates_by_keyboard_only(page_factory, live_server):
    user = UserFactory()
    available_money(user, 50_000)
    charity = CharityFactory(name="Skolebenken", slug="skolebenken", costs={"NOK": 80_000})
    charity_reward(charity=charity, user=UserFactory(), amount=8_000, offer_id=1, purchase_id=1)
    page = logged_in_page(page_factory, live_server, user, PHONE)
    page.goto(f"/wallet/giving/donate/{charity.slug}/")

    tab_to(page, "input[name=amount]")
    page.keyboard.type("120.00")
    tab_to(page, "form.form button[type=submit]")
    screenshot(page, "keyboard-donate")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert selectors.consumer_available_minor(user=user, currency="NOK") == 50_000 - 12_000
    assert selectors.charity_impact(charity=charity) is not None
    assert "Thank you" in page.inner_text("main")
