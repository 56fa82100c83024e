"""Every kind of door refuses a full card number and a body nested too deep or too large, with a
clear 4xx in the door's error shape and nothing written (cashback/card_guard.py, bounded_json.py,
parsers.py, request_guard.py; the webhook doors in cashback/webhooks.py)."""

import json

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from accounts.models import User
from cashback.keyed_ids import external_key
from cashback.models import WebhookEvent
from merchants.models import PartnerRequest
from referrals.models import DeviceSighting
from tests.accounts.factories import PASSWORD, UserFactory
from tests.merchants.factories import MerchantApiKeyFactory, api_key_headers
from tests.webhooks import door, encode, post_stripe, post_visa, signed_visa_headers, visa_event

pytestmark = pytest.mark.django_db

CARD = "4111111111111111"
HEADLESS_LOGIN = "/_allauth/app/v1/auth/login"
HEADLESS_SIGNUP = "/_allauth/app/v1/auth/signup"


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def error_code(response) -> str:
    return response.json()["error"]["code"]


def headless_codes(response) -> list[str]:
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == response.status_code
    return [error["code"] for error in body["errors"]]


@pytest.fixture
def signed_in():
    user = UserFactory()
    client = Client()
    client.force_login(user)
    return client


# --- The webhook doors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": f"evt-{CARD}"}, "id"),
        ({"data": {"id": f"txn {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}"}}, "data.id"),
        ({"data": {"merchant": {"id": "NM-1", "name": f"Shop {CARD}"}}}, "data.merchant.name"),
        ({"data": {"location": {"id": "ST-1", "postcode": int(CARD), "countryCode": "NOR"}}}, "data.location.postcode"),
    ],
)
def test_the_visa_door_refuses_a_card_number_in_any_field(webhook_secrets, changes, field):
    response = post_visa(visa_event(**changes))

    assert (response.status_code, error_code(response)) == (400, "card_number_present")
    assert field in response.json()["error"]["fields"]
    assert CARD not in response.content.decode()
    assert WebhookEvent.objects.count() == 0


def test_the_stripe_doors_refuse_a_card_number_in_any_field(webhook_secrets):
    event = {"id": "evt_1", "type": "charge.succeeded", "data": {"object": {"description": f"ref {CARD}"}}}

    response = post_stripe(event)

    assert (response.status_code, error_code(response)) == (400, "card_number_present")
    assert response.json()["error"]["fields"] == {"data.object.description": [response.json()["error"]["message"]]}
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("levels", [65, 2_000, 20_000])
def test_the_webhook_doors_refuse_a_body_nested_too_deep(webhook_secrets, levels):
    body = ('{"id":"evt_deep","type":"transaction.auth","data":' + deep(levels) + "}").encode()

    visa = door.post("/webhooks/visa/", data=body, headers=signed_visa_headers(body))
    stripe = post_stripe(body)

    assert (visa.status_code, error_code(visa)) == (400, "json_too_deep")
    assert (stripe.status_code, error_code(stripe)) == (400, "json_too_deep")
    assert WebhookEvent.objects.count() == 0


def test_the_webhook_doors_accept_the_documented_depth(webhook_secrets, handlers):
    handlers.add("visa", "transaction.auth")
    event = visa_event(id="evt_depth_ok", data={"extra": json.loads(deep(62))})  # 64 levels with data

    assert post_visa(encode(event)).status_code == 202


# --- DRF: every endpoint's parser ----------------------------------------------------------------


@pytest.mark.parametrize("levels", [65, 20_000])
def test_the_api_refuses_a_body_nested_too_deep(signed_in, levels):
    response = signed_in.post("/api/v1/cards/", deep(levels), content_type="application/json")

    assert (response.status_code, error_code(response)) == (400, "json_too_deep")


def test_the_api_refuses_a_body_too_large(signed_in, settings):
    settings.API_MAX_BODY_BYTES = 1000

    response = signed_in.post("/api/v1/cards/", {"token": "x" * 2000}, content_type="application/json")

    assert (response.status_code, error_code(response)) == (413, "payload_too_large")


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_the_api_refuses_a_card_number_in_json_and_form_bodies(content_type):
    key = MerchantApiKeyFactory()
    client = Client()
    body = {"reference": f"cust-{CARD}", "email": "a@example.com"}
    data = json.dumps(body) if content_type == "application/json" else "&".join(f"{k}={v}" for k, v in body.items())

    response = client.post(
        "/api/v1/partner/customers/",
        data,
        content_type=content_type,
        **api_key_headers(key, **{"Idempotency-Key": "k1"}),
    )

    assert (response.status_code, error_code(response)) == (400, "card_number_present")
    assert list(response.json()["error"]["fields"]) == ["reference"]
    assert PartnerRequest.objects.count() == 0


def test_the_card_linking_api_keeps_its_own_message_for_a_number_sent_as_token(signed_in):
    response = signed_in.post("/api/v1/cards/", {"token": CARD}, content_type="application/json")

    assert (response.status_code, error_code(response)) == (400, "invalid")
    assert "never the card number" in response.json()["error"]["message"]


def test_the_dev_enrolment_api_takes_a_card_number():
    response = Client().post(
        "/dev/card-network/enrol/", {"number": CARD, "exp_month": 12, "exp_year": 2031}, content_type="application/json"
    )

    assert response.status_code == 201


# --- Stored headers and query values -------------------------------------------------------------


def test_a_card_number_in_the_idempotency_key_is_refused_before_anything_is_stored():
    key = MerchantApiKeyFactory()

    response = Client().post(
        "/api/v1/partner/customers/",
        {"reference": "c-1", "email": "a@example.com"},
        content_type="application/json",
        **api_key_headers(key, **{"Idempotency-Key": f"retry-{CARD}"}),
    )

    assert (response.status_code, error_code(response)) == (400, "card_number_present")
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]
    assert PartnerRequest.objects.count() == 0


def test_a_card_number_in_the_user_agent_or_device_id_is_refused(signed_in):
    assert signed_in.get("/api/v1/me/", headers={"User-Agent": f"App/1.0 {CARD}"}).status_code == 400
    assert error_code(signed_in.get("/api/v1/me/", headers={"X-Device-Id": CARD})) == "card_number_present"
    page = signed_in.get("/wallet/", headers={"User-Agent": f"Browser {CARD}"})
    assert page.status_code == 400 and CARD not in page.content.decode()


def test_a_card_number_in_a_query_value_is_refused(signed_in):
    response = signed_in.get(f"/api/v1/purchases/?search={CARD}")

    assert (response.status_code, error_code(response)) == (400, "card_number_present")
    assert list(response.json()["error"]["fields"]) == ["search.0"]


def test_a_device_cookie_holding_a_card_number_is_replaced_not_kept(signed_in):
    signed_in.cookies["cb_device"] = CARD

    assert signed_in.get("/wallet/referrals/").status_code == 200

    assert signed_in.cookies["cb_device"].value != CARD
    replacement = signed_in.cookies["cb_device"].value
    assert list(DeviceSighting.objects.values_list("device_id", flat=True)) == [
        external_key(namespace="device", value=replacement)
    ]


# --- allauth headless ---------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [65, 2_000, 20_000])
def test_the_headless_endpoints_refuse_a_body_nested_too_deep_in_their_json_shape(levels):
    response = Client().post(HEADLESS_LOGIN, deep(levels), content_type="application/json")

    assert response.status_code == 400
    assert headless_codes(response) == ["json_too_deep"]


def test_the_headless_endpoints_refuse_malformed_json_and_large_bodies_as_json(settings):
    malformed = Client().post(HEADLESS_LOGIN, "{not json", content_type="application/json")
    settings.API_MAX_BODY_BYTES = 100
    large = Client().post(HEADLESS_LOGIN, {"email": "a" * 200}, content_type="application/json")

    assert (malformed.status_code, headless_codes(malformed)) == (400, ["malformed_json"])
    assert (large.status_code, headless_codes(large)) == (413, ["payload_too_large"])


def test_headless_signup_refuses_a_card_number_but_not_a_password_of_digits():
    refused = Client().post(
        HEADLESS_SIGNUP,
        {"email": f"{CARD}@example.com", "password": "Pw-long-enough-1", "accept_terms": True},
        content_type="application/json",
    )
    wrong_password = Client().post(
        HEADLESS_LOGIN, {"email": "nobody@example.com", "password": CARD}, content_type="application/json"
    )

    assert refused.status_code == 400
    assert headless_codes(refused) == ["card_number_present"]
    assert refused.json()["errors"][0]["param"] == "email"
    assert not User.objects.filter(email__contains="4111").exists()
    assert wrong_password.status_code == 400
    assert "card_number_present" not in headless_codes(wrong_password)


def test_headless_login_still_works():
    user = UserFactory()

    response = Client().post(
        HEADLESS_LOGIN, {"email": user.email, "password": PASSWORD}, content_type="application/json"
    )

    assert response.status_code == 200


def test_adding_an_email_address_holding_a_card_number_is_a_form_error(signed_in):
    response = signed_in.post("/accounts/email/", {"action_add": "", "email": f"{CARD}@example.com"})

    assert response.status_code == 200
    assert "never accepts or stores" in response.content.decode().replace("&#x27;", "'")
    assert CARD not in str(list(EmailAddress.objects.values_list("email", flat=True)))
