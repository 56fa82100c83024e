"""The phone sign-up flow as docs/api.md tells the app: the SMS code before the API opens."""

import pytest

from .conftest import code_from

pytestmark = pytest.mark.django_db

SIGNUP_URL = "/_allauth/app/v1/auth/signup"
VERIFY_URL = "/_allauth/app/v1/auth/phone/verify"


def test_a_phone_sign_up_opens_the_api_only_after_the_sms_code(app_client, sms_outbox):
    signup = app_client.post(
        SIGNUP_URL, {"phone": "+4791234568", "password": "Correct-horse-battery-9", "accept_terms": True}
    )
    assert signup.status_code == 401
    assert app_client.session_token  # the token of the pending sign-up
    assert app_client.get("/api/v1/me/").status_code == 401

    wrong = app_client.post(VERIFY_URL, {"code": "WRONG1"})
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["code"] == "incorrect_code"

    verified = app_client.post(VERIFY_URL, {"code": code_from(sms_outbox[-1])})
    assert verified.status_code == 200, verified.json()
    assert app_client.get("/api/v1/me/").json()["phone_verified"] is True
