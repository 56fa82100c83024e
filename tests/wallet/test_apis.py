import pytest
from rest_framework.test import APIClient

from tests.wallet.factories import UserFactory
from tests.wallet.ledger_scenarios import consumer_history, post
from wallet.models import JournalKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.mark.parametrize("path", ["/api/v1/wallet/", "/api/v1/wallet/entries/"])
def test_anonymous_callers_get_a_json_error(path):
    response = APIClient().get(path)

    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] in ("not_authenticated", "permission_denied")


def test_wallet_returns_balances_per_currency_as_decimal_strings(client_of):
    user = UserFactory()
    consumer_history(user, "NOK")
    consumer_history(user, "EUR")

    response = client_of(user).get("/api/v1/wallet/")

    assert response.status_code == 200
    assert response.json() == {
        "balances": [
            {
                "currency": currency,
                "pending": "3.00",
                "available": "2.00",
                "lifetime_earned": "9.00",
                "donated": "2.00",
                "paid_out": "1.00",
            }
            for currency in ("EUR", "NOK")
        ]
    }


def test_a_new_user_sees_zeros_in_the_default_currency(client_of):
    response = client_of(UserFactory()).get("/api/v1/wallet/")

    assert response.json()["balances"][0]["available"] == "0.00"


def test_entries_are_paginated_newest_first_with_signed_decimal_amounts(client_of):
    user = UserFactory()
    consumer_history(user)

    first = client_of(user).get("/api/v1/wallet/entries/", {"page_size": 2}).json()
    last = client_of(user).get("/api/v1/wallet/entries/", {"page_size": 2, "page": 4}).json()

    assert first["count"] == 7 and first["next"] and first["previous"] is None
    newest = first["results"][0]
    assert newest["kind"] == JournalKind.PAYOUT_RETURN
    assert (newest["amount"], newest["currency"], newest["direction"], newest["account"]) == (
        "0.50",
        "NOK",
        "credit",
        "available",
    )
    assert first["results"][1]["amount"] == "-1.50"
    (oldest,) = last["results"]
    assert (oldest["kind"], oldest["memo"], oldest["causes"], oldest["amount"]) == (
        "reward_earn",
        "Coffee",
        {"purchase": 1},
        "10.00",
    )
    assert set(oldest) == {
        "id",
        "created_at",
        "transaction_id",
        "kind",
        "kind_label",
        "memo",
        "causes",
        "purchase",
        "offer",
        "account",
        "direction",
        "amount",
        "currency",
    }
    assert (oldest["purchase"], oldest["offer"]) == (None, None)  # purchase 1 does not exist here


def test_entries_filter_by_kind_and_date(client_of):
    user = UserFactory()
    ledger = consumer_history(user)
    post(JournalKind.REFERRAL_BONUS, debit=ledger.outside, credit=ledger.available, amount=2500)
    client = client_of(user)

    by_kind = client.get("/api/v1/wallet/entries/", {"kind": "referral_bonus"}).json()
    out_of_range = client.get("/api/v1/wallet/entries/", {"date_to": "2020-01-01"}).json()

    assert [(e["kind"], e["amount"]) for e in by_kind["results"]] == [("referral_bonus", "25.00")]
    assert out_of_range["count"] == 0


def test_entries_never_show_someone_elses_movements(client_of):
    consumer_history(UserFactory())

    assert client_of(UserFactory()).get("/api/v1/wallet/entries/").json()["count"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "lottery"}, "kind"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-02-02", "date_to": "2026-02-01"}, "date_to"),
    ],
)
def test_invalid_filters_are_a_400_in_the_error_format(client_of, query, field):
    response = client_of(UserFactory()).get("/api/v1/wallet/entries/", query)

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert field in body["fields"]


def test_the_schema_documents_both_endpoints_and_the_filters(client_of):
    response = client_of(UserFactory()).get("/api/schema/", {"format": "json"})

    schema = response.json()
    entries = schema["paths"]["/api/v1/wallet/entries/"]["get"]
    assert "/api/v1/wallet/" in schema["paths"]
    assert {p["name"] for p in entries["parameters"]} >= {"kind", "date_from", "date_to", "page"}
    balances = schema["components"]["schemas"]["CurrencyBalances"]["properties"]
    assert balances["available"]["type"] == "string"
