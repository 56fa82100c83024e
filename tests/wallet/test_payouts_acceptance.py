"""Acceptance (issue 6): end to end on PostgreSQL with a real Celery worker on Redis.

A simulated card purchase earns cashback, matures, the consumer asks for a payout through the
API, the worker makes Stripe's requests (the real SDK, intercepted by the local stub server),
Stripe's signed ``payout.paid`` arrives at /webhooks/stripe/connect/ and the wallet shows the
money paid out; a second payout meets ``payout.failed`` and the money comes back, once.
"""

import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from campaigns.services import purchase_event_apply, rewards_mature_due
from cashback.celery import app
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import fund_merchant
from tests.webhooks import STRIPE_CONNECT_SECRET, STRIPE_SECRET, post_stripe
from wallet.invariants import ledger_violations
from wallet.models import Payout, PayoutStatus

from .payout_support import ledger_keys, payout_event, ready_consumer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def worker(monkeypatch):
    """A real worker on Redis, on a queue of its own: every task this test sends goes there."""
    queue = f"test-payouts-{uuid.uuid4().hex}"
    original = app.amqp.router.route

    def route(options, name, args=(), kwargs=None, task_type=None):
        return original({**(options or {}), "queue": queue}, name, args, kwargs, task_type)

    monkeypatch.setattr(app.amqp.router, "route", route)
    app.conf.task_always_eager = False
    try:
        with start_worker(app, queues=[queue], perform_ping_check=False, pool="solo", loglevel="WARNING"):
            yield
    finally:
        app.conf.task_always_eager = True


def wait_for(predicate, *, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def payout_in(status: str, payout_id: int) -> Payout | None:
    payout = Payout.objects.get(pk=payout_id)
    return payout if payout.status == status and (status != "processing" or payout.stripe_payout_id) else None


def wallet(client) -> dict:
    [nok] = [b for b in client.get("/api/v1/wallet/").json()["balances"] if b["currency"] == "NOK"]
    return nok


@pytest.mark.django_db(transaction=True)
def test_a_matured_purchase_is_paid_out_and_a_failed_payout_comes_back(client, settings, stripe_stub, worker):
    settings.PAYOUT_MINIMUM_MINOR = 1000
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 0
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET

    # given a consumer with payouts set up whose 10 % cashback on a 2 000 NOK purchase matured
    offer = OfferFactory(percent=Decimal("10"), return_period_days=14)
    fund_merchant(offer.merchant, 1_000_000)
    user = ready_consumer(balance=0)
    for kind in ("auth", "clearing"):
        purchase_event_apply(
            source="card",
            event_id=f"evt_{kind}_{user.pk}",
            kind=kind,
            external_id=f"txn_{user.pk}",
            amount_minor=200_000,
            currency="NOK",
            occurred_at=timezone.now() - timedelta(minutes=5),
            user=user,
            merchant=offer.merchant,
        )
    assert rewards_mature_due(now=timezone.now() + timedelta(days=15)) >= 1
    client.force_login(user)
    assert wallet(client)["available"] == "200.00"

    # when the consumer asks for a payout of 150.00 NOK
    response = client.post(
        "/api/v1/payouts/", data={"amount": "150.00", "currency": "NOK"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    payout = wait_for(lambda: payout_in("processing", response.json()["id"]))

    # then the worker made exactly these Stripe requests
    [transfer] = stripe_stub.requests_to("POST", "/v1/transfers")
    assert transfer.form == {
        "amount": "15000",
        "currency": "nok",
        "destination": payout.stripe_account_id,
        "metadata[payout]": str(payout.pk),
        "metadata[user]": str(user.pk),
    }
    assert transfer.headers["Idempotency-Key"] == f"payout:{payout.pk}:transfer"
    [payout_request] = stripe_stub.requests_to("POST", "/v1/payouts")
    assert payout_request.form == {
        "amount": "15000",
        "currency": "nok",
        "metadata[payout]": str(payout.pk),
        "metadata[user]": str(user.pk),
    }
    assert payout_request.headers["Stripe-Account"] == payout.stripe_account_id
    assert payout_request.headers["Idempotency-Key"] == f"payout:{payout.pk}:payout"
    assert wallet(client)["available"] == "50.00"

    # when Stripe's signed payout.paid arrives
    paid = post_stripe(payout_event("stripe_connect_payout_paid", payout), connect=True)
    assert paid.status_code in (200, 202)
    wait_for(lambda: payout_in("paid", payout.pk))

    # then the wallet shows it paid out
    figures = wallet(client)
    assert (figures["available"], figures["paid_out"]) == ("50.00", "150.00")
    assert ledger_keys(payout) == [f"payout:{payout.pk}:paid", f"payout:{payout.pk}:request"]

    # and a second payout that fails comes back to the wallet, once
    response = client.post(
        "/api/v1/payouts/", data={"amount": "50.00", "currency": "NOK"}, content_type="application/json"
    )
    second = wait_for(lambda: payout_in("processing", response.json()["id"]))
    assert wallet(client)["available"] == "0.00"
    failed_event = payout_event("stripe_connect_payout_failed", second)
    for _ in range(2):  # Stripe may deliver twice
        assert post_stripe(failed_event, connect=True).status_code in (200, 202)
    wait_for(lambda: payout_in("failed", second.pk))
    wait_for(lambda: Payout.objects.get(pk=second.pk).stripe_reversal_id)

    figures = wallet(client)
    assert (figures["available"], figures["paid_out"]) == ("50.00", "150.00")
    assert ledger_keys(second) == [f"payout:{second.pk}:request", f"payout:{second.pk}:return"]
    [reversal] = stripe_stub.requests_to("POST", f"/v1/transfers/{second.stripe_transfer_id}/reversals")
    assert reversal.headers["Idempotency-Key"] == f"payout:{second.pk}:reversal"
    assert Payout.objects.get(pk=second.pk).status == PayoutStatus.FAILED
    assert ledger_violations() == []
