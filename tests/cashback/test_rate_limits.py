"""Rate limits on every door that sends a message or costs money (cashback/throttling.py and allauth's
own). The test settings turn them off; each test here turns one on with a small rate and trips it.

A throttle is checked before the view's own work, so the calls here need not be valid: the first
ones get whatever the view answers (a 400 for an empty body), the one over the limit gets 429."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from cashback.providers.sms import FakeSmsClient
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantApiKeyFactory, api_key_headers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def limit(settings):
    """limit(scope, "2/m"): that scope's rate, all others off."""

    def set_rate(scope: str, rate: str) -> None:
        settings.API_THROTTLE_RATES = {scope: rate}

    return set_rate


def logged_in_client() -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        ("spend_codes", "/api/v1/spend-codes/"),
        ("payouts", "/api/v1/payouts/"),
        ("payouts", "/api/v1/payouts/account/"),
        ("donations", "/api/v1/donations/"),
        ("cards", "/api/v1/cards/"),
        ("referrals", "/api/v1/referrals/claim/"),
        ("referrals", "/api/v1/referrals/businesses/"),
        ("data_export", "/api/v1/me/export/"),
    ],
)
def test_the_api_answers_429_in_the_error_format_once_the_limit_is_reached(limit, scope, path):
    # given: two calls a minute
    limit(scope, "2/m")
    client = logged_in_client()

    # when
    answers = [client.post(path, {}, content_type="application/json") for _ in range(3)]

    # then: the third is refused, saying when to try again, and reads stay free
    assert [answer.status_code == 429 for answer in answers] == [False, False, True]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "throttled"
    assert "try again in" in refused.json()["error"]["message"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert f"try again in {refused['Retry-After']} second" in refused.json()["error"]["message"]
    if path in ("/api/v1/payouts/", "/api/v1/donations/", "/api/v1/cards/", "/api/v1/me/export/"):
        assert client.get(path).status_code == 200


def test_the_limit_is_per_person(limit):
    limit("spend_codes", "1/m")
    first, second = logged_in_client(), logged_in_client()

    first.post("/api/v1/spend-codes/", {}, content_type="application/json")

    assert first.post("/api/v1/spend-codes/", {}, content_type="application/json").status_code == 429
    assert second.post("/api/v1/spend-codes/", {}, content_type="application/json").status_code != 429


def test_the_partner_api_is_limited_per_api_key(limit):
    # given
    limit("partner", "2/m")
    key, other_key = MerchantApiKeyFactory(), MerchantApiKeyFactory()
    client = Client()

    # when: every call counts, reads too
    answers = [client.get("/api/v1/partner/orders/no-such-order/", **api_key_headers(key)) for _ in range(3)]

    # then
    assert [answer.status_code for answer in answers][:2] == [404, 404]
    assert answers[2].status_code == 429
    assert answers[2].json()["error"]["code"] == "throttled"
    assert "Retry-After" in answers[2]
    assert client.get("/api/v1/partner/orders/no-such-order/", **api_key_headers(other_key)).status_code == 404


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        ("spend_codes", "/wallet/spend/"),
        ("payouts", "/wallet/payouts/"),
        ("payouts", "/wallet/payouts/setup/"),
        ("donations", "/wallet/giving/donate/no-such-charity/"),
        ("referrals", "/wallet/referrals/businesses/"),
        ("cards", "/dev/card-network/enrol/"),
    ],
)
def test_the_pages_show_a_clear_429_page_once_the_limit_is_reached(limit, scope, path):
    limit(scope, "2/m")
    client = logged_in_client()

    answers = [client.post(path, {}) for _ in range(3)]

    assert [answer.status_code == 429 for answer in answers] == [False, False, True]
    page = answers[-1].content.decode()
    assert "Too many attempts" in page
    assert "try again in" in page
    assert "Retry-After" in answers[-1]


def test_pages_and_api_share_one_count(limit):
    limit("spend_codes", "2/m")
    client = logged_in_client()

    client.post("/wallet/spend/", {})
    client.post("/api/v1/spend-codes/", {}, content_type="application/json")

    assert client.post("/wallet/spend/", {}).status_code == 429


def test_without_a_rate_nothing_is_limited(settings):
    settings.API_THROTTLE_RATES = {}
    client = logged_in_client()

    answers = [client.post("/api/v1/spend-codes/", {}, content_type="application/json") for _ in range(20)]

    assert all(answer.status_code != 429 for answer in answers)


# --- allauth's own limits: sign-up, login, reset, SMS codes --------------------------------------


@pytest.mark.parametrize(
    ("action", "rate", "path", "data"),
    [
        ("signup", "2/m/ip", "/accounts/signup/", {"phone": "+4791234567"}),
        ("reset_password", "2/m/key", "/accounts/password/reset/", {"phone": "+4791234567"}),
        ("reset_password", "2/m/key", "/accounts/password/reset/", {"email": "ada@example.com"}),
        ("login", "2/m/ip", "/accounts/login/", {"login": "ada@example.com", "password": "wrong-pass-1"}),
    ],
)
def test_allauth_pages_answer_429_once_its_limit_is_reached(settings, action, rate, path, data):
    settings.ACCOUNT_RATE_LIMITS = {action: rate}
    client = Client()

    answers = [client.post(path, data) for _ in range(3)]

    assert [answer.status_code == 429 for answer in answers] == [False, False, True]


@pytest.mark.parametrize(
    ("action", "path", "payload"),
    [
        ("reset_password", "/_allauth/app/v1/auth/password/request", {"phone": "+4791234567"}),
        ("signup", "/_allauth/app/v1/auth/signup", {"phone": "+4791234567", "password": "x", "accept_terms": True}),
    ],
)
def test_allauth_headless_answers_429_once_its_limit_is_reached(settings, action, path, payload):
    settings.ACCOUNT_RATE_LIMITS = {action: "2/m/ip"}
    client = Client()

    answers = [client.post(path, payload, content_type="application/json") for _ in range(3)]

    assert [answer.status_code == 429 for answer in answers] == [False, False, True]
    assert answers[-1].json()["status"] == 429


def test_sms_codes_to_one_number_are_limited(settings):
    # given: one SMS code a minute per number; someone signed up by phone (the first SMS)
    settings.ACCOUNT_RATE_LIMITS = {"verify_phone": "1/m/key"}
    FakeSmsClient.clear()
    password = "Long-Enough-Pass-1"
    data = {"phone": "+4791234567", "password1": password, "password2": password, "accept_terms": "on"}
    Client().post(reverse("account_signup"), data)
    assert len(FakeSmsClient.outbox) == 1

    # when: someone else signs up with the same number at once (which would text its owner)
    response = Client().post(reverse("account_signup"), data)

    # then: no second SMS, and a clear answer rather than an error page
    assert len(FakeSmsClient.outbox) == 1
    assert response.status_code == 429
    assert "try again in 60 seconds" in response.content.decode()
    FakeSmsClient.clear()
