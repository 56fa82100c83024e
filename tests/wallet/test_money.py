import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.money import decimal_string_to_minor, minor_to_decimal_string


@pytest.mark.parametrize(
    ("minor", "text"), [(0, "0.00"), (5, "0.05"), (1250, "12.50"), (-5, "-0.05"), (-123456789012, "-1234567890.12")]
)
def test_minor_units_format_with_two_decimals(minor, text):
    assert minor_to_decimal_string(minor, "NOK") == text
    assert decimal_string_to_minor(text, "NOK") == minor


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.sampled_from(["NOK", "SEK", "DKK", "EUR"]))
def test_formatting_round_trips_exactly(minor, currency):
    assert decimal_string_to_minor(minor_to_decimal_string(minor, currency), currency) == minor


@pytest.mark.parametrize("bad", ["1.005", "abc", "NaN", "Infinity"])
def test_parsing_refuses_what_is_not_an_amount_of_the_currency(bad):
    with pytest.raises(ValueError):
        decimal_string_to_minor(bad, "EUR")


def test_unknown_currencies_and_floats_are_refused():
    with pytest.raises(ValueError):
        minor_to_decimal_string(1, "USD")
    with pytest.raises(TypeError):
        minor_to_decimal_string(1.5, "NOK")
