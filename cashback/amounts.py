"""Amounts that come from outside: the one parser the doors and the workers share.

A card network sends a purchase's amount as a decimal string (``"249.00"``), a partner system sends
order, line and spend amounts the same way, and Stripe sends integer minor units. Whatever the
door, an amount is refused unless it is:

- a plain decimal string — ASCII digits, at most one point followed by digits; no sign (amounts
  from outside are never negative: refunds are their own events), no exponent (``"1e10"``), no
  spaces, no grouping, no NaN/Infinity, never a JSON number (a float has lost the exact value) —
  or, for Stripe, an integer that is not a boolean;
- positive where the event needs it (``positive=True``: a purchase, a refund, a hold of nothing
  means nothing); zero is allowed only where the caller says so (a free line of an order);
- exact in the currency's minor units (NOK, SEK, DKK, EUR have 2 decimals; trailing zeros are fine);
- at most the currency's maximum per purchase: ``MAX_PURCHASE_MINOR``, overridden per currency by
  ``MAX_PURCHASE_MINOR_BY_CURRENCY`` (docs/operations.md), and never beyond a BIGINT.

The webhook doors (cashback/webhook_contract.py) and the partner API refuse with a 4xx before any
write; the handlers parse the stored body again with the same functions, so door and worker cannot
disagree about an amount.
"""

import re
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from cashback.errors import DomainError

# ISO 4217 exponents of the currencies the platform holds (wallet.models.Currency lists the same four).
CURRENCY_EXPONENTS: dict[str, int] = {"NOK": 2, "SEK": 2, "DKK": 2, "EUR": 2}
# The largest amount a BIGINT column holds.
MAX_MINOR_UNITS = 2**63 - 1
# Digits, optionally a point and more digits: nothing else. ASCII only (``\d`` would take "٣").
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# Longer than any amount a maximum allows; checked before the regex so a megabyte of digits is cheap.
MAX_AMOUNT_TEXT = 40


class AmountError(DomainError):
    code = "invalid_amount"
    default_message = "Not an amount this platform accepts."


class AmountCurrencyError(AmountError):
    code = "unknown_currency"
    default_message = "The platform does not hold this currency."


class AmountNotDecimalError(AmountError):
    code = "invalid_amount"
    default_message = 'Send the amount as a plain decimal string, e.g. "249.00".'


class AmountNotPositiveError(AmountError):
    code = "invalid_amount"
    default_message = "The amount must be more than zero."


class AmountTooManyDecimalsError(AmountError):
    code = "too_many_decimals"
    default_message = "The amount has more decimals than its currency."


class AmountTooLargeError(AmountError):
    code = "amount_too_large"
    default_message = "The amount is larger than the platform accepts for one purchase."


def max_purchase_minor(currency: str) -> int:
    """The largest amount one purchase (an order, a refund, a line, a hold) may have, in minor units."""
    overrides: dict[str, int] = settings.MAX_PURCHASE_MINOR_BY_CURRENCY
    return min(overrides.get(currency, settings.MAX_PURCHASE_MINOR), MAX_MINOR_UNITS)


def _exponent(currency: object) -> int:
    exponent = CURRENCY_EXPONENTS.get(currency) if isinstance(currency, str) else None
    if exponent is None:
        raise AmountCurrencyError(
            _("The platform holds %(currencies)s; not %(currency)s.")
            % {"currencies": ", ".join(CURRENCY_EXPONENTS), "currency": repr(currency)}
        )
    return exponent


def _bounded(minor: int, *, currency: str, positive: bool) -> int:
    if minor == 0 and positive:
        raise AmountNotPositiveError()
    maximum = max_purchase_minor(currency)
    if minor > maximum:
        raise AmountTooLargeError(
            _("At most %(maximum)s minor units of %(currency)s per purchase.")
            % {"maximum": maximum, "currency": currency}
        )
    return minor


def money_from_outside(text: object, *, currency: object, positive: bool) -> int:
    """A decimal string from outside → integer minor units: ``"249.5", currency="NOK"`` → ``24950``.

    Raises an ``AmountError`` (a 400 with a stable code) for anything but a plain decimal string in
    a held currency, within its decimals and maximum; zero only when ``positive`` is false.
    """
    exponent = _exponent(currency)
    if not isinstance(text, str):
        raise AmountNotDecimalError(
            _('Send the amount as a decimal string, e.g. "249.00", not %(type)s.') % {"type": type(text).__name__}
        )
    if len(text) > MAX_AMOUNT_TEXT or not _PLAIN_DECIMAL.fullmatch(text):
        raise AmountNotDecimalError()
    scaled = Decimal(text).scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise AmountTooManyDecimalsError(
            _("%(currency)s has %(exponent)s decimals.") % {"currency": currency, "exponent": exponent}
        )
    assert isinstance(currency, str)  # _exponent accepted it
    return _bounded(int(scaled), currency=currency, positive=positive)


def minor_units_from_outside(value: object, *, currency: str, positive: bool) -> int:
    """Integer minor units from outside (Stripe's amounts) → the same int, within the same bounds.

    ``currency`` is upper-case; one the platform does not hold is bounded by ``MAX_PURCHASE_MINOR``
    (Stripe may report a currency the handlers then ignore).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise AmountNotDecimalError(_("An integer of minor units, not %(type)s.") % {"type": type(value).__name__})
    if value < 0:
        raise AmountNotPositiveError(_("The amount may not be negative."))
    return _bounded(value, currency=currency, positive=positive)
