"""The wallet's families on /metrics: ledger postings by kind, payouts by status."""

import pytest

from tests.cashback.metrics_scrape import TOKEN, scrape
from wallet.models import AccountKind, JournalKind, PayoutStatus
from wallet.payouts import payout_reject, payout_request
from wallet.services import account_get_or_create

from .factories import UserFactory, fund
from .payout_support import ready_consumer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def metrics_on(settings, fake_stripe):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_COUNT_LAG_SECONDS = 0
    settings.STRIPE_PROVIDER = "fake"
    settings.PAYOUT_MINIMUM_MINOR = 10000
    settings.PAYOUT_REVIEW_THRESHOLD_MINOR = 100000
    return settings


def test_each_posting_is_counted_once_by_its_journal_kind(client):
    account = account_get_or_create(user=UserFactory(), kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK")
    before = scrape(client)

    fund(account, 500)
    fund(account, 700)
    fund(account, 100, kind=JournalKind.REFERRAL_BONUS)

    after = scrape(client)
    again = scrape(client)
    for kind, count in ((JournalKind.ADJUSTMENT, 2), (JournalKind.REFERRAL_BONUS, 1)):
        name, labels = "cashback_ledger_postings_total", {"kind": kind.value}
        assert after.value(name, **labels) - before.value(name, **labels) == count, kind
        assert again.value(name, **labels) == after.value(name, **labels)


def test_payouts_are_counted_by_the_status_they_enter_and_open_ones_by_status(
    client, django_capture_on_commit_callbacks
):
    user = ready_consumer(balance=500000)
    before = scrape(client)

    with django_capture_on_commit_callbacks(execute=True):
        payout_request(user=user, amount_minor=15000, currency="NOK")  # processed by the fake: processing
    held = payout_request(user=user, amount_minor=200000, currency="NOK")  # above the review threshold

    after = scrape(client)

    def entered(status: str) -> float:
        name = "cashback_payouts_by_status_total"
        return after.value(name, status=status) - before.value(name, status=status)

    assert entered(PayoutStatus.HELD) == 1
    assert entered(PayoutStatus.PROCESSING) == 1
    assert after.value("cashback_payouts_open", status="held") == 1
    assert after.value("cashback_payouts_open", status="processing") == 1

    payout_reject(payout_id=held.pk, actor=UserFactory(is_staff=True), reason="Looks wrong")
    rejected = scrape(client)
    assert rejected.value("cashback_payouts_open", status="held") == 0
    assert (
        rejected.value("cashback_payouts_by_status_total", status="failed")
        - before.value("cashback_payouts_by_status_total", status="failed")
        == 1
    )
