"""GET /api/v1/challenges/ and GET /api/v1/me/tier/: shape, money as decimal strings with currency,
times with offset, pagination, and only the caller's own progress; the wallet pages that show the same."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns import services
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import ChallengeFactory, OfferFactory, PurchaseFactory, TierFactory
from tests.campaigns.lifecycle_helpers import event

pytestmark = pytest.mark.django_db

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def progress():
    offer = OfferFactory(title="10 % back", ends_at=timezone.now() + timedelta(days=12))
    revenue = ChallengeFactory(offer=offer, title="Spend 1 000 kr", target_value=100_000, bonus_minor=5_000)
    count = ChallengeFactory(offer=offer, title="Ten visits", target_type="purchase_count", target_value=10)
    user = UserFactory()
    event(user=user, merchant=offer.merchant, kind="clearing", amount=65_000, txn="a")
    return user, offer, revenue, count


def test_challenges_list_has_progress_in_money_or_purchases(progress):
    user, offer, revenue, count = progress

    body = api(user).get("/api/v1/challenges/").json()

    assert body["count"] == 2
    by_id = {row["id"]: row for row in body["results"]}
    spend = by_id[revenue.pk]
    assert spend["title"] == "Spend 1 000 kr"
    assert spend["offer"] == {"id": offer.pk, "name": "10 % back"}
    assert spend["merchant"] == {"id": offer.merchant_id, "name": offer.merchant.display_name}
    assert (spend["target_type"], spend["percent"], spend["status"]) == ("revenue", 65, "running")
    assert spend["target"] == {"currency": "NOK", "amount": "1000.00"}
    assert spend["progress"] == {"currency": "NOK", "amount": "650.00"}
    assert spend["remaining"] == {"currency": "NOK", "amount": "350.00"}
    assert (spend["target_purchases"], spend["progress_purchases"]) == (None, None)
    assert spend["bonus"] == {"currency": "NOK", "amount": "50.00"}
    assert spend["days_left"] in (11, 12)
    assert spend["summary"].replace("\u00a0", " ").startswith("650 of 1 000 kr spent, ")
    assert ISO_WITH_OFFSET.match(spend["ends_at"]) and ISO_WITH_OFFSET.match(spend["starts_at"])
    visits = by_id[count.pk]
    assert (visits["target"], visits["progress"]) == (None, None)
    assert (visits["target_purchases"], visits["progress_purchases"], visits["remaining_purchases"]) == (10, 1, 9)
    assert visits["percent"] == 10


def test_a_consumer_sees_only_their_own_progress(progress):
    _, _, revenue, _ = progress
    stranger = UserFactory()

    rows = api(stranger).get("/api/v1/challenges/").json()["results"]

    assert {row["id"]: row["percent"] for row in rows}[revenue.pk] == 0


def test_challenges_and_tier_need_a_signed_in_consumer():
    for path in ("/api/v1/challenges/", "/api/v1/me/tier/"):
        response = api().get(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


def test_challenges_are_paginated(progress):
    user, *_ = progress

    page = api(user).get("/api/v1/challenges/?page_size=1").json()

    assert (page["count"], len(page["results"])) == (2, 1)
    assert page["next"]
    assert api(user).get("/api/v1/challenges/?page=9").status_code == 400


def test_me_tier_with_a_next_tier_need():
    TierFactory(rank=1, name="Silver", threshold_minor=500_000, multiplier=Decimal("1.25"))
    TierFactory(rank=2, name="Gold", threshold_minor=2_000_000, multiplier=Decimal("1.50"))
    user = UserFactory()
    PurchaseFactory(user=user, amount_minor=700_000, occurred_at=timezone.now() - timedelta(days=30))
    services.tier_recompute(user=user)

    body = api(user).get("/api/v1/me/tier/").json()

    assert body["tiers_configured"] is True
    assert (body["tier"]["name"], body["tier"]["multiplier"], body["multiplier"]) == ("Silver", "1.25", "1.25")
    assert body["tier"]["threshold"] == {"currency": "NOK", "amount": "5000.00"}
    assert (body["is_top"], body["next_tier"]["name"]) == (False, "Gold")
    need = body["next_need"]
    assert (need["basis"], need["need"], need["counted"]) == (
        "rolling_spend",
        {"currency": "NOK", "amount": "13000.00"},
        {"currency": "NOK", "amount": "7000.00"},
    )
    assert ISO_WITH_OFFSET.match(need["deadline"])
    assert need["text"].replace("\u00a0", " ").startswith("Spend 13 000 kr more before ")


def test_me_tier_at_the_top_and_without_tiers():
    user = UserFactory()
    assert api(user).get("/api/v1/me/tier/").json() == {
        "tiers_configured": False,
        "tier": None,
        "multiplier": "1.00",
        "is_top": False,
        "next_tier": None,
        "next_need": None,
    }

    TierFactory(rank=1, name="Gold", threshold_minor=100_000, multiplier=Decimal("2.00"))
    PurchaseFactory(user=user, amount_minor=150_000)
    services.tier_recompute(user=user)
    body = api(user).get("/api/v1/me/tier/").json()
    assert (body["tier"]["name"], body["is_top"], body["next_tier"], body["next_need"]) == ("Gold", True, None, None)


# --- The web wallet ------------------------------------------------------------------------------


def test_wallet_challenges_page_shows_progress_bars_with_words(client, progress):
    user, *_ = progress
    client.force_login(user)

    html = client.get("/wallet/challenges/").content.decode().replace("\u00a0", " ")

    assert 'max="100" value="65"' in html
    assert "650 of 1 000 kr spent" in html
    assert "1 of 10 purchases" in html
    assert "Pays a 50 kr bonus" in html


def test_wallet_challenges_page_empty_and_login_required(client):
    assert client.get("/wallet/challenges/").status_code == 302
    client.force_login(UserFactory())

    assert "No challenges yet" in client.get("/wallet/challenges/").content.decode()


def test_wallet_home_has_the_tier_card_and_the_challenges_summary(client, progress):
    user, *_ = progress
    TierFactory(rank=1, name="Silver", threshold_minor=500_000)
    client.force_login(user)

    html = client.get("/wallet/").content.decode().replace("\u00a0", " ")

    assert "Your tier" in html and "No tier yet" in html
    assert "more before " in html and "to reach Silver" in html
    assert "650 of 1 000 kr spent" in html
    assert 'href="/wallet/challenges/"' in html


def test_wallet_home_empty_states_without_tiers_or_challenges(client):
    client.force_login(UserFactory())

    html = client.get("/wallet/").content.decode()

    assert "Loyalty tiers are not open yet" in html
    assert "No challenges are running for you right now" in html
