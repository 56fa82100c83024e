from datetime import date, datetime, timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from tests.wallet.factories import UserFactory
from tests.wallet.ledger_scenarios import consumer_history, post
from wallet.models import JournalKind
from wallet.selectors import CurrencyBalances, wallet_balances, wallet_entries

pytestmark = pytest.mark.django_db


def test_a_new_user_has_one_row_of_zeros_in_the_default_currency():
    assert wallet_balances(user=UserFactory()) == [CurrencyBalances(currency=settings.DEFAULT_CURRENCY)]


def test_balances_follow_the_documented_definitions():
    user = UserFactory()
    consumer_history(user)

    (nok,) = wallet_balances(user=user)

    assert nok == CurrencyBalances(
        currency="NOK", pending=300, available=200, lifetime_earned=900, donated=200, paid_out=100
    )
    assert nok.as_decimal_strings() == {
        "currency": "NOK",
        "pending": "3.00",
        "available": "2.00",
        "lifetime_earned": "9.00",
        "donated": "2.00",
        "paid_out": "1.00",
    }


def test_balances_are_per_currency_and_take_two_queries_whatever_the_history(django_assert_num_queries):
    user = UserFactory()
    consumer_history(user, "NOK")
    consumer_history(user, "SEK")
    consumer_history(UserFactory(), "NOK")  # someone else's money is not ours

    with django_assert_num_queries(2):
        balances = wallet_balances(user=user)

    assert [b.currency for b in balances] == ["NOK", "SEK"]
    assert balances[0].as_decimal_strings() | {"currency": "SEK"} == balances[1].as_decimal_strings()


def test_entries_are_the_users_own_newest_first_with_their_transactions():
    user = UserFactory()
    ledger = consumer_history(user)
    consumer_history(UserFactory())

    entries = list(wallet_entries(user=user))

    assert len(entries) == 7  # earn 1, mature 2, reverse 1, donation 1, payout 1, return 1; a hold moves nothing
    assert {e.account_id for e in entries} == {ledger.pending.pk, ledger.available.pk}
    assert [e.transaction.kind for e in entries][:2] == [JournalKind.PAYOUT_RETURN, JournalKind.PAYOUT]
    assert entries[-1].transaction.kind == JournalKind.REWARD_EARN
    assert entries[-1].transaction.memo == "Coffee"


def test_entries_filter_by_kind():
    user = UserFactory()
    consumer_history(user)

    kinds = {e.transaction.kind for e in wallet_entries(user=user, kind=JournalKind.REWARD_MATURE)}

    assert kinds == {JournalKind.REWARD_MATURE}


def test_entries_filter_by_inclusive_local_dates():
    user = UserFactory()
    ledger = consumer_history(user)
    oslo = timezone.get_current_timezone()
    for day in (1, 2, 3):
        moment = timezone.make_aware(datetime(2026, 3, day, 23, 30), oslo)  # late evening, local time
        with mock.patch("django.utils.timezone.now", return_value=moment):
            post(JournalKind.REWARD_EARN, debit=ledger.merchant, credit=ledger.pending, amount=day)

    selected = wallet_entries(user=user, date_from=date(2026, 3, 2), date_to=date(2026, 3, 3))
    up_to_the_first = wallet_entries(user=user, date_to=date(2026, 3, 1))

    assert sorted(e.amount for e in selected) == [2, 3]
    assert [e.amount for e in up_to_the_first] == [1]
    assert wallet_entries(user=user, date_from=timezone.localdate() + timedelta(days=1)).count() == 0


def test_entry_contexts_ask_each_registered_provider_for_the_ids_of_its_causes(monkeypatch):
    from wallet import selectors

    user = UserFactory()
    consumer_history(user)  # its first earning names {"purchase": 1}
    asked = []

    def shops(*, purchase_ids):
        asked.append(sorted(purchase_ids))
        return {"purchases": {1: {"id": 1, "merchant": "Kaffebaren"}}}

    monkeypatch.setattr(selectors, "_entry_context_providers", [])
    selectors.entry_context_provider_register(causes=("purchase",), provider=shops)
    selectors.entry_context_provider_register(causes=("purchase",), provider=shops)  # once is enough

    contexts = selectors.entry_contexts(entries=list(wallet_entries(user=user)))

    assert contexts == {"purchases": {1: {"id": 1, "merchant": "Kaffebaren"}}}
    assert asked == [[1]]


def test_campaigns_registers_the_shop_and_offer_names_of_entries():
    """The wallet names purchases and offers without importing campaigns: campaigns registers itself at start-up."""
    from campaigns.selectors import purchase_contexts
    from wallet import selectors

    assert (("purchase", "offer"), purchase_contexts) in selectors._entry_context_providers
