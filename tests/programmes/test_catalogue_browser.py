"""Seed 003's redemption at phone width in a real browser (Debian's chromium via Playwright): a member with
points browses the catalogue, redeems an item for points, asks for the SMS code, types a wrong one, then
the right one from the fake SMS outbox, and sees the voucher's code once; the page never scrolls
sideways and axe finds no serious violation."""

import re

import pytest

from cashback.providers.sms import FakeSmsClient
from tests.accessibility import axe_violations
from tests.browser import PHONE, logged_in_page, screenshot
from tests.programmes.catalogue_factories import active_batch, claim_code_from, item, member, shop
from wallet.points import points_balance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def sms_outbox():
    FakeSmsClient.clear()
    yield FakeSmsClient.outbox
    FakeSmsClient.clear()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_a_member_redeems_for_points_and_claims_the_voucher_with_the_sms_code(page_factory, live_server, sms_outbox):
    world = shop()
    reward = item(world, name="Kopi voucher", price=500, code_source="uploaded")
    active_batch(world, reward, ["KOPI-2026-9876"])
    item(world, name="Cinema night", kind="event_invitation", price=5_000)
    person = member(world, points=1_200)

    page = logged_in_page(page_factory, live_server, person, PHONE)
    page.goto("/wallet/")
    page.wait_for_selector("[data-testid=points-balance]:has-text('1,200 points')")
    page.get_by_role("link", name="Spend them in the rewards catalogue").click()
    page.wait_for_url("**/wallet/rewards/")
    _fits(page)
    assert axe_violations(page) == []
    screenshot(page, "catalogue-browse")

    page.get_by_role("link", name="Kopi voucher").click()
    page.get_by_role("link", name="Redeem", exact=True).click()
    page.wait_for_selector("text=Your points after")
    _fits(page)
    screenshot(page, "catalogue-confirm")
    page.get_by_role("button", name="Redeem now").click()
    page.wait_for_selector("text=Redeemed. Claim your voucher")
    assert points_balance(user=person) == 700
    page.wait_for_selector("[data-testid=voucher-masked]:has-text('9876')")
    assert "KOPI-2026-9876" not in page.content()

    page.get_by_role("button", name="Send me the code by SMS").click()
    page.wait_for_selector("text=We sent a code by SMS")
    assert len(sms_outbox) == 1 and sms_outbox[0].to == person.phone
    page.get_by_label("Code from the SMS").fill("000000" if claim_code_from(sms_outbox[0].body) != "000000" else "1")
    page.get_by_role("button", name="Open the voucher").click()
    page.wait_for_selector(".form-errors:has-text('not right')")
    _fits(page)
    screenshot(page, "catalogue-claim-wrong")

    page.get_by_label("Code from the SMS").fill(claim_code_from(sms_outbox[0].body))
    page.get_by_role("button", name="Open the voucher").click()
    page.wait_for_selector("[data-testid=voucher-code]:has-text('KOPI-2026-9876')")
    _fits(page)
    assert axe_violations(page) == []
    screenshot(page, "catalogue-claimed")

    page.goto("/wallet/rewards/vouchers/")
    assert page.get_by_text(re.compile("••••9876")).count() == 1
    assert "KOPI-2026-9876" not in page.content()
    _fits(page)
