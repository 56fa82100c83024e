"""No full card number in any table or log (F-A4).

Every door a card number can come through is driven here — the fake network's JSON enrolment
and HTML page, with good, refused and crashing cards, and the cards API with a number sent in
place of a token — with every logger at DEBUG, SQL statements logged with their parameters, and
Django's error report rendered for every logged server error. Then every row of every table and
every captured log record is scanned for any Luhn-valid 13-19 digit number.

The last tests show that the scan does fail when a number leaks.
"""

import logging

import pytest
from django.db import connection
from django.test import Client

from accounts import services
from accounts.models import Card
from cashback.providers.card_network import TEST_CARD_NUMBERS, FakeCardNetwork
from tests.accounts.factories import PASSWORD, UserFactory
from tests.card_number_guard import (
    RecordingHandler,
    card_numbers_in,
    card_numbers_in_database,
)

pytestmark = pytest.mark.django_db

ENROL = "/dev/card-network/enrol/"


def _json(client, path, data, **headers):
    return client.post(path, data, content_type="application/json", headers=headers)


def test_no_door_lets_a_full_card_number_into_a_table_or_a_log(everything_logged, caplog, monkeypatch):
    user = UserFactory(email="leakcheck@example.com")
    app = Client(raise_request_exception=False)
    login = _json(app, "/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD})
    session = {"X-Session-Token": login.json()["meta"]["session_token"]}
    web = Client(raise_request_exception=False)
    web.force_login(user)

    # The app's way: enrol with the network, link the token; every test number, good and bad.
    for number in [*TEST_CARD_NUMBERS, "4000000000000002", "4242424242424241"]:
        enrolment = _json(app, ENROL, {"number": number, "exp_month": 12, "exp_year": 2031})
        if enrolment.status_code == 201:
            assert _json(app, "/api/v1/cards/", {"token": enrolment.json()["token"]}, **session).status_code == 201
        assert number not in enrolment.content.decode()
    expired = _json(app, ENROL, {"number": "4242 4242 4242 4242", "exp_month": 1, "exp_year": 2020})
    assert expired.status_code == 400
    # A number sent where the token goes.
    misplaced = _json(app, "/api/v1/cards/", {"token": "4111111111111111"}, **session)
    assert misplaced.status_code == 400

    # The web page: a good card, a refused one, a number typed with spaces.
    assert web.post(ENROL, {"number": "4012888888881881", "exp_month": "5", "exp_year": "2033"}).status_code == 302
    assert web.post(ENROL, {"number": "4000000000000002", "exp_month": "5", "exp_year": "2033"}).status_code == 200
    assert web.post(ENROL, {"number": "5555 5555 5555 4444", "exp_month": "5", "exp_year": "2033"}).status_code == 302

    # Server errors after the number arrived: logged by django.request with the request, and
    # rendered below as the error report an administrator would be mailed.
    def crash(*args, **kwargs):
        raise RuntimeError("the card network exploded")

    monkeypatch.setattr(services, "card_link", crash)
    assert web.post(ENROL, {"number": "4000056655665556", "exp_month": "5", "exp_year": "2033"}).status_code == 500
    monkeypatch.setattr(FakeCardNetwork, "_details", staticmethod(crash))
    assert _json(app, ENROL, {"number": "4242424242424242", "exp_month": 5, "exp_year": 2033}).status_code == 500

    # The doors were really used ...
    assert Card.objects.filter(user=user).count() == 9
    assert any(record.name == "django.db.backends" for record in everything_logged.records)
    server_errors = [r for r in everything_logged.records if r.name == "django.request" and r.levelno >= logging.ERROR]
    assert len(server_errors) == 2
    # ... and no number went anywhere.
    assert card_numbers_in_database() == []
    assert everything_logged.leaks(finder=card_numbers_in) == []
    assert [number for text in (caplog.text,) for number in card_numbers_in(text)] == []


# --- The scan can fail ---------------------------------------------------------------------


def test_the_table_scan_finds_a_number_stored_anywhere():
    UserFactory(full_name="Card 4242 4242 4242 4242 holder")
    UserFactory(city="4000056655665556")

    found = card_numbers_in_database()

    assert ("accounts_user", "4242424242424242") in found
    assert ("accounts_user", "4000056655665556") in found


def test_the_table_scan_finds_an_unknown_luhn_valid_number_and_ignores_ordinary_digits():
    UserFactory(full_name="4929 3970 6217 6425")  # Luhn-valid, not a test number
    assert [number for _, number in card_numbers_in_database()] == ["4929397062176425"]

    ordinary = "id 12345, 2026-11-23 10:00:00, phone +4791234567, hash 0123456789012345abcdef, 4242424242424243"
    assert card_numbers_in(ordinary) == []
    assert {"accounts_user", "accounts_card"} <= set(connection.introspection.table_names())


def test_the_log_scan_finds_a_number_in_a_message_its_arguments_or_an_exception():
    logger = logging.getLogger("tests.card_number_guard.leaky")
    logger.propagate = False  # keep the deliberate leak away from the suite-wide guard
    handler = RecordingHandler()
    logger.addHandler(handler)
    try:
        logger.warning("charging card %s", "4111111111111111")
        logger.info("typed 4242-4242-4242-4242")
        try:
            raise ValueError("bad card 5555555555554444")
        except ValueError:
            logger.exception("failed")
        logger.info("nothing to see: card ending 4242")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True

    assert [number for _, number in handler.leaks(finder=card_numbers_in)] == [
        "4111111111111111",
        "4242424242424242",
        "5555555555554444",
    ]
