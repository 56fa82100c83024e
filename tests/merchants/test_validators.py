"""Organisation numbers, MCC, time zones and opening hours: table-driven, valid and invalid."""

import pytest

from merchants.errors import (
    InvalidCategoryCodeError,
    InvalidCountryError,
    InvalidOpeningHoursError,
    InvalidOrganisationNumberError,
    InvalidTimeZoneError,
)
from merchants.validators import (
    validate_category_code,
    validate_opening_hours,
    validate_organisation_number,
    validate_time_zone,
)


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [
        ("NO", "923609016", "923609016"),  # Equinor
        ("NO", "923 609 016", "923609016"),  # spaces are fine
        ("NO", "974760673", "974760673"),  # Brønnøysundregistrene
        ("NO", "810000007", "810000007"),  # remainder 0 → check digit 0
        ("SE", "556036-0793", "5560360793"),
        ("SE", "2021005489", "2021005489"),
        ("SE", "556016 0680", "5560160680"),
        ("DK", "24256790", "24256790"),
        ("DK", "10150817", "10150817"),
        ("DK", "10 15 08 17", "10150817"),
        ("FI", "0112038-9", "01120389"),
        ("FI", "1572860-0", "15728600"),
    ],
)
def test_valid_organisation_numbers_are_accepted_and_normalised(country, given, stored):
    assert validate_organisation_number(given, country=country) == stored


@pytest.mark.parametrize(
    ("country", "given"),
    [
        ("NO", "923609017"),  # wrong check digit
        ("NO", "92360901"),  # 8 digits
        ("NO", "9236090160"),  # 10 digits
        ("NO", "92360901A"),  # letters
        ("NO", "810000019"),  # wrong check digit
        ("NO", "100000010"),  # check digit would be 10: never issued
        ("NO", ""),
        ("SE", "5560360794"),  # Luhn fails
        ("SE", "556036079"),  # 9 digits
        ("SE", "923609016"),  # a Norwegian number is not Swedish
        ("DK", "24256791"),  # mod 11 fails
        ("DK", "2425679"),  # 7 digits
        ("DK", "01234567"),  # CVR never starts with 0
        ("FI", "0112038-8"),
        ("FI", "24256790"),
    ],
)
def test_invalid_organisation_numbers_are_refused_on_the_field(country, given):
    with pytest.raises(InvalidOrganisationNumberError) as caught:
        validate_organisation_number(given, country=country)

    assert caught.value.code == "invalid_organisation_number"
    assert "organisation_number" in caught.value.fields


def test_an_unknown_country_is_refused():
    with pytest.raises(InvalidCountryError):
        validate_organisation_number("923609016", country="DE")


@pytest.mark.parametrize(("given", "expected"), [("5812", "5812"), (" 5411 ", "5411"), ("0742", "0742")])
def test_category_codes_have_four_digits(given, expected):
    assert validate_category_code(given) == expected


@pytest.mark.parametrize("given", ["581", "58120", "58a2", "", "58 12"])
def test_bad_category_codes_are_refused(given):
    with pytest.raises(InvalidCategoryCodeError):
        validate_category_code(given)


@pytest.mark.parametrize("given", ["Europe/Oslo", "Europe/Stockholm", "UTC", "America/New_York"])
def test_iana_time_zones_are_accepted(given):
    assert validate_time_zone(given) == given


@pytest.mark.parametrize("given", ["Europe/Bergen", "CET+1", "", "oslo", "../etc/passwd", "/Europe/Oslo"])
def test_unknown_time_zones_are_refused(given):
    with pytest.raises(InvalidTimeZoneError) as caught:
        validate_time_zone(given)

    assert "time_zone" in caught.value.fields


def test_opening_hours_are_kept_in_weekday_order():
    hours = {"sun": {"closed": True}, "mon": {"open": "08:00", "close": "17:00"}}

    assert list(validate_opening_hours(hours)) == ["mon", "sun"]


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({"mon": {"open": "17:00", "close": "08:00"}}, "mon"),  # close before open
        ({"tue": {"open": "09:00", "close": "09:00"}}, "tue"),  # close equal to open
        ({"wed": {"open": "9", "close": "17:00"}}, "wed"),
        ({"thu": {"open": "09:00"}}, "thu"),
        ({"fri": {"closed": True, "open": "09:00"}}, "fri"),
        ({"fri": "9-17"}, "fri"),
        ({"funday": {"closed": True}}, "opening_hours"),
    ],
)
def test_bad_opening_hours_name_the_day(hours, field):
    with pytest.raises(InvalidOpeningHoursError) as caught:
        validate_opening_hours(hours)

    assert field in caught.value.fields


def test_opening_hours_must_be_a_mapping():
    with pytest.raises(InvalidOpeningHoursError):
        validate_opening_hours(["mon"])
