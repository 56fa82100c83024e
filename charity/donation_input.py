"""What a person types to donate, turned into typed values at the door (the API's serializer and
the donate page's form), so that the service takes a currency and an amount in minor units.
"""

from django.utils.translation import gettext as _

from cashback.errors import DomainError
from wallet.errors import UnknownCurrencyError
from wallet.models import Currency
from wallet.money import parse_amount

DONATE_ALL = "all"


def donation_amount_parse(*, currency: object, amount: object) -> tuple[str, int | None]:
    """``(currency, amount in minor units)`` from the typed text; the amount is None for ``"all"``.

    Raises ``UnknownCurrencyError`` (field ``currency``), or ``parse_amount``'s errors
    (``too_many_decimals``, ``invalid_amount``) on the field ``amount``.
    """
    code = str(currency or "").strip().upper()
    if code not in Currency.values:
        raise UnknownCurrencyError(fields={"currency": [_("Choose NOK, SEK, DKK or EUR.")]})
    text = str(amount if amount is not None else "").strip()
    if text.lower() == DONATE_ALL:
        return code, None
    try:
        return code, parse_amount(text, code)
    except DomainError as error:
        error.fields = error.fields or {"amount": [error.message]}
        raise
