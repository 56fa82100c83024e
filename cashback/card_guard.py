"""The one guard against full card numbers in what enters from outside (docs/cards.md, "Card numbers
are refused at every door").

A full card number is a Luhn-valid run of 13-19 digits whose first digit is 2-6 (the major industry
identifiers of the card schemes: 2 and 5 Mastercard, 3 Amex, JCB and Diners, 4 Visa, 6 Discover,
UnionPay and Maestro), wherever it stands in a text — alone, inside an id (``ord-4242424242424242``,
``ord4242424242424242``), or typed in groups of 3-7 digits separated by single spaces or dashes,
the last group possibly shorter (``4242 4242 4242 4242``, ``3782-822463-10005``, ``2000 0000 0000 8``).
Not a card number:

- a run of digits inside a hexadecimal word of 20 or more characters (a UUID's or a digest's hex,
  the ids ``simulate_purchase`` and the charity form generate): random hex holds 13-digit runs often
  enough that refusing them would refuse honest ids;
- the fraction of a decimal number with at most three whole digits, when the number is the whole
  text (``59.9139424242424242``: a coordinate or a measurement as a phone's double prints it);
- a run starting with 0, 1, 7, 8 or 9: timestamps in milliseconds (13 digits starting with 1 until
  May 2033), nanoseconds (19 digits, 1 until 2033) and most other long numbers;
- groups joined by separators when a group is longer than 7 digits or, but for the last, shorter than
  3 (dates, times, phone numbers, UUIDs' 8-4-4-4-12 groups), or glued to a letter at either end of
  the span (the digits ending or starting a word of a UUID), unless one group on its own is one.

``refuse_card_numbers(value)`` walks strings, numbers (a JSON integer is a digit run too), dict keys
and values and lists, and raises ``CardNumberPresentError`` naming the dotted path(s) at fault; it
never repeats the number. The same walk enforces ``JSON_MAX_DEPTH`` (cashback/bounded_json.py), so
a door pays one walk for both.
"""

import math
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings

from cashback.bounded_json import JsonTooDeepError
from cashback.errors import DomainError
from cashback.providers.card_network import luhn_valid

CARD_NUMBER_MESSAGE = (
    "This looks like a full card number, which the platform never accepts or stores. Remove it; "
    "to link a card, use the card network's enrolment and send its token."
)

# Digit groups joined by single spaces or dashes: "4242 4242 4242 4242", "ord-4242424242424242-2".
_DIGIT_RUN = re.compile(r"\d+(?:[ -]\d+)*")
_SEPARATOR = re.compile(r"[ -]")
# A hexadecimal word long enough to be an id or a digest rather than something a person typed.
_LONG_HEX_WORD = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{20,}(?![0-9A-Za-z])")
# A text that is one decimal number with a short whole part: its digits after the point are a fraction.
_SHORT_DECIMAL = re.compile(r"[+-]?\d{1,3}\.\d+")
# Quick test before the per-run work: any 13 digits, possibly with separators, at all?
_MAYBE = re.compile(r"\d(?:[ -]?\d){12}")


class CardNumberPresentError(DomainError):
    code = "card_number_present"
    default_message = CARD_NUMBER_MESSAGE


def _is_card_number(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits)


def _run_holds_card_number(run: str, *, glued_left: bool, glued_right: bool) -> bool:
    groups = _SEPARATOR.split(run)
    if any(_is_card_number(group) for group in groups):
        return True
    # Consecutive groups as people type them: every span of two or more groups of 3-7 digits, the
    # last of which may be shorter ("2000 0000 0000 8"). A group glued to a letter is the tail or head
    # of a word ("c302-9568-2883-57af" in a UUID), not a typed group, so no span starts or ends there.
    first = 1 if glued_left else 0
    last = len(groups) - 1 if glued_right else len(groups)
    for start in range(first, last):
        digits = ""
        for group in groups[start:last]:
            if len(group) > 7 or (len(group) < 3 and not digits):
                break
            digits += group
            if len(digits) > 19:
                break
            if digits != group and _is_card_number(digits):
                return True
            if len(group) < 3:
                break
    return False


def contains_card_number(text: str) -> bool:
    """Whether ``text`` holds a full card number (the rule in this module's docstring)."""
    if not _MAYBE.search(text) or _SHORT_DECIMAL.fullmatch(text):
        return False
    if len(text) >= 20:
        text = _LONG_HEX_WORD.sub(" ", text)
    return any(
        _run_holds_card_number(
            match.group(0),
            glued_left=match.start() > 0 and text[match.start() - 1].isalnum(),
            glued_right=match.end() < len(text) and text[match.end()].isalnum(),
        )
        for match in _DIGIT_RUN.finditer(text)
    )


def _text_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # as PostgreSQL's jsonb would write 4.242424242424242e15: all digits
        return format(Decimal(repr(value)), "f") if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    return None


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _faults(value: Any, path: str, depth: int, max_depth: int, allowed: Callable[[str], bool]) -> Iterator[str]:
    if isinstance(value, Mapping):
        if depth >= max_depth:
            raise JsonTooDeepError(max_depth)
        for key, item in value.items():
            key_text = str(key)
            if allowed(key_text):
                continue
            item_path = _join(path, key_text)
            if contains_card_number(key_text):
                yield _join(path, "<key>")  # the key itself would repeat the number
                continue
            yield from _faults(item, item_path, depth + 1, max_depth, allowed)
    elif isinstance(value, list | tuple):
        if depth >= max_depth:
            raise JsonTooDeepError(max_depth)
        for index, item in enumerate(value):
            yield from _faults(item, _join(path, index), depth + 1, max_depth, allowed)
    else:
        text = _text_of(value)
        if text is not None and contains_card_number(text):
            yield path or "non_field_errors"


def is_password_field(name: str) -> bool:
    """Passwords are hashed, never stored in clear: a password of digits is not refused."""
    return "password" in name.lower()


# Phone fields that are stored only once validated as dialable E.164 numbers (at most 15 digits, the
# country's numbering plan: accounts.validators.phone_number_normalize), which a 16-digit card number
# never is — while about one valid German mobile number in ten written +49… is a Luhn-valid 13-digit
# run starting with 4. Only doors that validate them so skip them (allauth's, the user forms); a
# free-text phone field elsewhere (a merchant's contact phone, a Stripe event's) is guarded.
VALIDATED_PHONE_FIELDS = ("phone",)


# What a JSON text must contain for the value parsed from it to hold a card number: 13 digits in a
# row (separators allowed), a \u escape (a digit may be written \u0034), or a number in exponent
# form (4.242424242424242e15, which jsonb stores with all its digits).
_JSON_MAY_HOLD_CARD_NUMBER = re.compile(r"\d(?:[ -]?\d){12}|\\u|[:,\[]\s*-?\d+(?:\.\d+)?[eE]")


def refuse_card_numbers_in_json(
    text: str, value: Any, *, allowed_fields: frozenset[str] | set[str] | tuple[str, ...] = ()
) -> None:
    """``refuse_card_numbers`` for ``value`` parsed from the JSON ``text``, without walking it when the
    text alone shows there is nothing to find: no 13 digits in a row, no escape, no exponent, and
    fewer brackets than ``JSON_MAX_DEPTH`` (so it cannot be nested deeper). Two scans of the text in
    C instead of a walk in Python: the webhook intake is benchmarked (docs/benchmarks.md)."""
    if text.count("{") + text.count("[") <= settings.JSON_MAX_DEPTH and not _JSON_MAY_HOLD_CARD_NUMBER.search(text):
        return
    refuse_card_numbers(value, allowed_fields=allowed_fields)


def refuse_card_numbers(
    value: Any,
    *,
    allowed_fields: frozenset[str] | set[str] | tuple[str, ...] = (),
    max_depth: int | None = None,
    path: str = "",
) -> None:
    """Raise ``CardNumberPresentError`` if any string, number or key in ``value`` holds a full card
    number, with ``fields`` naming each dotted path at fault (``lines.0.sku``); also raise
    ``JsonTooDeepError`` beyond ``max_depth`` levels of objects and arrays (``JSON_MAX_DEPTH``).

    Keys named in ``allowed_fields`` (at any level) and password keys are not looked into."""
    limit = settings.JSON_MAX_DEPTH if max_depth is None else max_depth

    def allowed(key: str) -> bool:
        return key in allowed_fields or is_password_field(key)

    faults = list(_faults(value, path, 0, limit, allowed))
    if faults:
        raise CardNumberPresentError(fields={fault: [CARD_NUMBER_MESSAGE] for fault in faults})
