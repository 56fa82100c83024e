"""Staff must set up two-factor authentication before using anything else."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.accounts.factories import PASSWORD, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/accounts/profile/", "/django-admin/"])
def test_staff_without_an_authenticator_is_sent_to_totp_setup(client, path):
    client.force_login(StaffUserFactory())

    response = client.get(path)

    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_staff_can_reach_the_setup_page_and_log_out(client):
    client.force_login(StaffUserFactory())

    setup = client.get(reverse("mfa_activate_totp"), follow=True)
    logout = client.post(reverse("account_logout"))

    assert setup.status_code == 200
    assert logout.status_code == 302
    assert "_auth_user_id" not in client.session


def test_staff_api_call_without_an_authenticator_is_403_mfa_required(client):
    client.force_login(StaffUserFactory())

    response = client.get("/api/v1/me/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_required"


def test_staff_api_call_with_a_session_token_without_an_authenticator_is_403(app_client):
    StaffUserFactory(email="staff@example.com")
    login = app_client.post("/_allauth/app/v1/auth/login", {"email": "staff@example.com", "password": PASSWORD})
    assert login.status_code == 200

    response = app_client.get("/api/v1/me/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_required"


def test_staff_with_an_authenticator_and_consumers_pass(client):
    staff = StaffUserFactory(mfa=True)
    consumer = UserFactory()

    client.force_login(staff)
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert client.get("/api/v1/me/").status_code == 200
    client.force_login(consumer)
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_static_files_are_not_redirected(client):
    client.force_login(StaffUserFactory())

    response = client.get("/static/does-not-exist.css")

    assert response.status_code == 404


def test_an_app_request_reads_its_session_and_its_user_once(app_client):
    # The middleware above checks the token's user before the view and DRF authenticates inside it:
    # one read of the session and one of the user between them (docs/benchmarks.md, geofence reports).
    UserFactory(email="consumer@example.com")
    assert app_client.post("/_allauth/app/v1/auth/login", {"email": "consumer@example.com", "password": PASSWORD})
    token = app_client.session_token

    with CaptureQueriesContext(connection) as queries:
        response = app_client.get("/api/v1/me/")

    assert response.status_code == 200 and response.json()["email"] == "consumer@example.com"
    tables = [query["sql"].split(" FROM ", 1)[1].split()[0] for query in queries if " FROM " in query["sql"]]
    assert tables.count('"django_session"') == 1 and tables.count('"accounts_user"') == 1, tables

    app_client.session_token = token[:-1] + ("x" if token[-1] != "x" else "y")  # a token nobody was given
    assert app_client.get("/api/v1/me/").status_code == 401
