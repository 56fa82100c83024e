"""The documented body of each webhook event type, checked at the door (docs/webhooks.md, "Contract").

A body that processing could not read — a missing or ill-typed field, an amount that is not one
(cashback/amounts.py), a time that cannot be parsed or is absurd, an id longer than the column it
becomes — is refused with 400 ``invalid_event`` and ``fields`` naming every path at fault, before
anything is stored. Otherwise it would be stored, fail in the worker and be retried up to
``INBOX_MAX_ATTEMPTS`` times for nothing.

The checks are written by hand rather than as DRF serializers: intake is the hottest path there is,
and serializers of these fields cost about 1 ms per body against about 10 µs for these checks and
0.35 ms for a whole delivery (docs/webhooks.md, "Contract"). Each check reads a field once and adds
messages to ``fields``; fields the platform does not read are left alone (a sender may add some),
and so are Stripe event types no handler takes (stored as ``ignored``).

Times: the card network sends ISO 8601 with an offset, Stripe sends Unix seconds; either must be
after ``EARLIEST_EVENT_TIME`` and at most ``FUTURE_TOLERANCE`` ahead of our clock.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cashback.amounts import CURRENCY_EXPONENTS, AmountError, minor_units_from_outside, money_from_outside
from cashback.errors import DomainError

EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
# Column widths the handlers write to: a purchase's external ids (campaigns.Purchase), a shop's
# network ids (merchants.Location), a card's network token (accounts.Card).
TRANSACTION_ID_LENGTH = 100
NETWORK_ID_LENGTH = 64
CARD_TOKEN_LENGTH = 128
# Stripe ids are about 30 characters; a purchase event id appends ":refunded_to:<amount>" to a charge's.
STRIPE_ID_LENGTH = 64
SHORT_TEXT_LENGTH = 255

Fields = dict[str, list[str]]


class EventContractError(DomainError):
    code = "invalid_event"
    default_message = "The event does not follow the documented body of its type; see fields."


def _fail(fields: Fields, path: str, message: str) -> None:
    fields.setdefault(path, []).append(message)


def _object(parent: dict[str, Any], key: str, path: str, fields: Fields, *, required: bool = True) -> dict[str, Any]:
    """``parent[key]`` when it is an object; else a message (unless it may be absent or null) and {}."""
    value = parent.get(key)
    if isinstance(value, dict):
        return value
    if value is not None or required:
        _fail(fields, path, "An object.")
    return {}


def _text(
    parent: dict[str, Any], key: str, path: str, fields: Fields, *, max_length: int, required: bool = True
) -> str | None:
    """``parent[key]`` when it is a string of 1 to ``max_length`` characters (optional: absent or null too)."""
    value = parent.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        _fail(fields, path, f"A non-empty string of at most {max_length} characters.")
        return None
    return value


def _digits(parent: dict[str, Any], key: str, path: str, fields: Fields, *, max_length: int) -> None:
    value = parent.get(key)
    if value is not None and not (
        isinstance(value, str) and len(value) <= max_length and value.isascii() and value.isdigit()
    ):
        _fail(fields, path, f"A string of at most {max_length} digits.")


def _plausible(moment: datetime) -> bool:
    return EARLIEST_EVENT_TIME <= moment <= timezone.now() + FUTURE_TOLERANCE


def _iso_time(parent: dict[str, Any], key: str, path: str, fields: Fields) -> bool:
    """An ISO 8601 time with an offset, plausible; True when present and valid."""
    value = parent.get(key)
    if value is None:
        return False
    try:
        moment = parse_datetime(value) if isinstance(value, str) and len(value) <= 64 else None
    except ValueError:  # well-formed but impossible, e.g. month 13
        moment = None
    if moment is None or moment.tzinfo is None:
        _fail(fields, path, "An ISO 8601 time with an offset, e.g. 2026-11-23T10:59:00+01:00.")
        return False
    if not _plausible(moment):
        _fail(fields, path, f"A time after {EARLIEST_EVENT_TIME:%Y-%m-%d} and not in the future.")
        return False
    return True


def _unix_time(parent: dict[str, Any], key: str, path: str, fields: Fields, *, required: bool = False) -> None:
    value = parent.get(key)
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(fields, path, "Unix seconds (an integer).")
    elif not EARLIEST_EVENT_TIME.timestamp() <= value <= (timezone.now() + FUTURE_TOLERANCE).timestamp():
        _fail(fields, path, f"A time after {EARLIEST_EVENT_TIME:%Y-%m-%d} and not in the future.")


def _flag(parent: dict[str, Any], key: str, path: str, fields: Fields) -> None:
    if key in parent and parent[key] is not None and not isinstance(parent[key], bool):
        _fail(fields, path, "true or false.")


# --- The card network (/webhooks/visa/) ----------------------------------------------------------

# Zero is refused for these kinds: a purchase, clearing or refund of nothing means nothing. A reversal
# undoes its authorisation whatever it says, so its amount only has to be an amount.
VISA_POSITIVE_AMOUNT_TYPES = frozenset({"transaction.auth", "transaction.clearing", "transaction.refund"})


def visa_event_check(event: dict[str, Any], *, event_type: str) -> None:
    """Every field the Visa handler (campaigns/handlers.py) reads; raises ``EventContractError``."""
    fields: Fields = {}
    data = _object(event, "data", "data", fields)
    _text(data, "id", "data.id", fields, max_length=TRANSACTION_ID_LENGTH)
    currency = data.get("currency")
    if not isinstance(currency, str) or currency not in CURRENCY_EXPONENTS:
        _fail(fields, "data.currency", f"One of {', '.join(CURRENCY_EXPONENTS)}.")
    elif "amount" not in data:
        _fail(fields, "data.amount", 'Required: a decimal string, e.g. "249.00".')
    else:
        try:
            money_from_outside(data["amount"], currency=currency, positive=event_type in VISA_POSITIVE_AMOUNT_TYPES)
        except AmountError as error:
            _fail(fields, "data.amount", error.message)
    has_time = _iso_time(data, "datetime", "data.datetime", fields)
    has_created = _iso_time(event, "created", "created", fields)
    if not (has_time or has_created or "data.datetime" in fields or "created" in fields):
        _fail(fields, "data.datetime", "Required: when the transaction happened (or the event's created).")
    card = _object(data, "card", "data.card", fields)
    _text(card, "token", "data.card.token", fields, max_length=CARD_TOKEN_LENGTH)
    _digits(card, "firstNumbers", "data.card.firstNumbers", fields, max_length=6)
    _digits(card, "lastNumbers", "data.card.lastNumbers", fields, max_length=4)
    _text(card, "scheme", "data.card.scheme", fields, max_length=32, required=False)
    merchant = _object(data, "merchant", "data.merchant", fields)
    _text(merchant, "id", "data.merchant.id", fields, max_length=NETWORK_ID_LENGTH)
    _text(merchant, "name", "data.merchant.name", fields, max_length=SHORT_TEXT_LENGTH, required=False)
    location = _object(data, "location", "data.location", fields)
    _text(location, "id", "data.location.id", fields, max_length=NETWORK_ID_LENGTH)
    _text(location, "postcode", "data.location.postcode", fields, max_length=16, required=False)
    _text(location, "countryCode", "data.location.countryCode", fields, max_length=3, required=False)
    _text(
        data,
        "originalTransactionId",
        "data.originalTransactionId",
        fields,
        max_length=TRANSACTION_ID_LENGTH,
        required=False,
    )
    if fields:
        raise EventContractError(fields=fields)


# --- Stripe (/webhooks/stripe/ and /webhooks/stripe/connect/) -----------------------------------


def _stripe_amount(obj: dict[str, Any], key: str, fields: Fields, *, currency: str, required: bool) -> None:
    if obj.get(key) is None:
        if required:
            _fail(fields, f"data.object.{key}", "Required: an integer of minor units.")
        return
    try:
        minor_units_from_outside(obj[key], currency=currency, positive=False)
    except AmountError as error:
        _fail(fields, f"data.object.{key}", error.message)


def _stripe_currency(obj: dict[str, Any], fields: Fields) -> str:
    value = obj.get("currency")
    if not (isinstance(value, str) and len(value) == 3 and value.isascii() and value.isalpha()):
        _fail(fields, "data.object.currency", "A three-letter ISO currency code.")
        return ""
    return value.upper()


def _stripe_customer(obj: dict[str, Any], fields: Fields) -> None:
    customer = obj.get("customer")
    if isinstance(customer, dict):
        _text(customer, "id", "data.object.customer.id", fields, max_length=STRIPE_ID_LENGTH)
        _text(customer, "email", "data.object.customer.email", fields, max_length=254, required=False)
    else:
        _text(obj, "customer", "data.object.customer", fields, max_length=STRIPE_ID_LENGTH, required=False)


def _payment(amounts: dict[str, bool]) -> Callable[[dict[str, Any], Fields], None]:
    """A check of a charge, invoice or credit note: ``amounts`` maps each amount field to whether it is required."""

    def check(obj: dict[str, Any], fields: Fields) -> None:
        currency = _stripe_currency(obj, fields)
        for key, required in amounts.items():
            _stripe_amount(obj, key, fields, currency=currency, required=required)
        _unix_time(obj, "created", "data.object.created", fields)
        _stripe_customer(obj, fields)
        _text(obj, "invoice", "data.object.invoice", fields, max_length=STRIPE_ID_LENGTH, required=False)
        for key in ("customer_email", "receipt_email"):
            _text(obj, key, f"data.object.{key}", fields, max_length=254, required=False)
        billing = _object(obj, "billing_details", "data.object.billing_details", fields, required=False)
        _text(billing, "email", "data.object.billing_details.email", fields, max_length=254, required=False)
        _object(obj, "status_transitions", "data.object.status_transitions", fields, required=False)
        transitions = obj.get("status_transitions")
        if isinstance(transitions, dict):
            _unix_time(transitions, "paid_at", "data.object.status_transitions.paid_at", fields)
        _object(obj, "lines", "data.object.lines", fields, required=False)
        if obj.get("refunds") is not None and not isinstance(obj["refunds"], list | dict):
            _fail(fields, "data.object.refunds", "A list or a Stripe list object.")
        for key in ("paid", "captured"):
            _flag(obj, key, f"data.object.{key}", fields)

    return check


def _merchant_invoice(amounts: dict[str, bool]) -> Callable[[dict[str, Any], Fields], None]:
    """An invoice, and the platform's billing reference when it carries one (merchants.billing_webhooks)."""
    payment = _payment(amounts)

    def check(obj: dict[str, Any], fields: Fields) -> None:
        payment(obj, fields)
        metadata = _object(obj, "metadata", "data.object.metadata", fields, required=False)
        _text(
            metadata,
            "cashback_merchant_invoice",
            "data.object.metadata.cashback_merchant_invoice",
            fields,
            max_length=20,
            required=False,
        )

    return check


def _payout_or_transfer(obj: dict[str, Any], fields: Fields) -> None:
    metadata = _object(obj, "metadata", "data.object.metadata", fields, required=False)
    _text(metadata, "payout", "data.object.metadata.payout", fields, max_length=20, required=False)
    _text(obj, "failure_code", "data.object.failure_code", fields, max_length=100, required=False)
    _text(obj, "failure_message", "data.object.failure_message", fields, max_length=500, required=False)


def _account(obj: dict[str, Any], fields: Fields) -> None:
    for key in ("payouts_enabled", "details_submitted"):
        _flag(obj, key, f"data.object.{key}", fields)


# (event type) → (the Stripe object it carries, the check of that object). The handlers are in
# campaigns/stripe_source.py (payments) and wallet/payout_webhooks.py (payouts, accounts).
STRIPE_CONTRACT: dict[str, tuple[str, Callable[[dict[str, Any], Fields], None]]] = {
    "invoice.paid": ("invoice", _merchant_invoice({"amount_paid": True})),
    "invoice.payment_failed": ("invoice", _merchant_invoice({"amount_due": True})),
    "invoice.marked_uncollectible": ("invoice", _merchant_invoice({"amount_due": False})),
    "charge.succeeded": ("charge", _payment({"amount": True, "amount_captured": False, "amount_refunded": False})),
    "charge.captured": ("charge", _payment({"amount": False, "amount_captured": True, "amount_refunded": False})),
    "charge.refunded": ("charge", _payment({"amount": False, "amount_captured": False, "amount_refunded": True})),
    "credit_note.created": ("credit_note", _payment({"amount": True})),
    "payout.paid": ("payout", _payout_or_transfer),
    "payout.failed": ("payout", _payout_or_transfer),
    "payout.canceled": ("payout", _payout_or_transfer),
    "transfer.reversed": ("transfer", _payout_or_transfer),
    "account.updated": ("account", _account),
}


def stripe_event_check(event: dict[str, Any], *, event_type: str) -> None:
    """For a type with a handler, every field the handler reads; other types pass (stored as ignored)."""
    contract = STRIPE_CONTRACT.get(event_type)
    if contract is None:
        return
    expected, check = contract
    fields: Fields = {}
    _unix_time(event, "created", "created", fields)
    data = _object(event, "data", "data", fields)
    obj = _object(data, "object", "data.object", fields)
    if obj:
        _text(obj, "id", "data.object.id", fields, max_length=STRIPE_ID_LENGTH)
        if obj.get("object") != expected:
            _fail(fields, "data.object.object", f'"{expected}" for a {event_type} event.')
        check(obj, fields)
    if fields:
        raise EventContractError(fields=fields)
