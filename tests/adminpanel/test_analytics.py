"""Platform analytics (/staff/analytics/): KPIs over a chosen period, the liability from the ledger,
the set-aside forecast, bad periods as form errors, and a query count that does not grow with data."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Reward
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory, PurchaseFactory
from tests.campaigns.lifecycle_helpers import clear, fund_merchant
from tests.charity.factories import CharityFactory
from wallet.models import AccountKind, JournalKind
from wallet.services import account_get_or_create, transaction_post, transfer

pytestmark = pytest.mark.django_db

PAGE = reverse("adminpanel:analytics")


def earn(amount=20_000):
    """A consumer's cleared purchase at a live 10 % offer: its reward is pending cashback."""
    offer = OfferFactory()
    fund_merchant(offer.merchant, 1_000_000)
    purchase = PurchaseFactory(merchant=offer.merchant, amount_minor=amount, occurred_at=timezone.now())
    (reward,) = clear(purchase)
    return reward


def donate(user, amount, key):
    available = account_get_or_create(user=user, kind=AccountKind.CONSUMER_AVAILABLE, currency="NOK")
    outside = account_get_or_create(kind=AccountKind.SETTLEMENT, currency="NOK", owner_key="test:bank")
    transaction_post(
        idempotency_key=f"test:{key}:fund",
        kind=JournalKind.ADJUSTMENT,
        entries=transfer(debit=outside, credit=available, amount=amount),
    )
    charity = account_get_or_create(
        kind=AccountKind.CHARITY_PAYABLE, currency="NOK", owner_key=CharityFactory().owner_key
    )
    transaction_post(
        idempotency_key=f"test:{key}:donation",
        kind=JournalKind.DONATION,
        entries=transfer(debit=available, credit=charity, amount=amount // 2),
    )


def kpis(response):
    return {kpi.key: kpi.total for kpi in response.context["kpis"]}


@pytest.mark.parametrize("role", ["support", "marketing"])
def test_only_finance_and_administrators_see_analytics(client, staff_with_role, role):
    client.force_login(staff_with_role(role))

    assert client.get(PAGE).status_code == 403


def test_the_period_figures_the_liability_and_the_forecast(client, staff_with_role):
    reward = earn(20_000)
    donor = UserFactory()
    donate(donor, 3_000, "d1")
    client.force_login(staff_with_role("finance"))

    response = client.get(PAGE)

    assert response.status_code == 200
    figures = kpis(response)
    assert figures["purchases"] == 1
    assert figures["volume"] == 20_000
    assert figures["issued"] == 2_000
    assert figures["donated"] == 1_500
    assert figures["signups"] >= 2  # the shopper and the donor (the staff member is not counted)
    (liability,) = response.context["liabilities"]
    assert (liability.currency, liability.consumers_pending, liability.consumers_available, liability.charities) == (
        "NOK",
        2_000,
        1_500,
        1_500,
    )
    (forecast,) = response.context["forecasts"]
    maturity_days = (reward.matures_at - timezone.now()).days
    expected_new = {days: -(-2_000 * days // 90) for days in (30, 60, 90)}
    for days, pending, expected, total in forecast.rows:
        assert pending == (2_000 if maturity_days < days else 0)
        assert expected == expected_new[days]
        assert total == pending + expected
    page = response.content.decode()
    assert "Method." in page
    assert 'data-analytics-chart="issued"' in page
    assert "vendor/chart.js/chart.umd.js" in page


def test_a_period_before_the_activity_shows_none_of_it(client, staff_with_role):
    earn()
    client.force_login(staff_with_role("administrator"))
    last_year = timezone.localdate() - timedelta(days=365)

    response = client.get(PAGE, {"date_from": (last_year - timedelta(days=10)).isoformat(), "date_to": last_year})

    assert response.status_code == 200
    assert kpis(response)["purchases"] == 0
    assert kpis(response)["issued"] == 0
    assert len(response.context["chart_data"]["labels"]) == 11
    # The liability is "now", whatever the period.
    assert response.context["liabilities"][0].consumers_pending == 2_000


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
        {"date_from": "2020-01-01", "date_to": "2026-01-01"},
        {"date_from": "not a day"},
        {"currency": "XXX"},
    ],
)
def test_a_bad_period_is_a_form_error_not_a_500(client, staff_with_role, query):
    client.force_login(staff_with_role("finance"))

    response = client.get(PAGE, query)

    assert response.status_code == 400
    assert response.context["form"].errors


def test_the_number_of_queries_does_not_grow_with_the_data(client, staff_with_role):
    client.force_login(staff_with_role("finance"))
    earn()
    client.get(PAGE)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        client.get(PAGE)
    for _ in range(4):
        earn()
    donate(UserFactory(), 4_000, "d2")
    with CaptureQueriesContext(connection) as many:
        response = client.get(PAGE)

    assert kpis(response)["purchases"] == 5
    assert len(many) == len(few)
    assert len(many) <= 15
    assert Reward.objects.count() == 5
