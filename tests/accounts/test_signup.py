"""Sign-up by email or phone, on the web page and through the mobile app's headless API."""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from accounts.models import Consent, User
from tests.accounts.conftest import code_from
from tests.accounts.factories import PASSWORD, PhoneUserFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP_URL = "/_allauth/app/v1/auth/signup"


def html_signup_data(**overrides) -> dict:
    data = {"email": "", "phone": "", "password1": PASSWORD, "password2": PASSWORD, "accept_terms": "on"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def consents_of(user: User) -> dict[str, tuple[bool, str]]:
    return {consent.kind: (consent.granted, consent.version) for consent in user.consents.all()}


# --- HTML -----------------------------------------------------------------------


def test_signup_page_shows_email_phone_and_consent_fields(client):
    response = client.get(reverse("account_signup"))

    html = response.content.decode()
    assert response.status_code == 200
    for name in ("email", "phone", "password1", "accept_terms", "accept_marketing"):
        assert f'name="{name}"' in html


def test_html_signup_by_email_logs_in_and_records_consents(client):
    # when
    response = client.post(reverse("account_signup"), html_signup_data(email="Ada@Example.com", accept_marketing="on"))

    # then
    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "ada@example.com"
    assert user.phone is None
    assert user.check_password(PASSWORD)
    assert consents_of(user) == {
        Consent.Kind.TERMS: (True, settings.TERMS_VERSION),
        Consent.Kind.MARKETING: (True, settings.MARKETING_CONSENT_VERSION),
    }
    assert client.get(reverse("accounts:profile")).status_code == 200
    # optional email verification: a confirmation mail goes out
    assert len(mail.outbox) == 1
    assert "ada@example.com" in mail.outbox[0].to


def test_html_signup_by_phone_normalises_number_and_verifies_it_by_sms_code(client, sms_outbox):
    # when: a Norwegian number typed without country code
    response = client.post(reverse("account_signup"), html_signup_data(phone="912 34 567"))

    # then: stored as E.164, and the person is asked for the code sent by SMS
    assert response.status_code == 302
    assert response.url == reverse("account_verify_phone")
    user = User.objects.get()
    assert (user.email, user.phone, user.phone_verified) == (None, "+4791234567", False)
    assert [message.to for message in sms_outbox] == ["+4791234567"]
    assert consents_of(user) == {
        Consent.Kind.TERMS: (True, settings.TERMS_VERSION),
        Consent.Kind.MARKETING: (False, settings.MARKETING_CONSENT_VERSION),
    }

    # when: the code is entered
    response = client.post(reverse("account_verify_phone"), {"code": code_from(sms_outbox[0])})

    # then
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.phone_verified is True
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_html_signup_by_phone_with_a_wrong_code_stays_unverified(client, sms_outbox):
    client.post(reverse("account_signup"), html_signup_data(phone="+47 912 34 567"))

    response = client.post(reverse("account_verify_phone"), {"code": "WRONG1"})

    assert response.status_code == 200
    assert User.objects.get().phone_verified is False


def test_html_signup_with_email_and_phone_keeps_both(client):
    client.post(reverse("account_signup"), html_signup_data(email="both@example.com", phone="+4791234567"))

    user = User.objects.get()
    assert (user.email, user.phone) == ("both@example.com", "+4791234567")


def test_two_phone_only_signups_do_not_collide_on_the_empty_email(client):
    PhoneUserFactory(phone="+4791111111")

    client.post(reverse("account_signup"), html_signup_data(phone="+4792222222"))

    assert User.objects.filter(email__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        pytest.param(html_signup_data(email="not-an-email"), "email", "valid email", id="bad-email"),
        pytest.param(html_signup_data(phone="12"), "phone", "valid phone number", id="bad-phone"),
        pytest.param(html_signup_data(phone="+47 123"), "phone", "valid phone number", id="short-phone"),
        pytest.param(
            html_signup_data(email="weak@example.com", password1="password", password2="password"),
            "password1",
            "too common",
            id="weak-password",
        ),
        pytest.param(html_signup_data(), None, "email address or a phone number", id="neither"),
        pytest.param(
            html_signup_data(email="new@example.com", accept_terms=None),
            "accept_terms",
            "accept the terms",
            id="no-terms",
        ),
    ],
)
def test_html_signup_with_bad_input_shows_the_error_and_creates_nothing(client, data, field, message):
    # given
    UserFactory(email="dup@example.com", phone="+4791234567")
    users, consents = User.objects.count(), Consent.objects.count()

    # when
    response = client.post(reverse("account_signup"), data)

    # then
    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors.get(field if field else "__all__", [])
    assert any(message in error for error in errors), form.errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert (User.objects.count(), Consent.objects.count()) == (users, consents)


@pytest.mark.parametrize("typed", ["dup@example.com", "DUP@example.com"])
def test_html_signup_with_a_taken_email_shows_what_happens_next_and_mails_the_owner(client, typed):
    # given
    owner = UserFactory(email="dup@example.com")

    # when: someone signs up with that address (enumeration protection: not told it is taken)
    response = client.post(reverse("account_signup"), html_signup_data(email=typed))

    # then: no second account, not logged in, the "check your e-mail" page, and a mail to the owner
    assert response.url == reverse("account_email_verification_sent")
    assert User.objects.count() == 1
    assert "_auth_user_id" not in client.session
    page = client.get(response.url).content.decode()
    assert "If that address already has an account, the email says so" in page
    assert [message.to for message in mail.outbox] == [[owner.email]]
    assert "already" in mail.outbox[0].body.lower()


def test_html_signup_with_a_taken_phone_looks_like_any_signup_and_texts_the_owner(client, sms_outbox):
    # given
    PhoneUserFactory(phone="+4791234567", phone_verified=True)

    # when: someone signs up with that number (enumeration protection: not told it is taken)
    response = client.post(reverse("account_signup"), html_signup_data(phone="912 34 567"))

    # then: the same next step as a new number (enter the SMS code), no second account, and the
    # number's owner is told by SMS that someone tried
    assert response.url == reverse("account_verify_phone")
    assert User.objects.count() == 1
    assert [message.to for message in sms_outbox] == ["+4791234567"]
    assert "already has an account" in sms_outbox[0].body
    assert client.post(reverse("account_verify_phone"), {"code": "ANY123"}).status_code == 200
    assert "_auth_user_id" not in client.session


# --- headless API (mobile app) --------------------------------------------------------


def test_headless_signup_by_email_returns_a_session_token_that_opens_the_api(app_client):
    response = app_client.post(SIGNUP_URL, {"email": "app@example.com", "password": PASSWORD, "accept_terms": True})

    assert response.status_code == 200, response.json()
    assert response.json()["meta"]["is_authenticated"] is True
    me = app_client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "app@example.com"
    assert {c["kind"]: c["granted"] for c in me.json()["consents"]} == {"terms": True, "marketing": False}


def test_headless_signup_by_phone_verifies_the_number_by_sms_code(app_client, sms_outbox):
    # when
    response = app_client.post(
        SIGNUP_URL, {"phone": "+4791234567", "password": PASSWORD, "accept_terms": True, "accept_marketing": True}
    )

    # then: signed up, the phone verification step is pending
    assert response.status_code == 401, response.json()
    flows = {flow["id"]: flow for flow in response.json()["data"]["flows"]}
    assert flows["verify_phone"]["is_pending"] is True
    user = User.objects.get()
    assert (user.phone, user.phone_verified) == ("+4791234567", False)
    assert consents_of(user)[Consent.Kind.MARKETING] == (True, settings.MARKETING_CONSENT_VERSION)

    # when: the app sends the SMS code
    response = app_client.post("/_allauth/app/v1/auth/phone/verify", {"code": code_from(sms_outbox[-1])})

    # then
    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert user.phone_verified is True
    assert app_client.get("/api/v1/me/").json()["phone_verified"] is True


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        pytest.param({"email": "not-an-email", "password": PASSWORD, "accept_terms": True}, "email", id="bad-email"),
        pytest.param({"phone": "+47123", "password": PASSWORD, "accept_terms": True}, "phone", id="bad-phone"),
        pytest.param({"email": "w@example.com", "password": "password", "accept_terms": True}, "password", id="weak"),
        pytest.param({"password": PASSWORD, "accept_terms": True}, None, id="neither"),
        pytest.param({"email": "new@example.com", "password": PASSWORD}, "accept_terms", id="no-terms"),
        pytest.param(
            {"email": "new@example.com", "password": PASSWORD, "accept_terms": False}, "accept_terms", id="terms-false"
        ),
    ],
)
def test_headless_signup_with_bad_input_answers_400_and_creates_nothing(app_client, payload, param):
    # given
    UserFactory(email="dup@example.com", phone="+4791234567")
    users, consents = User.objects.count(), Consent.objects.count()

    # when
    response = app_client.post(SIGNUP_URL, payload)

    # then
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all(error["message"] for error in errors)
    assert param in [error.get("param") for error in errors], errors
    assert (User.objects.count(), Consent.objects.count()) == (users, consents)


def test_headless_signup_with_a_taken_phone_looks_like_any_signup(app_client, sms_outbox):
    PhoneUserFactory(phone="+4791234567", phone_verified=True)

    response = app_client.post(SIGNUP_URL, {"phone": "+4791234567", "password": PASSWORD, "accept_terms": True})

    assert response.status_code == 401, response.json()
    flows = {flow["id"]: flow for flow in response.json()["data"]["flows"]}
    assert flows["verify_phone"]["is_pending"] is True
    assert User.objects.count() == 1
    assert "already has an account" in sms_outbox[-1].body


def test_headless_signup_with_a_taken_email_mails_the_owner_and_says_to_check_email(app_client):
    UserFactory(email="dup@example.com")

    response = app_client.post(SIGNUP_URL, {"email": "dup@example.com", "password": PASSWORD, "accept_terms": True})

    assert response.status_code == 401, response.json()
    flows = {flow["id"]: flow for flow in response.json()["data"]["flows"]}
    assert flows["verify_email"]["is_pending"] is True
    assert User.objects.count() == 1
    assert [message.to for message in mail.outbox] == [["dup@example.com"]]


def test_mandatory_email_verification_holds_login_until_the_link_is_followed(client, settings):
    # given: the setting as cashback/settings.py derives it for ACCOUNT_EMAIL_VERIFICATION=mandatory
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    settings.ACCOUNT_SIGNUP_FIELDS = ["email*", "phone", "password1*", "password2*"]

    # when
    response = client.post(reverse("account_signup"), html_signup_data(email="ada@example.com"))

    # then: not logged in until the emailed link is followed
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    link = next(word for word in mail.outbox[0].body.split() if "/accounts/confirm-email/" in word)
    client.post(urlsplit(link).path)
    assert User.objects.get().emailaddress_set.get().verified is True
