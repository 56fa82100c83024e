"""Amounts as a consumer reads them in a sentence: "650 of 1 000 kr spent", "a 50 kr bonus".

Whole amounts drop their decimals and thousands are grouped with a no-break space, so "1 000 kr"
never breaks across lines on a phone. Exact: built from the decimal string, never through float.
"""

from wallet.money import minor_to_decimal_string

NO_BREAK_SPACE = "\u00a0"
# The Nordic crowns are all "kr" in a sentence; other currencies keep their code.
CURRENCY_WORDS = {"NOK": "kr", "SEK": "kr", "DKK": "kr"}


def _grouped(digits: str) -> str:
    groups: list[str] = []
    while len(digits) > 3:
        digits, tail = digits[:-3], digits[-3:]
        groups.insert(0, tail)
    return NO_BREAK_SPACE.join([digits, *groups])


def amount_number(minor: int, currency: str) -> str:
    """``100000, "NOK"`` → ``"1 000"``; ``1250, "NOK"`` → ``"12.50"`` (no currency)."""
    text = minor_to_decimal_string(minor, currency)
    sign = "-" if text.startswith("-") else ""
    units, _, fraction = text.lstrip("-").partition(".")
    grouped = _grouped(units)
    if fraction and fraction.strip("0"):
        grouped = f"{grouped}.{fraction}"
    return f"{sign}{grouped}"


def currency_word(currency: str) -> str:
    return CURRENCY_WORDS.get(currency, currency)


def amount_words(minor: int, currency: str) -> str:
    """``100000, "NOK"`` → ``"1 000 kr"``; ``1250, "EUR"`` → ``"12.50 EUR"``."""
    return f"{amount_number(minor, currency)}{NO_BREAK_SPACE}{currency_word(currency)}"
