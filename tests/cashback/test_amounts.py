"""cashback.amounts: the one parser of amounts from outside (webhook doors, handlers, the partner API)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashback.amounts import (
    AmountCurrencyError,
    AmountError,
    AmountNotDecimalError,
    AmountNotPositiveError,
    AmountTooLargeError,
    AmountTooManyDecimalsError,
    max_purchase_minor,
    minor_units_from_outside,
    money_from_outside,
)
from wallet.money import minor_to_decimal_string


@pytest.mark.parametrize(
    ("text", "minor"),
    [("249.00", 24900), ("249", 24900), ("0.01", 1), ("12.5", 1250), ("12.500", 1250), ("1000000.00", 100_000_000)],
)
def test_a_plain_decimal_string_becomes_minor_units(text, minor):
    assert money_from_outside(text, currency="NOK", positive=True) == minor


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("1e10", AmountNotDecimalError),
        ("1E2", AmountNotDecimalError),
        ("922337203685477.58", AmountTooLargeError),
        ("1000000.01", AmountTooLargeError),
        ("0", AmountNotPositiveError),
        ("0.00", AmountNotPositiveError),
        ("-5", AmountNotDecimalError),
        ("+5", AmountNotDecimalError),
        ("12.345", AmountTooManyDecimalsError),
        (12.5, AmountNotDecimalError),
        (1250, AmountNotDecimalError),
        (True, AmountNotDecimalError),
        (None, AmountNotDecimalError),
        ("NaN", AmountNotDecimalError),
        ("Infinity", AmountNotDecimalError),
        (" 12.00", AmountNotDecimalError),
        ("12.00\n", AmountNotDecimalError),
        ("1 000.00", AmountNotDecimalError),
        ("1,000.00", AmountNotDecimalError),
        ("12.", AmountNotDecimalError),
        (".5", AmountNotDecimalError),
        ("١٢", AmountNotDecimalError),  # Arabic-Indic digits: Decimal would take them
        ("1" * 10_000, AmountNotDecimalError),
        ("", AmountNotDecimalError),
    ],
)
def test_anything_else_is_refused_with_a_stable_code(value, error):
    with pytest.raises(error) as refused:
        money_from_outside(value, currency="NOK", positive=True)
    assert refused.value.http_status == 400
    assert refused.value.code in {"invalid_amount", "too_many_decimals", "amount_too_large"}


def test_zero_is_an_amount_only_where_the_caller_allows_it():
    assert money_from_outside("0.00", currency="EUR", positive=False) == 0
    with pytest.raises(AmountNotPositiveError):
        money_from_outside("0.00", currency="EUR", positive=True)


@pytest.mark.parametrize("currency", ["USD", "nok", "", None, 578])
def test_only_the_currencies_the_platform_holds(currency):
    with pytest.raises(AmountCurrencyError):
        money_from_outside("1.00", currency=currency, positive=True)


def test_the_maximum_is_a_setting_with_per_currency_overrides(settings):
    settings.MAX_PURCHASE_MINOR = 50_000
    settings.MAX_PURCHASE_MINOR_BY_CURRENCY = {"SEK": 90_000}

    assert money_from_outside("500.00", currency="NOK", positive=True) == 50_000
    assert money_from_outside("900.00", currency="SEK", positive=True) == 90_000
    with pytest.raises(AmountTooLargeError):
        money_from_outside("500.01", currency="NOK", positive=True)
    with pytest.raises(AmountTooLargeError):
        minor_units_from_outside(90_001, currency="SEK", positive=False)


@pytest.mark.parametrize("value", [-1, 2**63, 12.0, "100", True, None])
def test_stripe_minor_units_are_non_negative_integers_within_the_maximum(value):
    with pytest.raises(AmountError):
        minor_units_from_outside(value, currency="NOK", positive=False)
    assert minor_units_from_outside(0, currency="USD", positive=False) == 0


@given(minor=st.integers(min_value=1, max_value=100_000_000), currency=st.sampled_from(["NOK", "SEK", "DKK", "EUR"]))
def test_every_amount_the_platform_writes_parses_back_to_itself(minor, currency):
    assert money_from_outside(minor_to_decimal_string(minor, currency), currency=currency, positive=True) == minor


@given(text=st.text(max_size=30))
def test_whatever_the_text_it_is_refused_or_a_bounded_positive_amount(text):
    try:
        minor = money_from_outside(text, currency="NOK", positive=True)
    except AmountError:
        return
    assert 0 < minor <= max_purchase_minor("NOK")
    assert text.replace(".", "", 1).isascii() and text.replace(".", "", 1).isdigit()
