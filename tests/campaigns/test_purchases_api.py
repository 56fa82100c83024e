"""Consumers see every purchase with what it earned or why not: /api/v1/purchases/, the web page, and
purchase context on /api/v1/wallet/entries/."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    offer = OfferFactory(percent=Decimal("10"), title="10 % back")
    OfferFactory(merchant=offer.merchant, percent=Decimal("20"), min_spend_minor=50_000, title="Big basket")
    user = UserFactory()
    event(user=user, merchant=offer.merchant, kind="clearing", amount=20_000, txn="txn_a")
    event(user=user, merchant=offer.merchant, kind="clearing", amount=30_000, txn="txn_b")
    event(user=user, merchant=offer.merchant, kind="refund", amount=30_000, txn="rf_b", original="txn_b")
    event(user=UserFactory(), merchant=offer.merchant, kind="clearing", amount=10_000, txn="txn_other")
    return user, offer


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_purchases_list_shows_own_purchases_with_what_they_earned_and_why_not(history):
    user, offer = history

    body = api(user).get("/api/v1/purchases/").json()

    assert body["count"] == 2
    refunded, earned = body["results"]  # newest first (same time: higher id first)
    assert earned["merchant"]["name"] == offer.merchant.display_name
    assert (earned["amount"], earned["earned"], earned["status"]) == ("200.00", "20.00", "cleared")
    assert earned["explanation"] == "You earned 20 NOK."
    assert [(d["title"], d["code"]) for d in earned["decisions"]] == [
        ("10 % back", "earned"),
        ("Big basket", "below_minimum"),
    ]
    assert "Big basket: The purchase was below the offer's minimum spend." in earned["reasons"]
    assert earned["rewards"][0]["status"] == "pending"
    assert (refunded["status"], refunded["earned"]) == ("refunded", "0.00")
    assert refunded["explanation"] == "Refunded: its cashback was reversed."


def test_purchase_detail_is_own_only(history):
    user, _ = history
    mine = api(user).get("/api/v1/purchases/").json()["results"][0]["id"]

    assert api(user).get(f"/api/v1/purchases/{mine}/").status_code == 200
    response = api(UserFactory()).get(f"/api/v1/purchases/{mine}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "purchase_not_found"


def test_purchases_need_a_signed_in_consumer():
    assert APIClient().get("/api/v1/purchases/").status_code in (401, 403)


def test_wallet_entries_carry_the_purchase_and_offer(history):
    user, offer = history

    entries = api(user).get("/api/v1/wallet/entries/").json()["results"]

    earn = next(e for e in entries if e["kind"] == "reward_earn" and e["purchase"]["amount"] == "200.00")
    assert earn["purchase"]["merchant"] == offer.merchant.display_name
    assert earn["offer"] == {"id": offer.pk, "title": "10 % back"}


def test_the_wallet_purchases_page_lists_reasons(client, history):
    user, _ = history
    client.force_login(user)

    page = client.get("/wallet/purchases/").content.decode()

    assert "You earned 20 NOK." in page
    assert "minimum spend" in page
    assert "Refunded: its cashback was reversed." in page
    assert 'href="/wallet/purchases/"' in page  # the wallet's sub-navigation links here
    detail = client.get("/wallet/purchases/" + page.split('href="/wallet/purchases/')[2].split("/")[0] + "/")
    assert detail.status_code == 200
