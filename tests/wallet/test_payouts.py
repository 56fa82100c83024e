"""Payouts: requesting, processing through Stripe (fake), settling by webhooks, staff review."""

import pytest
from django.db import connection

from cashback.keyed_ids import external_key
from cashback.models import WebhookEvent
from tests.webhooks import STRIPE_CONNECT_SECRET, STRIPE_SECRET, post_stripe
from wallet import payouts
from wallet.errors import (
    IdempotencyConflictError,
    InvalidAmountError,
    PayoutAccountNotReadyError,
    PayoutBelowMinimumError,
    PayoutExceedsBalanceError,
    PayoutNotHeldError,
    UnknownCurrencyError,
)
from wallet.models import AccountKind, JournalTransaction, Payout, PayoutStatus
from wallet.payouts import payout_process, payout_reject, payout_release, payout_request, payouts_resume_due

from .factories import UserFactory
from .payout_support import available, ledger_keys, payout_event, platform_balance, ready_consumer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def payout_settings(settings, fake_stripe):
    settings.STRIPE_PROVIDER = "fake"
    settings.PAYOUT_MINIMUM_MINOR = 10000
    settings.PAYOUT_MINIMUM_MINOR_BY_CURRENCY = {"EUR": 1000}
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 100000
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET
    return settings


def request_processed(django_capture_on_commit_callbacks, user, amount=15000, currency="NOK") -> Payout:
    with django_capture_on_commit_callbacks(execute=True):
        payout = payout_request(user=user, amount_minor=amount, currency=currency)
    payout.refresh_from_db()
    return payout


def deliver(client, django_capture_on_commit_callbacks, event, *, connect=True):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_stripe(event, connect=connect)
    assert response.status_code in (200, 202), response.content
    return response


# --- Requesting and processing ---------------------------------------------------------


def test_a_request_moves_the_money_to_transit_and_makes_one_transfer_and_one_payout(
    django_capture_on_commit_callbacks, fake_stripe
):
    user = ready_consumer(balance=50000)
    transit_before = platform_balance(AccountKind.PAYOUTS_IN_TRANSIT)

    payout = request_processed(django_capture_on_commit_callbacks, user, 15000)

    assert payout.status == PayoutStatus.PROCESSING
    assert available(user) == 35000
    assert platform_balance(AccountKind.PAYOUTS_IN_TRANSIT) - transit_before == 15000
    assert ledger_keys(payout) == [f"payout:{payout.pk}:request"]
    [transfer_call] = fake_stripe.calls("transfer_create")
    assert transfer_call.idempotency_key == f"payout:{payout.pk}:transfer"
    assert transfer_call.params["amount"] == 15000
    assert transfer_call.params["currency"] == "nok"
    assert transfer_call.params["destination"] == payout.stripe_account_id
    [payout_call] = fake_stripe.calls("payout_create")
    assert payout_call.idempotency_key == f"payout:{payout.pk}:payout"
    assert payout_call.params["stripe_account"] == payout.stripe_account_id
    assert payout.stripe_transfer_id.startswith("tr_")
    assert payout.stripe_payout_id.startswith("po_")
    assert [(h.from_status, h.to_status) for h in payout.history.all()] == [
        ("", "requested"),
        ("requested", "processing"),
    ]


def test_processing_again_after_success_calls_stripe_no_more(django_capture_on_commit_callbacks, fake_stripe):
    payout = request_processed(django_capture_on_commit_callbacks, ready_consumer())

    payout_process(payout_id=payout.pk)
    payout_process(payout_id=payout.pk)

    assert len(fake_stripe.calls("transfer_create")) == 1
    assert len(fake_stripe.calls("payout_create")) == 1


def _state(user):
    return (
        Payout.objects.count(),
        JournalTransaction.objects.count(),
        available(user),
        platform_balance(AccountKind.PAYOUTS_IN_TRANSIT),
    )


@pytest.mark.parametrize(
    ("amount", "currency", "error", "code"),
    [
        (9999, "NOK", PayoutBelowMinimumError, "payout_below_minimum"),
        (50001, "NOK", PayoutExceedsBalanceError, "insufficient_funds"),
        (0, "NOK", InvalidAmountError, "invalid_amount"),
        (-5, "NOK", InvalidAmountError, "invalid_amount"),
        (20000, "USD", UnknownCurrencyError, "unknown_currency"),
        (999, "EUR", PayoutBelowMinimumError, "payout_below_minimum"),  # EUR has its own minimum
        (1000, "EUR", PayoutExceedsBalanceError, "insufficient_funds"),  # nothing in EUR
    ],
)
def test_bad_requests_are_refused_and_change_nothing(amount, currency, error, code, fake_stripe):
    user = ready_consumer(balance=50000)
    before = _state(user)

    with pytest.raises(error) as caught:
        payout_request(user=user, amount_minor=amount, currency=currency)

    assert caught.value.code == code
    assert 400 <= caught.value.http_status < 500
    assert _state(user) == before
    assert fake_stripe.calls() == []


def test_the_whole_available_balance_can_be_paid_out_but_not_a_held_part(django_capture_on_commit_callbacks):
    from wallet.services import account_get_or_create, hold_place, platform_account

    user = ready_consumer(balance=30000)
    account = account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK")
    from django.utils import timezone

    hold_place(
        idempotency_key="test-hold",
        account=account,
        counterparty=platform_account(kind=AccountKind.BREAKAGE, currency="NOK"),
        amount=10000,
        expires_at=timezone.now() + timezone.timedelta(minutes=5),
    )

    with pytest.raises(PayoutExceedsBalanceError) as caught:
        payout_request(user=user, amount_minor=20001, currency="NOK")
    assert "200.00 NOK" in caught.value.message

    payout = request_processed(django_capture_on_commit_callbacks, user, 20000)
    assert payout.status == PayoutStatus.PROCESSING
    assert available(user) == 0


@pytest.mark.parametrize("setup", ["no_account", "not_enabled"])
def test_without_onboarding_there_is_no_payout(setup):
    user = UserFactory() if setup == "no_account" else ready_consumer(ready=False)
    if setup == "no_account":
        from tests.wallet.factories import fund
        from wallet.services import account_get_or_create

        fund(account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK"), 50000)
    before = _state(user)

    with pytest.raises(PayoutAccountNotReadyError) as caught:
        payout_request(user=user, amount_minor=20000, currency="NOK")

    assert caught.value.http_status == 409
    assert _state(user) == before


def test_a_client_key_makes_a_resent_request_return_the_first_payout():
    user = ready_consumer()
    first = payout_request(user=user, amount_minor=15000, currency="NOK", client_key="app-1")
    again = payout_request(user=user, amount_minor=15000, currency="NOK", client_key="app-1")
    assert again.pk == first.pk
    assert available(user) == 35000
    with pytest.raises(IdempotencyConflictError):
        payout_request(user=user, amount_minor=16000, currency="NOK", client_key="app-1")


# --- Stripe refusals and retryable errors ----------------------------------------------


def test_a_retryable_error_leaves_the_payout_processing_and_the_retry_finishes_it(
    django_capture_on_commit_callbacks, fake_stripe
):
    user = ready_consumer()
    payout = payout_request(user=user, amount_minor=15000, currency="NOK")
    fake_stripe.fail_next("payout_create", retryable=True)

    with pytest.raises(payouts.StripeGatewayError):
        payout_process(payout_id=payout.pk)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PROCESSING
    assert payout.stripe_transfer_id and not payout.stripe_payout_id

    payout_process(payout_id=payout.pk)
    payout.refresh_from_db()
    assert payout.stripe_payout_id
    assert len(fake_stripe.calls("transfer_create")) == 1


def test_a_refused_transfer_fails_the_payout_and_returns_the_money(django_capture_on_commit_callbacks, fake_stripe):
    user = ready_consumer(balance=50000)
    fake_stripe.fail_next("transfer_create", retryable=False, message="Your balance is too low.")

    payout = request_processed(django_capture_on_commit_callbacks, user, 15000)

    assert payout.status == PayoutStatus.FAILED
    assert payout.failure_message == "Your balance is too low."
    assert available(user) == 50000
    assert ledger_keys(payout) == [f"payout:{payout.pk}:request", f"payout:{payout.pk}:return"]
    assert fake_stripe.calls("payout_create") == []
    assert fake_stripe.calls("transfer_reversal_create") == []


def test_a_refused_payout_reverses_the_transfer_and_returns_the_money(django_capture_on_commit_callbacks, fake_stripe):
    user = ready_consumer(balance=50000)
    fake_stripe.fail_next("payout_create", retryable=False, message="No bank account.")

    payout = request_processed(django_capture_on_commit_callbacks, user, 15000)

    assert payout.status == PayoutStatus.FAILED
    assert available(user) == 50000
    [reversal] = fake_stripe.calls("transfer_reversal_create")
    assert reversal.idempotency_key == f"payout:{payout.pk}:reversal"
    assert reversal.params["transfer"] == payout.stripe_transfer_id
    assert payout.stripe_reversal_id.startswith("trr_")
    assert payout.reversal_needed is False


# --- Webhooks ------------------------------------------------------------------------


def test_payout_paid_settles_it_once(client, django_capture_on_commit_callbacks):
    user = ready_consumer(balance=50000)
    payout = request_processed(django_capture_on_commit_callbacks, user, 15000)
    transit = platform_balance(AccountKind.PAYOUTS_IN_TRANSIT)
    settlement = platform_balance(AccountKind.SETTLEMENT)
    event = payout_event("stripe_connect_payout_paid", payout)

    deliver(client, django_capture_on_commit_callbacks, event)
    deliver(client, django_capture_on_commit_callbacks, event)  # redelivered: a duplicate
    deliver(client, django_capture_on_commit_callbacks, payout_event("stripe_connect_payout_paid", payout))

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert payout.paid_at is not None
    assert platform_balance(AccountKind.PAYOUTS_IN_TRANSIT) == transit - 15000
    assert platform_balance(AccountKind.SETTLEMENT) == settlement + 15000  # money left the platform
    assert ledger_keys(payout) == [f"payout:{payout.pk}:paid", f"payout:{payout.pk}:request"]
    assert available(user) == 35000
    assert payout.history.last().stripe_event_id == external_key(namespace="stripe:event", value=event["id"])
    assert user.notifications.filter(kind="payout_paid").count() == 1


@pytest.mark.parametrize("event_type", ["payout.failed", "payout.canceled"])
def test_payout_failed_returns_the_money_once_and_reverses_the_transfer(
    client, django_capture_on_commit_callbacks, fake_stripe, event_type
):
    user = ready_consumer(balance=50000)
    payout = request_processed(django_capture_on_commit_callbacks, user, 15000)
    event = payout_event("stripe_connect_payout_failed", payout)
    event["type"] = event_type

    deliver(client, django_capture_on_commit_callbacks, event)
    deliver(client, django_capture_on_commit_callbacks, payout_event("stripe_connect_payout_failed", payout))
    # Stripe then tells the platform the transfer came back: nothing more to return.
    deliver(client, django_capture_on_commit_callbacks, payout_event("stripe_transfer_reversed", payout), connect=False)

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
    assert available(user) == 50000
    assert ledger_keys(payout) == [f"payout:{payout.pk}:request", f"payout:{payout.pk}:return"]
    assert len(fake_stripe.calls("transfer_reversal_create")) == 1
    assert payout.reversal_needed is False
    assert user.notifications.filter(kind="payout_failed").count() == 1


def test_transfer_reversed_fails_a_processing_payout_without_another_reversal(
    client, django_capture_on_commit_callbacks, fake_stripe
):
    user = ready_consumer(balance=50000)
    payout = request_processed(django_capture_on_commit_callbacks, user, 15000)

    deliver(client, django_capture_on_commit_callbacks, payout_event("stripe_transfer_reversed", payout), connect=False)

    payout.refresh_from_db()
    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, "transfer_reversed")
    assert available(user) == 50000
    assert fake_stripe.calls("transfer_reversal_create") == []


def test_a_paid_payout_that_bounces_comes_back_from_settlement(client, django_capture_on_commit_callbacks):
    user = ready_consumer(balance=50000)
    payout = request_processed(django_capture_on_commit_callbacks, user, 15000)
    deliver(client, django_capture_on_commit_callbacks, payout_event("stripe_connect_payout_paid", payout))
    transit = platform_balance(AccountKind.PAYOUTS_IN_TRANSIT)
    settlement = platform_balance(AccountKind.SETTLEMENT)

    deliver(client, django_capture_on_commit_callbacks, payout_event("stripe_connect_payout_failed", payout))

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
    assert available(user) == 50000
    assert platform_balance(AccountKind.PAYOUTS_IN_TRANSIT) == transit
    assert platform_balance(AccountKind.SETTLEMENT) == settlement - 15000  # it came back


def test_a_late_paid_event_after_a_failure_changes_nothing(client, django_capture_on_commit_callbacks):
    user = ready_consumer(balance=50000)
    payout = request_processed(django_capture_on_commit_callbacks, user, 15000)
    deliver(client, django_capture_on_commit_callbacks, payout_event("stripe_connect_payout_failed", payout))

    deliver(client, django_capture_on_commit_callbacks, payout_event("stripe_connect_payout_paid", payout))

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
    assert ledger_keys(payout) == [f"payout:{payout.pk}:request", f"payout:{payout.pk}:return"]
    assert available(user) == 50000


def test_events_about_other_payouts_are_ignored(client, django_capture_on_commit_callbacks):
    user = ready_consumer(balance=50000)
    payout = request_processed(django_capture_on_commit_callbacks, user, 15000)
    other_account = payout_event("stripe_connect_payout_paid", payout)
    other_account["account"] = "acct_someone_else"
    unknown = payout_event("stripe_connect_payout_paid", payout)
    unknown["data"]["object"].update(id="po_merchants_own", metadata={})

    for event in (other_account, unknown):
        deliver(client, django_capture_on_commit_callbacks, event)

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PROCESSING
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"ignored"}


def test_account_updated_keeps_the_capability_current_and_ignores_older_states(
    client, django_capture_on_commit_callbacks
):
    user = ready_consumer(ready=False, balance=0)
    account = user.payout_account
    event = payout_event_for_account(account.stripe_account_id, created=1795428000, enabled=True)
    deliver(client, django_capture_on_commit_callbacks, event)
    account.refresh_from_db()
    assert (account.payouts_enabled, account.details_submitted) == (True, True)

    older = payout_event_for_account(account.stripe_account_id, created=1795427000, enabled=False)
    deliver(client, django_capture_on_commit_callbacks, older)
    account.refresh_from_db()
    assert account.payouts_enabled is True

    newer = payout_event_for_account(account.stripe_account_id, created=1795429000, enabled=False)
    deliver(client, django_capture_on_commit_callbacks, newer)
    account.refresh_from_db()
    assert account.payouts_enabled is False


def payout_event_for_account(account_id: str, *, created: int, enabled: bool) -> dict:
    import uuid

    from .payout_support import load

    event = load("stripe_connect_account_updated")
    event.update(id=f"evt_{uuid.uuid4().hex}", account=account_id, created=created)
    event["data"]["object"].update(id=account_id, payouts_enabled=enabled)
    return event


# --- Staff review ----------------------------------------------------------------------


def test_a_payout_above_the_threshold_waits_for_review(django_capture_on_commit_callbacks, fake_stripe):
    user = ready_consumer(balance=300000)
    staff = UserFactory(is_staff=True)

    payout = request_processed(django_capture_on_commit_callbacks, user, 100001)
    assert payout.status == PayoutStatus.HELD
    assert available(user) == 199999  # reserved in transit while held
    assert fake_stripe.calls() == []

    with django_capture_on_commit_callbacks(execute=True):
        payout_release(payout_id=payout.pk, actor=staff)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PROCESSING
    assert payout.reviewed_by == staff
    assert len(fake_stripe.calls("payout_create")) == 1
    with pytest.raises(PayoutNotHeldError):
        payout_release(payout_id=payout.pk, actor=staff)


def test_a_rejected_payout_returns_the_money(django_capture_on_commit_callbacks, fake_stripe):
    user = ready_consumer(balance=300000)
    staff = UserFactory(is_staff=True)
    payout = request_processed(django_capture_on_commit_callbacks, user, 200000)

    payout_reject(payout_id=payout.pk, actor=staff, reason="Unusual activity")

    payout.refresh_from_db()
    assert (payout.status, payout.failure_code, payout.failure_message) == ("failed", "rejected", "Unusual activity")
    assert available(user) == 300000
    assert fake_stripe.calls() == []
    with pytest.raises(PayoutNotHeldError):
        payout_reject(payout_id=payout.pk, actor=staff)
    assert ledger_keys(payout) == [f"payout:{payout.pk}:request", f"payout:{payout.pk}:return"]


# --- The sweep ---------------------------------------------------------------------------


def test_a_payout_whose_task_was_lost_is_picked_up_by_the_sweep(settings, fake_stripe):
    settings.PAYOUT_RESUME_AFTER_SECONDS = 0
    user = ready_consumer()
    payout = payout_request(user=user, amount_minor=15000, currency="NOK")  # on-commit task never ran
    assert fake_stripe.calls() == []

    assert payouts_resume_due() == 1

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PROCESSING and payout.stripe_payout_id
    assert payouts_resume_due() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks")
def test_ledger_invariants_hold_after_the_flows(django_capture_on_commit_callbacks, client):
    from wallet.invariants import ledger_violations

    user = ready_consumer(balance=90000)
    paid = request_processed(django_capture_on_commit_callbacks, user, 15000)
    failed = request_processed(django_capture_on_commit_callbacks, user, 20000)
    deliver(client, django_capture_on_commit_callbacks, payout_event("stripe_connect_payout_paid", paid))
    deliver(client, django_capture_on_commit_callbacks, payout_event("stripe_connect_payout_failed", failed))

    assert ledger_violations() == []
    assert available(user) == 75000
