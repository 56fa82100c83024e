"""Password reset by a code: by e-mail, or by SMS for people who signed up by phone; on the web page
and through the headless API; the same answer whether or not an account exists."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.accounts.conftest import code_from
from tests.accounts.factories import PASSWORD, PhoneUserFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-Long-Secret-42"
REQUEST_URL = "/_allauth/app/v1/auth/password/request"
RESET_URL = "/_allauth/app/v1/auth/password/reset"


def logged_in_user_id(client) -> int | None:
    return client.session.get("_auth_user_id") and int(client.session["_auth_user_id"])


def mailed_code() -> str:
    return re.search(r"^\s*([A-Z0-9-]{4,})\s*$", mail.outbox[-1].body, re.MULTILINE).group(1)


def can_log_in(login: str, password: str, client) -> bool:
    client.logout()
    client.post(reverse("account_login"), {"login": login, "password": password})
    return logged_in_user_id(client) is not None


# --- HTML -----------------------------------------------------------------------------


def test_reset_by_sms_code_on_the_web_pages(client, sms_outbox):
    # given: someone who signed up by phone only
    user = PhoneUserFactory(phone="+4791234567", phone_verified=True)

    # when: they ask for a reset with their number as they would type it
    response = client.post(reverse("account_reset_password"), {"phone": "912 34 567"})

    # then: a code goes out by SMS, and the page asks for it
    assert response.url == reverse("account_confirm_password_reset_code")
    assert [message.to for message in sms_outbox] == ["+4791234567"]
    page = client.get(response.url).content.decode()
    assert "If an account exists for this phone number, we have sent a code to it by SMS" in page

    # when: the code is entered and a new password chosen
    response = client.post(response.url, {"code": code_from(sms_outbox[0])})
    assert response.url == reverse("account_complete_password_reset")
    response = client.post(response.url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302

    # then: the new password works and the old one does not
    assert not can_log_in("+4791234567", PASSWORD, client)
    assert can_log_in("+4791234567", NEW_PASSWORD, client)
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_reset_by_email_code_on_the_web_pages(client):
    UserFactory(email="ada@example.com")

    response = client.post(reverse("account_reset_password"), {"email": "ada@example.com"})
    client.post(response.url, {"code": mailed_code()})
    client.post(reverse("account_complete_password_reset"), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert can_log_in("ada@example.com", NEW_PASSWORD, client)


def test_wrong_codes_are_limited_and_then_the_reset_must_start_again(client, sms_outbox, settings):
    # given
    settings.ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS = 3
    PhoneUserFactory(phone="+4791234567", phone_verified=True)
    client.post(reverse("account_reset_password"), {"phone": "+4791234567"})
    confirm_url = reverse("account_confirm_password_reset_code")

    # when: wrong codes, up to the limit
    for _ in range(2):
        assert client.post(confirm_url, {"code": "WRONG1"}).status_code == 200
    response = client.post(confirm_url, {"code": "WRONG1"})

    # then: the flow is over; even the right code no longer sets a password
    assert response.url == reverse("account_login")
    response = client.post(confirm_url, {"code": code_from(sms_outbox[0])})
    assert response.url == reverse("account_login")
    assert client.get(reverse("account_complete_password_reset")).url == reverse("account_reset_password")


def test_an_expired_code_is_refused(client, sms_outbox, settings):
    # given: codes that are valid for no time at all
    settings.ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT = -1
    PhoneUserFactory(phone="+4791234567", phone_verified=True)
    client.post(reverse("account_reset_password"), {"phone": "+4791234567"})

    response = client.post(reverse("account_confirm_password_reset_code"), {"code": code_from(sms_outbox[0])})

    assert response.url == reverse("account_login")
    assert client.get(reverse("account_complete_password_reset")).url == reverse("account_reset_password")


@pytest.mark.parametrize(
    ("known", "data"),
    [
        pytest.param(True, {"phone": "+4791234567"}, id="known-phone"),
        pytest.param(False, {"phone": "+4799999999"}, id="unknown-phone"),
        pytest.param(True, {"email": "ada@example.com"}, id="known-email"),
        pytest.param(False, {"email": "nobody@example.com"}, id="unknown-email"),
    ],
)
def test_the_reset_page_answers_the_same_whether_or_not_an_account_exists(client, sms_outbox, known, data):
    UserFactory(email="ada@example.com", phone="+4791234567", phone_verified=True)

    response = client.post(reverse("account_reset_password"), data)

    # then: the same next page; only the owner's inbox shows the difference
    assert response.url == reverse("account_confirm_password_reset_code")
    page = client.get(response.url).content.decode()
    assert "If an account exists for" in page
    assert "Didn&#x27;t get it?" in page or "Didn't get it?" in page
    if "phone" in data:
        # no SMS to a number without an account (no paid messages to any number anyone types)
        assert len(sms_outbox) == (1 if known else 0)
    else:
        assert len(mail.outbox) == 1
        assert ("code" in mail.outbox[0].body.lower()) is known


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({}, "email address or the phone number", id="neither"),
        pytest.param({"email": "ada@example.com", "phone": "+4791234567"}, "not both", id="both"),
        pytest.param({"phone": "12"}, "valid phone number", id="bad-phone"),
        pytest.param({"email": "not-an-email"}, "valid email", id="bad-email"),
    ],
)
def test_the_reset_page_explains_bad_input(client, sms_outbox, data, message):
    response = client.post(reverse("account_reset_password"), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert sms_outbox == [] and mail.outbox == []


# --- headless API (mobile app) ---------------------------------------------------------------


def test_reset_by_sms_code_through_the_headless_api(app_client, sms_outbox):
    # given
    PhoneUserFactory(phone="+4791234567", phone_verified=True)

    # when: the app asks for a code
    response = app_client.post(REQUEST_URL, {"phone": "+4791234567"})

    # then: allauth's "password_reset_by_code" flow is pending, and the SMS went out
    assert response.status_code == 401, response.json()
    flows = {flow["id"]: flow for flow in response.json()["data"]["flows"]}
    assert flows["password_reset_by_code"]["is_pending"] is True
    assert [message.to for message in sms_outbox] == ["+4791234567"]

    # when: the app sends the code with the new password
    response = app_client.post(RESET_URL, {"key": code_from(sms_outbox[0]), "password": NEW_PASSWORD})

    # then
    assert response.status_code in (200, 401), response.json()
    assert User.objects.get().check_password(NEW_PASSWORD)
    login = type(app_client)().post("/_allauth/app/v1/auth/login", {"phone": "+4791234567", "password": NEW_PASSWORD})
    assert login.status_code == 200


def test_headless_wrong_codes_are_limited(app_client, sms_outbox, settings):
    settings.ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS = 2
    PhoneUserFactory(phone="+4791234567", phone_verified=True)
    app_client.post(REQUEST_URL, {"phone": "+4791234567"})

    first = app_client.post(RESET_URL, {"key": "WRONG1", "password": NEW_PASSWORD})
    second = app_client.post(RESET_URL, {"key": "WRONG1", "password": NEW_PASSWORD})
    after = app_client.post(RESET_URL, {"key": code_from(sms_outbox[0]), "password": NEW_PASSWORD})

    assert (first.status_code, second.status_code, after.status_code) == (400, 400, 409)
    assert not User.objects.get().check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"phone": "+4791234567"}, id="known-phone"),
        pytest.param({"phone": "+4799999999"}, id="unknown-phone"),
        pytest.param({"email": "ada@example.com"}, id="known-email"),
        pytest.param({"email": "nobody@example.com"}, id="unknown-email"),
    ],
)
def test_headless_reset_request_answers_the_same_whether_or_not_an_account_exists(app_client, payload):
    UserFactory(email="ada@example.com", phone="+4791234567", phone_verified=True)

    response = app_client.post(REQUEST_URL, payload)

    assert response.status_code == 401, response.json()
    flows = {flow["id"]: flow for flow in response.json()["data"]["flows"]}
    assert flows["password_reset_by_code"]["is_pending"] is True


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        pytest.param({}, None, id="neither"),
        pytest.param({"email": "ada@example.com", "phone": "+4791234567"}, None, id="both"),
        pytest.param({"phone": "12"}, "phone", id="bad-phone"),
    ],
)
def test_headless_reset_request_with_bad_input_is_400(app_client, sms_outbox, payload, param):
    response = app_client.post(REQUEST_URL, payload)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all(error["message"] for error in errors)
    assert param in [error.get("param") for error in errors]
    assert sms_outbox == []
