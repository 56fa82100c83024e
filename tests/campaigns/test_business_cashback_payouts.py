"""Business cashback (issue 21): automatic payout at month end, and blocked customers.

A business customer of a programme with ``auto_payout`` on is paid its available cashback for the
month just ended by the daily task, through the wallet's payout rails with the key
``auto:billing:<CUR>:<YYYY-MM>``; otherwise the run is skipped with the reason staff see. A blocked
customer earns no new business cashback. Events are real Stripe shapes (test_business_cashback)."""

import uuid
from datetime import datetime

import pytest
from django.test import TestCase

from accounts.blocking import user_block, user_unblock
from campaigns.models import AutoPayoutRun
from campaigns.services import rewards_mature_due
from campaigns.services.auto_payouts import auto_payout_for, auto_payouts_run
from tests.campaigns.lifecycle_helpers import assert_ledger_sound, consumer_balances
from tests.campaigns.test_business_cashback import OSLO, Business, at
from tests.webhooks import STRIPE_CONNECT_SECRET
from wallet.models import Payout, PayoutAccount
from wallet.payouts import payout_request

pytestmark = pytest.mark.django_db

AFTER_JANUARY = datetime(2025, 2, 2, 6, 10, tzinfo=OSLO)
JANUARY = AFTER_JANUARY.date().replace(month=1, day=1)


@pytest.fixture(autouse=True)
def _payout_settings(settings, fake_stripe):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = STRIPE_CONNECT_SECRET
    settings.TIME_ZONE = "Europe/Oslo"
    settings.STRIPE_PROVIDER = "fake"
    settings.PAYOUT_MINIMUM_MINOR = 500
    settings.PAYOUT_MINIMUM_MINOR_BY_CURRENCY = {}
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 0


def _connected(user, *, ready: bool = True) -> PayoutAccount:
    return PayoutAccount.objects.create(
        user=user, stripe_account_id=f"acct_{uuid.uuid4().hex[:12]}", payouts_enabled=ready, details_submitted=ready
    )


def _earning_business(*, amount: int = 100_000, auto: bool = True) -> Business:
    """A customer whose January invoice (1 % of ``amount``) was booked and has matured (available)."""
    business = Business()
    business.programme.auto_payout = auto
    business.programme.save(update_fields=["auto_payout"])
    business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=amount, paid=True))
    rewards_mature_due(now=AFTER_JANUARY)
    return business


def _run(now: datetime = AFTER_JANUARY):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return auto_payouts_run(now=now)


def test_the_month_end_pays_the_available_cashback_to_the_connected_account_once():
    business = _earning_business()
    _connected(business.user)
    assert consumer_balances(business.user)["available"] == 1000

    first, second = _run(), _run()

    [payout] = Payout.objects.filter(user=business.user)
    assert (payout.amount, payout.currency, payout.automatic) == (1000, "NOK", True)
    assert payout.client_key == "auto:billing:NOK:2025-01"
    assert payout.status == "processing" and payout.stripe_payout_id  # through the ordinary rails
    assert (first.paid, second.paid, second.skipped) == (1, 1, 0)
    run = AutoPayoutRun.objects.get(user=business.user)
    assert (run.status, run.payout_id, run.period) == ("paid", payout.pk, JANUARY)
    assert consumer_balances(business.user)["available"] == 0
    assert_ledger_sound()


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("no account", "Set up payouts"),
        ("account not ready", "Set up payouts"),
        ("blocked", "blocked"),
        ("zero balance", "No available cashback in NOK"),
        ("below the minimum", "The smallest payout is"),
    ],
)
def test_a_customer_who_cannot_be_paid_is_skipped_with_the_reason(case, reason, settings):
    business = _earning_business()
    if case != "no account":
        _connected(business.user, ready=case != "account not ready")
    if case == "blocked":
        user_block(user=business.user, actor=None, reason="Chargeback fraud")
    if case == "zero balance":
        payout_request(user=business.user, amount_minor=1000, currency="NOK")
    if case == "below the minimum":
        settings.PAYOUT_MINIMUM_MINOR = 5000

    summary = _run()

    run = AutoPayoutRun.objects.get(user=business.user)
    assert (summary.paid, summary.skipped, run.status) == (0, 1, "skipped")
    assert reason in run.reason
    assert not Payout.objects.filter(user=business.user, automatic=True).exists()
    assert_ledger_sound()


def test_a_skipped_customer_is_paid_by_a_later_run_once_its_account_is_ready():
    business = _earning_business()
    _run()
    assert AutoPayoutRun.objects.get(user=business.user).status == "skipped"

    _connected(business.user)
    _run(datetime(2025, 2, 3, 6, 10, tzinfo=OSLO))
    _run(datetime(2025, 2, 4, 6, 10, tzinfo=OSLO))

    run = AutoPayoutRun.objects.get(user=business.user)
    assert (run.status, run.attempts) == ("paid", 2)
    assert Payout.objects.filter(user=business.user).count() == 1


def test_without_the_setting_or_outside_the_window_nothing_is_paid():
    business = _earning_business(auto=False)
    _connected(business.user)
    other = _earning_business()
    _connected(other.user)

    assert _run(datetime(2025, 2, 9, 6, 10, tzinfo=OSLO)).period is None  # more than a week after
    summary = _run()

    assert Payout.objects.filter(user=business.user).count() == 0
    assert Payout.objects.filter(user=other.user).count() == 1
    assert summary.paid == 1


def test_two_runs_for_the_same_customer_and_month_pay_once_even_when_the_balance_grew():
    business = _earning_business()
    _connected(business.user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        auto_payout_for(user_id=business.user.pk, currency="NOK", period=JANUARY)
    AutoPayoutRun.objects.all().delete()  # as if the run's record were lost: the payout key still holds
    business.deliver(business.invoice("feb", start=at(2025, 2), end=at(2025, 3), amount=100_000, paid=True))
    rewards_mature_due(now=datetime(2025, 3, 2, tzinfo=OSLO))

    with TestCase.captureOnCommitCallbacks(execute=True):
        run = auto_payout_for(user_id=business.user.pk, currency="NOK", period=JANUARY)

    assert run.status == "paid"
    assert list(Payout.objects.filter(user=business.user).values_list("amount", flat=True)) == [1000]


def test_an_api_client_may_not_use_the_automatic_payout_keys(client):
    business = _earning_business()
    _connected(business.user)
    client.force_login(business.user)

    response = client.post(
        "/api/v1/payouts/",
        data={"amount": "10.00", "currency": "NOK"},
        content_type="application/json",
        headers={"Idempotency-Key": "auto:billing:NOK:2025-01"},
    )

    assert 400 <= response.status_code < 500
    assert "reserved" in response.json()["error"]["message"]
    assert not Payout.objects.exists()


# --- Blocked customers (accounts.blocking) ------------------------------------------------------------


def test_a_blocked_customer_earns_no_new_business_cashback():
    business = Business()
    user_block(user=business.user, actor=None, reason="Fraud review")

    stored = business.deliver(business.invoice("jan", start=at(2025, 1), end=at(2025, 2), amount=100_000, paid=True))

    assert stored.status == "processed"
    assert business.months() == {}
    assert consumer_balances(business.user)["pending"] == 0


def test_a_blocked_customers_month_is_not_raised_but_credits_still_take_it_down_and_pending_waits():
    business = Business()
    business.deliver(business.invoice("year", start=at(2025, 1), end=at(2026, 1), amount=1_200_000, paid=True))
    before = business.months()
    user_block(user=business.user, actor=None, reason="Fraud review")

    business.deliver(business.credit_note("year-cn", invoice="year", amount=1_200_000))
    assert business.months().keys() == before.keys()
    assert set(business.months().values()) == {0}  # the credit still applies
    business.deliver(business.invoice("seats", start=at(2025, 10), end=at(2026, 1), amount=92_000, paid=True))
    assert set(business.months().values()) == {0}  # the added product earns nothing while blocked
    business.deliver(business.invoice("feb", start=at(2025, 2), end=at(2025, 3), amount=10_000, paid=True))
    rewards_mature_due(now=datetime(2026, 2, 1, tzinfo=OSLO))
    assert consumer_balances(business.user)["available"] == 0  # nothing matures while blocked

    user_unblock(user=business.user, actor=None, reason="Cleared")
    business.deliver(business.credit_note("feb-cn", invoice="feb", amount=1))
    assert business.months()["2025-02"] == 100  # booked by the next event after the block is lifted
    assert_ledger_sound()


# --- The setting, where the programme is edited ------------------------------------------------------


def test_the_programme_form_turns_automatic_payout_on_and_refuses_it_for_other_offers(client):
    from django.urls import reverse

    from campaigns.models import Offer, OfferStatus
    from tests.campaigns.factories import MembershipFactory
    from tests.campaigns.test_views import form_data

    membership = MembershipFactory(role="manager")
    client.force_login(membership.user)
    programme = Offer.objects.create(
        merchant=membership.merchant,
        title="Business cashback",
        percent=2,
        currency="NOK",
        basis="billing_period",
        starts_at=datetime(2030, 1, 1, tzinfo=OSLO),
        ends_at=datetime(2031, 1, 1, tzinfo=OSLO),
        status=OfferStatus.DRAFT,
    )
    url = reverse("campaigns:edit", args=[membership.merchant.pk, programme.pk])
    assert client.get(url).context["form"].initial["auto_payout"] is False

    saved = client.post(url, form_data(basis="billing_period", auto_payout="on", version="1"))
    refused = client.post(
        reverse("campaigns:create", args=[membership.merchant.pk]), form_data(basis="purchase", auto_payout="on")
    )

    assert saved.status_code == 302
    programme.refresh_from_db()
    assert programme.auto_payout is True
    assert refused.status_code == 400
    assert "Automatic payout is for business cashback on Stripe billing only." in refused.content.decode()
    assert Offer.objects.filter(merchant=membership.merchant).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_six_runs_at_once_for_one_customer_and_month_pay_once():
    from tests.concurrency import run_together

    business = _earning_business()
    _connected(business.user)

    results = run_together(
        lambda _: auto_payout_for(user_id=business.user.pk, currency="NOK", period=JANUARY), threads=6
    )

    assert all(isinstance(result, AutoPayoutRun) and result.status == "paid" for result in results), results
    [payout] = Payout.objects.filter(user=business.user)
    assert payout.amount == 1000
    assert AutoPayoutRun.objects.get(user=business.user).payout_id == payout.pk
    assert_ledger_sound()
