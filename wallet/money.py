"""Money as integer minor units, and its decimal-string form for people and the API.

Amounts never pass through float: the ledger stores minor units (øre, öre, cent) in
BIGINT columns, and every amount shown to a person or sent to the app is a decimal
string formatted here with the currency's exponent.
"""

from decimal import Decimal, InvalidOperation

# ISO 4217 exponents of the currencies the ledger accepts.
CURRENCY_EXPONENTS: dict[str, int] = {"NOK": 2, "SEK": 2, "DKK": 2, "EUR": 2}


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
    """``"12.5", "NOK"`` → ``1250``. Refuses more decimals than the currency has."""
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
