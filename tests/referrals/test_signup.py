"""Sign-up through a friend's link or with a typed code, on the web page and through the app's API."""

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.visitor import CODE_COOKIE, DEVICE_COOKIE
from cashback.keyed_ids import external_key
from referrals import services
from referrals.models import DeviceSighting, Referral, ReferralStatus
from tests.accounts.conftest import AppClient
from tests.accounts.factories import PASSWORD, UserFactory

# Sign-up announces user_signed_up; referrals links the friend when the fact is delivered, after commit.
pytestmark = pytest.mark.django_db(transaction=True)

SIGNUP_API = "/_allauth/app/v1/auth/signup"


def signup_data(**overrides) -> dict:
    data = {"email": "friend@example.com", "password1": PASSWORD, "password2": PASSWORD, "accept_terms": "on"}
    data.update(overrides)
    return data


@pytest.fixture
def referrer(program):
    return UserFactory(full_name="Ada Lovelace")


@pytest.fixture
def code(referrer):
    return services.referral_code_for(user=referrer).code


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_link_remembers_the_code_and_the_signup_links_the_friend(client, referrer, code):
    # when: the friend opens the link
    response = client.get(reverse("referrals:link", kwargs={"code": code.lower()}))

    # then: an invitation naming the referrer, the code kept in a cookie, a device id given
    assert response.status_code == 200
    assert "Ada L. invited you" in response.content.decode()
    assert CODE_COOKIE in response.cookies and DEVICE_COOKIE in response.cookies

    # and the sign-up form shows the code filled in
    assert f'value="{code}"' in client.get(reverse("account_signup")).content.decode()

    # when: they sign up without typing anything
    response = client.post(reverse("account_signup"), signup_data(), REMOTE_ADDR="198.51.100.23")

    # then
    assert response.status_code == 302
    friend = User.objects.get(email="friend@example.com")
    referral = Referral.objects.get(friend=friend)
    assert (referral.referrer, referral.code, referral.status) == (referrer, code, ReferralStatus.PENDING)
    assert (referral.signup_ip, referral.network) == ("198.51.100.23", "198.51.100.0/24")
    assert referral.device_id == external_key(namespace="device", value=response.wsgi_request.COOKIES[DEVICE_COOKIE])
    assert referral.program.version == 1


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_the_code_survives_a_new_session_through_the_signed_cookie(client, referrer, code):
    client.get(reverse("referrals:link", kwargs={"code": code}))
    client.session.flush()
    session = client.session
    session.pop("referral_code", None)
    session.save()

    client.post(reverse("account_signup"), signup_data())

    assert Referral.objects.get().referrer == referrer


def test_a_tampered_code_cookie_is_ignored(client, referrer, code):
    client.cookies[CODE_COOKIE] = code  # unsigned

    client.post(reverse("account_signup"), signup_data())

    assert User.objects.filter(email="friend@example.com").exists()
    assert Referral.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_typed_code_links_the_friend(client, referrer, code):
    client.post(reverse("account_signup"), signup_data(referral_code=f" {code.lower()} "))

    assert Referral.objects.get().referrer == referrer


def test_unknown_typed_code_is_a_form_error_and_nobody_is_created(client, program):
    response = client.post(reverse("account_signup"), signup_data(referral_code="NOSUCH99"))

    assert response.status_code == 200
    assert "There is no referral code like that" in response.content.decode()
    assert not User.objects.filter(email="friend@example.com").exists()
    assert Referral.objects.count() == 0


def test_unknown_link_says_so(client, program):
    response = client.get(reverse("referrals:link", kwargs={"code": "NOSUCH99"}))

    assert response.status_code == 404
    assert "This invitation link does not work" in response.content.decode()
    assert CODE_COOKIE not in response.cookies


def test_signed_in_visitor_opening_a_link_is_told_codes_only_count_at_sign_up(client, code):
    existing = UserFactory()
    client.force_login(existing)

    response = client.get(reverse("referrals:link", kwargs={"code": code}), follow=True)

    assert "only count when you sign up" in response.content.decode()
    assert Referral.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_sign_up_without_a_code_records_the_device_only(client, program):
    client.post(reverse("account_signup"), signup_data(), headers={"X-Device-Id": "app-device-0001"})

    friend = User.objects.get(email="friend@example.com")
    assert Referral.objects.count() == 0
    assert DeviceSighting.objects.filter(
        user=friend, device_id=external_key(namespace="device", value="app-device-0001")
    ).exists()


# --- The app (allauth headless) -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # facts are delivered after commit
def test_app_signup_with_referral_code_and_device_header(referrer, code):
    app = AppClient()
    app.client.defaults["HTTP_X_DEVICE_ID"] = "ios-5F2C9A1B-0000"

    response = app.post(
        SIGNUP_API,
        {"email": "friend@example.com", "password": PASSWORD, "accept_terms": True, "referral_code": code},
    )

    assert response.status_code == 200, response.content
    referral = Referral.objects.get()
    assert referral.referrer == referrer
    assert referral.device_id == external_key(namespace="device", value="ios-5F2C9A1B-0000")


def test_app_signup_with_unknown_code_is_a_400_and_creates_nothing(program):
    app = AppClient()

    response = app.post(
        SIGNUP_API,
        {"email": "friend@example.com", "password": PASSWORD, "accept_terms": True, "referral_code": "NOSUCH99"},
    )

    assert response.status_code == 400
    assert any(error.get("param") == "referral_code" for error in response.json()["errors"])
    assert not User.objects.filter(email="friend@example.com").exists()
