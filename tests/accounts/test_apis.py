"""/api/v1/me/ for the mobile app, authenticated by allauth's headless session token."""

import pytest
from django.conf import settings

from accounts.models import Consent
from tests.accounts.factories import PASSWORD, ConsentFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


@pytest.fixture
def signed_in(app_client):
    user = UserFactory(email="ada@example.com", full_name="Ada")
    ConsentFactory(user=user, kind=Consent.Kind.TERMS, version=settings.TERMS_VERSION)
    response = app_client.post("/_allauth/app/v1/auth/login", {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 200
    return app_client, user


def test_me_without_a_token_is_401(app_client):
    response = app_client.get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_me_with_a_bad_token_is_401(app_client):
    app_client.session_token = "not-a-real-token"

    assert app_client.get(ME).status_code == 401


def test_me_returns_the_profile_and_consents_in_force(signed_in):
    app_client, user = signed_in

    response = app_client.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": user.pk,
        "email": "ada@example.com",
        "phone": None,
        "phone_verified": False,
        "full_name": "Ada",
        "birth_year": None,
        "birth_date": None,
        "gender": "",
        "city": "",
        "language": "",
        "time_zone": "",
        "consents": [
            {
                "kind": "terms",
                "granted": True,
                "version": settings.TERMS_VERSION,
                "created_at": body["consents"][0]["created_at"],
            }
        ],
    }


def test_patch_me_updates_profile_fields_only(signed_in):
    app_client, user = signed_in

    response = app_client.patch(
        ME,
        {"birth_year": 1985, "city": "Bergen", "language": "nb", "email": "evil@example.com", "phone_verified": True},
    )

    assert response.status_code == 200
    assert response.json()["city"] == "Bergen"
    user.refresh_from_db()
    assert (user.birth_year, user.city, user.language, user.full_name) == (1985, "Bergen", "nb", "Ada")
    assert (user.email, user.phone_verified) == ("ada@example.com", False)


def test_patch_me_takes_a_birthday_and_its_year(signed_in):
    app_client, user = signed_in

    response = app_client.patch(ME, {"birth_date": "1990-05-17"})

    assert response.status_code == 200 and response.json()["birth_date"] == "1990-05-17"
    user.refresh_from_db()
    assert user.birth_year == 1990


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"birth_year": 1800}, "birth_year"),
        ({"birth_date": "1850-01-01"}, "birth_date"),
        ({"birth_date": "soon"}, "birth_date"),
        ({"gender": "dragon"}, "gender"),
        ({"language": "xx"}, "language"),
    ],
)
def test_patch_me_with_bad_input_is_400_with_field_errors(signed_in, payload, field):
    app_client, user = signed_in

    response = app_client.patch(ME, payload)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    user.refresh_from_db()
    assert (user.birth_year, user.gender, user.language) == (None, "", "")
