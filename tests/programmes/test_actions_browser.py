"""Seed 003's story at phone width in a real browser (Debian's chromium via Playwright): the shop's survey
system reports that a member completed a survey (partner API), the member buys at the shop (a partner
order), the actions log shows the survey's points, the purchase shows its cashback, and the member
redeems a catalogue item with the points. The pages never scroll sideways; axe finds no serious
violation."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from tests.accessibility import axe_violations
from tests.browser import PHONE, logged_in_page, screenshot
from tests.campaigns.factories import OfferFactory
from tests.merchants.factories import MerchantApiKeyFactory, api_key_headers
from tests.programmes.action_factories import action_rule
from tests.programmes.catalogue_factories import active_batch, item, member, shop
from wallet.points import points_balance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def _partner_post(key, url, body, idempotency_key):
    return Client().post(
        url, body, content_type="application/json", **api_key_headers(key, **{"Idempotency-Key": idempotency_key})
    )


def test_a_member_earns_points_for_a_survey_buys_and_redeems_them(page_factory, live_server):
    world = shop()
    merchant = world.brand_owner.merchant
    action_rule(world.marketing, name="Survey thank-you", value_kind="points", value=600, limit_period="week")
    OfferFactory(merchant=merchant, title="10 % back at Nusa")
    reward = item(world, name="Kopi voucher", price=500, code_source="uploaded")
    active_batch(world, reward, ["KOPI-2026-1234"])
    person = member(world, email="kari@example.com")
    key = MerchantApiKeyFactory(merchant=merchant)

    # The shop's systems report the survey and the purchase.
    survey = _partner_post(
        key,
        "/api/v1/partner/events/",
        {
            "event_id": "survey-77",
            "action": "survey_completed",
            "customer": {"email": "kari@example.com"},
            "description": "Shampoo survey",
        },
        "survey-77",
    )
    assert survey.status_code == 201, survey.content
    order = _partner_post(
        key,
        "/api/v1/partner/orders/",
        {
            "order_id": "WEB-77",
            "customer": {"email": "kari@example.com"},
            "amount": "200.00",
            "currency": "NOK",
            "occurred_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(),
        },
        "order-77",
    )
    assert order.status_code == 201, order.content
    assert points_balance(user=person) == 600

    page = logged_in_page(page_factory, live_server, person, PHONE)
    page.goto("/wallet/actions/")
    page.wait_for_selector("text=Earned 600 points")
    assert page.get_by_text("Shampoo survey").count() == 1
    _fits(page)
    assert axe_violations(page) == []
    screenshot(page, "actions-log")

    page.get_by_role("link", name="Purchases").first.click()
    page.wait_for_url("**/wallet/purchases/")
    page.wait_for_selector(f"text={merchant.display_name}")
    _fits(page)

    page.goto("/wallet/rewards/")
    page.get_by_role("link", name="Kopi voucher").click()
    page.get_by_role("link", name="Redeem", exact=True).click()
    page.wait_for_selector("text=Your points after")
    _fits(page)
    page.get_by_role("button", name="Redeem now").click()
    page.wait_for_selector("text=Redeemed. Claim your voucher")
    _fits(page)
    screenshot(page, "actions-redeemed")
    assert points_balance(user=person) == 100
