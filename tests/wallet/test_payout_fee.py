"""The payout fee (F-W2): a setting, zero by default; shown before the consumer confirms (page and API);
booked to platform revenue in the payout's own balanced transaction, exactly once; given back with
the money when the payout fails. Stripe moves the amount less the fee."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from cashback import settings as project_settings
from tests.webhooks import STRIPE_CONNECT_SECRET, STRIPE_SECRET
from wallet.errors import PayoutBelowMinimumError
from wallet.invariants import ledger_violations
from wallet.models import AccountKind, Entry, JournalTransaction, Payout, PayoutStatus
from wallet.payouts import payout_mark_failed, payout_mark_paid, payout_process, payout_request

from .payout_support import available, platform_balance, ready_consumer

pytestmark = pytest.mark.django_db

FEE = 500  # 5.00


@pytest.fixture(autouse=True)
def payout_settings(settings, fake_stripe):
    settings.STRIPE_PROVIDER = "fake"
    settings.PAYOUT_MINIMUM_MINOR = 10000
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 0
    settings.PAYOUT_FEE_MINOR = FEE
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET
    return settings


def _requested(django_capture_on_commit_callbacks, user, amount=15000) -> Payout:
    with django_capture_on_commit_callbacks(execute=True):
        payout = payout_request(user=user, amount_minor=amount, currency="NOK")
    payout.refresh_from_db()
    return payout


def test_the_fee_is_zero_by_default():
    assert project_settings.PAYOUT_FEE_MINOR == 0


def test_the_fee_goes_to_platform_revenue_in_the_payouts_own_balanced_transaction_once(
    django_capture_on_commit_callbacks, fake_stripe
):
    user = ready_consumer(balance=50000)
    revenue_before = platform_balance(AccountKind.PLATFORM_REVENUE)
    transit_before = platform_balance(AccountKind.PAYOUTS_IN_TRANSIT)

    payout = _requested(django_capture_on_commit_callbacks, user)
    payout_process(payout_id=payout.pk)  # again: nothing more

    assert (payout.amount, payout.fee, payout.net_amount) == (15000, FEE, 14500)
    assert available(user) == 35000
    assert platform_balance(AccountKind.PLATFORM_REVENUE) == revenue_before + FEE
    assert platform_balance(AccountKind.PAYOUTS_IN_TRANSIT) == transit_before + 14500
    request = JournalTransaction.objects.get(idempotency_key=payout.request_key)
    entries = list(Entry.objects.filter(transaction=request).values_list("account__kind", "direction", "amount"))
    assert sorted(entries) == sorted(
        [
            (AccountKind.CONSUMER_AVAILABLE, "debit", 15000),
            (AccountKind.PAYOUTS_IN_TRANSIT, "credit", 14500),
            (AccountKind.PLATFORM_REVENUE, "credit", FEE),
        ]
    )
    [transfer_call] = fake_stripe.calls("transfer_create")
    assert transfer_call.params["amount"] == 14500  # Stripe moves what reaches the bank
    assert fake_stripe.calls("payout_create")[0].params["amount"] == 14500
    assert not ledger_violations()


def test_paid_settles_the_net_amount_and_keeps_the_fee(django_capture_on_commit_callbacks):
    user = ready_consumer(balance=50000)
    payout = _requested(django_capture_on_commit_callbacks, user)
    revenue = platform_balance(AccountKind.PLATFORM_REVENUE)

    payout_mark_paid(payout_id=payout.pk)
    payout_mark_paid(payout_id=payout.pk)

    assert platform_balance(AccountKind.PAYOUTS_IN_TRANSIT) == 0
    assert platform_balance(AccountKind.PLATFORM_REVENUE) == revenue
    assert not ledger_violations()


@pytest.mark.parametrize("paid_first", [False, True], ids=["in_transit", "bounced_after_paid"])
def test_a_failed_payout_gives_the_whole_amount_back_fee_included_once(django_capture_on_commit_callbacks, paid_first):
    user = ready_consumer(balance=50000)
    payout = _requested(django_capture_on_commit_callbacks, user)
    revenue_before = platform_balance(AccountKind.PLATFORM_REVENUE) - FEE
    if paid_first:
        payout_mark_paid(payout_id=payout.pk)

    for _ in range(2):
        payout_mark_failed(payout_id=payout.pk, code="account_closed", message="Closed.", reverse_transfer=False)

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
    assert available(user) == 50000
    assert platform_balance(AccountKind.PLATFORM_REVENUE) == revenue_before
    assert not ledger_violations()


def test_an_amount_not_above_the_fee_is_refused_and_changes_nothing(settings):
    settings.PAYOUT_MINIMUM_MINOR = 100
    user = ready_consumer(balance=50000)

    with pytest.raises(PayoutBelowMinimumError, match=r"more than its fee of 5\.00 NOK"):
        payout_request(user=user, amount_minor=FEE, currency="NOK")

    assert Payout.objects.count() == 0
    assert available(user) == 50000


def test_the_api_shows_the_fee_before_and_after_the_request(django_capture_on_commit_callbacks):
    user = ready_consumer(balance=50000)
    api = APIClient()
    api.force_authenticate(user)

    account = api.get("/api/v1/payouts/account/").json()
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/payouts/", {"amount": "150.00", "currency": "NOK"}, format="json")

    assert account["fee"]["NOK"] == "5.00"
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["amount"], body["fee"], body["net_amount"]) == ("150.00", "5.00", "145.00")


def test_the_payout_page_shows_the_fee_before_the_consumer_confirms(client, settings):
    user = ready_consumer(balance=50000)
    client.force_login(user)

    with_fee = client.get("/wallet/payouts/").content.decode()
    settings.PAYOUT_FEE_MINOR = 0
    without = client.get("/wallet/payouts/").content.decode()

    assert "Fee per payout: <strong>5.00 NOK</strong>" in with_fee
    assert "No fee: your bank receives the whole amount." in without


@pytest.mark.postgres
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fee=st.integers(min_value=0, max_value=2_000),
    steps=st.lists(
        st.tuples(st.integers(min_value=2_001, max_value=30_000), st.sampled_from(["paid", "failed", "open"])),
        min_size=1,
        max_size=5,
    ),
)
def test_balances_hold_with_any_fee_whatever_becomes_of_the_payouts(settings, fee, steps):
    """Whatever the fee and whatever Stripe says, every transaction balances, cached balances equal the
    entries, nothing is negative, and the consumer + transit + revenue + settlement add up to what was
    funded: no money made or lost by the fee."""
    settings.PAYOUT_FEE_MINOR = fee
    settings.PAYOUT_MINIMUM_MINOR = 2_001
    with transaction.atomic():
        savepoint = transaction.savepoint()
        user = ready_consumer(balance=200_000)
        kinds = (AccountKind.PAYOUTS_IN_TRANSIT, AccountKind.PLATFORM_REVENUE, AccountKind.SETTLEMENT)
        platform_before = {kind: platform_balance(kind) for kind in kinds}
        for amount, outcome in steps:
            payout = payout_request(user=user, amount_minor=amount, currency="NOK")
            if outcome == "paid":
                payout_mark_paid(payout_id=payout.pk)
            elif outcome == "failed":
                payout_mark_failed(payout_id=payout.pk, code="x", message="x", reverse_transfer=False)
        assert not ledger_violations()
        moved = {kind: platform_balance(kind) - platform_before[kind] for kind in kinds}
        assert available(user) + sum(moved.values()) == 200_000
        kept = [(a, o) for a, o in steps if o != "failed"]
        assert moved[AccountKind.PLATFORM_REVENUE] == fee * len(kept)
        transaction.savepoint_rollback(savepoint)
