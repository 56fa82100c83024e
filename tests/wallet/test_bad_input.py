"""Bad input gets a clear domain error with a stable code, and nothing is written."""

from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIRequestFactory

from cashback.errors import api_exception_handler
from tests.wallet.factories import LedgerAccountFactory, fund, new_key, settlement_account
from wallet.errors import (
    InsufficientFundsError,
    InvalidAmountError,
    TooManyDecimalsError,
    UnbalancedTransactionError,
    UnknownAccountError,
    UnknownCurrencyError,
)
from wallet.models import Entry, JournalKind, JournalTransaction, LedgerAccount
from wallet.money import parse_amount
from wallet.services import EntrySpec, TransferRequest, transaction_post, transactions_post_batch, transfer

# --- parsing amounts that come from outside -------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("12.5", "NOK", 1250),
        ("12.50", "SEK", 1250),
        (" 7 ", "EUR", 700),
        ("0.01", "DKK", 1),
        ("12.500", "NOK", 1250),
        (Decimal("3.2"), "NOK", 320),
    ],
)
def test_parse_amount_gives_minor_units(value, currency, minor):
    assert parse_amount(value, currency) == minor


@pytest.mark.parametrize(
    ("value", "currency", "error", "code"),
    [
        ("12.345", "NOK", TooManyDecimalsError, "too_many_decimals"),
        ("0.001", "EUR", TooManyDecimalsError, "too_many_decimals"),
        (Decimal("1.005"), "SEK", TooManyDecimalsError, "too_many_decimals"),
        ("12.50", "USD", UnknownCurrencyError, "unknown_currency"),
        ("12.50", "nok", UnknownCurrencyError, "unknown_currency"),
        ("0", "NOK", InvalidAmountError, "invalid_amount"),
        ("0.00", "NOK", InvalidAmountError, "invalid_amount"),
        ("-5", "NOK", InvalidAmountError, "invalid_amount"),
        ("abc", "NOK", InvalidAmountError, "invalid_amount"),
        ("", "NOK", InvalidAmountError, "invalid_amount"),
        ("1e3", "NOK", InvalidAmountError, "invalid_amount"),
        ("1,50", "NOK", InvalidAmountError, "invalid_amount"),
        ("NaN", "NOK", InvalidAmountError, "invalid_amount"),
        (Decimal("Infinity"), "NOK", InvalidAmountError, "invalid_amount"),
        (1.5, "NOK", InvalidAmountError, "invalid_amount"),
        (12, "NOK", InvalidAmountError, "invalid_amount"),
        ("99999999999999999999", "NOK", InvalidAmountError, "invalid_amount"),
    ],
)
def test_parse_amount_refuses_with_a_stable_code(value, currency, error, code):
    with pytest.raises(error) as raised:
        parse_amount(value, currency)

    assert raised.value.code == code
    assert raised.value.http_status == 400


def test_a_parse_error_reaches_an_api_client_as_a_400_with_its_code():
    request = APIRequestFactory().post("/api/v1/anything/")
    try:
        parse_amount("12.345", "NOK")
    except TooManyDecimalsError as exc:
        response = api_exception_handler(exc, {"request": request})

    assert response.status_code == 400
    assert response.data["error"]["code"] == "too_many_decimals"
    assert "NOK has 2 decimals" in response.data["error"]["message"]


# --- the services ---------------------------------------------------------------------


def ledger_state() -> tuple:
    return (
        JournalTransaction.objects.count(),
        Entry.objects.count(),
        LedgerAccount.objects.count(),
        tuple(LedgerAccount.objects.order_by("pk").values_list("balance", "pending_debits", "version")),
    )


def _unknown_currency(source, target):
    lying = LedgerAccount.objects.get(pk=target.pk)
    lying.currency = "USD"
    lying_source = LedgerAccount.objects.get(pk=source.pk)
    lying_source.currency = "USD"
    return transfer(debit=lying_source, credit=lying, amount=100)


def _unknown_account(source, target):
    ghost = LedgerAccount(
        pk=LedgerAccount.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1_000, currency="NOK"
    )
    return transfer(debit=source, credit=ghost, amount=100)


BAD_ENTRIES = [
    pytest.param(_unknown_currency, UnknownCurrencyError, "unknown_currency", id="unknown currency"),
    pytest.param(lambda s, t: transfer(debit=s, credit=t, amount=0), InvalidAmountError, "invalid_amount", id="zero"),
    pytest.param(
        lambda s, t: transfer(debit=s, credit=t, amount=-100), InvalidAmountError, "invalid_amount", id="negative"
    ),
    pytest.param(
        lambda s, t: transfer(debit=s, credit=t, amount=2**63), InvalidAmountError, "invalid_amount", id="too large"
    ),
    pytest.param(
        lambda s, t: [EntrySpec.debit(s, 100), EntrySpec.credit(t, 99)],
        UnbalancedTransactionError,
        "unbalanced_transaction",
        id="unbalanced",
    ),
    pytest.param(
        lambda s, t: [EntrySpec.debit(s, 100)], UnbalancedTransactionError, "unbalanced_transaction", id="one entry"
    ),
    pytest.param(_unknown_account, UnknownAccountError, "unknown_account", id="unknown account"),
    pytest.param(
        lambda s, t: transfer(debit=t, credit=s, amount=10_000),
        InsufficientFundsError,
        "insufficient_funds",
        id="overdraft",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("make_entries", "error", "code"), BAD_ENTRIES)
def test_transaction_post_refuses_bad_input_and_writes_nothing(make_entries, error, code):
    source, target = settlement_account(), LedgerAccountFactory()
    fund(target, 500, source=source)
    entries = make_entries(source, target)
    before = ledger_state()

    with pytest.raises(error) as raised:
        transaction_post(idempotency_key=new_key(), kind=JournalKind.ADJUSTMENT, entries=entries)

    assert raised.value.code == code
    assert ledger_state() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("make_entries", "error", "code"), BAD_ENTRIES)
def test_a_refused_post_that_owns_its_transaction_writes_nothing_and_leaves_the_connection_usable(
    make_entries, error, code
):
    # Outside any atomic block: on PostgreSQL the service runs its own pipelined transaction.
    source, target = settlement_account(), LedgerAccountFactory()
    fund(target, 500, source=source)
    entries = make_entries(source, target)
    before = ledger_state()

    with pytest.raises(error) as raised:
        transaction_post(idempotency_key=new_key(), kind=JournalKind.ADJUSTMENT, entries=entries)

    assert raised.value.code == code
    assert ledger_state() == before
    assert connection.get_autocommit() and not connection.in_atomic_block
    fund(target, 1, source=source)
    target.refresh_from_db()
    assert target.balance == 501


@pytest.mark.django_db
@pytest.mark.parametrize(("make_entries", "error", "code"), BAD_ENTRIES)
def test_a_batch_with_one_bad_request_refuses_all_and_writes_nothing(make_entries, error, code):
    source, target = settlement_account(), LedgerAccountFactory()
    fund(target, 500, source=source)
    good = TransferRequest(
        idempotency_key=new_key(), kind=JournalKind.ADJUSTMENT, entries=transfer(debit=source, credit=target, amount=1)
    )
    bad = TransferRequest(idempotency_key=new_key(), kind=JournalKind.ADJUSTMENT, entries=make_entries(source, target))
    before = ledger_state()

    with pytest.raises(error, match="Request 1") as raised:
        transactions_post_batch(requests=[good, bad])

    assert raised.value.code == code
    assert ledger_state() == before
