"""/staff/cashback-forecast/ (issue 21): finance sees, per currency, what business cashback the
platform will owe at each of the next month ends, the method, the skipped automatic payouts and a
CSV; an empty state when there is nothing; other roles are refused (test_access_matrix too)."""

import csv
import io
from decimal import Decimal

import pytest

from tests.adminpanel.forecast_data import business_customers

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(client, staff_with_role):
    client.force_login(staff_with_role("finance"))
    return client


def test_nothing_to_forecast_shows_the_empty_state(finance):
    response = finance.get("/staff/cashback-forecast/")

    assert response.status_code == 200
    assert b"nothing to set aside" in response.content
    assert b"Method" in response.content


def test_the_forecast_shows_each_month_end_the_method_and_the_skipped_payouts(finance):
    data = business_customers()

    page = finance.get("/staff/cashback-forecast/").content.decode()

    # yearly 12 000 kr at 1 % ≈ 10 kr a month; monthly: 10 kr unpaid now, 10 kr projected after
    assert "Owed at month end" in page and "Download CSV" in page
    assert data["this_month"].strftime("%B %Y") in page
    assert "Set up payouts" in page and data["monthly_email"] in page
    assert 'href="/staff/analytics/"' in page  # the consumer-reward forecast


def test_the_csv_has_one_row_per_currency_and_month(finance):
    data = business_customers()

    response = finance.get("/staff/cashback-forecast/export.csv")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["currency"], row["month"]) for row in rows] == [
        ("NOK", data["this_month"].strftime("%Y-%m")),
        ("NOK", data["next_month"].strftime("%Y-%m")),
        ("NOK", rows[2]["month"]),
    ]
    first, second = rows[0], rows[1]
    assert first["unpaid_invoices"] == "10.00"  # this month's finalized invoice of the monthly payer
    assert second["projected"] == "10.00"  # then its trailing spend: 1 000 kr a month at 1 %
    assert Decimal(second["owed_at_period_end"]) > Decimal(first["owed_at_period_end"]) > 0


def test_the_analytics_page_links_to_the_forecast(finance):
    assert b'href="/staff/cashback-forecast/"' in finance.get("/staff/analytics/").content


def test_marketing_may_not_see_it_although_it_holds_everything_else_in_campaigns(client, staff_with_role):
    client.force_login(staff_with_role("marketing"))

    assert client.get("/staff/cashback-forecast/").status_code == 403
    assert client.get("/staff/cashback-forecast/export.csv").status_code == 403


def test_the_number_of_queries_does_not_grow_with_the_customers(finance):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    business_customers()
    with CaptureQueriesContext(connection) as one:
        finance.get("/staff/cashback-forecast/")
    business_customers()
    business_customers()
    with CaptureQueriesContext(connection) as three:
        response = finance.get("/staff/cashback-forecast/")

    assert response.status_code == 200
    assert len(three.captured_queries) == len(one.captured_queries)
