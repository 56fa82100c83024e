"""Login by email or phone, and logout (password reset: test_password_reset.py)."""

import pytest
from django.urls import reverse

from tests.accounts.conftest import code_from
from tests.accounts.factories import PASSWORD, PhoneUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def logged_in_user_id(client) -> int | None:
    return client.session.get("_auth_user_id") and int(client.session["_auth_user_id"])


@pytest.mark.parametrize("login", ["ada@example.com", "ADA@example.com"])
def test_login_by_email(client, login):
    user = UserFactory(email="ada@example.com")

    response = client.post(reverse("account_login"), {"login": login, "password": PASSWORD})

    assert response.status_code == 302
    assert logged_in_user_id(client) == user.pk


@pytest.mark.parametrize("login", ["+4791234567", "+47 912 34 567", "912 34 567"])
def test_login_by_phone_in_any_common_format(client, login):
    user = PhoneUserFactory(phone="+4791234567", phone_verified=True)

    response = client.post(reverse("account_login"), {"login": login, "password": PASSWORD})

    assert response.status_code == 302
    assert logged_in_user_id(client) == user.pk


def test_login_by_unverified_phone_asks_for_the_sms_code_first(client, sms_outbox):
    user = PhoneUserFactory(phone="+4791234567", phone_verified=False)

    response = client.post(reverse("account_login"), {"login": "+4791234567", "password": PASSWORD})

    assert response.url == reverse("account_verify_phone")
    assert logged_in_user_id(client) is None
    client.post(reverse("account_verify_phone"), {"code": code_from(sms_outbox[-1])})
    assert logged_in_user_id(client) == user.pk


def test_login_with_wrong_password_shows_an_error(client):
    UserFactory(email="ada@example.com")

    response = client.post(reverse("account_login"), {"login": "ada@example.com", "password": "wrong-password-1"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert logged_in_user_id(client) is None


def test_logout(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert logged_in_user_id(client) is None


def test_headless_login_by_email_and_by_phone(app_client):
    UserFactory(email="ada@example.com")
    PhoneUserFactory(phone="+4791234567")

    by_email = app_client.post("/_allauth/app/v1/auth/login", {"email": "ada@example.com", "password": PASSWORD})
    other = type(app_client)()
    by_phone = other.post("/_allauth/app/v1/auth/login", {"phone": "+4791234567", "password": PASSWORD})

    assert by_email.status_code == 200, by_email.json()
    assert by_phone.status_code == 200, by_phone.json()
    assert app_client.get("/api/v1/me/").json()["email"] == "ada@example.com"
    assert other.get("/api/v1/me/").json()["phone"] == "+4791234567"


def test_headless_login_with_wrong_password_is_400(app_client):
    UserFactory(email="ada@example.com")

    response = app_client.post("/_allauth/app/v1/auth/login", {"email": "ada@example.com", "password": "nope-nope"})

    assert response.status_code == 400
    assert app_client.session_token is None
