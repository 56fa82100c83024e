"""A crash anywhere in a payout never pays twice and never loses money.

Each test kills the flow at one step (an exception injected at a named crash point, or a
Stripe response lost after Stripe acted), then runs the flow again, and checks: one
transfer and one payout at Stripe (every retry sent the stored idempotency key and got
Stripe's first object back), each ledger key posted once, and the consumer's money either
in transit or back in the wallet — never both, never neither.

The real SDK talks HTTP to the local stub (tests/stripe_stub.py), which keeps Stripe's
idempotency: a replayed key gets the first response.
"""

import pytest

from cashback import inbox
from cashback.models import WebhookEvent
from tests.concurrency import run_together
from tests.webhooks import STRIPE_CONNECT_SECRET, STRIPE_SECRET, post_stripe
from wallet import payouts
from wallet.models import AccountKind, JournalTransaction, Payout, PayoutStatus
from wallet.payouts import payout_process, payout_request

from .payout_support import available, ledger_keys, payout_event, platform_balance, ready_consumer

pytestmark = pytest.mark.django_db


class Crash(Exception):
    """The injected failure: a worker dying at this point."""


@pytest.fixture(autouse=True)
def payout_settings(settings, stripe_stub):
    settings.PAYOUT_MINIMUM_MINOR = 10000
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 0
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET


@pytest.fixture
def crash_at(monkeypatch):
    """``crash_at("after_transfer")``: the next time the flow reaches that step, it raises Crash."""
    armed: set[str] = set()

    def crash_point(step: str) -> None:
        if step in armed:
            armed.discard(step)
            raise Crash(step)

    monkeypatch.setattr(payouts, "_crash_point", crash_point)
    return armed.add


def assert_paid_once_at_stripe(stub, payout: Payout) -> None:
    transfers = stub.requests_to("POST", "/v1/transfers")
    payouts_made = stub.requests_to("POST", "/v1/payouts")
    assert {r.headers["Idempotency-Key"] for r in transfers} == {f"payout:{payout.pk}:transfer"}
    assert {r.headers["Idempotency-Key"] for r in payouts_made} == {f"payout:{payout.pk}:payout"}
    # The first request of each key did the work; every later one was Stripe's replay.
    assert [r.replayed for r in transfers if r.form] == [False] + [True] * (len(transfers) - 1)
    assert [r.replayed for r in payouts_made] == [False] + [True] * (len(payouts_made) - 1)
    for request in transfers:
        assert request.form == {
            "amount": str(payout.amount),
            "currency": payout.currency.lower(),
            "destination": payout.stripe_account_id,
            "metadata[payout]": str(payout.pk),
            "metadata[user]": str(payout.user_id),
        }
    for request in payouts_made:
        assert request.headers["Stripe-Account"] == payout.stripe_account_id


@pytest.mark.parametrize("step", ["before_transfer", "after_transfer", "before_payout", "after_payout"])
def test_a_crash_while_processing_then_a_rerun_pays_once(stripe_stub, crash_at, step):
    user = ready_consumer(balance=50000)
    payout = payout_request(user=user, amount_minor=15000, currency="NOK")
    crash_at(step)

    with pytest.raises(Crash):
        payout_process(payout_id=payout.pk)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PROCESSING
    assert not payout.stripe_payout_id
    assert available(user) == 35000  # in transit, not lost and not back

    payout_process(payout_id=payout.pk)  # the retry (Celery, or the sweep)
    payout_process(payout_id=payout.pk)  # and a duplicate delivery of the task

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PROCESSING
    assert payout.stripe_transfer_id.startswith("tr_stub")
    assert payout.stripe_payout_id.startswith("po_stub")
    assert_paid_once_at_stripe(stripe_stub, payout)
    first_transfer = stripe_stub.requests_to("POST", "/v1/transfers")
    assert len(first_transfer) == (2 if step in ("after_transfer",) else 1)
    assert ledger_keys(payout) == [f"payout:{payout.pk}:request"]
    assert available(user) == 35000


@pytest.mark.parametrize("path", ["/v1/transfers", "/v1/payouts"])
def test_a_response_lost_after_stripe_acted_is_recovered_by_the_same_key(stripe_stub, path):
    user = ready_consumer(balance=50000)
    payout = payout_request(user=user, amount_minor=15000, currency="NOK")
    stripe_stub.fail_next("POST", path, status=500, after_processing=True)

    with pytest.raises(payouts.StripeGatewayError) as caught:
        payout_process(payout_id=payout.pk)
    assert caught.value.retryable is True

    payout_process(payout_id=payout.pk)

    payout.refresh_from_db()
    assert payout.stripe_payout_id
    requests = stripe_stub.requests_to("POST", path)
    assert len(requests) == 2
    assert requests[0].headers["Idempotency-Key"] == requests[1].headers["Idempotency-Key"]
    assert requests[1].replayed is True  # Stripe returned the object it made the first time
    assert_paid_once_at_stripe(stripe_stub, payout)


@pytest.mark.parametrize("step", ["request_before_ledger", "request_after_ledger"])
def test_a_crash_inside_the_request_leaves_nothing(stripe_stub, crash_at, step):
    user = ready_consumer(balance=50000)
    journals = JournalTransaction.objects.count()
    crash_at(step)

    with pytest.raises(Crash):
        payout_request(user=user, amount_minor=15000, currency="NOK")

    assert Payout.objects.count() == 0
    assert JournalTransaction.objects.count() == journals
    assert available(user) == 50000
    assert stripe_stub.requests == []


def _deliver_crashing(client, django_capture_on_commit_callbacks, event, *, connect=True) -> WebhookEvent:
    with django_capture_on_commit_callbacks(execute=True):
        response = post_stripe(event, connect=connect)
    assert response.status_code in (200, 202)
    return WebhookEvent.objects.get(event_id=event["id"])


@pytest.mark.parametrize(
    ("fixture", "step", "final", "keys"),
    [
        ("stripe_connect_payout_paid", "paid_before_ledger", PayoutStatus.PAID, ["paid", "request"]),
        ("stripe_connect_payout_paid", "paid_after_ledger", PayoutStatus.PAID, ["paid", "request"]),
        ("stripe_connect_payout_failed", "fail_before_ledger", PayoutStatus.FAILED, ["request", "return"]),
        ("stripe_connect_payout_failed", "fail_after_ledger", PayoutStatus.FAILED, ["request", "return"]),
    ],
)
def test_a_crash_while_handling_the_webhook_then_the_retry_settles_once(
    client, django_capture_on_commit_callbacks, stripe_stub, crash_at, fixture, step, final, keys
):
    user = ready_consumer(balance=50000)
    with django_capture_on_commit_callbacks(execute=True):
        payout = payout_request(user=user, amount_minor=15000, currency="NOK")
    payout.refresh_from_db()
    transit = platform_balance(AccountKind.PAYOUTS_IN_TRANSIT)
    event = payout_event(fixture, payout)
    crash_at(step)

    stored = _deliver_crashing(client, django_capture_on_commit_callbacks, event)
    stored.refresh_from_db()
    assert stored.status == "failed"  # the handler's work was rolled back with it
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PROCESSING
    assert ledger_keys(payout) == [f"payout:{payout.pk}:request"]

    with django_capture_on_commit_callbacks(execute=True):
        inbox.event_process(event_id=stored.pk)  # the inbox's retry
        inbox.event_process(event_id=stored.pk)  # and once more: nothing happens
    with django_capture_on_commit_callbacks(execute=True):
        post_stripe(event, connect=True)  # Stripe redelivers: a duplicate

    payout.refresh_from_db()
    assert payout.status == final
    assert ledger_keys(payout) == [f"payout:{payout.pk}:{key}" for key in keys]
    assert platform_balance(AccountKind.PAYOUTS_IN_TRANSIT) == transit - 15000
    assert available(user) == (35000 if final == PayoutStatus.PAID else 50000)
    if final == PayoutStatus.FAILED:
        [reversal] = stripe_stub.requests_to("POST", f"/v1/transfers/{payout.stripe_transfer_id}/reversals")
        assert reversal.headers["Idempotency-Key"] == f"payout:{payout.pk}:reversal"


def test_before_the_webhook_arrives_nothing_is_sent_again(settings, stripe_stub):
    """Processing finished but payout.paid is days away: the sweep and reruns leave it alone."""
    settings.PAYOUT_RESUME_AFTER_SECONDS = 0
    user = ready_consumer(balance=50000)
    payout = payout_request(user=user, amount_minor=15000, currency="NOK")
    payout_process(payout_id=payout.pk)

    assert payouts.payouts_resume_due() == 0
    payout_process(payout_id=payout.pk)

    assert len(stripe_stub.requests_to("POST", "/v1/transfers")) == 1
    assert len(stripe_stub.requests_to("POST", "/v1/payouts")) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_one_payout_pay_once(stripe_stub):
    user = ready_consumer(balance=50000)
    payout = payout_request(user=user, amount_minor=15000, currency="NOK")

    results = run_together(lambda _: payout_process(payout_id=payout.pk).stripe_payout_id, threads=6)

    payout.refresh_from_db()
    errors = [r for r in results if isinstance(r, Exception)]
    # A run may meet a concurrent request with the same key still in flight (Stripe's 409): retried later.
    assert all(isinstance(e, payouts.StripeGatewayError) and e.retryable for e in errors), errors
    payout_process(payout_id=payout.pk)
    payout.refresh_from_db()
    assert payout.stripe_payout_id
    assert_paid_once_at_stripe(stripe_stub, payout)
    assert ledger_keys(payout) == [f"payout:{payout.pk}:request"]
    assert available(user) == 35000
