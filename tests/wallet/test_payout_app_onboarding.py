"""Payout onboarding from the mobile app, with its session token and never a cookie (docs/payouts.md)."""

import pytest
from django.test import Client

from cashback.providers.stripe_gateway import FakeStripeGateway
from wallet.models import PayoutAccount

from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fake_stripe_provider(settings, fake_stripe):
    settings.STRIPE_PROVIDER = "fake"


@pytest.fixture
def app():
    """The app: a session token from allauth's headless login, and no cookie on any later request."""
    user = UserFactory()
    login = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": user.email, "password": "correct-horse-battery"},
        content_type="application/json",
    )
    token = login.json()["meta"]["session_token"]

    class App:
        def __init__(self) -> None:
            self.user = user

        def api(self, method: str, path: str):
            return getattr(Client(), method)(path, headers={"X-Session-Token": token})

        def browser(self, url: str):
            """What the phone's browser does with a URL it was given: no cookie, no token."""
            return Client().get(url.removeprefix("http://testserver"))

    return App()


def _onboard_but_stripe_still_needs_details(app):
    started = app.api("post", "/api/v1/payouts/account/")
    assert started.status_code == 200, started.content
    account = PayoutAccount.objects.get(user=app.user)
    FakeStripeGateway.account_set(account.stripe_account_id, payouts_enabled=False, details_submitted=False)
    return started.json()


def test_the_app_finishes_onboarding_with_its_token_and_the_return_link_needs_no_cookie(app):
    started = _onboard_but_stripe_still_needs_details(app)
    assert started["status_url"] == "/api/v1/payouts/account/"
    assert app.api("get", started["status_url"]).json()["set_up"] is False
    account = PayoutAccount.objects.get(user=app.user)
    FakeStripeGateway.account_set(account.stripe_account_id, payouts_enabled=True, details_submitted=True)

    # The fake's onboarding URL is the return URL, as if the consumer had finished at Stripe at once.
    returned = app.browser(started["url"])

    assert returned.status_code == 200
    assert b"Payouts are set up" in returned.content
    assert PayoutAccount.objects.get(user=app.user).is_ready


def test_polling_the_status_asks_stripe_until_the_account_is_ready(app):
    _onboard_but_stripe_still_needs_details(app)
    account = PayoutAccount.objects.get(user=app.user)
    assert app.api("get", "/api/v1/payouts/account/").json()["set_up"] is False

    # The consumer finished at Stripe but never came back through the return link.
    FakeStripeGateway.account_set(account.stripe_account_id, payouts_enabled=True, details_submitted=True)
    status = app.api("get", "/api/v1/payouts/account/").json()

    assert (status["set_up"], status["payouts_enabled"], status["details_submitted"]) == (True, True, True)
    asked = len(FakeStripeGateway.calls("account_retrieve"))
    app.api("get", "/api/v1/payouts/account/")
    assert len(FakeStripeGateway.calls("account_retrieve")) == asked  # ready: Stripe is not asked again


def test_an_unreachable_stripe_leaves_the_stored_status(app):
    _onboard_but_stripe_still_needs_details(app)
    FakeStripeGateway.fail_next("account_retrieve")

    response = app.api("get", "/api/v1/payouts/account/")

    assert response.status_code == 200
    assert response.json()["set_up"] is False


def test_a_return_link_that_was_altered_or_is_too_old_does_nothing(app, settings):
    started = _onboard_but_stripe_still_needs_details(app)
    before = len(FakeStripeGateway.calls("account_retrieve"))

    altered = app.browser(started["url"].replace("/return/", "x/return/"))
    settings.PAYOUT_APP_LINK_MAX_AGE_SECONDS = -1
    too_old = app.browser(started["url"])

    assert altered.status_code in (400, 404) and too_old.status_code == 400
    assert b"This link has expired" in too_old.content
    assert len(FakeStripeGateway.calls("account_retrieve")) == before


def test_the_refresh_link_only_sends_the_consumer_back_to_the_app(app):
    _onboard_but_stripe_still_needs_details(app)
    link = FakeStripeGateway.calls("account_link_create")[-1].params["refresh_url"]

    response = app.browser(link)

    assert response.status_code == 200
    assert b"start the payout set-up again" in response.content
    assert len(FakeStripeGateway.calls("account_link_create")) == 1


def test_onboarding_answers_502_in_the_error_format_when_stripe_is_unreachable(app):
    FakeStripeGateway.fail_next("connected_account_create")

    response = app.api("post", "/api/v1/payouts/account/")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "stripe_unavailable"
    assert not PayoutAccount.objects.filter(user=app.user).exists()
