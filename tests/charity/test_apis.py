"""/api/v1/charities/, /api/v1/donations/, /api/v1/auto-donate/ through HTTP, with the mobile app's session token."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import Consent
from charity import selectors
from charity.models import AutoDonateSetting
from tests.accounts.conftest import AppClient
from tests.accounts.factories import PASSWORD, ConsentFactory
from tests.accounts.factories import UserFactory as AccountUserFactory
from tests.charity.factories import CharityFactory, UserFactory, available_money, charity_reward
from wallet.models import Entry, JournalTransaction, LedgerAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_client():
    return AppClient()


@pytest.fixture
def client_of():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def _counts():
    return (
        JournalTransaction.objects.count(),
        Entry.objects.count(),
        LedgerAccount.objects.count(),
        AutoDonateSetting.objects.count(),
    )


def test_the_session_token_of_the_mobile_app_works(app_client):
    user = AccountUserFactory(email="giver@example.com")
    ConsentFactory(user=user, kind=Consent.Kind.TERMS, version=settings.TERMS_VERSION)
    app_client.post("/_allauth/app/v1/auth/login", {"email": "giver@example.com", "password": PASSWORD})
    charity = CharityFactory()
    available_money(user, 5_000)

    response = app_client.client.post(
        "/api/v1/donations/",
        {"charity": charity.pk, "currency": "NOK", "amount": "12.50"},
        content_type="application/json",
        headers={"X-Session-Token": app_client.session_token, "Idempotency-Key": "app-1"},
    )

    assert response.status_code == 201, response.content
    assert app_client.get("/api/v1/auto-donate/").json() == {"charity": None, "share_percent": 0}


def test_charities_are_public_with_their_impact_and_yours_when_signed_in(client_of):
    desks = CharityFactory(name="Desks", costs={"NOK": 80_000}, logo_path="charity/logos/skolebenken.svg")
    CharityFactory(name="Gone", is_active=False)
    user = UserFactory()
    charity_reward(charity=desks, user=user, amount=100_000, offer_id=1, purchase_id=1)

    anonymous = APIClient().get("/api/v1/charities/").json()
    signed_in = client_of(user).get("/api/v1/charities/").json()

    assert anonymous["count"] == 1
    [item] = anonymous["results"]
    assert item["name"] == "Desks"
    assert item["logo_url"] == "/static/charity/logos/skolebenken.svg"
    assert item["unit_costs"] == [{"currency": "NOK", "amount": "800.00"}]
    assert item["impact"] == {
        "given": [{"currency": "NOK", "amount": "1000.00"}],
        "units": 1,
        "next_percent": 25,
        "unit_label": "school desk",
    }
    assert item["your_impact"] is None
    assert signed_in["results"][0]["your_impact"]["units"] == 1


def test_charity_detail_and_unknown_charity(client_of):
    charity = CharityFactory(is_active=False)

    assert APIClient().get(f"/api/v1/charities/{charity.pk}/").json()["is_active"] is False
    response = APIClient().get("/api/v1/charities/999999/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "charity_not_found"


def test_donating_by_api_then_listing_and_replaying(client_of):
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 10_000)
    client = client_of(user)
    body = {"charity": charity.pk, "currency": "NOK", "amount": "25.00"}

    first = client.post("/api/v1/donations/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    replay = client.post("/api/v1/donations/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    listing = client.get("/api/v1/donations/").json()

    assert first.status_code == 201
    assert replay.status_code == 200 and replay.json() == first.json()
    assert first.json()["amount"] == "25.00"
    assert first.json()["charity"]["id"] == charity.pk
    assert first.json()["automatic"] is False
    assert listing["count"] == 1 and listing["results"][0] == first.json()
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 7_500


def test_donating_all_by_api(client_of):
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 3_333)

    response = client_of(user).post(
        "/api/v1/donations/",
        {"charity": charity.pk, "currency": "NOK", "amount": "all", "idempotency_key": "everything"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["amount"] == "33.33"
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 0


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"amount": "100.01"}, 409, "insufficient_funds"),
        ({"amount": "1.005"}, 400, "too_many_decimals"),
        ({"amount": "0"}, 400, "invalid_amount"),
        ({"amount": "-5"}, 400, "invalid_amount"),
        ({"amount": "1e3"}, 400, "invalid_amount"),
        ({"amount": "ten"}, 400, "invalid_amount"),
        ({"currency": "USD"}, 400, "unknown_currency"),
        ({"charity": "inactive"}, 400, "charity_inactive"),
        ({"charity": 999_999}, 404, "charity_not_found"),
        ({"charity": 1.5}, 404, "charity_not_found"),
        ({"charity": 10**30}, 404, "charity_not_found"),
        ({"charity": True}, 404, "charity_not_found"),
        ({"key": ""}, 400, "idempotency_key_required"),
        ({"key": "x" * 101}, 400, "invalid_ledger_request"),
        ({"amount": "all", "currency": "SEK"}, 409, "nothing_to_donate"),
    ],
)
def test_bad_donations_are_clear_4xx_and_change_nothing(client_of, change, status, code):
    user, charity, inactive = UserFactory(), CharityFactory(), CharityFactory(is_active=False)
    available_money(user, 10_000)
    body = {"charity": charity.pk, "currency": "NOK", "amount": "1.00"}
    body.update({k: v for k, v in change.items() if k != "key"})
    if body["charity"] == "inactive":
        body["charity"] = inactive.pk
    before = _counts()

    response = client_of(user).post(
        "/api/v1/donations/", body, format="json", HTTP_IDEMPOTENCY_KEY=change.get("key", "key-1")
    )

    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert _counts() == before
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 10_000


def test_a_reused_key_with_another_amount_is_a_conflict(client_of):
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 10_000)
    client = client_of(user)
    client.post(
        "/api/v1/donations/",
        {"charity": charity.pk, "currency": "NOK", "amount": "1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    response = client.post(
        "/api/v1/donations/",
        {"charity": charity.pk, "currency": "NOK", "amount": "2"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"


def test_auto_donate_get_and_put(client_of):
    user, charity = UserFactory(), CharityFactory()
    client = client_of(user)

    put = client.put("/api/v1/auto-donate/", {"charity": charity.pk, "share_percent": 25}, format="json")
    off = client.put("/api/v1/auto-donate/", {"charity": charity.pk, "share_percent": 0}, format="json")

    assert put.status_code == 200
    assert put.json() == {
        "charity": {"id": charity.pk, "slug": charity.slug, "name": charity.name, "is_active": True},
        "share_percent": 25,
    }
    assert off.json()["share_percent"] == 0
    assert client.get("/api/v1/auto-donate/").json()["share_percent"] == 0
    assert client.put("/api/v1/auto-donate/", {"charity": None, "share_percent": 0}, format="json").json() == {
        "charity": None,
        "share_percent": 0,
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"share_percent": 101}, 400, "invalid_share_percent"),
        ({"share_percent": -1}, 400, "invalid_share_percent"),
        ({"share_percent": 12.5}, 400, "invalid_share_percent"),
        ({"share_percent": "50"}, 400, "invalid_share_percent"),
        ({"share_percent": None}, 400, "invalid_share_percent"),
        ({"charity": "inactive", "share_percent": 10}, 400, "charity_inactive"),
        ({"charity": 999_999, "share_percent": 10}, 404, "charity_not_found"),
        ({"charity": None, "share_percent": 10}, 404, "charity_not_found"),
        ({}, 400, "invalid"),
    ],
)
def test_bad_auto_donate_input_is_refused_and_changes_nothing(client_of, body, status, code):
    user, charity, inactive = UserFactory(), CharityFactory(), CharityFactory(is_active=False)
    client = client_of(user)
    client.put("/api/v1/auto-donate/", {"charity": charity.pk, "share_percent": 5}, format="json")
    request = {"charity": charity.pk, **body} if body else {}
    if request.get("charity") == "inactive":
        request["charity"] = inactive.pk

    response = client.put("/api/v1/auto-donate/", request, format="json")

    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    setting = AutoDonateSetting.objects.get(user=user)
    assert (setting.charity_id, setting.share_percent) == (charity.pk, 5)


@pytest.mark.parametrize("path", ["/api/v1/donations/", "/api/v1/auto-donate/", "/api/v1/donations/receipts/2026/"])
def test_own_data_needs_a_signed_in_consumer(path):
    response = APIClient().get(path)

    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] in ("not_authenticated", "permission_denied")


def test_the_receipt_by_api_is_a_pdf(client_of):
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 10_000)
    client = client_of(user)
    client.post(
        "/api/v1/donations/",
        {"charity": charity.pk, "currency": "NOK", "amount": "5"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="r",
    )
    from django.utils import timezone

    response = client.get(f"/api/v1/donations/receipts/{timezone.localdate().year}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert client.get("/api/v1/donations/receipts/1999/").status_code == 404
