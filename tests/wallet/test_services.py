from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.wallet.factories import (
    LedgerAccountFactory,
    UserFactory,
    consumer_accounts,
    fund,
    new_key,
    settlement_account,
)
from wallet.errors import (
    CurrencyMismatchError,
    HoldAmountExceededError,
    HoldExpiredError,
    HoldNotPendingError,
    IdempotencyConflictError,
    InsufficientFundsError,
    InvalidLedgerRequestError,
    UnbalancedTransactionError,
)
from wallet.models import AccountKind, Direction, Entry, Hold, JournalKind, JournalTransaction, LedgerAccount
from wallet.services import (
    EntrySpec,
    account_get_or_create,
    hold_expire_due,
    hold_place,
    hold_post,
    hold_void,
    platform_account,
    transaction_post,
    transfer,
)

pytestmark = pytest.mark.django_db


def refreshed(*accounts: LedgerAccount) -> list[LedgerAccount]:
    for account in accounts:
        account.refresh_from_db()
    return list(accounts)


# --- accounts -----------------------------------------------------------------------


def test_account_get_or_create_returns_the_same_account_for_the_same_owner_kind_and_currency():
    user = UserFactory()

    first = account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK")
    again = account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK")
    in_sek = account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="SEK")

    assert first.pk == again.pk
    assert in_sek.pk != first.pk
    assert first.allows_negative is False


def test_platform_accounts_exist_once_per_kind_and_currency_and_settlement_may_go_negative():
    settlement = platform_account(kind=AccountKind.SETTLEMENT, currency="EUR")

    assert platform_account(kind=AccountKind.SETTLEMENT, currency="EUR").pk == settlement.pk
    assert settlement.allows_negative is True
    assert platform_account(kind=AccountKind.BREAKAGE, currency="EUR").allows_negative is False


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": AccountKind.CONSUMER_PENDING, "currency": "NOK"},  # no owner
        {"kind": AccountKind.CONSUMER_PENDING, "currency": "USD", "owner_key": "x"},
        {"kind": "piggy_bank", "currency": "NOK", "owner_key": "x"},
    ],
)
def test_account_get_or_create_refuses_bad_requests(kwargs):
    with pytest.raises(InvalidLedgerRequestError):
        account_get_or_create(**kwargs)


# --- posting ------------------------------------------------------------------------


def test_a_balanced_transaction_moves_money_and_records_its_entries_and_causes():
    merchant = LedgerAccountFactory(kind=AccountKind.MERCHANT_FUNDING)
    fund(merchant, 10_000)
    user = UserFactory()
    pending, _ = consumer_accounts(user)

    journal = transaction_post(
        idempotency_key="visa:txn_1:offer_1:earn",
        kind=JournalKind.REWARD_EARN,
        entries=transfer(debit=merchant, credit=pending, amount=1250),
        memo="10% at Kaffebrenneriet",
        causes={"purchase": 17, "offer": 3},
    )

    merchant, pending = refreshed(merchant, pending)
    assert merchant.balance == 8_750
    assert pending.balance == 1_250
    assert merchant.version == 2 and pending.version == 1
    assert journal.source_type == "purchase" and journal.source_id == "17"
    assert journal.causes == {"purchase": 17, "offer": 3}
    assert sorted((e.account_id, e.direction, e.amount, e.currency) for e in journal.entries.all()) == sorted(
        [(merchant.pk, Direction.DEBIT, 1250, "NOK"), (pending.pk, Direction.CREDIT, 1250, "NOK")]
    )


def test_a_transaction_with_many_entries_balances_per_currency():
    nok_out, nok_in_a, nok_in_b = settlement_account("NOK"), LedgerAccountFactory(), LedgerAccountFactory()
    eur_out, eur_in = settlement_account("EUR"), LedgerAccountFactory(currency="EUR")

    transaction_post(
        idempotency_key=new_key(),
        kind=JournalKind.ADJUSTMENT,
        entries=[
            EntrySpec.debit(nok_out, 300),
            EntrySpec.credit(nok_in_a, 100),
            EntrySpec.credit(nok_in_b, 200),
            EntrySpec.debit(eur_out, 5),
            EntrySpec.credit(eur_in, 5),
        ],
    )

    assert [a.balance for a in refreshed(nok_out, nok_in_a, nok_in_b, eur_out, eur_in)] == [-300, 100, 200, -5, 5]


def test_an_unbalanced_transaction_is_refused_and_writes_nothing():
    source, target = settlement_account(), LedgerAccountFactory()

    with pytest.raises(UnbalancedTransactionError):
        transaction_post(
            idempotency_key=new_key(),
            kind=JournalKind.ADJUSTMENT,
            entries=[EntrySpec.debit(source, 100), EntrySpec.credit(target, 99)],
        )

    assert not Entry.objects.filter(account__in=[source, target]).exists()


def test_amounts_in_different_currencies_do_not_balance_each_other():
    nok, eur = settlement_account("NOK"), LedgerAccountFactory(currency="EUR")

    with pytest.raises(UnbalancedTransactionError, match="EUR off by 100"):
        transaction_post(
            idempotency_key=new_key(),
            kind=JournalKind.ADJUSTMENT,
            entries=[EntrySpec.debit(nok, 100), EntrySpec.credit(eur, 100)],
        )


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "100"])
def test_amounts_must_be_positive_integers(amount):
    source, target = settlement_account(), LedgerAccountFactory()

    with pytest.raises(InvalidLedgerRequestError):
        transaction_post(
            idempotency_key=new_key(),
            kind=JournalKind.ADJUSTMENT,
            entries=transfer(debit=source, credit=target, amount=amount),
        )


def test_a_single_entry_unknown_kind_or_blank_key_is_refused():
    source, target = settlement_account(), LedgerAccountFactory()

    with pytest.raises(UnbalancedTransactionError):
        transaction_post(idempotency_key=new_key(), kind=JournalKind.ADJUSTMENT, entries=[EntrySpec.credit(target, 1)])
    with pytest.raises(InvalidLedgerRequestError):
        transaction_post(
            idempotency_key=new_key(), kind="gift", entries=transfer(debit=source, credit=target, amount=1)
        )
    with pytest.raises(InvalidLedgerRequestError):
        transaction_post(
            idempotency_key="  ", kind=JournalKind.ADJUSTMENT, entries=transfer(debit=source, credit=target, amount=1)
        )


def test_an_entry_whose_stated_currency_is_not_the_accounts_is_refused():
    source, target = settlement_account(), LedgerAccountFactory()
    stale = LedgerAccount.objects.get(pk=target.pk)
    stale.currency = "SEK"  # a caller's object that lies about the account
    stale_source = LedgerAccount.objects.get(pk=source.pk)
    stale_source.currency = "SEK"

    with pytest.raises(CurrencyMismatchError):
        transaction_post(
            idempotency_key=new_key(),
            kind=JournalKind.ADJUSTMENT,
            entries=transfer(debit=stale_source, credit=stale, amount=1),
        )


def test_debiting_more_than_a_non_negative_account_holds_is_refused():
    user = UserFactory()
    _, available = consumer_accounts(user)
    fund(available, 500)
    outside = settlement_account()

    with pytest.raises(InsufficientFundsError) as raised:
        transaction_post(
            idempotency_key=new_key(),
            kind=JournalKind.PAYOUT,
            entries=transfer(debit=available, credit=outside, amount=501),
        )

    assert raised.value.code == "insufficient_funds"
    assert refreshed(available)[0].balance == 500
    transaction_post(
        idempotency_key=new_key(),
        kind=JournalKind.PAYOUT,
        entries=transfer(debit=available, credit=outside, amount=500),
    )
    assert refreshed(available)[0].balance == 0


def test_an_account_allowed_to_go_negative_may():
    outside, target = settlement_account(), LedgerAccountFactory()

    fund(target, 1_000_000, source=outside)

    assert refreshed(outside)[0].balance == -1_000_000


# --- idempotency --------------------------------------------------------------------


def test_replaying_a_key_with_the_same_request_returns_the_first_result_and_changes_nothing():
    source, target = settlement_account(), LedgerAccountFactory()
    request = {
        "idempotency_key": new_key(),
        "kind": JournalKind.ADJUSTMENT,
        "entries": transfer(debit=source, credit=target, amount=700),
        "memo": "once",
        "causes": {"ticket": "T-1"},
    }

    first = transaction_post(**request)
    again = transaction_post(**{**request, "entries": list(reversed(request["entries"]))})

    assert again.pk == first.pk
    assert refreshed(target)[0].balance == 700
    assert JournalTransaction.objects.filter(idempotency_key=request["idempotency_key"]).count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 701},
        {"memo": "twice"},
        {"kind": JournalKind.REWARD_EARN},
        {"causes": {"ticket": "T-2"}},
    ],
)
def test_replaying_a_key_with_a_different_request_raises_a_conflict(change):
    source, target = settlement_account(), LedgerAccountFactory()
    key = new_key()
    base = {"kind": JournalKind.ADJUSTMENT, "memo": "once", "causes": {"ticket": "T-1"}}
    transaction_post(idempotency_key=key, entries=transfer(debit=source, credit=target, amount=700), **base)

    changed = {**base, **{k: v for k, v in change.items() if k != "amount"}}
    with pytest.raises(IdempotencyConflictError) as raised:
        transaction_post(
            idempotency_key=key,
            entries=transfer(debit=source, credit=target, amount=change.get("amount", 700)),
            **changed,
        )

    assert raised.value.code == "idempotency_conflict"
    assert raised.value.http_status == 409
    assert refreshed(target)[0].balance == 700


def test_a_replay_inside_a_callers_transaction_leaves_that_transaction_usable():
    source, target = settlement_account(), LedgerAccountFactory()
    key = new_key()
    transaction_post(
        idempotency_key=key, kind=JournalKind.ADJUSTMENT, entries=transfer(debit=source, credit=target, amount=5)
    )

    with transaction.atomic():
        replayed = transaction_post(
            idempotency_key=key, kind=JournalKind.ADJUSTMENT, entries=transfer(debit=source, credit=target, amount=5)
        )
        fund(target, 1)

    assert replayed.idempotency_key == key
    assert refreshed(target)[0].balance == 6


def test_a_failed_post_can_be_retried_with_the_same_key_once_funds_arrive():
    user = UserFactory()
    _, available = consumer_accounts(user)
    outside = settlement_account()
    key = new_key()
    entries = transfer(debit=available, credit=outside, amount=300)

    with pytest.raises(InsufficientFundsError):
        transaction_post(idempotency_key=key, kind=JournalKind.SPEND, entries=entries)
    fund(available, 300)
    journal = transaction_post(idempotency_key=key, kind=JournalKind.SPEND, entries=entries)

    assert journal.idempotency_key == key
    assert refreshed(available)[0].balance == 0


# --- holds --------------------------------------------------------------------------


@pytest.fixture
def funded_consumer():
    user = UserFactory()
    _, available = consumer_accounts(user)
    fund(available, 1_000)
    merchant = LedgerAccountFactory(kind=AccountKind.MERCHANT_RECEIVABLE, allows_negative=True)
    return available, merchant


def place(account, counterparty, amount, *, minutes=15, key=None):
    return hold_place(
        idempotency_key=key or new_key("hold"),
        account=account,
        counterparty=counterparty,
        amount=amount,
        expires_at=timezone.now() + timedelta(minutes=minutes),
    )


def test_a_hold_reserves_money_against_the_available_balance(funded_consumer):
    available, merchant = funded_consumer

    hold = place(available, merchant, 600)

    available.refresh_from_db()
    assert hold.status == Hold.Status.PENDING
    assert (available.balance, available.pending_debits, available.available) == (1_000, 600, 400)
    with pytest.raises(InsufficientFundsError):
        place(available, merchant, 401)
    with pytest.raises(InsufficientFundsError):
        transaction_post(
            idempotency_key=new_key(),
            kind=JournalKind.SPEND,
            entries=transfer(debit=available, credit=merchant, amount=401),
        )


def test_posting_part_of_a_hold_moves_that_part_and_releases_the_rest(funded_consumer):
    available, merchant = funded_consumer
    hold = place(available, merchant, 600)

    journal = hold_post(hold=hold, idempotency_key=new_key("capture"), amount=250, kind=JournalKind.SPEND)

    available.refresh_from_db()
    hold.refresh_from_db()
    assert (available.balance, available.pending_debits) == (750, 0)
    assert refreshed(merchant)[0].balance == 250
    assert hold.status == Hold.Status.POSTED and hold.posted_amount == 250 and hold.posted_transaction == journal
    assert journal.kind == JournalKind.SPEND and journal.causes["hold"] == hold.pk


def test_posting_all_of_a_hold_by_default_and_replaying_the_post_returns_the_same_transaction(funded_consumer):
    available, merchant = funded_consumer
    hold = place(available, merchant, 600)
    key = new_key("capture")

    first = hold_post(hold=hold, idempotency_key=key)
    again = hold_post(hold=hold, idempotency_key=key)

    assert first.pk == again.pk
    assert refreshed(available)[0].balance == 400
    with pytest.raises(HoldNotPendingError):
        hold_post(hold=hold, idempotency_key=new_key("capture"))


def test_posting_more_than_reserved_fails_and_keeps_the_hold(funded_consumer):
    available, merchant = funded_consumer
    hold = place(available, merchant, 600)

    with pytest.raises(HoldAmountExceededError):
        hold_post(hold=hold, idempotency_key=new_key(), amount=601)

    hold.refresh_from_db()
    available.refresh_from_db()
    assert hold.status == Hold.Status.PENDING
    assert available.pending_debits == 600


def test_a_voided_hold_releases_its_reservation_once(funded_consumer):
    available, merchant = funded_consumer
    hold = place(available, merchant, 600)

    hold_void(hold=hold)
    hold_void(hold=hold)

    available.refresh_from_db()
    hold.refresh_from_db()
    assert hold.status == Hold.Status.VOIDED and hold.resolved_at is not None
    assert (available.balance, available.pending_debits) == (1_000, 0)
    with pytest.raises(HoldNotPendingError):
        hold_post(hold=hold, idempotency_key=new_key())


def test_a_posted_hold_cannot_be_voided(funded_consumer):
    available, merchant = funded_consumer
    hold = place(available, merchant, 100)
    hold_post(hold=hold, idempotency_key=new_key())

    with pytest.raises(HoldNotPendingError):
        hold_void(hold=hold)


def test_due_holds_expire_and_release_and_then_cannot_be_posted(funded_consumer):
    available, merchant = funded_consumer
    due = place(available, merchant, 300, minutes=1)
    later = place(available, merchant, 200, minutes=60)

    expired = hold_expire_due(now=timezone.now() + timedelta(minutes=2))
    again = hold_expire_due(now=timezone.now() + timedelta(minutes=2))

    due.refresh_from_db()
    later.refresh_from_db()
    assert (expired, again) == (1, 0)
    assert due.status == Hold.Status.EXPIRED and later.status == Hold.Status.PENDING
    assert refreshed(available)[0].pending_debits == 200
    with pytest.raises(HoldNotPendingError):
        hold_post(hold=due, idempotency_key=new_key())


def test_a_hold_past_its_expiry_cannot_be_posted_even_before_the_sweep(funded_consumer):
    available, merchant = funded_consumer
    hold = place(available, merchant, 300, minutes=1)

    with pytest.raises(HoldExpiredError):
        hold_post(hold=hold, idempotency_key=new_key(), now=timezone.now() + timedelta(minutes=2))


def test_hold_place_is_idempotent_and_refuses_a_different_request_under_the_same_key(funded_consumer):
    available, merchant = funded_consumer
    key = new_key("hold")

    first = place(available, merchant, 300, key=key)
    again = place(available, merchant, 300, key=key, minutes=30)

    assert first.pk == again.pk
    assert refreshed(available)[0].pending_debits == 300
    with pytest.raises(IdempotencyConflictError):
        place(available, merchant, 301, key=key)


def test_hold_place_refuses_bad_requests(funded_consumer):
    available, merchant = funded_consumer
    eur = LedgerAccountFactory(currency="EUR")

    with pytest.raises(CurrencyMismatchError):
        place(available, eur, 1)
    with pytest.raises(InvalidLedgerRequestError):
        place(available, available, 1)
    with pytest.raises(InvalidLedgerRequestError):
        place(available, merchant, 0)


# --- a post that owns its transaction (on PostgreSQL: the pipelined path) ------------


@pytest.mark.django_db(transaction=True)
def test_a_post_outside_any_transaction_replays_and_refuses_a_conflict():
    source, target = settlement_account(), LedgerAccountFactory()
    key = new_key()
    request = {"idempotency_key": key, "kind": JournalKind.ADJUSTMENT, "memo": "once"}

    first = transaction_post(entries=transfer(debit=source, credit=target, amount=70), **request)
    again = transaction_post(entries=transfer(debit=source, credit=target, amount=70), **request)
    with pytest.raises(IdempotencyConflictError):
        transaction_post(entries=transfer(debit=source, credit=target, amount=71), **request)

    assert again.pk == first.pk
    stored = JournalTransaction.objects.get(pk=first.pk)
    assert (stored.memo, stored.payload_hash, stored.created_at) == (first.memo, first.payload_hash, first.created_at)
    assert refreshed(target)[0].balance == 70
    assert refreshed(target)[0].version == 1
