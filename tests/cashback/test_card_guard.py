"""The card-number guard's rule (cashback/card_guard.py, docs/cards.md): what counts as a full card
number, and what the platform itself generates that must not."""

import json
import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashback.bounded_json import JsonTooDeepError
from cashback.card_guard import (
    CARD_NUMBER_MESSAGE,
    VALIDATED_PHONE_FIELDS,
    CardNumberPresentError,
    contains_card_number,
    refuse_card_numbers,
    refuse_card_numbers_in_json,
)
from cashback.providers.card_network import TEST_CARD_NUMBERS, luhn_valid


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "3782 822463 10005",  # Amex as printed: 4-6-5
        "ord-4242424242424242",
        "ord4242424242424242",
        "ord-4242424242424242-2",
        "SKU 12 4242 4242 4242 4242",
        "my card is 5555555555554444, thanks",
        "4929397062176425",  # Luhn-valid, not a test number
        "2223003122003222",  # Mastercard 2-series
        "6011111111111117",  # Discover
        "4242424242424242.50",  # a decimal's whole part is looked at
        "1234.4242424242424242",  # more than three whole digits: not a coordinate
        "at 59.4242424242424242",  # a fraction inside other text
    ],
)
def test_a_full_card_number_is_found_wherever_it_stands(text):
    assert contains_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424243",  # not Luhn-valid
        "1733380000000",  # a timestamp in milliseconds (Luhn-valid, but starts with 1)
        "1733380000000000007",  # nanoseconds, 19 digits, Luhn-valid
        "7992739871300",  # Luhn-valid, starts with 7
        "2026-11-23 10:00:00",
        "+47 912 34 567",
        "card ending 4242",
        "424242424242",  # 12 digits
        "42424242424242424242",  # 20 digits: not a card number
        "12345678-1234-4123-8123-123456789012",  # a UUID that is all digits
        "txn_4242424242424242abcd",  # inside a 20-character hex word: an id, not typed
        "ch_3MmlLrLkdIwHu7ix0snN0B15",  # a Stripe id
        "NM-BENCH ST-49 0150 NOR",
        "59.4242424242424242",  # a latitude as a phone's double prints it: the fraction is no card
        "-179.4242424242424242",
        "+5.4242424242424242",
    ],
)
def test_ordinary_digits_are_not_card_numbers(text):
    assert not contains_card_number(text)


def test_the_number_is_never_repeated_and_the_fields_are_named():
    event = {"id": "evt 4242 4242 4242 4242", "data": {"lines": [{"sku": "ok"}, {"sku": 4111111111111111}]}}

    with pytest.raises(CardNumberPresentError) as raised:
        refuse_card_numbers(event)

    assert raised.value.code == "card_number_present"
    assert raised.value.fields == {"id": [CARD_NUMBER_MESSAGE], "data.lines.1.sku": [CARD_NUMBER_MESSAGE]}
    assert "4242" not in json.dumps(raised.value.fields) + raised.value.message
    assert "4111" not in json.dumps(raised.value.fields) + raised.value.message


def test_a_number_as_a_key_is_refused_without_naming_the_key():
    with pytest.raises(CardNumberPresentError) as raised:
        refuse_card_numbers({"metadata": {"4242424242424242": "x"}})
    assert list(raised.value.fields) == ["metadata.<key>"]


def test_allowed_fields_and_passwords_are_not_looked_into_and_booleans_are_not_numbers():
    refuse_card_numbers(
        {"number": "4242424242424242", "password": "4242424242424242", "new_password": "4111111111111111", "ok": True},
        allowed_fields=("number",),
    )


def test_depth_is_bounded_by_the_same_walk(settings):
    settings.JSON_MAX_DEPTH = 5
    refuse_card_numbers({"a": {"b": {"c": {"d": [1]}}}})  # 5 levels
    with pytest.raises(JsonTooDeepError) as raised:
        refuse_card_numbers({"a": {"b": {"c": {"d": [[1]]}}}})  # 6 levels
    assert raised.value.code == "json_too_deep"


# --- invariants -------------------------------------------------------------------------------


def _luhn_complete(prefix: str) -> str:
    return next(prefix + str(digit) for digit in range(10) if luhn_valid(prefix + str(digit)))


card_numbers = st.builds(
    lambda first, rest: _luhn_complete(first + rest),
    st.sampled_from("23456"),
    st.text(alphabet="0123456789", min_size=11, max_size=17),
)
surroundings = st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=12)


@given(number=card_numbers, before=surroundings, after=surroundings)
def test_every_card_number_is_found_in_any_text_around_it(number, before, after):
    # Unless the text around it makes it part of a 20+ character hex word (documented).
    text = f"{before}{number}{after}"
    hex_word = re.search(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{20,}(?![0-9A-Za-z])", text)
    if not (hex_word and number in hex_word.group(0)):
        assert contains_card_number(text)


@given(number=card_numbers, separator=st.sampled_from([" ", "-"]))
def test_every_card_number_typed_in_fours_is_found(number, separator):
    assert contains_card_number(separator.join(re.findall(".{1,4}", number)))


@given(value=st.uuids())
def test_uuids_and_their_hex_are_never_card_numbers(value):
    # Idempotency keys, ids of simulate_purchase and the charity form are UUIDs or their hex.
    assert not contains_card_number(str(value))
    assert not contains_card_number(value.hex)
    assert not contains_card_number(f"evt_{value.hex}")
    assert not contains_card_number(f"txn_{value.hex[:20]}")


def test_the_suites_test_numbers_are_all_found():
    assert all(contains_card_number(number) for number in TEST_CARD_NUMBERS)
    assert not contains_card_number(f"bench-{uuid.uuid4().hex[:8]}:1234567")


def test_a_valid_phone_number_can_look_like_a_card_number_so_validated_phone_fields_are_skipped():
    german_mobile = "+4915112345678"  # valid E.164, and a Luhn-valid 13-digit run starting with 4
    assert contains_card_number(german_mobile)

    refuse_card_numbers({"phone": german_mobile}, allowed_fields=VALIDATED_PHONE_FIELDS)
    with pytest.raises(CardNumberPresentError):  # a free-text phone (a Stripe event's, a contact's)
        refuse_card_numbers({"contact_phone": german_mobile, "phone": german_mobile})


def test_a_uuid_whose_digit_groups_add_up_to_a_luhn_valid_run_is_not_a_card_number():
    # Found by hypothesis: "302-9568-2883-57" is 13 digits, Luhn-valid, starting with 3; but "302"
    # ends the word "c302" and "57" starts "57afba…": not groups anyone typed.
    assert not contains_card_number("737e09a9-c302-9568-2883-57afba56119b")
    assert contains_card_number("ref 302-9568-2883-57 ok")


def test_a_number_written_with_an_exponent_or_escapes_is_found():
    for text in ('{"a": 4.242424242424242e15}', '{"a": "\\u0034242424242424242"}', '{"a": [4111111111111111]}'):
        with pytest.raises(CardNumberPresentError):
            refuse_card_numbers_in_json(text, json.loads(text))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
card_texts = st.builds(lambda number, before: f"{before}{number}", card_numbers, st.sampled_from(["", "ord-", "x "]))


@given(value=json_values, card=st.none() | card_texts | card_numbers.map(int), ascii_only=st.booleans())
def test_the_fast_path_over_the_json_text_decides_as_the_walk_does(value, card, ascii_only):
    if card is not None:
        value = {"wrapped": value, "card": card}
    text = json.dumps(value, ensure_ascii=ascii_only)

    def outcome(check):
        try:
            check()
        except (CardNumberPresentError, JsonTooDeepError) as error:
            return type(error)
        return None

    walked = outcome(lambda: refuse_card_numbers(json.loads(text)))
    assert outcome(lambda: refuse_card_numbers_in_json(text, json.loads(text))) == walked
    if card is not None:
        assert walked is CardNumberPresentError
