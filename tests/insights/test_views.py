"""The insights pages: who may see them, what they show, bad ranges, and the replica alias."""

from datetime import timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from insights.figures import figures_rebuild
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import MembershipFactory, OfferFactory, PurchaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """A merchant with a live offer and two cleared purchases (7 and 40 days ago), figures built."""
    offer = OfferFactory(title="Coffee cashback")
    merchant = offer.merchant
    now = timezone.now()
    PurchaseFactory(merchant=merchant, amount_minor=12_345, occurred_at=now - timedelta(days=7))
    PurchaseFactory(merchant=merchant, amount_minor=5_000, occurred_at=now - timedelta(days=40))
    figures_rebuild(merchant_id=merchant.pk)
    return merchant, offer


def member(client, merchant, role):
    user = UserFactory()
    MembershipFactory(merchant=merchant, user=user, role=role)
    client.force_login(user)
    return user


@pytest.mark.parametrize("role", ["owner", "manager", "analyst"])
def test_every_role_reads_the_dashboard_and_an_offers_results(client, shop, role):
    merchant, offer = shop
    member(client, merchant, role)
    page = client.get(reverse("insights:dashboard", args=[merchant.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "123.45" in html  # the purchase 7 days ago, in the default 30 days, formatted by the money helper
    assert "50.00" not in html.split("kpi-grid")[1].split("</section>")[0]  # 40 days ago: outside
    assert 'id="insights-chart-data"' in html and "data-insights-chart" in html
    assert "<details" in html  # the table view of each chart
    results = client.get(reverse("insights:offer", args=[merchant.pk, offer.pk]))
    assert results.status_code == 200 and "Charity impact" in results.content.decode()


def test_another_merchants_ids_are_404(client, shop):
    merchant, offer = shop
    other = OfferFactory()
    member(client, other.merchant, "owner")
    assert client.get(reverse("insights:dashboard", args=[merchant.pk])).status_code == 404
    assert client.get(reverse("insights:offer", args=[merchant.pk, offer.pk])).status_code == 404
    # Its own merchant id with the other merchant's offer: 404 too, never that offer's figures.
    assert client.get(reverse("insights:offer", args=[other.merchant.pk, offer.pk])).status_code == 404


def test_anonymous_is_sent_to_log_in(client, shop):
    merchant, offer = shop
    urls = (reverse("insights:dashboard", args=[merchant.pk]), reverse("insights:offer", args=[merchant.pk, offer.pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"preset": "custom", "start": "2026-03-10", "end": "2026-03-01"}, "before the first day"),
        ({"preset": "custom", "start": "2024-01-01", "end": "2026-01-01"}, "at most 400 days"),
        ({"preset": "custom", "start": "2026-02-30", "end": "2026-03-01"}, "valid date"),
        ({"preset": "custom", "start": "", "end": "2026-03-01"}, "Choose the first day"),
        ({"preset": "fortnight"}, "Select a valid choice"),
        ({"preset": "30", "bucket": "hour"}, "Select a valid choice"),
    ],
)
def test_bad_ranges_are_form_errors(client, shop, query, message):
    merchant, offer = shop
    member(client, merchant, "analyst")
    urls = (reverse("insights:dashboard", args=[merchant.pk]), reverse("insights:offer", args=[merchant.pk, offer.pk]))
    for url in urls:
        response = client.get(url, query)
        assert response.status_code == 400
        assert message in response.content.decode()


def test_presets_and_buckets(client, shop):
    merchant, _ = shop
    member(client, merchant, "owner")
    for preset, points in (("7", 7), ("90", 13)):  # 90 days: weeks (13 or 14 Mondays)
        response = client.get(reverse("insights:dashboard", args=[merchant.pk]), {"preset": preset})
        assert response.status_code == 200
        assert len(response.context["chart_data"]["labels"]) in (points, points + 1)
    year = client.get(reverse("insights:dashboard", args=[merchant.pk]), {"preset": "year", "bucket": "month"})
    assert len(year.context["chart_data"]["labels"]) == timezone.localdate().month


def test_the_portal_overview_and_the_offer_page_show_the_way_in(client, shop):
    merchant, offer = shop
    member(client, merchant, "analyst")
    overview = client.get(reverse("merchants:dashboard", args=[merchant.pk])).content.decode()
    assert "Last 30 days" in overview and reverse("insights:dashboard", args=[merchant.pk]) in overview
    detail = client.get(reverse("campaigns:detail", args=[merchant.pk, offer.pk])).content.decode()
    assert reverse("insights:offer", args=[merchant.pk, offer.pk]) in detail


@pytest.mark.postgres  # SQLite: the mirror alias is a second connection that the test's open transaction locks out
@pytest.mark.django_db(databases=["default", "replica"])
def test_the_dashboard_reads_the_insights_database(client, shop, settings):
    """With INSIGHTS_DATABASE pointing at another alias, the figures are read there."""
    merchant, _ = shop
    member(client, merchant, "owner")
    settings.INSIGHTS_DATABASE = "replica"
    with CaptureQueriesContext(connections["replica"]) as replica:
        assert client.get(reverse("insights:dashboard", args=[merchant.pk])).status_code == 200
    read = " ".join(q["sql"] for q in replica.captured_queries)
    assert "insights_dailyfigures" in read and "insights_customerday" in read


def test_the_dashboard_takes_a_bounded_number_of_queries(client, shop, django_assert_max_num_queries):
    merchant, _ = shop
    member(client, merchant, "owner")
    with django_assert_max_num_queries(25):
        client.get(reverse("insights:dashboard", args=[merchant.pk]), {"preset": "90"})
