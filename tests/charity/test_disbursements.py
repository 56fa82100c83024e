"""Monthly disbursement: exactly once through the Stripe gateway, whatever step crashes.

A crash is injected at each step — inside step 1 (row and ledger move), between step 1 and the
Stripe call, in the call before Stripe acts, in the call after Stripe acted (lost response),
between the call and recording, inside recording — and the run is repeated. Afterwards Stripe
holds exactly one transfer per disbursement and the ledger agrees with it: nothing paid twice,
nothing lost.
"""

from datetime import date
from unittest import mock

import pytest

from cashback.providers.stripe_gateway import FakeStripeGateway, StripeGatewayError
from charity import selectors, services, tasks
from charity.models import Disbursement
from tests.charity.factories import CharityFactory, UserFactory, available_money, charity_reward
from tests.concurrency import run_together
from wallet.invariants import ledger_violations
from wallet.models import AccountKind, JournalKind, JournalTransaction
from wallet.services import platform_account

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)  # disburses November 2026


class Crash(Exception):
    """A process dying at an awkward moment."""


@pytest.fixture(autouse=True)
def fake_stripe(settings):
    settings.STRIPE_PROVIDER = "fake"
    FakeStripeGateway.reset()
    yield FakeStripeGateway
    FakeStripeGateway.reset()


def _owed_charity(amount: int = 123_400, currency: str = "NOK", **kwargs):
    charity = CharityFactory(**kwargs)
    user = UserFactory()
    available_money(user, amount, currency)
    services.donation_make(
        user=user, charity_id=charity.pk, amount_minor=amount, currency=currency, idempotency_key=f"d{charity.pk}"
    )
    return charity


def _transfers():
    """Distinct transfers Stripe made: the fake derives a transfer's id from its key, as Stripe dedupes by key."""
    return {call.idempotency_key: call.params for call in FakeStripeGateway.calls("transfer_create")}


def _run(times: int = 1):
    for _ in range(times):
        with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
            tasks.disbursements_monthly()
        tasks.disbursements_retry()


def _assert_paid_once(charity, amount: int, currency: str = "NOK"):
    [disbursement] = Disbursement.objects.filter(charity=charity)
    assert disbursement.status == Disbursement.Status.PAID
    assert disbursement.period == date(2026, 11, 1)
    assert disbursement.amount_minor == amount
    transfers = [params for key, params in _transfers().items() if key == disbursement.idempotency_key]
    assert transfers == [
        {
            "amount": amount,
            "currency": currency.lower(),
            "destination": charity.stripe_account_id,
            "metadata": {"disbursement": str(disbursement.pk), "charity": str(charity.pk), "period": "2026-11"},
        }
    ]
    assert disbursement.stripe_transfer_id == "tr_fake_" + FakeStripeGateway._digest(disbursement.idempotency_key)
    assert selectors.charity_payable_account(charity_id=charity.pk, currency=currency).balance == 0
    assert platform_account(kind=AccountKind.PAYOUTS_IN_TRANSIT, currency=currency).balance == 0
    settles = JournalTransaction.objects.filter(idempotency_key=f"{disbursement.idempotency_key}:settle")
    assert settles.count() == 1
    assert ledger_violations() == []
    # Disbursing is not giving: the charity's impact is what it was given, before and after.
    assert selectors.charity_impact(charity=charity).given == {currency: amount}


def test_the_monthly_run_pays_each_charity_what_it_is_owed_per_currency():
    desks = _owed_charity(123_400)
    books = _owed_charity(5_000, currency="EUR")
    no_account = _owed_charity(7_000, stripe_account_id="")
    nothing_owed = CharityFactory()

    _run()

    _assert_paid_once(desks, 123_400)
    _assert_paid_once(books, 5_000, currency="EUR")
    assert not Disbursement.objects.filter(charity__in=[no_account, nothing_owed]).exists()
    assert selectors.charity_owed(charity=no_account) == {"NOK": 7_000}


def test_running_twice_in_a_month_pays_once_and_new_money_waits_for_next_month():
    charity = _owed_charity(10_000)
    _run()
    user = UserFactory()
    available_money(user, 2_500)
    services.donation_make(user=user, charity_id=charity.pk, amount_minor=2_500, currency="NOK", idempotency_key="late")

    _run(times=2)

    [disbursement] = Disbursement.objects.filter(charity=charity)
    assert disbursement.amount_minor == 10_000
    assert len(_transfers()) == 1
    assert selectors.charity_owed(charity=charity) == {"NOK": 2_500}


def test_crash_inside_step_one_leaves_nothing_behind_and_the_rerun_pays():
    charity = _owed_charity(50_000)
    with mock.patch("charity.services.disbursements.transaction_post", side_effect=Crash), pytest.raises(Crash):
        _run()
    assert not Disbursement.objects.exists()
    assert selectors.charity_owed(charity=charity) == {"NOK": 50_000}

    _run()

    _assert_paid_once(charity, 50_000)


def test_crash_between_step_one_and_the_call_is_sent_by_the_retry():
    charity = _owed_charity(50_000)
    with mock.patch("charity.tasks._send", side_effect=Crash), pytest.raises(Crash):
        _run()
    [disbursement] = Disbursement.objects.all()
    assert disbursement.status == Disbursement.Status.PROCESSING
    assert _transfers() == {}
    # The money is neither owed to the charity twice nor lost: it sits in transit.
    assert selectors.charity_owed(charity=charity) == {"NOK": 0}
    assert platform_account(kind=AccountKind.PAYOUTS_IN_TRANSIT, currency="NOK").balance == 50_000

    _run()

    _assert_paid_once(charity, 50_000)


@pytest.mark.parametrize("after_call", [False, True], ids=["before-stripe-acts", "response-lost"])
def test_a_retryable_stripe_failure_is_sent_again_with_the_same_key(fake_stripe, after_call):
    charity = _owed_charity(50_000)
    fake_stripe.fail_next("transfer_create", retryable=True, after_call=after_call, times=2)

    _run()  # the monthly call and the hourly retry both fail
    disbursement = Disbursement.objects.get()
    assert (disbursement.status, disbursement.attempts) == (Disbursement.Status.PROCESSING, 2)
    assert "Injected Stripe failure" in disbursement.last_error

    _run()

    _assert_paid_once(charity, 50_000)
    keys = [call.idempotency_key for call in fake_stripe.calls("transfer_create")]
    assert set(keys) == {disbursement.idempotency_key}
    assert Disbursement.objects.get().attempts == 3


def test_crash_after_the_call_before_recording_is_recorded_by_the_rerun():
    charity = _owed_charity(50_000)
    with mock.patch("charity.services.disbursements.disbursement_record_paid", side_effect=Crash), pytest.raises(Crash):
        _run()
    assert len(_transfers()) == 1
    assert Disbursement.objects.get().status == Disbursement.Status.PROCESSING

    _run()

    _assert_paid_once(charity, 50_000)


def test_crash_inside_recording_rolls_the_settlement_back_and_the_rerun_records_once():
    charity = _owed_charity(50_000)
    original_save = Disbursement.save

    def save_then_crash(self, *args, **kwargs):
        if self.status == Disbursement.Status.PAID:
            raise Crash
        return original_save(self, *args, **kwargs)

    with mock.patch.object(Disbursement, "save", save_then_crash), pytest.raises(Crash):
        _run()
    assert not JournalTransaction.objects.filter(idempotency_key__endswith=":settle").exists()

    _run()

    _assert_paid_once(charity, 50_000)


def test_a_refusal_fails_the_disbursement_and_gives_the_money_back_to_the_charity(fake_stripe):
    charity = _owed_charity(50_000)
    fake_stripe.fail_next("transfer_create", retryable=False, message="No such destination")

    _run(times=2)

    disbursement = Disbursement.objects.get()
    assert disbursement.status == Disbursement.Status.FAILED
    assert disbursement.last_error == "No such destination"
    assert selectors.charity_owed(charity=charity) == {"NOK": 50_000}
    assert platform_account(kind=AccountKind.PAYOUTS_IN_TRANSIT, currency="NOK").balance == 0
    assert _transfers() == {}
    assert ledger_violations() == []
    # Next month the money goes out again under a new key.
    with mock.patch("django.utils.timezone.localdate", return_value=date(2027, 1, 1)):
        tasks.disbursements_monthly()
    assert Disbursement.objects.filter(status=Disbursement.Status.PAID, period=date(2026, 12, 1)).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_open_one_disbursement_and_make_one_transfer():
    charity = _owed_charity(75_000)

    def work(_index: int):
        with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
            return tasks.disbursements_monthly()

    results = run_together(work, threads=6)

    assert not [r for r in results if isinstance(r, Exception)]
    _assert_paid_once(charity, 75_000)
    assert JournalTransaction.objects.filter(kind=JournalKind.DONATION_DISBURSEMENT).count() == 2  # out + settle


def test_charity_rewards_are_disbursed_too():
    charity = CharityFactory()
    charity_reward(charity=charity, user=UserFactory(), amount=8_000, offer_id=1, purchase_id=1)

    _run()

    _assert_paid_once(charity, 8_000)


def test_an_unexpected_error_is_raised_and_leaves_the_disbursement_processing():
    charity = _owed_charity(1_000)
    services.disbursement_open(charity_id=charity.pk, currency="NOK", period=TODAY)
    disbursement = Disbursement.objects.get()

    with (
        mock.patch.object(FakeStripeGateway, "transfer_create", side_effect=StripeGatewayError("down", retryable=True)),
        pytest.raises(StripeGatewayError),
    ):
        services.disbursement_send(disbursement_id=disbursement.pk)

    assert Disbursement.objects.get().status == Disbursement.Status.PROCESSING
