"""VAT numbers on merchants' invoices, checked per country (docs/billing.md).

- Norway: the organisation number followed by "MVA" (Merverdiavgiftsregisteret), e.g.
  "123456789MVA"; "NO 123 456 789 MVA" is accepted and normalised.
- EU countries (Sweden, Denmark, Finland): the country prefix and the national digits in the EU's
  VIES format: SE + 12 digits (the organisation number and "01"), DK + 8, FI + 8.

When the merchant's organisation number is known the VAT number must be that number's (a VAT
number of another business on our invoices would be wrong on both sides' books).
"""

import re

from cashback.organisation_numbers import Country, is_valid_norwegian
from merchants.errors import InvalidVatNumberError

_EU_FORMATS = {
    Country.SWEDEN: (re.compile(r"^SE(\d{10})01$"), "SE and 12 digits: your organisation number and 01"),
    Country.DENMARK: (re.compile(r"^DK(\d{8})$"), "DK and your 8-digit CVR number"),
    Country.FINLAND: (re.compile(r"^FI(\d{8})$"), "FI and the 8 digits of your Y-tunnus"),
}


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def validate_vat_number(value: str, *, country: str, organisation_number: str = "") -> str:
    """The VAT number normalised (no spaces, upper case); "" stays "" (not VAT-registered).

    Raises ``InvalidVatNumberError`` (field ``vat_number``) with what the country's format is.
    """
    compact = _compact(value)
    if not compact:
        return ""
    if country == Country.NORWAY:
        match = re.fullmatch(r"(?:NO)?(\d{9})MVA", compact)
        if match is None or not is_valid_norwegian(match.group(1)):
            raise _invalid(
                "A Norwegian VAT number is your 9-digit organisation number followed by MVA, e.g. 123456789MVA."
            )
        digits, normalised = match.group(1), f"{match.group(1)}MVA"
    elif country in _EU_FORMATS:
        pattern, shape = _EU_FORMATS[Country(country)]
        match = pattern.fullmatch(compact)
        if match is None:
            raise _invalid(f"The VAT number is {shape}.")
        digits, normalised = match.group(1), compact
    else:
        raise _invalid("VAT numbers are checked for Norway, Sweden, Denmark and Finland only.")
    if organisation_number and digits != organisation_number:
        raise _invalid("The VAT number must be your own organisation number's.")
    return normalised


def _invalid(message: str) -> InvalidVatNumberError:
    return InvalidVatNumberError(message, fields={"vat_number": [message]})
