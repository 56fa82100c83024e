"""GET /api/v1/referrals/, POST /api/v1/referrals/claim/ and /api/v1/referrals/businesses/."""

import pytest
from django.test import Client

from referrals import services
from referrals.models import BusinessReferral, Referral
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantFactory
from tests.referrals.factories import qualify_and_mature, refer

pytestmark = pytest.mark.django_db

URL = "/api/v1/referrals/"


@pytest.fixture
def consumer(program):
    return UserFactory(full_name="Ada Lovelace")


@pytest.fixture
def api(consumer) -> Client:
    client = Client()
    client.force_login(consumer)
    return client


def test_anonymous_is_refused():
    assert Client().get(URL).status_code in (401, 403)


def test_code_link_terms_referrals_and_earned(api, consumer):
    paid = qualify_and_mature(refer(consumer, UserFactory(full_name="Grace Brewster Hopper")))
    refer(consumer, UserFactory(full_name="", email="linus@example.com"))

    response = api.get(URL, headers={"X-Device-Id": "android-device-1234"})

    body = response.json()
    assert response.status_code == 200
    code = services.referral_code_for(user=consumer).code
    assert body["code"] == code
    assert body["link"].endswith(f"/r/{code}/")
    assert body["partner_link"].endswith(f"/partners/?ref={code}")
    assert body["earned"] == [{"currency": "NOK", "amount": "50.00"}]
    assert body["referrals_count"] == 2
    assert [(row["friend"], row["status"]) for row in body["referrals"]] == [
        ("l…@example.com", "pending"),
        ("Grace H.", "paid"),
    ]
    assert body["referrals"][1]["bonus"] == {"currency": "NOK", "amount": "50.00"}
    assert body["referrals"][1]["id"] == paid.pk
    nok = next(row for row in body["terms"]["amounts"] if row["currency"] == "NOK")
    assert nok == {
        "currency": "NOK",
        "referrer_bonus": "50.00",
        "friend_bonus": "50.00",
        "business_bonus": "500.00",
        "min_purchase": "200.00",
    }
    assert body["referred_by_status"] is None


def test_claiming_a_code_after_sign_up_is_a_409_and_changes_nothing(api):
    code = services.referral_code_for(user=UserFactory()).code

    response = api.post(f"{URL}claim/", {"code": code}, content_type="application/json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "referral_after_signup"
    assert Referral.objects.count() == 0


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [("NOSUCH99", 404, "unknown_referral_code"), ("", 400, "invalid"), ("own", 400, "own_referral_code")],
)
def test_claim_errors(api, consumer, code, status, error):
    if code == "own":
        code = services.referral_code_for(user=consumer).code

    response = api.post(f"{URL}claim/", {"code": code}, content_type="application/json")

    assert (response.status_code, response.json()["error"]["code"]) == (status, error)


def test_submit_a_business(api, consumer):
    response = api.post(
        f"{URL}businesses/",
        {"business_name": "Kaffebar AS", "country": "NO", "organisation_number": "923 609 016"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "submitted"
    assert BusinessReferral.objects.get().organisation_number == "923609016"


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"business_name": "X", "country": "NO", "organisation_number": "123"}, 400, "invalid_organisation_number"),
        ({"business_name": "X", "country": "XX", "organisation_number": "923609016"}, 400, "invalid_country"),
        ({"country": "NO", "organisation_number": "923609016"}, 400, "invalid"),
    ],
)
def test_business_bad_input(api, payload, status, error):
    response = api.post(f"{URL}businesses/", payload, content_type="application/json")

    assert (response.status_code, response.json()["error"]["code"]) == (status, error)
    assert BusinessReferral.objects.count() == 0


def test_existing_partner_cannot_be_referred(api):
    merchant = MerchantFactory()

    response = api.post(
        f"{URL}businesses/",
        {"business_name": "X", "country": merchant.country, "organisation_number": merchant.organisation_number},
        content_type="application/json",
    )

    assert (response.status_code, response.json()["error"]["code"]) == (409, "business_already_partner")
