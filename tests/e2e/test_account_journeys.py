"""A newcomer's first minutes, in a real browser: sign up by email and by phone, log in and out,
reset a forgotten password, and get clear errors for bad input — at phone and desktop widths."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Consent, User
from cashback.providers.sms import FakeSmsClient
from tests.browser import DESKTOP, PHONE, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Fjord-Lantern-2026"


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    FakeSmsClient.clear()
    yield
    FakeSmsClient.clear()


def _submit(page, form_field: str) -> None:
    """Submit the form that holds the given field (the page may have other forms, e.g. log out)."""
    page.locator(f"main form:has([name='{form_field}']) [type=submit]").first.click()
    page.wait_for_load_state()


def _sign_up(page, *, email: str = "", phone: str = "") -> None:
    page.goto("/accounts/signup/")
    if email:
        page.fill("input[name=email]", email)
    if phone:
        page.fill("input[name=phone]", phone)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.check("input[name=accept_terms]")
    _submit(page, "password1")


def _log_out(page) -> None:
    page.goto("/accounts/logout/")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state()


def _log_in(page, *, login: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    _submit(page, "login")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_sign_up_by_email_then_log_out_and_in_again(page_factory, viewport):
    page = page_factory(viewport)

    # given a visitor on the home page
    page.goto("/")
    expect(page.locator("h1").first).to_be_visible()
    screenshot(page, "home")

    # when they sign up with an e-mail address
    page.goto("/accounts/signup/")
    screenshot(page, "signup")
    _sign_up(page, email="newcomer@example.com")

    # then they are logged in on their (empty) wallet, with their terms consent recorded
    assert page.url.endswith("/wallet/"), page.url
    assert page.get_by_role("heading", level=1).first.inner_text()
    screenshot(page, "wallet-empty")
    user = User.objects.get(email="newcomer@example.com")
    assert user.consents.filter(kind=Consent.Kind.TERMS, granted=True).exists()

    # when they log out, the wallet is closed to them
    _log_out(page)
    page.goto("/wallet/")
    assert "/accounts/login/" in page.url

    # and when they log in again with e-mail and password, they are back on the wallet
    _log_in(page, login="newcomer@example.com")
    assert page.url.endswith("/wallet/"), page.url


def test_sign_up_by_phone_verifies_the_number_with_an_sms_code_and_logs_in_by_phone(page_factory):
    page = page_factory(PHONE)

    # when a visitor signs up with only a phone number (Norwegian format, no country code)
    _sign_up(page, phone="912 34 567")

    # then they are asked for the code sent by SMS to the normalised number
    assert "/phone/verify" in page.url, page.url
    assert [message.to for message in FakeSmsClient.outbox] == ["+4791234567"]
    screenshot(page, "phone-verify")
    code = re.search(r"code is (\S+)", FakeSmsClient.outbox[0].body).group(1)
    page.fill("input[name=code]", code)
    _submit(page, "code")

    user = User.objects.get(phone="+4791234567")
    assert user.phone_verified
    assert user.email is None

    # and after logging out they can log in with the phone number and password
    _log_out(page)
    _log_in(page, login="+4791234567")
    assert page.url.endswith("/wallet/"), page.url


def test_forgotten_password_is_reset_with_the_emailed_code(page_factory):
    User.objects.create_user(email="forgetful@example.com", password="Old-Password-2026")
    page = page_factory(PHONE)

    # when they ask for a reset code
    page.goto("/accounts/password/reset/")
    page.fill("input[name=email]", "forgetful@example.com")
    _submit(page, "email")
    assert len(mail.outbox) == 1
    expect(page.locator("main")).to_contain_text("If an account exists for forgetful@example.com")
    screenshot(page, "password-reset-code")

    # and type it, then choose a new password
    code = re.search(r"^\s*([A-Z0-9-]{4,})\s*$", mail.outbox[0].body, re.MULTILINE).group(1)
    page.fill("input[name=code]", code)
    _submit(page, "code")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    screenshot(page, "password-reset-new")
    _submit(page, "password1")

    # then the new password works and the old one does not
    _log_in(page, login="forgetful@example.com", password="Old-Password-2026")
    assert "/accounts/login/" in page.url
    _log_in(page, login="forgetful@example.com", password=PASSWORD)
    assert page.url.endswith("/wallet/"), page.url


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_forgotten_password_of_a_phone_account_is_reset_with_an_sms_code(page_factory, viewport):
    User.objects.create_user(email=None, phone="+4791234567", phone_verified=True, password="Old-Password-2026")
    page = page_factory(viewport)

    page.goto("/accounts/password/reset/")
    page.fill("input[name=phone]", "912 34 567")
    screenshot(page, "password-reset-phone")
    _submit(page, "phone")
    expect(page.locator("main")).to_contain_text("If an account exists for this phone number")
    screenshot(page, "password-reset-sms-code")
    code = re.search(r"code is (\S+)", FakeSmsClient.outbox[-1].body).group(1)
    page.fill("input[name=code]", code)
    _submit(page, "code")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    _submit(page, "password1")

    _log_in(page, login="+4791234567", password=PASSWORD)
    assert page.url.endswith("/wallet/"), page.url


def test_bad_sign_up_shows_clear_errors_and_creates_nothing(page_factory):
    User.objects.create_user(email="taken@example.com", password=PASSWORD)
    page = page_factory(PHONE)

    cases = [
        # "ada@example" passes the browser's own check of type=email but not the server's.
        ({"email": "ada@example"}, "valid email"),
        ({"phone": "12"}, "phone"),
        ({}, "email address or a phone number"),
    ]
    for fields, expected in cases:
        _sign_up(page, **fields)
        assert "/accounts/signup/" in page.url
        errors = page.locator("main").inner_text().lower()
        assert expected.lower() in errors, (fields, errors)
    screenshot(page, "signup-error")

    # a taken address is not revealed: the next step is to check the e-mail (the owner gets a mail)
    _sign_up(page, email="taken@example.com")
    expect(page.locator("main")).to_contain_text("If that address already has an account")
    screenshot(page, "signup-taken-email")

    # a weak password is refused too
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", "weak@example.com")
    page.fill("input[name=password1]", "12345678")
    page.fill("input[name=password2]", "12345678")
    page.check("input[name=accept_terms]")
    _submit(page, "password1")
    assert (
        "too common" in page.locator("main").inner_text().lower()
        or "too short" in page.locator("main").inner_text().lower()
    )

    assert User.objects.count() == 1
    assert Consent.objects.count() == 0
