"""The reports pages: every URL x role x own/other merchant, the filters and their bad input, the
transaction report's content and query count, and the downloads."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Purchase
from insights.export_models import ReportExport
from insights.report_selectors import customer_pseudonym
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import LocationFactory, MembershipFactory, MerchantFactory, OfferFactory
from tests.insights.report_data import earning, purchase

pytestmark = pytest.mark.django_db

ROLES = ["owner", "manager", "analyst", "non_member", "anonymous"]


def recently(days: int = 2):
    return timezone.now() - timedelta(days=days)


def shop_with_sales(purchases: int = 3):
    merchant = MerchantFactory()
    offer = OfferFactory(merchant=merchant, title=f"Offer of {merchant.display_name}")
    location = LocationFactory(merchant=merchant, name=f"Shop of {merchant.display_name}")
    for _ in range(purchases):
        earning(offer=offer, user=UserFactory(), when=recently(), location=location)
    export = ReportExport.objects.create(
        merchant=merchant, kind="transactions", fmt="csv", filters={}, filters_key="x", status="failed"
    )
    return {"merchant": merchant, "offer": offer, "location": location, "export": export}


@pytest.fixture
def world():
    return {"own": shop_with_sales(), "other": shop_with_sales()}


def client_as(client, role: str, merchant):
    if role == "anonymous":
        return client
    user = UserFactory()
    if role != "non_member":
        MembershipFactory(merchant=merchant, user=user, role=role)
    client.force_login(user)
    return client


def export_post(**extra):
    today = timezone.localdate()
    return {"start": (today - timedelta(days=29)).isoformat(), "end": today.isoformat(), **extra}


URLS = [
    ("index", "get", {}),
    ("export", "post", export_post(what="transactions", fmt="csv")),
    ("export_status", "get", {}),
    ("export_download", "get", {}),
]


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "data"), URLS, ids=[u[0] for u in URLS])
def test_every_reports_url_by_role_and_merchant(client, world, name, method, data, role, whose):
    client = client_as(client, role, world["own"]["merchant"])
    things = world[whose]
    kwargs = {"merchant_id": things["merchant"].pk}
    if name.startswith("export_"):
        kwargs["export_id"] = things["export"].pk

    response = getattr(client, method)(reverse(f"reports:{name}", kwargs=kwargs), data)

    if role == "anonymous":
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]
    elif role == "non_member" or whose == "other":
        assert response.status_code == 404
    elif name == "export_download":
        assert response.status_code == 409  # the fixture's export failed: nothing to download, for every role
    else:
        # Analysts read and download like everyone in the team.
        assert response.status_code == 200
        if name == "export":
            body = b"".join(response.streaming_content).decode()
            assert things["offer"].title in body


def test_analysts_see_no_editing_links(client, world):
    client = client_as(client, "analyst", world["own"]["merchant"])
    page = client.get(reverse("reports:index", args=[world["own"]["merchant"].pk])).content.decode()
    assert "Settings" not in page
    assert 'method="post" action="/portal/' in page  # the downloads only


def test_the_report_shows_own_rows_and_never_another_merchants(client, world):
    client = client_as(client, "analyst", world["own"]["merchant"])
    page = client.get(reverse("reports:index", args=[world["own"]["merchant"].pk])).content.decode()
    assert world["own"]["offer"].title in page
    assert world["own"]["location"].name in page
    assert world["other"]["offer"].title not in page
    assert world["other"]["location"].name not in page
    assert "3 purchases" in page


def test_the_report_never_names_the_customer(client):
    things = shop_with_sales(purchases=0)
    person = UserFactory(full_name="Kari Nordmann", email="kari@example.com", phone="+4790000001")
    earning(offer=things["offer"], user=person, when=recently())
    client = client_as(client, "owner", things["merchant"])
    page = client.get(reverse("reports:index", args=[things["merchant"].pk])).content.decode()
    for personal in ("Kari", "Nordmann", "kari@example.com", "+4790000001"):
        assert personal not in page
    assert customer_pseudonym(merchant_id=things["merchant"].pk, user_id=person.pk) in page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-02-10", "end": "2026-02-01"}, "end"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "end"),
        ({"start": "not a date"}, "start"),
        ({"status": "stolen"}, "status"),
        ({"offer": "999999"}, "offer"),
        ({"shop": "999999"}, "shop"),
    ],
)
def test_bad_filters_are_a_form_error(client, world, query, field):
    client = client_as(client, "owner", world["own"]["merchant"])
    response = client.get(reverse("reports:index", args=[world["own"]["merchant"].pk]), query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "campaigns" not in response.context


def test_another_merchants_offer_or_shop_is_a_form_error_never_their_rows(client, world):
    client = client_as(client, "owner", world["own"]["merchant"])
    url = reverse("reports:index", args=[world["own"]["merchant"].pk])
    for query in ({"offer": world["other"]["offer"].pk}, {"shop": world["other"]["location"].pk}):
        response = client.get(url, query)
        assert response.status_code == 400
        assert world["other"]["location"].name not in response.content.decode()
    export = client.post(
        reverse("reports:export", args=[world["own"]["merchant"].pk]),
        export_post(what="transactions", fmt="csv", offer=world["other"]["offer"].pk),
    )
    assert export.status_code == 400


def test_filters_by_status_shop_and_offer(client):
    things = shop_with_sales(purchases=2)
    merchant = things["merchant"]
    purchase(merchant=merchant, user=UserFactory(), when=recently(), status=Purchase.Status.REVERSED)
    other_shop = LocationFactory(merchant=merchant, name="The other shop")
    purchase(merchant=merchant, user=UserFactory(), when=recently(), location=other_shop)
    client = client_as(client, "manager", merchant)
    url = reverse("reports:index", args=[merchant.pk])

    def count(**query):
        return client.get(url, query).context["page_obj"].paginator.count

    assert count() == 4
    assert count(status="reversed") == 1
    assert count(shop=other_shop.pk) == 1
    assert count(offer=things["offer"].pk) == 2
    today = timezone.localdate()
    assert count(start=(today - timedelta(days=1)).isoformat(), end=today.isoformat()) == 0


def test_the_page_takes_a_fixed_number_of_queries(client, django_assert_max_num_queries, settings):
    settings.REPORT_PAGE_SIZE = 50
    things = shop_with_sales(purchases=2)
    client = client_as(client, "owner", things["merchant"])
    url = reverse("reports:index", args=[things["merchant"].pk])
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for _ in range(30):
        second = OfferFactory(merchant=things["merchant"])
        made = earning(
            offer=things["offer"],
            user=UserFactory(),
            when=recently(),
            location=LocationFactory(merchant=things["merchant"]),
        )
        from tests.insights.report_data import reward

        reward(offer=second, purchase=made, amount=100)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) == 32


def test_a_small_csv_is_streamed_at_once(client):
    things = shop_with_sales(purchases=3)
    client = client_as(client, "analyst", things["merchant"])
    response = client.post(
        reverse("reports:export", args=[things["merchant"].pk]), export_post(what="transactions", fmt="csv")
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["time", "reference", "status"]
    assert len(rows) == 4
    assert {row[6] for row in rows[1:]} == {things["location"].name}
    assert all(row[10].startswith("C-") for row in rows[1:])


@pytest.mark.parametrize("what", ["transactions", "summary"])
def test_pdf_downloads(client, what):
    things = shop_with_sales(purchases=6)
    client = client_as(client, "owner", things["merchant"])
    response = client.post(reverse("reports:export", args=[things["merchant"].pk]), export_post(what=what, fmt="pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_campaigns_csv_has_the_totals(client):
    things = shop_with_sales(purchases=6)
    client = client_as(client, "owner", things["merchant"])
    response = client.post(
        reverse("reports:export", args=[things["merchant"].pk]), export_post(what="campaigns", fmt="csv")
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1][0] == things["offer"].title
    assert rows[1][2] == "6"
    assert rows[1][4] == "6"
    assert rows[-1][0] == "Total"


def test_a_pdf_over_its_limit_is_a_form_error(client, settings):
    settings.REPORT_PDF_MAX_ROWS = 2
    things = shop_with_sales(purchases=3)
    client = client_as(client, "owner", things["merchant"])
    response = client.post(
        reverse("reports:export", args=[things["merchant"].pk]), export_post(what="transactions", fmt="pdf")
    )
    assert response.status_code == 400
    assert "narrow the filters" in response.content.decode()


def test_default_period_is_the_last_30_days(client):
    things = shop_with_sales(purchases=1)
    client = client_as(client, "owner", things["merchant"])
    form = client.get(reverse("reports:index", args=[things["merchant"].pk])).context["form"]
    assert form.cleaned_data["end"] == timezone.localdate()
    assert form.cleaned_data["start"] == timezone.localdate() - timedelta(days=29)
    assert isinstance(form.cleaned_data["start"], date)
