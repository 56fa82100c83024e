"""The whole API against its own OpenAPI schema, with schemathesis.

Every operation the schema at /api/schema/ lists is called with requests generated from the
schema (valid and invalid), as a consumer (X-Session-Token) and as a partner (an API key).
Each answer must be no server error, have a status the schema documents for the operation,
a content type it documents, and a body that matches the documented schema. New endpoints
are covered as soon as the schema lists them: there is no list of endpoints here.

The examples are bounded per operation and derandomized, so the run is the same every time.
Side effects run in the test database and in-process (Celery eager, fake Stripe and SMS).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.merchants.factories import MerchantApiKeyFactory, MerchantFactory, api_key_headers
from tests.wallet.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=False)]

EXAMPLES_PER_OPERATION = 25
PARTNER_PREFIX = "/api/v1/partner/"


@schemathesis.check
def body_is_documented(ctx, response, case):
    """A body must be described: schemathesis' own checks pass a body whose status the schema
    documents without any content (``OpenApiResponse(description=...)``), which tells an app nothing."""
    if case.method.upper() != case.operation.method.upper():
        return None  # schemathesis probing a method the path does not offer (405; OPTIONS answers 200)
    if response.status_code == 204 or not response.content:
        return None
    documented = case.operation.definition.raw.get("responses", {}).get(str(response.status_code), {})
    if not documented.get("content"):
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code} with a body the schema does not describe"
        )
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    body_is_documented,
]

bounded = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


# The schema as the app serves it. Loading it needs no database, clock or key: only the URLconf.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@contextmanager
def _test_connection_kept() -> Iterator[None]:
    """Requests run in-process through WSGI, as Django's test client runs them: the end of a request
    must not close the test's database connection, inside whose transaction every example runs."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def consumer_headers(client, settings_fake_providers):
    user = UserFactory()
    login = client.post(
        "/_allauth/app/v1/auth/login",
        {"email": user.email, "password": "correct-horse-battery"},
        content_type="application/json",
    )
    assert login.status_code == 200, login.content
    return {"X-Session-Token": login.json()["meta"]["session_token"]}


@pytest.fixture
def partner_headers():
    key = MerchantApiKeyFactory(merchant=MerchantFactory())
    return {"Authorization": api_key_headers(key)["HTTP_AUTHORIZATION"]}


@pytest.fixture
def settings_fake_providers(settings, fake_stripe):
    settings.STRIPE_PROVIDER = "fake"
    settings.CARD_NETWORK_PROVIDER = "fake"
    settings.SMS_PROVIDER = "fake"
    settings.CELERY_TASK_ALWAYS_EAGER = True


@schema.exclude(path_regex=f"^{PARTNER_PREFIX}").parametrize()
@bounded
def test_the_consumer_api_answers_as_its_schema_says(case, consumer_headers):
    with _test_connection_kept():
        case.call_and_validate(headers=consumer_headers, checks=CHECKS)


@schema.include(path_regex=f"^{PARTNER_PREFIX}").parametrize()
@bounded
def test_the_partner_api_answers_as_its_schema_says(case, partner_headers, settings_fake_providers):
    with _test_connection_kept():
        case.call_and_validate(headers=partner_headers, checks=CHECKS)
