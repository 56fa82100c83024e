"""Organisation numbers of the Nordic countries the platform works in, shared by every app that
registers an organisation (merchants, charities, businesses referred by consumers).

It lives in the base app because apps that may not import each other (merchants and charity) both
need it; it imports no app. ``validate_organisation_number`` returns the number with separators
removed, or raises ``InvalidOrganisationNumberError`` (``InvalidCountryError`` for a country we do
not work in), each with the field named, so a form and a service show the same message.
"""

import re

from django.db import models
from django.utils.translation import gettext_lazy

from cashback.errors import DomainError


class Country(models.TextChoices):
    NORWAY = "NO", gettext_lazy("Norway")
    SWEDEN = "SE", gettext_lazy("Sweden")
    DENMARK = "DK", gettext_lazy("Denmark")
    FINLAND = "FI", gettext_lazy("Finland")


class InvalidOrganisationNumberError(DomainError):
    code = "invalid_organisation_number"
    default_message = gettext_lazy("This is not a valid organisation number for the chosen country.")


class InvalidCountryError(DomainError):
    code = "invalid_country"
    default_message = gettext_lazy("We work with organisations in Norway, Sweden, Denmark and Finland.")


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
