"""Validation of what merchants type in: organisation numbers per country, MCC, time zones, opening hours.

Each ``validate_*`` function returns the normalised value or raises the matching domain error
(``merchants.errors``); forms call the same functions, so the page and the service agree.
Organisation numbers and countries are shared with charities and referred businesses, so they
live in ``cashback.organisation_numbers`` and are re-exported here for merchants' callers.
"""

import re
import zoneinfo
from datetime import time

from django.utils.translation import gettext

from cashback.organisation_numbers import (
    DENMARK_WEIGHTS,
    FINLAND_WEIGHTS,
    NORWAY_WEIGHTS,
    Country,
    is_valid_danish,
    is_valid_finnish,
    is_valid_norwegian,
    is_valid_swedish,
    normalise_organisation_number,
    validate_country,
    validate_organisation_number,
)
from merchants.errors import (
    CurrencyMismatchError,
    InvalidCategoryCodeError,
    InvalidOpeningHoursError,
    InvalidTimeZoneError,
)
from merchants.models import DEFAULT_CURRENCY_BY_COUNTRY
from wallet.models import Currency

__all__ = [  # the shared ones, re-exported for merchants' and referrals' imports
    "DENMARK_WEIGHTS",
    "FINLAND_WEIGHTS",
    "NORWAY_WEIGHTS",
    "WEEKDAYS",
    "allowed_currencies",
    "is_valid_danish",
    "is_valid_finnish",
    "is_valid_norwegian",
    "is_valid_swedish",
    "normalise_organisation_number",
    "validate_category_code",
    "validate_country",
    "validate_currency",
    "validate_opening_hours",
    "validate_organisation_number",
    "validate_time_zone",
]


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
        raise InvalidOpeningHoursError(gettext("Opening hours must be given per weekday."))
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
