"""Money as integer minor units, and its decimal-string form for people and the API.

Amounts never pass through float: the ledger stores minor units (øre, öre, cent) in
BIGINT columns, and every amount shown to a person or sent to the app is a decimal
string formatted here with the currency's exponent.
"""

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

# Re-exported: the currencies and the BIGINT bound are cashback's (the webhook doors need them too).
from cashback.amounts import CURRENCY_EXPONENTS as CURRENCY_EXPONENTS
from cashback.amounts import MAX_MINOR_UNITS as MAX_MINOR_UNITS
from wallet.errors import InvalidAmountError, TooManyDecimalsError, UnknownCurrencyError

# A plain decimal: digits, optionally a point and more digits. No exponent, no grouping.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise ValueError(f"Unsupported currency: {currency!r}") from None


def minor_to_decimal_string(amount: int, currency: str) -> str:
    """``1250, "NOK"`` → ``"12.50"``; ``-5, "EUR"`` → ``"-0.05"``. Exact for any integer."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be an int of minor units")
    exponent = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    units, minor = divmod(abs(amount), 10**exponent)
    if exponent == 0:
        return f"{sign}{units}"
    return f"{sign}{units}.{minor:0{exponent}d}"


def decimal_string_to_minor(value: str, currency: str) -> int:
    """``"12.5", "NOK"`` → ``1250``; any sign. Refuses more decimals than the currency has.

    Raises ``ValueError``. For amounts to post, use ``parse_amount``, which also refuses
    zero and negative amounts and raises the ledger's domain errors.
    """
    exponent = currency_exponent(currency)
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"Not a decimal amount: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"Not a finite amount: {value!r}")
    scaled = number.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} has more than {exponent} decimals for {currency}")
    return int(scaled)


def parse_amount(value: str | Decimal, currency: str) -> int:
    """A positive amount given as a decimal → integer minor units: ``"12.5", "NOK"`` → ``1250``.

    The one parser for amounts that come from outside (API payloads, forms, files).
    Accepts a ``Decimal`` or a plain decimal string (``"12"``, ``"12.50"``; surrounding
    spaces are ignored; no exponent, no thousands separators, no floats — a float has
    already lost the exact value). Trailing zeros are fine (``"12.500"`` is 1250 øre);
    a non-zero digit beyond the currency's decimals is not.

    Raises ``UnknownCurrencyError`` (``unknown_currency``), ``TooManyDecimalsError``
    (``too_many_decimals``) or ``InvalidAmountError`` (``invalid_amount``: not a decimal,
    zero, negative, or beyond a BIGINT).
    """
    if currency not in CURRENCY_EXPONENTS:
        raise UnknownCurrencyError(_("Unknown currency: %(currency)s.") % {"currency": repr(currency)})
    exponent = CURRENCY_EXPONENTS[currency]
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise InvalidAmountError(_("Not a decimal amount: %(value)s.") % {"value": repr(value)})
        number = Decimal(text)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidAmountError(_("Not a finite amount: %(value)s.") % {"value": repr(value)})
        number = value
    else:
        raise InvalidAmountError(
            _("Give the amount as a decimal string, not %(type)s.") % {"type": type(value).__name__}
        )
    if number <= 0:
        raise InvalidAmountError(_("Amounts are positive: %(value)s.") % {"value": repr(value)})
    scaled = number.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise TooManyDecimalsError(
            _("%(currency)s has %(exponent)s decimals; %(value)s has more.")
            % {"currency": currency, "exponent": exponent, "value": repr(value)}
        )
    minor = int(scaled)
    if minor > MAX_MINOR_UNITS:
        raise InvalidAmountError(_("The amount %(value)s is too large.") % {"value": repr(value)})
    return minor
