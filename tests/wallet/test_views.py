import pytest
from django.urls import reverse

from tests.wallet.factories import UserFactory
from tests.wallet.ledger_scenarios import consumer_history, post
from wallet.models import JournalKind

pytestmark = pytest.mark.django_db


def test_the_wallet_page_needs_a_login(client):
    response = client.get(reverse("wallet:home"))

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_new_user_sees_the_empty_state_with_what_to_do(client):
    client.force_login(UserFactory())

    response = client.get(reverse("wallet:home"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "No cashback yet" in content
    assert "Link a payment card" in content


def test_the_page_shows_balances_per_currency_and_movements(client):
    user = UserFactory()
    consumer_history(user, "NOK")
    consumer_history(user, "SEK")
    client.force_login(user)

    content = client.get(reverse("wallet:home")).content.decode()

    assert "No cashback yet" not in content
    assert "NOK\u00a02.00" in content and "SEK\u00a09.00" in content
    assert "Coffee" in content and "-NOK\u00a01.50" in content
    assert "style=" not in content and "<script>" not in content


def test_movements_are_paginated_with_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    user = UserFactory()
    ledger = consumer_history(user)
    for amount in range(1, 31):
        post(JournalKind.REWARD_EARN, debit=ledger.merchant, credit=ledger.pending, amount=amount, memo=f"buy {amount}")
    client.force_login(user)

    # 8 for the balances and movements, 2 for the sections campaigns adds (the tier card, challenge progress),
    # 1 for the live banners (content), 1 for the unread count in the section bar (notifications' partial index),
    # 2 for programmes (a business customer's contracts section; the programmes item of the navigation),
    # 1 for the points balance (wallet.points).
    with django_assert_max_num_queries(15):
        first = client.get(reverse("wallet:home")).content.decode()
    second = client.get(reverse("wallet:home"), {"page": 2}).content.decode()

    assert "buy 30" in first and "Page 1 of 2" in first
    assert "buy 30" not in second and "Coffee" in second


def test_movements_can_be_filtered_and_a_bad_filter_shows_an_error(client):
    user = UserFactory()
    consumer_history(user)
    client.force_login(user)

    filtered = client.get(reverse("wallet:home"), {"kind": "donation"}).content.decode()
    bad = client.get(reverse("wallet:home"), {"date_from": "2026-02-02", "date_to": "2026-02-01"})

    assert "-NOK\u00a02.00" in filtered and "Coffee" not in filtered
    assert bad.status_code == 200
    assert "Must not be before the start date." in bad.content.decode()
