"""Messages built in Python follow the language: API errors, form errors and page messages.

The ``code`` of an API error is the same stable English identifier in every language; its ``message``
is written in the language the app asks for (``Accept-Language``), values and all.
"""

import pytest

from tests.accounts.conftest import AppClient
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STATEMENTS = "/api/v1/wallet/statements/"


@pytest.fixture
def app():
    app_client = AppClient()
    user = UserFactory(password=PASSWORD)
    login = app_client.post("/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD})
    assert login.status_code == 200
    return app_client


def _get(app, path, language):
    return app.client.get(path, headers={**app._headers(), "accept-language": language})


def test_a_service_error_with_a_value_answers_in_norwegian_with_the_same_code(app):
    english = _get(app, f"{STATEMENTS}?month=2025-09&currency=XYZ&format=json", "en")
    norwegian = _get(app, f"{STATEMENTS}?month=2025-09&currency=XYZ&format=json", "nb-NO,nb;q=0.9")

    assert english.status_code == norwegian.status_code == 400
    assert english.json()["error"]["code"] == norwegian.json()["error"]["code"] == "statement_currency_invalid"
    assert english.json()["error"]["fields"]["currency"] == ["One of NOK, SEK, DKK, EUR."]
    assert norwegian.json()["error"]["fields"]["currency"] == ["En av NOK, SEK, DKK, EUR."]


def test_a_service_error_without_a_value_answers_in_norwegian(app):
    norwegian = _get(app, f"{STATEMENTS}?month=2999-01&currency=NOK&format=json", "nb")

    assert norwegian.status_code == 400
    assert norwegian.json()["error"]["code"] == "statement_month_invalid"
    assert "Den måneden har ikke begynt ennå." in str(norwegian.json()["error"])
