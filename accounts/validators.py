"""Input rules shared by the sign-up form, the profile form, the admin and the API serializers."""

import datetime

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PHONE_DEFAULT_REGION = "NO"
BIRTH_YEAR_MIN = 1900
# Consumers must be at least this old; also keeps typos such as the current year out.
MINIMUM_AGE_YEARS = 13

INVALID_PHONE_MESSAGE = _("Enter a valid phone number, e.g. 912 34 567 or +47 912 34 567.")


def phone_number_normalize(value: str) -> str:
    """Return ``value`` as an E.164 number (``+4791234567``); numbers without a country code are Norwegian.

    Raises ``ValidationError`` (code ``invalid_phone``) for anything that is not a valid, dialable number.
    """
    try:
        parsed = phonenumbers.parse(value, PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def birth_year_max() -> int:
    return timezone.localdate().year - MINIMUM_AGE_YEARS


def validate_birth_date(value: datetime.date) -> None:
    validate_birth_year(value.year)


def validate_birth_year(value: int) -> None:
    upper = birth_year_max()
    if not BIRTH_YEAR_MIN <= value <= upper:
        raise ValidationError(
            _("Enter a birth year between %(lower)s and %(upper)s."),
            code="implausible_birth_year",
            params={"lower": BIRTH_YEAR_MIN, "upper": upper},
        )
