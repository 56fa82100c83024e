"""Validation of what merchants type in: organisation numbers per country, MCC, time zones, opening hours.

Each ``validate_*`` function returns the normalised value or raises the matching domain error
(``merchants.errors``); forms call the same functions, so the page and the service agree.
"""

import re
import zoneinfo
from datetime import time

from merchants.errors import (
    CurrencyMismatchError,
    InvalidCategoryCodeError,
    InvalidCountryError,
    InvalidOpeningHoursError,
    InvalidOrganisationNumberError,
    InvalidTimeZoneError,
)
from merchants.models import DEFAULT_CURRENCY_BY_COUNTRY, Country
from wallet.models import Currency

_SEPARATORS = re.compile(r"[\s\-.]")

NORWAY_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
DENMARK_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)
FINLAND_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def _weighted_sum(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=True))


def is_valid_norwegian(number: str) -> bool:
    """Enhetsregisteret: 9 digits, the last a mod-11 check digit (weights 3,2,7,6,5,4,3,2; 10 is never issued)."""
    if not re.fullmatch(r"\d{9}", number):
        return False
    check = 11 - _weighted_sum(number[:8], NORWAY_WEIGHTS) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(number[8])


def is_valid_swedish(number: str) -> bool:
    """Organisationsnummer: 10 digits with a Luhn check digit (written NNNNNN-NNNN)."""
    if not re.fullmatch(r"\d{10}", number):
        return False
    total = 0
    for index, digit in enumerate(int(ch) for ch in number):
        if index % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return total % 10 == 0


def is_valid_danish(number: str) -> bool:
    """CVR: 8 digits whose weighted sum (2,7,6,5,4,3,2,1) is divisible by 11."""
    if not re.fullmatch(r"\d{8}", number) or number[0] == "0":
        return False
    return _weighted_sum(number, DENMARK_WEIGHTS) % 11 == 0


def is_valid_finnish(number: str) -> bool:
    """Y-tunnus: 7 digits and a mod-11 check digit (weights 7,9,10,5,8,4,2; remainder 1 is never issued)."""
    if not re.fullmatch(r"\d{8}", number):
        return False
    remainder = _weighted_sum(number[:7], FINLAND_WEIGHTS) % 11
    if remainder == 1:
        return False
    check = 0 if remainder == 0 else 11 - remainder
    return check == int(number[7])


_CHECKS = {
    Country.NORWAY: (is_valid_norwegian, "9 digits, e.g. 923 609 016"),
    Country.SWEDEN: (is_valid_swedish, "10 digits, e.g. 556036-0793"),
    Country.DENMARK: (is_valid_danish, "8 digits (CVR), e.g. 24256790"),
    Country.FINLAND: (is_valid_finnish, "Y-tunnus, e.g. 0112038-9"),
}


def normalise_organisation_number(value: str) -> str:
    """Spaces, dashes and dots removed: "923 609 016" → "923609016"."""
    return _SEPARATORS.sub("", value or "")


def validate_country(country: str) -> str:
    if country not in Country.values:
        raise InvalidCountryError(fields={"country": [InvalidCountryError.default_message]})
    return country


def validate_organisation_number(value: str, *, country: str) -> str:
    """The organisation number with separators removed, if valid for ``country``."""
    validate_country(country)
    number = normalise_organisation_number(value)
    check, example = _CHECKS[Country(country)]
    if not check(number):
        message = f"This is not a valid organisation number for {Country(country).label}: {example}."
        raise InvalidOrganisationNumberError(message, fields={"organisation_number": [message]})
    return number


def allowed_currencies(*, country: str) -> tuple[str, ...]:
    """A merchant is billed in its country's currency, or in euro."""
    home = DEFAULT_CURRENCY_BY_COUNTRY[Country(validate_country(country))]
    return (home,) if home == Currency.EUR else (home, Currency.EUR)


def validate_currency(currency: str, *, country: str) -> str:
    """The merchant's currency: the country's own when not given; otherwise one the country allows."""
    allowed = allowed_currencies(country=country)
    currency = currency or allowed[0]
    if currency not in allowed:
        message = f"Merchants in {Country(country).label} are billed in {' or '.join(allowed)}."
        raise CurrencyMismatchError(message, fields={"currency": [message]})
    return currency


def validate_category_code(value: str) -> str:
    code = (value or "").strip()
    if not re.fullmatch(r"\d{4}", code):
        raise InvalidCategoryCodeError(fields={"category_code": [InvalidCategoryCodeError.default_message]})
    return code


def validate_time_zone(value: str) -> str:
    name = (value or "").strip()
    try:
        if not name or name != name.strip("/") or ".." in name:
            raise ValueError(name)
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError) as error:
        message = f"Unknown time zone {name!r}: use an IANA name such as Europe/Oslo."
        raise InvalidTimeZoneError(message, fields={"time_zone": [message]}) from error
    return name


WEEKDAYS = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def validate_opening_hours(value: object) -> dict[str, dict]:
    """Opening hours as stored: ``{"mon": {"open": "08:00", "close": "17:00"}, "sun": {"closed": true}}``.

    Days may be left out (not given). Times are "HH:MM"; closing must be after opening on the same day.
    """
    if not isinstance(value, dict):
        raise InvalidOpeningHoursError("Opening hours must be given per weekday.")
    day_names = dict(WEEKDAYS)
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, dict] = {}
    for day, hours in value.items():
        if day not in day_names:
            errors.setdefault("opening_hours", []).append(f"Unknown weekday {day!r}.")
            continue
        if not isinstance(hours, dict):
            errors.setdefault(day, []).append(f"{day_names[day]}: give opening and closing times, or closed.")
            continue
        if hours.get("closed") is True and set(hours) == {"closed"}:
            cleaned[day] = {"closed": True}
            continue
        opens, closes = hours.get("open"), hours.get("close")
        if not (
            set(hours) == {"open", "close"}
            and isinstance(opens, str)
            and _TIME.match(opens)
            and isinstance(closes, str)
            and _TIME.match(closes)
        ):
            errors.setdefault(day, []).append(f"{day_names[day]}: give both opening and closing time as HH:MM.")
            continue
        if time.fromisoformat(closes) <= time.fromisoformat(opens):
            errors.setdefault(day, []).append(f"{day_names[day]}: closing time must be after opening time.")
            continue
        cleaned[day] = {"open": opens, "close": closes}
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidOpeningHoursError(first, fields=errors)
    return {day: cleaned[day] for day, _ in WEEKDAYS if day in cleaned}
