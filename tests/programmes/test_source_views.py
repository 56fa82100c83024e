"""The linked-sources page (field staff) and the business customer's own contract page: who may see them,
bad input as a form error, and what counted listed by source."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services as campaign_services
from programmes import linked_sources, services
from programmes.models import CustomerSourceLink
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantFactory
from tests.programmes.factories import approved_contract, programme_world, sales_csv
from tests.programmes.test_linked_sources import value_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return programme_world()


def _sources_url(world, customer, *rest):
    name = "programmes:customer_sources" if not rest else f"programmes:customer_source_{rest[0]}"
    return reverse(name, args=[world.brand_owner.merchant_id, customer.pk, *rest[1:]])


def test_the_programme_admin_links_a_shop_and_bad_input_is_a_form_error(client, world):
    contract = approved_contract(world)
    customer = contract.customer
    shop = MerchantFactory(display_name="Toko Makmur shop", currency="NOK")
    client.force_login(world.programme_admin.user)
    page = client.get(_sources_url(world, customer))
    assert page.status_code == 200
    assert "Link a shop" in page.content.decode()

    bad = client.post(_sources_url(world, customer, "link", "shop"), {"organisation_number": "99999999"})
    assert bad.status_code == 200
    assert "No shop on the platform has this organisation number." in bad.content.decode()
    bad = client.post(_sources_url(world, customer, "link", "stripe"), {"stripe_customer_id": "not a customer"})
    assert bad.status_code == 200
    assert "Enter the Stripe customer id" in bad.content.decode()
    bad = client.post(_sources_url(world, customer, "link", "stripe"), {"stripe_customer_id": ""})
    assert bad.status_code == 200
    assert not CustomerSourceLink.objects.exists()

    done = client.post(_sources_url(world, customer, "link", "shop"), {"organisation_number": shop.organisation_number})
    assert done.status_code == 302
    link = CustomerSourceLink.objects.get()
    assert (link.merchant, link.linked_by) == (shop, world.programme_admin.user)
    assert "Toko Makmur shop" in client.get(_sources_url(world, customer)).content.decode()
    # The contract's history tells it.
    history = client.get(reverse("programmes:contract", args=[world.brand_owner.merchant_id, contract.pk]))
    assert "Purchase source linked" in history.content.decode()

    assert client.post(_sources_url(world, customer, "unlink", link.pk)).status_code == 302
    link.refresh_from_db()
    assert link.removed_at is not None


def test_who_may_link(client, world):
    customer = approved_contract(world).customer
    shop = MerchantFactory(currency="NOK")
    data = {"organisation_number": shop.organisation_number}
    for role, status in (
        (world.finance_admin, 403),
        (world.marketing_admin, 403),
        (world.sales_south, 404),
        (world.head_south, 404),
    ):
        client.force_login(role.user)
        assert client.post(_sources_url(world, customer, "link", "shop"), data).status_code == status
    client.force_login(UserFactory())
    assert client.get(_sources_url(world, customer)).status_code == 404
    assert not CustomerSourceLink.objects.exists()
    client.force_login(world.sales_north.user)
    assert client.post(_sources_url(world, customer, "link", "shop"), data).status_code == 302


def test_the_customer_sees_their_contract_and_what_counted_and_nobody_else_does(
    client, world, django_capture_on_commit_callbacks
):
    volume = approved_contract(world)
    customer = volume.customer
    contract = value_contract(world, customer)
    shop = MerchantFactory(display_name="Toko shop", currency="NOK")
    linked_sources.source_link_shop(
        role=world.programme_admin, customer=customer, organisation_number=shop.organisation_number
    )
    services.sales_file_apply(
        role=world.finance_admin,
        filename="october.csv",
        content=sales_csv((customer.code, "LUMI-SOAP", str(timezone.localdate()), "5", "250.00")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.purchase_event_apply(
            source="card",
            event_id="ev-page",
            kind="clearing",
            external_id="card-page",
            amount_minor=123_400,
            currency="NOK",
            occurred_at=timezone.now() - datetime.timedelta(minutes=5),
            user=UserFactory(),
            merchant=shop,
        )
    contract.refresh_from_db()
    assert contract.achieved == 25_000 + 123_400

    url = reverse("my_programmes:contract", args=[contract.pk])
    client.force_login(customer.user)
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Card purchase" in body and "Sales file" in body and "october.csv" in body
    assert "Toko shop" in body
    assert "Rewards earned" in body and "Tier 1" in body
    # The volume contract's page lists the sales file and says card purchases do not count there.
    volume_body = client.get(reverse("my_programmes:contract", args=[volume.pk])).content.decode()
    assert "Card purchase</td>" not in volume_body and "do not count here" in volume_body
    listing = client.get(reverse("my_programmes:contracts")).content.decode()
    assert contract.programme.name in listing

    # Another business customer (and anyone else) gets 404; the sales person and the head see it.
    other = approved_contract(world).customer
    client.force_login(other.user)
    assert client.get(url).status_code == 404
    client.force_login(world.sales_north_2.user)  # sales, but not this customer's
    assert client.get(url).status_code == 404
    for role in (world.sales_north, world.head_north, world.programme_admin):
        client.force_login(role.user)
        staff_page = client.get(url)
        assert staff_page.status_code == 200
        assert "The contract in the programmes portal" in staff_page.content.decode()
    client.logout()
    assert client.get(url).status_code == 302


def test_what_counted_is_paginated(client, world):
    contract = approved_contract(world)
    customer = contract.customer
    day = str(timezone.localdate())
    rows = [(customer.code, "LUMI-SOAP", day, str(n + 1), "1.00") for n in range(25)]
    services.sales_file_apply(role=world.finance_admin, filename="many.csv", content=sales_csv(*rows))
    client.force_login(customer.user)
    url = reverse("my_programmes:contract", args=[contract.pk])
    first = client.get(url).content.decode()
    second = client.get(url + "?page=2").content.decode()
    assert first.count("many.csv") == 20
    assert second.count("many.csv") == 5
