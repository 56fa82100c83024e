"""Points as a second kind of balance (wallet.points; docs/ledger.md, "Points"): given from a programme
owner's issuance account, whole, idempotent, and never money."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.wallet.factories import UserFactory, consumer_accounts, fund, new_key
from wallet import points
from wallet.errors import InvalidAmountError, UnbalancedTransactionError, UnknownCurrencyError
from wallet.invariants import ledger_violations
from wallet.models import POINTS, AccountKind, JournalKind, JournalTransaction, LedgerAccount
from wallet.selectors import wallet_balances
from wallet.services import EntrySpec, account_get_or_create, transaction_post

pytestmark = pytest.mark.django_db

MERCHANT_ID = 4242


def test_awarding_points_moves_them_from_the_owners_issuance_account_to_the_member():
    member = UserFactory()

    journal = points.points_award(
        user=member, points=150, merchant_id=MERCHANT_ID, idempotency_key=new_key("pts"), memo="Survey"
    )

    assert journal.kind == JournalKind.POINTS_AWARD
    assert points.points_balance(user=member) == 150
    issuance = points.points_issuance_account(merchant_id=MERCHANT_ID)
    assert issuance.owner_key == f"merchant:{MERCHANT_ID}" and issuance.currency == POINTS
    issuance.refresh_from_db()
    assert issuance.balance == -150  # minus the points outstanding
    assert ledger_violations() == []


def test_the_same_key_awards_once():
    member = UserFactory()
    key = new_key("pts")

    first = points.points_award(user=member, points=40, merchant_id=MERCHANT_ID, idempotency_key=key, memo="Share")
    again = points.points_award(user=member, points=40, merchant_id=MERCHANT_ID, idempotency_key=key, memo="Share")

    assert first.pk == again.pk
    assert points.points_balance(user=member) == 40
    assert JournalTransaction.objects.filter(idempotency_key=key).count() == 1


@pytest.mark.parametrize("bad", [0, -5, True, 1.5, "10", points.MAX_POINTS_PER_AWARD + 1])
def test_points_are_a_positive_whole_number_within_bounds(bad):
    member = UserFactory()

    with pytest.raises(InvalidAmountError):
        points.points_award(user=member, points=bad, merchant_id=MERCHANT_ID, idempotency_key=new_key(), memo="x")

    assert points.points_balance(user=member) == 0
    assert not LedgerAccount.objects.filter(user=member, kind=AccountKind.POINTS_AVAILABLE, balance__gt=0).exists()


def test_a_member_without_points_has_zero():
    assert points.points_balance(user=UserFactory()) == 0


@pytest.mark.parametrize(
    ("kind", "currency"),
    [
        (AccountKind.CONSUMER_AVAILABLE, POINTS),
        (AccountKind.MERCHANT_FUNDING, POINTS),
        (AccountKind.POINTS_AVAILABLE, "NOK"),
        (AccountKind.POINTS_ISSUANCE, "EUR"),
    ],
)
def test_only_the_points_kinds_hold_points_and_they_hold_nothing_else(kind, currency):
    owner = {"user": UserFactory()} if kind in (AccountKind.CONSUMER_AVAILABLE, AccountKind.POINTS_AVAILABLE) else {}
    owner = owner or {"owner_key": "merchant:1"}

    with pytest.raises(UnknownCurrencyError):
        account_get_or_create(kind=kind, currency=currency, **owner)


def test_the_database_refuses_a_money_account_in_points():
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.create(user=UserFactory(), kind=AccountKind.CONSUMER_AVAILABLE, currency=POINTS)


def test_points_never_turn_into_money_in_one_transaction():
    member = UserFactory()
    points.points_award(user=member, points=500, merchant_id=MERCHANT_ID, idempotency_key=new_key(), memo="x")
    _, cash = consumer_accounts(member)

    with pytest.raises(UnbalancedTransactionError):
        transaction_post(
            idempotency_key=new_key("convert"),
            kind=JournalKind.ADJUSTMENT,
            entries=[EntrySpec.debit(points.points_account(user=member), 500), EntrySpec.credit(cash, 500)],
        )

    cash.refresh_from_db()
    assert cash.balance == 0 and points.points_balance(user=member) == 500


def test_points_stay_out_of_the_money_balances_and_show_on_their_own_card(client):
    member = UserFactory()
    _, cash = consumer_accounts(member)
    fund(cash, 1250)
    points.points_award(user=member, points=1500, merchant_id=MERCHANT_ID, idempotency_key=new_key(), memo="x")
    client.force_login(member)

    content = client.get(reverse("wallet:home")).content.decode()

    assert [balance.currency for balance in wallet_balances(user=member)] == ["NOK"]
    assert 'data-testid="points-balance"' in content and "1,500 points" in content


def test_a_member_with_only_points_is_not_shown_the_empty_state_and_no_points_card_without_points(client):
    member = UserFactory()
    client.force_login(member)
    assert 'data-testid="points-balance"' not in client.get(reverse("wallet:home")).content.decode()

    points.points_award(user=member, points=1, merchant_id=MERCHANT_ID, idempotency_key=new_key(), memo="x")
    content = client.get(reverse("wallet:home")).content.decode()

    assert "No cashback yet" not in content and "1 point" in content
